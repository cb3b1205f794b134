"""site.toml: read once, validated at the edge, with messages a non-programmer can act on."""
from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .errors import BuildError, Problem

CONFIG_FILE = "site.toml"
LANG_CODE = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")


@dataclass(frozen=True)
class Language:
    code: str  # BCP 47, e.g. "zh-Hans"
    name: str  # its own name in its own script, e.g. "中文（简体）"
    title: str  # the site's title in this language
    dir: str = "ltr"
    emergency: tuple[str, ...] = ()
    fallback: tuple[str, ...] = ()
    locale: str = ""  # CLDR locale for dates and numbers, when not the code itself (en-GB: "5 March 2026")
    fallback_pages: bool = False  # show a page missing in this language from its fallbacks, with a notice

    @property
    def cldr(self) -> str:
        return self.locale or self.code


@dataclass(frozen=True)
class Banner:
    text: dict[str, str]  # language code -> text
    level: str = "warning"


@dataclass(frozen=True)
class Offline:
    """[offline]: pages a person has read open again without the internet. kill_switch wins over enabled."""

    enabled: bool = True
    kill_switch: bool = False  # ship a sw.js that deletes the site's caches and unregisters itself
    icon: Path | None = None  # the source of the app icons; None: the theme's static/icon.png
    precache_budget_kb: int = 1024  # what a first visit may download in the background before the build warns

    @property
    def mode(self) -> str:
        """"on": worker, manifests, offline pages. "kill": a worker that deletes the caches and unregisters itself.
        "off": nothing (a worker already in a visitor's browser stays: that is what the kill switch is for)."""
        return "kill" if self.kill_switch else "on" if self.enabled else "off"


@dataclass(frozen=True)
class Config:
    root: Path
    base_url: str
    languages: tuple[Language, ...]
    default_language: str
    output: Path
    theme: str = "harbin-ice"
    tokens: Path | None = None
    contents_min_headings: int = 4
    banner: Banner | None = None
    precompress: str = "assets"  # which text files get .gz and .br copies: "none", "assets" or "all" (pages too)
    image_budget_kb: int = 300
    offline: Offline = field(default_factory=Offline)
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def base_path(self) -> str:
        """The path part of base_url ("/" or "/health/"): every internal URL starts with it."""
        return urlsplit(self.base_url).path

    @property
    def precompress_assets(self) -> bool:
        return self.precompress != "none"

    @property
    def precompress_pages(self) -> bool:
        return self.precompress == "all"

    def language(self, code: str) -> Language:
        return next(lang for lang in self.languages if lang.code == code)


# Each key: (type or types, required, what it is, for the message).
TOP = {
    "base_url": (str, True, 'the address the site will be published at, like "https://health.example.org/"'),
    "default_language": (str, True, 'the code of the language the root page falls back to, like "en"'),
    "output": (str, False, 'the folder the built site is written to, like "public"'),
    "contents_min_headings": (int, False, "how many level-2 headings a page needs before it gets a contents list"),
    "theme": (dict, False, "a table with the theme's name and an optional tokens file"),
    "languages": (dict, True, "one table per language, like [languages.en]"),
    "banner": (dict, False, "a site-wide notice, like a cold-weather alert"),
    "precompress": (str, False, 'which text files get .gz and .br copies for servers that send them: "assets" (CSS, '
                                'scripts, SVG; the default), "all" (pages too) or "none"'),
    "image_budget_kb": (int, False, "the largest an image may be, in KB, before the build warns"),
    "offline": (dict, False, "offline reading: a table like [offline] with enabled = true"),
    "budgets": (dict, False, "audit budgets that replace those of audits/budgets.toml, like weight_kb = 120"),
}
OFFLINE = {
    "enabled": (bool, False, "true lets pages a person has read open again without the internet"),
    "kill_switch": (bool, False, "true removes the offline worker and everything it saved from visitors' browsers"),
    "icon": (str, False, 'a square PNG or JPEG of at least 512 × 512 pixels for the app icon, like "images/icon.png"'),
    "precache_budget_kb": (int, False, "how many KB a first visit may download in the background, like 1024"),
}
THEME = {
    "name": (str, False, 'the theme folder name, like "harbin-ice"'),
    "tokens": (str, False, "a JSON file of design tokens that override the theme's"),
}
LANGUAGE = {
    "name": (str, True, 'the language\'s own name in its own script, like "Русский"'),
    "title": (str, True, "the site's title in this language"),
    "dir": (str, False, '"ltr" or "rtl"'),
    "emergency": (list, False, 'the emergency numbers to call, like ["120"]'),
    "fallback": (list, False, 'languages to use when a text is missing, like ["zh-Hans", "en"]'),
    "locale": (str, False, 'the locale for dates and numbers when it differs from the code, like "en-GB"'),
    "fallback_pages": (bool, False, "whether a page not yet translated is shown from the fallback languages, with a notice"),
}
BANNER = {
    "level": (str, False, '"info" or "warning"'),
    "text": (dict, True, "the notice, one entry per language code"),
}
PRECOMPRESS = ("assets", "all", "none")
TYPE_NAMES = {str: "text in quotes", int: "a whole number", dict: "a table", list: "a list in [ ]", bool: "true or false"}


class _Checker:
    """Walks the parsed TOML once, recording every problem with the line of the key it is about."""

    def __init__(self, path: Path, text: str):
        self.file = path.name
        self.lines = text.splitlines()
        self.problems: list[Problem] = []

    def line_of(self, key: str, table: str = "") -> int | None:
        """The line a key is written on; TOML gives values, not positions, so search the text."""
        in_table = not table
        for n, line in enumerate(self.lines, 1):
            stripped = line.strip()
            if stripped.startswith("["):
                in_table = not table or stripped.strip("[]").strip() in (table, f"{table}.{key}")
                if table and stripped.strip("[]").strip() == f"{table}.{key}":
                    return n
                continue
            if in_table and re.match(rf'^"?{re.escape(key)}"?\s*=', stripped):
                return n
        return None

    def error(self, key: str, table: str, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.file, self.line_of(key, table), message, hint))

    def table(self, data: dict, schema: dict, table: str = "") -> dict:
        """Check one table against its schema: unknown keys, missing keys, wrong types."""
        where = f"[{table}]" if table else "the top level"
        for key in data:
            if key not in schema:
                close = difflib.get_close_matches(key, schema, n=1)
                hint = f"did you mean {close[0]}?" if close else "known keys: " + ", ".join(schema)
                self.error(key, table, f'unknown key "{key}" in {where}', hint)
        for key, (kind, required, about) in schema.items():
            if key not in data:
                if required:
                    self.problems.append(Problem(self.file, None, f'missing "{key}" in {where}', f"add {key}: {about}"))
                continue
            if not isinstance(data[key], kind) or (kind is int and isinstance(data[key], bool)):
                self.error(key, table, f'"{key}" must be {TYPE_NAMES[kind]}', about)
        return {k: v for k, v in data.items() if k in schema and isinstance(v, schema[k][0])}


def load(root: Path, output: Path | None = None) -> Config:
    """Read and validate ROOT/site.toml; raise BuildError with every problem found."""
    path = root / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BuildError([Problem(CONFIG_FILE, None, f"no {CONFIG_FILE} in {root}",
                                  "run this in the folder of your site, or create one with: healingpixels new DIR")])
    except UnicodeDecodeError:
        raise BuildError([Problem(CONFIG_FILE, None, "the file is not UTF-8 text", "save it as UTF-8")])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        message = re.sub(r"\s*\(at line.*\)", "", str(exc))
        raise BuildError([Problem(CONFIG_FILE, int(m.group(1)) if m else None, f"not valid TOML: {message}",
                                  'values need quotes, like title = "My site"; tables are written [languages.en]')])

    check = _Checker(path, text)
    top = check.table(data, TOP)
    theme = check.table(top.get("theme", {}), THEME, "theme")
    languages = []
    for code, lang in top.get("languages", {}).items():
        table = f"languages.{code}" if LANG_CODE.match(code) else f'languages."{code}"'
        if not LANG_CODE.match(code):
            check.error(code, "languages", f'"{code}" is not a language code',
                        'use a BCP 47 code such as "en", "ru", "ko", "zh-Hans"')
            continue
        if not isinstance(lang, dict):
            check.error(code, "languages", f'[languages.{code}] must be a table', "see the example site.toml")
            continue
        lang = check.table(lang, LANGUAGE, table)
        if lang.get("dir", "ltr") not in ("ltr", "rtl"):
            check.error("dir", table, f'dir must be "ltr" or "rtl", not "{lang["dir"]}"', "rtl is for Arabic, Hebrew, Uyghur…")
        for key in ("emergency", "fallback"):
            if not all(isinstance(v, str) for v in lang.get(key, [])):
                check.error(key, table, f'every entry of "{key}" must be text in quotes', LANGUAGE[key][2])
        if "name" in lang and "title" in lang:
            if "locale" in lang and not LANG_CODE.match(lang["locale"]):
                check.error("locale", table, f'locale "{lang["locale"]}" is not a locale code', 'like "en-GB" or "pt-BR"')
            languages.append(Language(code, lang["name"], lang["title"], lang.get("dir", "ltr"),
                                      tuple(map(str, lang.get("emergency", []))), tuple(map(str, lang.get("fallback", []))),
                                      lang.get("locale", ""), lang.get("fallback_pages", False)))

    # Every language table counts as a language for the checks below, even one with a mistake of its own:
    # a typo in [languages.en] must not also make "en" unknown everywhere else.
    codes = [code for code, lang in top.get("languages", {}).items() if LANG_CODE.match(code) and isinstance(lang, dict)]
    if "languages" in top and not top["languages"]:
        check.problems.append(Problem(CONFIG_FILE, None, "no languages are defined", "add at least one [languages.xx] table"))
    default = top.get("default_language")
    if default is not None and codes and default not in codes:
        close = [c for c in codes if c.lower() == default.lower()] or difflib.get_close_matches(default, codes, n=1)
        check.error("default_language", "", f'default_language "{default}" is not one of the languages ({", ".join(codes)})',
                    f"did you mean {close[0]}?" if close else "add it under [languages]")
    for lang in languages:
        for other in lang.fallback:
            if other not in codes or other == lang.code:
                check.error("fallback", f"languages.{lang.code}", f'fallback "{other}" of {lang.code} is not another language of the site',
                            "list only codes that have a [languages.xx] table")

    base_url = top.get("base_url")
    if base_url is not None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or not parts.path.endswith("/"):
            check.error("base_url", "", f'base_url "{base_url}" is not a full address ending in /',
                        'write it like "https://health.example.org/"')

    out_name = top.get("output", "public")
    out_path = output if output is not None else root / out_name
    if output is None and (Path(out_name).is_absolute() or ".." in Path(out_name).parts or out_name.strip("./") in ("", "content")):
        check.error("output", "", f'output "{out_name}" must be a new folder inside the site', 'use a plain name like "public"')

    banner = None
    if "banner" in top:
        b = check.table(top["banner"], BANNER, "banner")
        if b.get("level", "warning") not in ("info", "warning"):
            check.error("level", "banner", f'banner level must be "info" or "warning", not "{b["level"]}"')
        unknown = [c for c in b.get("text", {}) if c not in codes]
        if unknown:
            check.error("text", "banner", f"banner text for a language the site does not have: {', '.join(unknown)}")
        if "text" in b:
            banner = Banner({k: str(v) for k, v in b["text"].items()}, b.get("level", "warning"))

    tokens = None
    if "tokens" in theme:
        tokens = root / theme["tokens"]
        if not tokens.is_file():
            check.error("tokens", "theme", f'tokens file "{theme["tokens"]}" does not exist', "give a path relative to site.toml")

    offline = check.table(top.get("offline", {}), OFFLINE, "offline")
    icon = None
    if "icon" in offline:
        icon = root / offline["icon"]
        if not icon.is_file():
            check.error("icon", "offline", f'offline icon "{offline["icon"]}" does not exist', "give a path relative to site.toml")
        elif icon.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            check.error("icon", "offline", f'offline icon "{offline["icon"]}" is not a PNG or JPEG',
                        "export it from your drawing program as a PNG of 512 × 512 pixels or more")
    precompress = top.get("precompress", "assets")
    if precompress not in PRECOMPRESS:
        close = difflib.get_close_matches(str(precompress), PRECOMPRESS, n=1)
        check.error("precompress", "", f'precompress must be "assets", "all" or "none", not "{precompress}"',
                    f'did you mean "{close[0]}"?' if close else 'most hosts compress pages as they send them: keep "assets"')
    if offline.get("precache_budget_kb", 1) < 1:
        check.error("precache_budget_kb", "offline", "precache_budget_kb must be a positive number of KB", "like 1024")

    if check.problems:
        raise BuildError(check.problems)
    return Config(root=root, base_url=base_url, languages=tuple(languages), default_language=default, output=out_path,
                  theme=theme.get("name", "harbin-ice"), tokens=tokens,
                  contents_min_headings=top.get("contents_min_headings", 4), banner=banner,
                  precompress=precompress, image_budget_kb=top.get("image_budget_kb", 300),
                  offline=Offline(offline.get("enabled", True), offline.get("kill_switch", False), icon,
                                  offline.get("precache_budget_kb", 1024)), raw=data)
