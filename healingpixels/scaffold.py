"""healingpixels new: a small working site to start from, in the languages asked for."""
from __future__ import annotations

import json
from pathlib import Path

from babel import Locale, UnknownLocaleError

from .config import LANG_CODE
from .errors import BuildError, Problem
from .i18n import locale_dir_name

# Starter text for the languages the project ships catalogs for; other languages start in English.
HOME = {
    "en": ("Health information", "Clear, checked health advice for you and your family.",
           "Welcome. Replace this text with an introduction to your site."),
    "zh-Hans": ("健康信息", "为您和家人提供清晰、经过审核的健康建议。", "欢迎访问。请把这段文字换成您网站的介绍。"),
    "ru": ("Информация о здоровье", "Понятные и проверенные советы о здоровье для вас и вашей семьи.",
           "Добро пожаловать. Замените этот текст описанием вашего сайта."),
    "ko": ("건강 정보", "여러분과 가족을 위한 명확하고 검증된 건강 정보입니다.", "환영합니다. 이 글을 사이트 소개로 바꿔 주세요."),
}
EMERGENCY = {"en": ["112"], "zh-Hans": ["120"], "ru": ["103", "112"], "ko": ["119"]}

WORKFLOW = """\
# Builds and audits the site on every push; a failing audit fails the job.
name: site
on: [push, pull_request]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: sudo apt-get update && sudo apt-get install -y chromium chromium-driver fonts-noto-cjk
      - run: pip install healingpixels
      - run: healingpixels build --strict
"""

IMAGE = """\
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 200" role="img"><title>Snowflake</title>
<rect width="320" height="200" fill="#F4F8FB"/><g stroke="#2B4C63" stroke-width="8" stroke-linecap="round">
<path d="M160 40v120M108 70l104 60M108 130l104-60"/></g></svg>
"""


def _language(code: str) -> tuple[str, str]:
    """A language's own name, in its own script, and its writing direction, from CLDR."""
    try:
        locale = Locale.parse(locale_dir_name(code))
    except (UnknownLocaleError, ValueError):
        return code, "ltr"
    name = locale.get_display_name(locale) or code
    return name[:1].upper() + name[1:], "rtl" if locale.character_order == "right-to-left" else "ltr"


def scaffold(directory: Path, languages: list[str]) -> None:
    problems = [Problem("--languages", None, f'"{code}" is not a language code', 'use codes like en, zh-Hans, ru, ko')
                for code in languages if not LANG_CODE.match(code)]
    if not languages:
        problems.append(Problem("--languages", None, "no languages given", "like --languages en,ru"))
    if directory.exists() and any(directory.iterdir()):
        problems.append(Problem(str(directory), None, "the folder is not empty", "choose a new folder name"))
    if problems:
        raise BuildError(problems)

    lines = ['base_url = "https://health.example.org/"  # where the site will be published',
             f'default_language = "{languages[0]}"', 'output = "public"', "", "[theme]", 'name = "harbin-ice"']
    for code in languages:
        name, direction = _language(code)
        title, description, body = HOME.get(code, HOME["en"])
        lines += ["", f"[languages.{code}]", f"name = {json.dumps(name, ensure_ascii=False)}",
                  f"title = {json.dumps(title, ensure_ascii=False)}"]
        if direction == "rtl":
            lines.append('dir = "rtl"')
        lines.append(f"emergency = {json.dumps(EMERGENCY.get(code, []))}"
                     + ("" if code in EMERGENCY else "  # add the numbers people call in an emergency"))
        if code != languages[0]:
            lines.append(f'fallback = ["{languages[0]}"]')
        page = directory / "content" / code / "index.md"
        page.parent.mkdir(parents=True)
        page.write_text(f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\n"
                        f"description: {json.dumps(description, ensure_ascii=False)}\n---\n\n{body}\n", encoding="utf-8")
    (directory / "site.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / "content" / "images").mkdir()
    (directory / "content" / "images" / "snowflake.svg").write_text(IMAGE, encoding="utf-8")
    (directory / ".gitignore").write_text("public/\n.public.*\n.healingpixels-cache/\n", encoding="utf-8")
    workflow = directory / ".github" / "workflows" / "site.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(WORKFLOW, encoding="utf-8")
