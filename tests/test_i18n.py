"""Languages: the four catalogs (complete, natural, placeholders intact), Russian plurals, CLDR dates, root-page
negotiation (in node and in Chromium), pages missing in a language (the switcher, the build's warnings, opt-in
stand-ins), translation status and translations.lock, the build's catalog check, and an Arabic (RTL) site that adds
its language with a catalog and a site.toml entry only."""
from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from healingpixels import i18n, translation_status
from healingpixels.build import CACHE_DIR, build
from healingpixels.cli import main
from healingpixels.config import load as load_config
from healingpixels.errors import BuildError
from healingpixels.render import Templates

from conftest import ROOT, TESTS, Doc, assert_same_tree, doc, edit, html, write

I18N = TESTS / "fixtures" / "i18n"
LOCALES = ROOT / "locales"
LANGUAGES = ["en", "zh-Hans", "ru", "ko"]
TRANSLATED = ["zh-Hans", "ru", "ko"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# Placeholders a translation may leave out: the catalog is in that language, so it names it in the right case.
OPTIONAL = {"language"}
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
browser = [pytest.mark.browser, pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs /usr/bin/chromium")]


def copy(name: str, dest: Path) -> Path:
    return Path(shutil.copytree(I18N / name, dest, ignore=shutil.ignore_patterns("public", CACHE_DIR)))


def texts(d: Doc, tag: str, cls: str) -> list[str]:
    return [" ".join(e.text.split()) for e in d.elements if e.tag == tag and e.get("class") == cls]


def switcher(d: Doc) -> dict[str, tuple[str, str]]:
    """The language switcher's links: language -> (href, text)."""
    nav = [e for e in d.elements if e.tag == "nav" and e.get("class") == "hp-languages"]
    assert len(nav) == 1, "one language switcher"
    start = d.elements.index(nav[0])
    links = {}
    for e in d.elements[start + 1:]:
        if e.tag == "nav":
            break
        if e.tag == "a" and e.get("lang"):
            links[e.get("lang")] = (e.get("href"), " ".join(e.text.split()))
    return links


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    """The four-language fixture after one build: (site root, build result)."""
    root = copy("site", tmp_path_factory.mktemp("four") / "site")
    return root, build(root)


@pytest.fixture(scope="module")
def rtl(tmp_path_factory):
    root = copy("rtl", tmp_path_factory.mktemp("rtl") / "site")
    return root, build(root)


# --- the catalogs ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def extracted():
    return {i18n._key(m.id): m for m in i18n.extract_template(ROOT, "harbin-ice") if m.id}


def catalog(code: str):
    path = i18n.catalog_path(LOCALES, code)
    assert path.is_file(), f"no catalog {path}"
    return i18n.read_catalog(path)


def forms(message) -> tuple[str, ...]:
    return tuple(message.string) if isinstance(message.string, (tuple, list)) else (message.string,)


def test_the_template_lists_every_text_of_the_theme_and_components(extracted):
    pot = {i18n._key(m.id) for m in i18n.read_catalog(LOCALES / i18n.TEMPLATE) if m.id}
    assert pot == set(extracted), ("locales/messages.pot is out of date: run healingpixels i18n update "
                                   f"(new: {sorted(set(extracted) - pot)}, gone: {sorted(pot - set(extracted))})")


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_catalog_translates_every_text(code, extracted):
    cat = catalog(code)
    messages = {i18n._key(m.id): m for m in cat if m.id}
    missing = sorted(set(extracted) - set(messages))
    assert not missing, f"{code}: not in the catalog (run healingpixels i18n update): {missing}"
    empty = sorted(k for k, m in messages.items() if not all(forms(m)))
    fuzzy = sorted(k for k, m in messages.items() if m.fuzzy)
    assert not empty and not fuzzy, f"{code}: empty {empty}, fuzzy {fuzzy}"
    assert i18n.broken(cat) == {}
    assert not cat.obsolete
    if code == "en":
        assert all(forms(m)[0] == (m.id if isinstance(m.id, str) else m.id[0]) for m in messages.values())


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_are_translated_and_keep_every_placeholder(code):
    for m in catalog(code):
        if not m.id:
            continue
        ids = (m.id,) if isinstance(m.id, str) else tuple(m.id)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for form in forms(m):
            assert wanted - OPTIONAL <= set(PLACEHOLDER.findall(form)) <= wanted, f"{code}: {form!r} must keep {sorted(wanted)} of {ids[0]!r}"
            assert "%" not in PLACEHOLDER.sub("", form), f"{code}: a bare % in {form!r} breaks formatting"
        if re.search(r"[A-Za-z]{4,}", ids[0]) and not re.fullmatch(r"[\w.]+\.(md|json)|WCAG.*", ids[0]):
            assert forms(m)[0] != ids[0], f"{code}: {ids[0]!r} is still English"


def test_tone_is_consistent():
    """As the example site's writers do: Russian addresses the reader as «вы» (lower case mid-sentence); Korean states
    in 합니다체 and asks with the polite -(으)세요, never 해요체 statements or -십시오; Chinese uses 您, never 你."""
    def strings(code):
        return [f for m in catalog(code) if m.id for f in forms(m)]

    for text in strings("ru"):
        assert not re.search(r"\b(ты|тебя|тебе|твой|твоя|твои)\b", text, re.I), text
        assert not re.search(r"(?<=[a-zа-яё,] )(Вы|Вас|Вам|Ваш\w*)\b", text), f"«вы» in lower case: {text!r}"
    for text in strings("ko"):
        assert not re.search(r"(어|아|해|죠|네|데|게|지)요\s*[.…]?\)?$", text), f"해요체 in {text!r}: the catalog uses 합니다체"
        assert "십시오" not in text, f"requests use -(으)세요, as the pages do: {text!r}"
        if text.rstrip(").").endswith("다"):
            assert text.rstrip(").").endswith(("니다", "습니다")), f"not 합니다체: {text!r}"
    assert "你" not in "".join(strings("zh-Hans"))


def test_catalog_headers_carry_each_languages_plural_rule():
    expected = {"en": 2, "zh-Hans": 1, "ru": 3, "ko": 1}
    for code, n in expected.items():
        cat = catalog(code)
        assert cat.num_plurals == n, code
        assert str(cat.locale) == i18n.locale_dir_name(code)


def test_no_compiled_catalogs_are_kept():
    assert not list(LOCALES.rglob("*.mo")), "the build compiles .po files in memory; .mo files are not kept"


def test_pybabel_with_babel_cfg_finds_the_same_texts(tmp_path, extracted):
    pybabel = Path(os.sys.executable).with_name("pybabel")
    if not pybabel.exists():
        pytest.skip("pybabel is not installed beside this Python")
    out = tmp_path / "pybabel.pot"
    subprocess.run([str(pybabel), "-q", "extract", "-F", "babel.cfg", "--no-location", "-o", str(out), "."],
                   cwd=ROOT, check=True, capture_output=True)
    assert {i18n._key(m.id) for m in i18n.read_catalog(out) if m.id} == set(extracted)


# --- plurals and dates --------------------------------------------------------------------------------------------

def render_in(code: str, source: str, **values) -> str:
    config = load_config(I18N / "site")
    templates = Templates(config.root, config.theme)
    return templates.env.from_string(source).render(**templates.names(config.language(code)), **values)


@pytest.mark.parametrize("n, text", [(1, "1 тема"), (2, "2 темы"), (5, "5 тем"), (21, "21 тема"), (11, "11 тем"),
                                     (22, "22 темы"), (0, "0 тем"), (104, "104 темы"), (111, "111 тем")])
def test_russian_has_three_plural_forms(n, text):
    assert render_in("ru", '{{ ngettext("%(num)d topic", "%(num)d topics", n) }}', n=n) == text


@pytest.mark.parametrize("code, one, five", [("en", "1 topic", "5 topics"), ("zh-Hans", "共 1 个主题", "共 5 个主题"),
                                             ("ko", "주제 1개", "주제 5개")])
def test_plurals_in_the_other_languages(code, one, five):
    source = '{{ ngettext("%(num)d topic", "%(num)d topics", n) }}'
    assert (render_in(code, source, n=1), render_in(code, source, n=5)) == (one, five)


def test_a_section_counts_its_topics_in_each_language(four):
    out = four[0] / "public"
    counts = {code: texts(doc(out, f"{code}/winter/index.html"), "p", "hp-card-group__count")
              for code in LANGUAGES}
    # ru has one page in the section (asthma is missing): one form; the others have two.
    assert counts == {"en": ["2 topics"], "zh-Hans": ["共 2 个主题"], "ru": ["1 тема"], "ko": ["주제 2개"]}


@pytest.mark.parametrize("code, text", [("en-GB", "5 March 2026"), ("en", "March 5, 2026"), ("zh-Hans", "2026年3月5日"),
                                        ("ru", "5 марта 2026\u202fг."), ("ko", "2026년 3월 5일")])
def test_long_dates_come_from_cldr(code, text):
    assert i18n.long_date("2026-03-05", code) == text


def test_each_page_shows_its_review_date_the_way_its_language_writes_dates(four):
    out = four[0] / "public"
    expected = {"en": "5 March 2026", "zh-Hans": "2026年3月5日", "ru": "5 марта 2026\u202fг.", "ko": "2026년 3월 5일"}
    for code, date in expected.items():
        assert date in html(out, f"{code}/winter/frostbite/index.html"), code


def test_language_names_in_another_language_come_from_cldr():
    assert [i18n.language_name("en", c) for c in LANGUAGES] == ["English", "英语", "английский", "영어"]
    assert i18n.language_name("xx", "ru", "Xx") == "Xx"


# --- negotiation on the root page ---------------------------------------------------------------------------------

NEGOTIATE = ROOT / "themes/harbin-ice/inline/negotiate.js"
ROOT_LINKS = {"en": "/en/", "zh-Hans": "/zh-Hans/", "ru": "/ru/", "ko": "/ko/"}
NEGOTIATION = [
    (["ko-KR", "en"], None, "/ko/"),
    (["zh-CN"], None, "/zh-Hans/"),
    (["zh-TW", "ru"], None, "/zh-Hans/"),  # no zh-Hant: the closest Chinese beats a later language
    (["de", "ru"], None, "/ru/"),
    (["en-US", "ru"], None, "/en/"),
    (["fr"], None, None),  # nothing matches: stay on the root page, which lists every language
    (["ko-KR", "en"], "ru", "/ru/"),  # an explicit choice wins over the browser's languages
    (["ko-KR"], "xx", "/ko/"),  # a stored language the site does not have is ignored
]


@pytest.mark.skipif(not shutil.which("node"), reason="needs node")
@pytest.mark.parametrize("languages, stored, expected", NEGOTIATION)
def test_negotiation_order_in_node(languages, stored, expected):
    """The inline script itself, with the root page's links and the browser's objects stubbed."""
    stub = f"""
    const links = {json.dumps(ROOT_LINKS)};
    let went = null;
    global.document = {{querySelectorAll: () => Object.entries(links).map(([l, h]) => ({{hreflang: l, href: h}}))}};
    global.localStorage = {{getItem: () => {json.dumps(stored)}}};
    global.location = {{replace: (u) => {{ if (went === null) went = u; }}}};
    Object.defineProperty(global, "navigator", {{value: {{languages: {json.dumps(languages)}}}}});
    """
    script = stub + NEGOTIATE.read_text(encoding="utf-8") + "\nconsole.log(JSON.stringify(went));"
    done = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(four):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(four[0] / "public")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + ["--window-size=390,844"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()


def _path_after_load(driver, url: str) -> str:
    from urllib.parse import urlsplit

    driver.get(url)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # location.replace() runs while the root page loads; wait for where it lands
        if driver.execute_script("return document.readyState") == "complete":
            path = urlsplit(driver.current_url).path
            time.sleep(0.05)
            if urlsplit(driver.current_url).path == path:
                return path
        time.sleep(0.05)
    return urlsplit(driver.current_url).path


@pytest.mark.parametrize("languages, stored, expected", NEGOTIATION)
@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs /usr/bin/chromium")
def test_negotiation_order_in_chromium(chromium, served, languages, stored, expected):
    """navigator.languages set through DevTools (as the browser's language settings would), then the real root page."""
    ua = chromium.execute_script("return navigator.userAgent")
    chromium.execute_cdp_cmd("Emulation.setUserAgentOverride", {"userAgent": ua, "acceptLanguage": ",".join(languages)})
    chromium.get(served + "/robots.txt")  # same origin, no redirect: set the stored choice there
    chromium.execute_script("localStorage.clear(); if (arguments[0]) localStorage.setItem('hp-lang', arguments[0])",
                            stored)
    assert chromium.execute_script("return navigator.languages") == languages
    assert _path_after_load(chromium, served + "/") == (expected or "/")


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs /usr/bin/chromium")
def test_choosing_a_language_in_the_switcher_is_remembered_for_the_root_page(chromium, served):
    from selenium.webdriver.common.by import By

    ua = chromium.execute_script("return navigator.userAgent")
    chromium.execute_cdp_cmd("Emulation.setUserAgentOverride", {"userAgent": ua, "acceptLanguage": "ru,en"})
    chromium.get(served + "/en/winter/frostbite/")
    chromium.execute_script("localStorage.clear()")
    chromium.find_element(By.CSS_SELECTOR, '.hp-languages a[lang="ko"]').click()
    assert _path_after_load(chromium, chromium.current_url) == "/ko/winter/frostbite/"
    assert chromium.execute_script("return localStorage.getItem('hp-lang')") == "ko"
    assert _path_after_load(chromium, served + "/") == "/ko/", "the stored choice beats navigator.languages (ru)"
    # Another link (not the switcher) leaves the choice alone.
    chromium.get(served + "/ko/winter/")
    chromium.find_element(By.CSS_SELECTOR, ".hp-card a").click()
    assert chromium.execute_script("return localStorage.getItem('hp-lang')") == "ko"


# --- a page missing in a language ---------------------------------------------------------------------------------

def test_a_missing_page_is_a_warning_naming_the_source_and_the_language(four):
    _, result = four
    missing = [p for p in result.warnings if "no Русский (ru) translation" in p.message]
    assert [(p.file, p.severity) for p in missing] == [("content/en/winter/asthma.md", "warning")]
    assert "content/ru/winter/asthma.md" in missing[0].hint


def test_an_outdated_translation_is_a_warning_on_the_translation(four):
    _, result = four
    outdated = [p for p in result.warnings if "older than its source" in p.message]
    assert [p.file for p in outdated] == ["content/ru/winter/frostbite.md"]
    assert "healingpixels i18n mark content/ru/winter/frostbite.md" in outdated[0].hint


def test_the_four_catalogs_leave_nothing_untranslated(four):
    _, result = four
    assert not [p for p in result.warnings if p.file.startswith("locales/")], "every interface text is translated"


def test_strict_makes_translation_gaps_fail_the_build(four, tmp_path):
    root = copy("site", tmp_path / "site")
    with pytest.raises(BuildError) as info:
        build(root, strict=True)
    files = {p.file for p in info.value.problems}
    assert files == {"content/en/winter/asthma.md", "content/ru/winter/frostbite.md"}
    assert not (root / "public").exists()


def test_the_switcher_says_in_russian_that_this_page_is_not_in_russian(four):
    out = four[0] / "public"
    d = doc(out, "en/winter/asthma/index.html")
    links = switcher(d)
    assert links["ru"] == ("/ru/", "Русский (страница не переведена — на главную)")
    assert links["zh-Hans"] == ("/zh-Hans/winter/asthma/", "中文（简体）")
    assert links["ko"] == ("/ko/winter/asthma/", "한국어")
    (ru,) = [a for a in d.all("a") if a.get("lang") == "ru"]
    assert (ru.get("hreflang"), ru.get("dir")) == ("ru", "ltr"), "the note is inside the link: read in Russian"
    alternates = {e.get("hreflang") for e in d.all("link", rel="alternate")}
    assert alternates == {"en", "zh-Hans", "ko", "x-default"}
    # Every language's page links to the others; the note appears only where the page is missing.
    for code in ("zh-Hans", "ko"):
        assert switcher(doc(out, f"{code}/winter/asthma/index.html"))["ru"][0] == "/ru/"
    assert all("(" not in text for _, text in switcher(doc(out, "en/winter/frostbite/index.html")).values())


def test_no_page_stands_in_for_a_missing_translation_unless_the_site_asks(four):
    assert not (four[0] / "public/ru/winter/asthma").exists()


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    """The fixture with fallback_pages = true for ru (and ko showing zh-Hans before English)."""
    root = copy("site", tmp_path_factory.mktemp("stand-in") / "site")
    edit(root, "site.toml", 'emergency = ["103", "112"]\nfallback = ["en"]',
         'emergency = ["103", "112"]\nfallback = ["en"]\nfallback_pages = true')
    edit(root, "site.toml", 'emergency = ["119"]\nfallback = ["en"]',
         'emergency = ["119"]\nfallback = ["zh-Hans", "en"]\nfallback_pages = true')
    (root / "content/ko/winter/asthma.md").unlink()
    return root, build(root)


def test_a_stand_in_shows_the_english_page_in_russian_chrome(stand_in):
    root, result = stand_in
    out = root / "public"
    d = doc(out, "ru/winter/asthma/index.html")
    assert (d.elements[0].get("lang"), d.elements[0].get("dir")) == ("ru", "ltr")
    assert texts(d, "p", "hp-fallback-notice") == [
        "Эта страница ещё не переведена на русский язык. Пока она есть только на другом языке: английский."]
    h1 = d.one("h1")
    assert (h1.get("lang"), h1.text) == ("en", "Asthma in cold air")
    assert [e.get("lang") for e in d.elements if e.get("class") == "hp-body"] == ["en"]
    assert d.one("link", rel="canonical").get("href") == "https://health.example.org/en/winter/asthma/"
    assert d.all("link", rel="alternate") == [], "a stand-in claims to be no one's translation"
    assert not [e for e in d.all("script") if e.get("type") == "application/ld+json"], "its original carries the JSON-LD"
    assert "Skip to main content" not in html(out, "ru/winter/asthma/index.html"), "the chrome is Russian"
    sitemap = (out / "sitemap.xml").read_text(encoding="utf-8")
    assert "/ru/winter/asthma/" not in sitemap and "/ko/winter/asthma/" not in sitemap


def test_a_stand_in_follows_the_languages_fallback_chain(stand_in):
    out = stand_in[0] / "public"
    d = doc(out, "ko/winter/asthma/index.html")
    assert d.one("h1").get("lang") == "zh-Hans", "ko falls back to zh-Hans before en"
    (notice,) = texts(d, "p", "hp-fallback-notice")
    assert notice.startswith("이 페이지는 아직 한국어로 번역되지 않았습니다.") and "중국어" in notice
    assert d.one("link", rel="canonical").get("href") == "https://health.example.org/zh-Hans/winter/asthma/"


def test_the_switcher_and_the_section_lead_to_the_stand_in(stand_in):
    root, result = stand_in
    out = root / "public"
    links = switcher(doc(out, "en/winter/asthma/index.html"))
    assert links["ru"] == ("/ru/winter/asthma/", "Русский (страница ещё не переведена — откроется на другом языке)")
    section = doc(out, "ru/winter/index.html")
    cards = [e for e in section.elements if e.tag == "li" and e.get("class") == "hp-card"]
    assert [c.get("lang") for c in cards] == [None, "en"], "the English card says it is English"
    assert texts(section, "p", "hp-card-group__count") == ["2 темы"]
    missing = [p for p in result.warnings if p.file == "content/en/winter/asthma.md"]
    assert {p.message.split(":")[0] for p in missing} == {"no Русский (ru) translation", "no 한국어 (ko) translation"}
    assert all("another language, with a notice" in p.message for p in missing)


def test_stand_ins_are_deterministic(stand_in, tmp_path):
    root = stand_in[0]
    build(root, output=tmp_path / "again", use_cache=False)
    assert_same_tree(tmp_path / "again", root / "public")


# --- translation status -------------------------------------------------------------------------------------------

def status(root: Path, *args: str):
    return CliRunner().invoke(main, ["i18n", "status", "--root", str(root), *args])


def test_status_lists_the_missing_and_the_outdated_translation():
    result = status(I18N / "site")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Translation status: 4 source pages in en"
    assert "  ru       2 up to date, 1 outdated, 1 missing" in lines
    assert "      missing     content/ru/winter/asthma.md  (translate content/en/winter/asthma.md)" in lines
    assert ("      outdated    content/ru/winter/frostbite.md  (content/en/winter/frostbite.md changed since it was "
            "marked)") in lines
    assert "  zh-Hans  4 up to date" in lines and "  ko       4 up to date" in lines


def test_status_as_json_for_ci():
    result = status(I18N / "site", "--format", "json", "--strict")
    assert result.exit_code == 1, "--strict fails on gaps"
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["source_language"] == "en" and data["source_pages"] == 4
    assert data["languages"]["ru"] == {
        "current": 2,
        "missing": [{"page": "content/ru/winter/asthma.md", "source": "content/en/winter/asthma.md"}],
        "outdated": [{"page": "content/ru/winter/frostbite.md", "source": "content/en/winter/frostbite.md"}],
        "unmarked": []}
    assert data["languages"]["ko"] == {"current": 4, "missing": [], "outdated": [], "unmarked": []}


def test_marking_brings_a_translation_up_to_date_and_the_lock_file_is_stable(tmp_path):
    root = copy("site", tmp_path / "site")
    result = CliRunner().invoke(main, ["i18n", "mark", "--root", str(root), "content/ru/winter/frostbite.md"])
    assert result.exit_code == 0 and "Marked 1 translation" in result.output, result.output
    data = json.loads(status(root, "--format", "json").stdout)
    assert data["languages"]["ru"]["outdated"] == [] and data["languages"]["ru"]["current"] == 3
    lock = (root / translation_status.LOCK_FILE).read_bytes()
    keys = re.findall(r'^\["(.+)"\]$', lock.decode(), re.M)
    assert keys == sorted(keys) and len(keys) == 11
    CliRunner().invoke(main, ["i18n", "mark", "--root", str(root), "content/ru"])
    assert (root / translation_status.LOCK_FILE).read_bytes() == lock, "marking again changes nothing"
    assert status(root, "--strict").exit_code == 1, "asthma is still missing"


def test_only_the_title_and_body_make_a_translation_outdated(tmp_path):
    root = copy("site", tmp_path / "site")
    edit(root, "content/en/winter/asthma.md", "reviewed: 2026-03-05", "reviewed: 2026-04-01")
    assert json.loads(status(root, "--format", "json").stdout)["languages"]["ko"]["outdated"] == []
    edit(root, "content/en/winter/asthma.md", "title: Asthma in cold air", "title: Asthma and cold air")
    outdated = json.loads(status(root, "--format", "json").stdout)["languages"]["ko"]["outdated"]
    assert [e["page"] for e in outdated] == ["content/ko/winter/asthma.md"]


def test_a_translation_never_marked_is_unknown_and_the_report_says_how_to_mark_it(tmp_path):
    root = copy("site", tmp_path / "site")
    (root / translation_status.LOCK_FILE).unlink()
    result = status(root)
    assert "  ko       4 not marked" in result.output
    assert "healingpixels i18n mark content/ko content/ru content/zh-Hans" in result.output
    assert result.exit_code == 0


def test_mark_refuses_source_pages_and_unknown_paths(tmp_path):
    root = copy("site", tmp_path / "site")
    result = CliRunner().invoke(main, ["i18n", "mark", "--root", str(root), "content/en/winter/asthma.md",
                                       "content/fr"])
    assert result.exit_code == 1
    assert "source language" in result.output and "no translated page here" in result.output


# --- the build's check of the catalogs ----------------------------------------------------------------------------

def test_a_site_adds_a_language_with_a_catalog_and_a_site_toml_entry(rtl):
    root, result = rtl
    out = root / "public"
    d = doc(out, "ar/winter/index.html")
    assert (d.elements[0].get("lang"), d.elements[0].get("dir")) == ("ar", "rtl")
    assert texts(d, "p", "hp-card-group__count") == ["موضوعان"], "Arabic's dual, from the site's catalog"
    assert "انتقل إلى المحتوى الرئيسي" in html(out, "ar/index.html")
    # The rest of the texts fall back to English, and the build says so (one warning for the language).
    (warning,) = [p for p in result.warnings if p.file == "locales/ar/LC_MESSAGES/messages.po"]
    assert "not translated into العربية (ar)" in warning.message and "English" in warning.message


def test_a_language_with_no_catalog_at_all_is_reported(tmp_path):
    root = copy("rtl", tmp_path / "site")
    shutil.rmtree(root / "locales")
    result = build(root)
    (warning,) = [p for p in result.warnings if p.file.startswith("locales/")]
    assert warning.file == "locales/ar/LC_MESSAGES/messages.po" and "no interface catalog" in warning.message
    assert "Skip to main content" in html(root / "public", "ar/index.html")


def test_fuzzy_entries_fall_back_and_wrong_placeholders_never_reach_a_page(tmp_path):
    """A site's own ru catalog sits above the built-in one: what it translates wins, what it leaves out (or gets
    wrong) falls through to the built-in Russian."""
    root = copy("site", tmp_path / "site")
    write(root, "locales/ru/LC_MESSAGES/messages.po", '''msgid ""
msgstr ""
"Language: ru\\n"
"Content-Type: text/plain; charset=utf-8\\n"
"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\\n"

msgid "Skip to main content"
msgstr "К основному тексту"

#, fuzzy
msgid "Languages"
msgstr "Язычки"

#, python-format
msgid "In an emergency, call %(number)s."
msgstr "Звоните %(nomer)s."
''')
    result = build(root)
    page = html(root / "public", "ru/winter/frostbite/index.html")
    text = " ".join(e.text for e in Doc(page).all("p"))
    assert "К основному тексту" in page, "the site's translation wins"
    assert "Язычки" not in page and re.search('aria-label="?Языки', page), "a fuzzy guess is not used"
    assert "В экстренной ситуации звоните 103 / 112." in text, "the broken one falls back to the built-in Russian"
    (warning,) = [p for p in result.warnings if p.file == "locales/ru/LC_MESSAGES/messages.po"]
    assert "does not match its placeholders" in warning.message and "In an emergency" in warning.message


def test_the_catalog_check_reads_unchanged_templates_from_its_cache(four, monkeypatch):
    root = four[0]
    config = load_config(root)
    first = i18n.catalog_problems(config, root / CACHE_DIR)
    i18n.clear_caches()  # a new build reads the catalogs again; the template texts are cached by their bytes

    def parse(text):
        raise AssertionError("an unchanged template was parsed again")

    monkeypatch.setattr(i18n, "_template_ids", parse)
    assert i18n.catalog_problems(config, root / CACHE_DIR) == first


# --- extract, update, compile -------------------------------------------------------------------------------------

def test_update_creates_a_catalog_for_a_new_language_and_then_changes_nothing(tmp_path):
    root = copy("rtl", tmp_path / "site")
    shutil.rmtree(root / "locales")
    result = CliRunner().invoke(main, ["i18n", "update", "--root", str(root)])
    assert result.exit_code == 0, result.output
    po = root / "locales/ar/LC_MESSAGES/messages.po"
    assert po.is_file() and not (root / "locales/en").exists(), "English is built in: no copy"
    cat = i18n.read_catalog(po)
    assert cat.num_plurals == 6 and {i18n._key(m.id) for m in cat if m.id} >= {"Skip to main content", "%(num)d topic"}
    before = {p: p.read_bytes() for p in (root / "locales").rglob("*") if p.is_file()}
    again = CliRunner().invoke(main, ["i18n", "update", "--root", str(root)])
    assert "unchanged" in again.output
    assert {p: p.read_bytes() for p in (root / "locales").rglob("*") if p.is_file()} == before
    compiled = CliRunner().invoke(main, ["i18n", "compile", "--root", str(root), "--strict"])
    assert compiled.exit_code == 1 and "to translate" in compiled.output


def test_update_keeps_translations_and_marks_changed_texts_fuzzy(tmp_path):
    root = copy("rtl", tmp_path / "site")
    po = root / "locales/ar/LC_MESSAGES/messages.po"
    text = po.read_text(encoding="utf-8").replace('msgid "Next"', 'msgid "Nxt"')
    po.write_text(text, encoding="utf-8")
    CliRunner().invoke(main, ["i18n", "update", "--root", str(root)])
    messages = {i18n._key(m.id): m for m in i18n.read_catalog(po) if m.id}
    assert messages["Skip to main content"].string == "انتقل إلى المحتوى الرئيسي"
    assert messages["Next"].fuzzy and messages["Next"].string == "التالي", "a guess from the old text, marked fuzzy"
    assert "Nxt" not in messages, "texts no template uses are dropped"


# --- right to left ------------------------------------------------------------------------------------------------

PHYSICAL = [
    (re.compile(r"\b(margin|padding|border|scroll-margin|scroll-padding|inset)-(left|right)\b"), "use -inline-start/end"),
    (re.compile(r"(?:^|[;{\s])(left|right)\s*:"), "use inset-inline-start/end"),
    (re.compile(r":\s*(left|right)\s*(?:!important)?\s*[;}]"), "use start/end (text-align, float, clear …)"),
    (re.compile(r"border-(top|bottom)-(left|right)-radius"), "use border-start-start-radius …"),
    (re.compile(r"background-position(-x)?\s*:[^;}]*\b(left|right)\b"), "position from the start edge instead"),
]
SHORTHAND = re.compile(r"(?:^|[;{\s])(margin|padding)\s*:\s*([^;}!]+)")


def css_files() -> list[Path]:
    return [ROOT / "themes/harbin-ice/static/theme.css", *sorted(ROOT.glob("components/*/style.css"))]


def test_css_uses_logical_properties_only():
    found = []
    for path in css_files():
        css = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
        for pattern, fix in PHYSICAL:
            found += [f"{path.relative_to(ROOT)}: {m.group(0).strip()} ({fix})" for m in pattern.finditer(css)]
        for m in SHORTHAND.finditer(css):  # four values with different left and right sides are physical too
            values = re.findall(r"(?:[^\s(]|\([^)]*\)?\)?)+", m.group(2))  # split on spaces outside brackets
            if len(values) == 4 and values[1] != values[3]:
                found.append(f"{path.relative_to(ROOT)}: {m.group(0).strip()} (use {m.group(1)}-inline)")
    assert found == []


def test_things_that_point_turn_around_in_rtl():
    """Breadcrumb separators and pager arrows have right-to-left versions; arrow and chevron icons are mirrored."""
    css = re.sub(r"/\*.*?\*/", "", "\n".join(p.read_text(encoding="utf-8") for p in css_files()), flags=re.S)
    for glyph in ("›", "→"):  # each one that points along the line has its mirror image for right-to-left text
        if glyph in css:
            assert {"›": "‹", "→": "←"}[glyph] in css, f"{glyph} has no right-to-left version"
    folder = ROOT / "themes/harbin-ice/icons"
    icons = sorted(p.stem for p in folder.glob("*.svg")) if folder.is_dir() else []
    directional = [name for name in icons if re.search(r"(arrow|chevron|caret)-(left|right)", name)]
    flips = " ".join(m.group(1) for m in re.finditer(r"([^{}]*:dir\(rtl\)[^{}]*)\{[^}]*transform:scaleX\(-1\)", css))
    for name in ("arrow-left", "arrow-right", "chevron-left", "chevron-right", *directional):
        assert f"--{name}" in flips, f"an icon named {name} is not mirrored in right-to-left text"


def test_an_rtl_page_says_so_and_keeps_english_pages_ltr(rtl):
    out = rtl[0] / "public"
    for rel, lang, direction in [("ar/winter/frostbite/index.html", "ar", "rtl"), ("ar/index.html", "ar", "rtl"),
                                 ("ar/404.html", "ar", "rtl"), ("en/winter/frostbite/index.html", "en", "ltr")]:
        root = doc(out, rel).elements[0]
        assert (root.get("lang"), root.get("dir")) == (lang, direction), rel
    links = switcher(doc(out, "en/winter/frostbite/index.html"))
    assert links["ar"] == ("/ar/winter/frostbite/", "العربية")
    (ar,) = [a for a in doc(out, "en/index.html").all("a") if a.get("lang") == "ar"]
    assert ar.get("dir") == "rtl", "the Arabic name is laid out right to left even on an English page"


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs /usr/bin/chromium")
def test_an_rtl_page_is_laid_out_from_the_right_in_chromium(rtl, chromium, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(rtl[0] / "public")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        chromium.get(base + "/ar/winter/frostbite/")
        found = chromium.execute_script("""
            const h1 = document.querySelector('h1').getBoundingClientRect();
            const main = document.querySelector('main').getBoundingClientRect();
            const next = document.querySelector('[rel=next] [class$="__label"]');
            const icon = (name, where) => {  // as {{ icon(name) }} draws it, in an rtl and in an ltr region
                const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
                svg.setAttribute('class', 'hp-icon hp-icon--' + name);
                where.append(svg);
                return getComputedStyle(svg).transform;
            };
            const ltr = document.createElement('div');
            ltr.dir = 'ltr';
            document.querySelector('main').append(ltr);
            return {direction: getComputedStyle(document.documentElement).direction,
                    gapStart: main.right - h1.right, gapEnd: h1.left - main.left,
                    arrow: next ? getComputedStyle(next, '::after').content : null,
                    forward: icon('arrow-right', document.querySelector('main')), up: icon('arrow-up', document.body),
                    inLtr: icon('arrow-right', ltr)};""")
        assert found["direction"] == "rtl"
        assert abs(found["gapStart"]) < 2 and found["gapEnd"] >= 0, "the heading starts at the right edge"
        assert found["arrow"] is not None and "←" in found["arrow"], "'next' points left in right-to-left text"
        assert found["forward"] == "matrix(-1, 0, 0, 1, 0, 0)", "an arrow icon is mirrored"
        assert found["up"] == "none" and found["inLtr"] == "none", "…but not one that points up, nor in LTR text"
    finally:
        server.shutdown()
        server.server_close()
