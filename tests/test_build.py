"""Building the fixture site: URLs, languages and their alternates, search-engine files, atomic and reproducible
output, incremental rebuilds that equal cold ones, the command line, and golden HTML."""
from __future__ import annotations

import difflib
import gzip
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner

from healingpixels import build as build_mod, content as content_mod
from healingpixels.build import build
from healingpixels.cli import main

from conftest import (BASE_URL, FIXTURE_PAGES, GOLDEN, ROOT, Doc, assert_same_tree, copy_fixture, doc, edit,
                      html, page, problems_of, program_state, skip_if_program_changed, tree, write)

NATIVE = {"en": "English", "ru": "Русский"}
MISSING_RU = "content/en/winter-health/asthma.md"  # the build warns: it has no ru translation (on purpose)
# Generated from reviewers.toml (healingpixels/reviewers.py): the reviewers' list and a profile, in each language.
REVIEWER_PAGES = ["en/reviewers/index.html", "ru/reviewers/index.html", "en/reviewers/zhang-wei/index.html",
                  "ru/reviewers/zhang-wei/index.html"]


def url_of(rel: str) -> str:
    """en/winter-health/index.html -> https://health.example.org/en/winter-health/"""
    return BASE_URL + rel.removesuffix("index.html")


def rel_of(url: str) -> str:
    path = urlsplit(url).path
    return path.lstrip("/") + ("index.html" if path.endswith("/") else "")


def alternates(d: Doc) -> dict[str, str]:
    links = d.all("link", rel="alternate")
    found = {e.get("hreflang"): e.get("href") for e in links}
    assert len(found) == len(links), f"an hreflang is listed twice: {links}"
    return found


def staging_left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and "public" in p.name)


# --- URLs and languages ----------------------------------------------------------------------------------------


def test_output_holds_exactly_the_pages_and_files_of_the_site(built):
    files = set(tree(built))
    pages = {f for f in files if f.endswith("index.html") and f.split("/")[0] in NATIVE}
    assert pages == set(FIXTURE_PAGES) | set(REVIEWER_PAGES)
    assert {"index.html", "404.html", "en/404.html", "ru/404.html", "sitemap.xml", "robots.txt",
            "images/snowflake.svg"} <= files
    assert not (built / "ru/winter-health/asthma").exists(), "no page for the missing translation"
    assert not [f for f in files if f.endswith(".md")], "no Markdown sources are published"


def test_assets_get_precompressed_copies_and_pages_only_when_asked(built, site, tmp_path):
    files = set(tree(built))
    css = next(f for f in files if f.startswith("assets/theme.") and f.endswith(".css"))
    assert {css + ".gz", css + ".br"} <= files, "assets are precompressed by default"
    assert not [f for f in files if f.endswith(("index.html.gz", "index.html.br"))], "pages are not, by default"
    toml = site / "site.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('output = "public"', 'output = "public"\nprecompress = "all"'),
                    encoding="utf-8")
    out = build(site, tmp_path / "all", use_cache=False).output
    page = out / "en/winter-health/frostbite/index.html"
    assert gzip.decompress((out / (str(page.relative_to(out)) + ".gz")).read_bytes()) == page.read_bytes()


@pytest.mark.parametrize("rel", list(FIXTURE_PAGES))
def test_every_page_says_its_language_and_direction(built, rel):
    lang, _ = FIXTURE_PAGES[rel]
    root = doc(built, rel).elements[0]
    assert (root.tag, root.get("lang"), root.get("dir")) == ("html", lang, "ltr")


@pytest.mark.parametrize("rel", list(FIXTURE_PAGES))
def test_every_page_has_its_pretty_canonical_url(built, rel):
    assert doc(built, rel).one("link", rel="canonical").get("href") == url_of(rel)


@pytest.mark.parametrize("rel", list(FIXTURE_PAGES))
def test_hreflang_alternates_are_reciprocal_with_x_default(built, rel):
    lang, _ = FIXTURE_PAGES[rel]
    alts = alternates(doc(built, rel))
    assert alts.get(lang) == url_of(rel), "a page lists itself"
    assert alts.get("x-default", "").startswith(BASE_URL + "en/"), "x-default is the default language's page"
    assert alts["x-default"] == alts["en"]
    for other_lang, href in alts.items():
        if other_lang == "x-default":
            continue
        other = doc(built, rel_of(href))
        assert other.elements[0].get("lang") == other_lang, f"{href} is not in {other_lang}"
        assert alternates(other).get(lang) == url_of(rel), f"{href} does not list {url_of(rel)} back"


def test_a_missing_translation_has_no_alternate_and_the_switcher_goes_home(built):
    d = doc(built, "en/winter-health/asthma/index.html")
    assert set(alternates(d)) == {"en", "x-default"}
    switch = {a.get("lang"): a.get("href") for a in d.all("a") if a.get("lang")}
    assert switch == {"en": "/en/winter-health/asthma/", "ru": "/ru/"}
    present = doc(built, "en/winter-health/frostbite/index.html")
    assert {a.get("lang"): a.get("href") for a in present.all("a") if a.get("lang")}["ru"] == "/ru/winter-health/frostbite/"


def test_language_switcher_names_languages_in_their_own_script(built):
    d = doc(built, "ru/winter-health/frostbite/index.html")
    links = [a for a in d.all("a") if a.get("lang")]
    assert [(a.get("lang"), a.text) for a in links] == list(NATIVE.items())
    current = [a for a in links if a.get("aria-current")]
    assert [a.get("lang") for a in current] == ["ru"]


def test_every_internal_link_and_fragment_resolves(built):
    ids: dict[str, set[str]] = {}
    broken, checked = [], 0
    for rel in sorted(tree(built)):
        if not rel.endswith(".html"):
            continue
        for el in doc(built, rel).elements:
            for attr in ("href", "src"):
                value = el.get(attr)
                if not value or not (value.startswith("/") or value.startswith(BASE_URL) or value.startswith("#")):
                    continue
                parts, checked = urlsplit(value), checked + 1
                target = rel if value.startswith("#") else rel_of(parts.path)
                if not (built / target).is_file():
                    broken.append(f"{rel}: {value}")
                    continue
                if parts.fragment and target.endswith(".html"):
                    if target not in ids:
                        ids[target] = {e.get("id") for e in doc(built, target).elements if e.get("id")}
                    if unquote(parts.fragment) not in ids[target]:
                        broken.append(f"{rel}: {value} (no such id)")
    assert checked > 100 and broken == []


def test_medical_pages_carry_json_ld_with_review(built):
    for rel, name, reviewed, reviewer in [
        ("en/winter-health/frostbite/index.html", "Frostbite", "2026-09-23", "Dr Zhang Wei"),
        ("ru/winter-health/frostbite/index.html", "Обморожение", "2026-09-30", "Д-р Чжан Вэй"),
    ]:
        d = doc(built, rel)
        (script,) = [e for e in d.all("script") if e.get("type") == "application/ld+json"]
        data = json.loads(script.text)
        assert data["@context"] == "https://schema.org" and data["@type"] == "MedicalWebPage"
        assert (data["name"], data["lastReviewed"], data["url"]) == (name, reviewed, url_of(rel))
        assert data["inLanguage"] == FIXTURE_PAGES[rel][0]
        assert data["reviewedBy"]["@type"] == "Person" and data["reviewedBy"]["name"] == reviewer


def test_sitemap_lists_every_page_with_its_alternates(built):
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    root = ET.fromstring((built / "sitemap.xml").read_bytes())
    entries = {u.findtext("s:loc", namespaces=ns): u for u in root.findall("s:url", ns)}
    assert set(entries) == {url_of(rel) for rel in [*FIXTURE_PAGES, *REVIEWER_PAGES]}
    assert len(entries) == len(root.findall("s:url", ns)), "each page once"
    for rel in FIXTURE_PAGES:
        entry = entries[url_of(rel)]
        listed = {x.get("hreflang"): x.get("href") for x in entry.findall("x:link", ns)}
        in_page = {k: v for k, v in alternates(doc(built, rel)).items() if k != "x-default"}
        if len(in_page) > 1:
            assert listed == in_page, rel
        else:
            assert listed in ({}, in_page), rel
    assert entries[url_of("en/winter-health/frostbite/index.html")].findtext("s:lastmod", namespaces=ns) == "2026-09-23"


def test_robots_txt_points_to_the_sitemap(built):
    assert (built / "robots.txt").read_text() == f"User-agent: *\nAllow: /\n\nSitemap: {BASE_URL}sitemap.xml\n"


@pytest.mark.parametrize("lang", list(NATIVE))
def test_a_404_page_per_language_and_one_at_the_root(built, lang):
    d = doc(built, f"{lang}/404.html")
    assert d.elements[0].get("lang") == lang
    assert d.one("meta", name="robots").get("content") == "noindex"
    urls = [e.get(a) for e in d.elements for a in ("href", "src") if e.get(a)]
    assert len(urls) > 3 and all(u.startswith(("/", "https://", "#")) for u in urls), "a 404 is served at any depth"
    assert (built / "404.html").read_bytes() == (built / "en/404.html").read_bytes()


def test_root_page_offers_every_language_by_its_native_name(built):
    d = doc(built, "index.html")
    offered = [(a.get("hreflang"), a.get("lang"), a.get("href"), a.text) for a in d.all("a") if a.get("hreflang")]
    assert offered == [(code, code, f"/{code}/", name) for code, name in NATIVE.items()]
    alts = alternates(d)
    assert alts == {**{code: f"{BASE_URL}{code}/" for code in NATIVE}, "x-default": BASE_URL}


def test_a_site_published_under_a_path_links_under_that_path(site):
    edit(site, "site.toml", "https://health.example.org/", "https://example.org/health/")
    out = build(site, use_cache=False).output
    urls = []
    for rel in tree(out):
        if rel.endswith(".html"):
            urls += [(rel, e.get(a)) for e in doc(out, rel).elements for a in ("href", "src") if e.get(a)]
        elif rel.endswith(".xml"):
            for loc, href in re.findall(r'<loc>([^<]*)<|href="([^"]*)"', html(out, rel)):
                urls.append((rel, loc or href))
    assert len(urls) > 50, "the check looked at the links"
    outside = [f"{rel}: {u}" for rel, u in urls
               if not u.startswith(("/health/", "https://example.org/health/", "#", "tel:"))]
    assert outside == []
    assert "Sitemap: https://example.org/health/sitemap.xml" in (out / "robots.txt").read_text()


# --- atomic, reproducible, incremental ----------------------------------------------------------------------------


def test_a_failed_build_leaves_the_previous_output_intact(warm):
    site = warm
    before = tree(site / "public")
    edit(site, "content/en/winter-health/asthma.md", "next_review: 2027-04-01", "next_review: soon")
    edit(site, "content/ru/winter-health/frostbite.md", "Признаки", "Признаки\n\n[нет](nowhere.md)")
    problems = problems_of(site)
    assert {p.file for p in problems} == {"content/en/winter-health/asthma.md", "content/ru/winter-health/frostbite.md"}
    assert tree(site / "public") == before
    assert staging_left(site) == []


def test_a_failed_build_does_not_spoil_the_cache(warm, tmp_path):
    state = program_state()
    site = warm
    edit(site, "content/en/winter-health/asthma.md", "Cold, dry air", "Cold, very dry air\n\n[x](nowhere.md)")
    problems_of(site)
    edit(site, "content/en/winter-health/asthma.md", "\n\n[x](nowhere.md)", "")
    build(site)
    cold = build(site, output=tmp_path / "cold", use_cache=False).output
    skip_if_program_changed(state)
    assert_same_tree(site / "public", cold)


def broken_component(site: Path, line_2: str) -> None:
    """The site's own care-card component, whose macro has LINE_2 as its second line."""
    (site / "components/care-card").mkdir(parents=True)
    shutil.copy(ROOT / "components/care-card/component.toml", site / "components/care-card/component.toml")
    write(site, "components/care-card/macro.html",
          "{% macro render(title, body, option, emergency) %}\n" + line_2 + "\n{% endmacro %}\n")


def test_a_template_error_is_a_build_error_and_changes_nothing(warm):
    site = warm
    before = tree(site / "public")
    broken_component(site, "<p>{{ no_such_name.x }}</p>")
    (p,) = problems_of(site)
    assert p.file.endswith("components/care-card/macro.html") and "no_such_name" in p.message
    assert tree(site / "public") == before
    assert staging_left(site) == []


def test_a_template_syntax_error_names_the_template_relative_to_the_site(site):
    broken_component(site, "<p>{{ title.html </p>")
    (p,) = problems_of(site, use_cache=False)
    assert str(p).startswith("components/care-card/macro.html:2: template error")


def test_a_template_runtime_error_gives_the_templates_line(site):
    broken_component(site, "<p>{{ no_such_name.x }}</p>")
    (p,) = problems_of(site, use_cache=False)
    assert p.line == 2


def test_cold_builds_are_byte_identical_wherever_they_run(site, tmp_path):
    state = program_state()
    other = copy_fixture(tmp_path / "elsewhere" / "another-name")
    first = build(site, output=tmp_path / "one", use_cache=False).output
    second = build(other, output=tmp_path / "two", use_cache=False).output
    skip_if_program_changed(state)
    assert len(tree(first)) > 10
    assert_same_tree(second, first)
    assert staging_left(tmp_path) == []


def test_a_rebuild_with_nothing_changed_renders_nothing(warm):
    site = warm  # built elsewhere and copied here: the cache must not depend on the site's path
    before, state = tree(site / "public"), program_state()
    rendered = build(site).rendered
    skip_if_program_changed(state)
    assert rendered == 0
    assert tree(site / "public") == before


def test_changing_one_body_renders_one_page_and_equals_a_cold_build(warm, tmp_path):
    site, state = warm, program_state()
    edit(site, "content/en/winter-health/asthma.md", "Cold, dry air", "Cold, very dry air")
    result = build(site)
    skip_if_program_changed(state)
    assert result.rendered == 1
    assert "very dry air" in html(site / "public", "en/winter-health/asthma/index.html")
    cold = build(site, output=tmp_path / "cold", use_cache=False).output
    skip_if_program_changed(state)
    assert_same_tree(site / "public", cold)


def test_a_rebuild_neither_cleans_the_icons_nor_compiles_the_catalogs_again(warm, monkeypatch):
    """Both are kept in the cache (the theme and the catalogs are in its fingerprint): a rebuild of one Russian page
    needs the Russian catalog and the icons, and must not pay for them again."""
    from healingpixels import i18n, svg

    site, state = warm, program_state()
    edit(site, "content/ru/winter-health/frostbite.md", "повреждение кожи", "повреждение кожи и тканей")

    def fail(*args, **kwargs):
        raise AssertionError("worked out again")
    monkeypatch.setattr(svg, "sprite", fail)
    monkeypatch.setattr(i18n, "load_catalog", fail)
    result = build(site)
    skip_if_program_changed(state)
    assert result.rendered == 1
    page = html(site / "public", "ru/winter-health/frostbite/index.html")
    assert "повреждение кожи и тканей" in page and "hp-icon" in page
    assert "Перейти к основному содержанию" in page, "the skip link, in Russian"


def test_changing_a_title_rerenders_the_pages_that_show_it(warm, tmp_path):
    state = program_state()
    site = warm
    edit(site, "content/en/winter-health/asthma.md", "title: Asthma in cold air", "title: Asthma and cold weather")
    result = build(site)
    assert result.rendered >= 3, "the page, its section's list and its neighbour's pager"
    for rel in ("en/winter-health/asthma/index.html", "en/winter-health/index.html",
                "en/winter-health/frostbite/index.html"):
        assert "Asthma and cold weather" in html(site / "public", rel), rel
    cold = build(site, output=tmp_path / "cold", use_cache=False).output
    skip_if_program_changed(state)
    assert_same_tree(site / "public", cold)


def test_renaming_a_section_updates_every_pages_menu_and_the_404_pages(warm, tmp_path):
    site, state = warm, program_state()
    edit(site, "content/en/winter-health/index.md", "title: Winter health", "title: Cold weather")
    build(site)
    skip_if_program_changed(state)
    for rel in ("en/404.html", "404.html", "en/winter-health/frostbite/index.html"):
        assert "Cold weather" in html(site / "public", rel), rel
    assert_same_tree(site / "public", build(site, output=tmp_path / "cold", use_cache=False).output)


def test_a_new_review_date_reaches_the_sitemap(warm, tmp_path):
    site, state = warm, program_state()
    text = (site / "content/en/winter-health/asthma.md").read_text(encoding="utf-8")
    old = re.search(r"^reviewed: (\S+)$", text, re.M).group(1)
    edit(site, "content/en/winter-health/asthma.md", f"reviewed: {old}", "reviewed: 2026-11-30")
    build(site)
    skip_if_program_changed(state)
    assert "<lastmod>2026-11-30</lastmod>" in html(site / "public", "sitemap.xml")
    assert_same_tree(site / "public", build(site, output=tmp_path / "cold", use_cache=False).output)


def test_changing_an_images_size_rerenders_the_pages_that_show_it(warm, tmp_path):
    site, state = warm, program_state()
    svg = (site / "content/images/snowflake.svg").read_text(encoding="utf-8")
    write(site, "content/images/snowflake.svg", svg.replace('viewBox="0 0 32 32"', 'viewBox="0 0 48 48"'))
    result = build(site)
    skip_if_program_changed(state)
    assert result.rendered == 2, "the English and Russian frostbite pages show it"
    assert 'width="48" height="48"' in html(site / "public", "en/winter-health/frostbite/index.html")
    cold = build(site, output=tmp_path / "cold", use_cache=False).output
    skip_if_program_changed(state)
    assert_same_tree(site / "public", cold)


def test_adding_a_translation_updates_the_other_languages_alternates(warm, tmp_path):
    state = program_state()
    site = warm
    write(site, "content/ru/winter-health/asthma.md", page("Астма на морозе", "Холодный воздух.\n", order="2"))
    build(site)
    assert alternates(doc(site / "public", "en/winter-health/asthma/index.html"))["ru"] == \
        BASE_URL + "ru/winter-health/asthma/"
    cold = build(site, output=tmp_path / "cold", use_cache=False).output
    skip_if_program_changed(state)
    assert_same_tree(site / "public", cold)


def test_deleting_a_page_removes_it_everywhere(site, tmp_path):
    state = program_state()
    write(site, "content/en/winter-health/chilblains.md", page("Chilblains", "Itchy skin.\n", order="3"))
    build(site)
    assert (site / "public/en/winter-health/chilblains/index.html").is_file()
    (site / "content/en/winter-health/chilblains.md").unlink()
    build(site)
    assert not (site / "public/en/winter-health/chilblains").exists()
    cold = build(site, output=tmp_path / "cold", use_cache=False).output
    skip_if_program_changed(state)
    assert_same_tree(site / "public", cold)


def test_switching_output_folders_never_serves_stale_pages(warm, tmp_path):
    site, state = warm, program_state()  # its last build went to public/
    edit(site, "content/en/winter-health/asthma.md", "Cold, dry air", "Cold, very dry air")
    build(site, output=tmp_path / "preview")
    build(site)
    cold = build(site, output=tmp_path / "cold", use_cache=False).output
    skip_if_program_changed(state)
    assert_same_tree(site / "public", cold)


def test_parallel_rendering_equals_serial_rendering(site, tmp_path, monkeypatch):
    state = program_state()
    extra = 9
    monkeypatch.setattr(build_mod, "PARALLEL_FROM", 4)  # so few pages already fork render workers
    monkeypatch.setattr(content_mod, "PARALLEL_FROM", 4)  # and front matter readers
    for i in range(extra):
        write(site, f"content/en/winter-health/p{i:02d}.md",
              page(f"Part {i:02d}", f"## Part\n\nSee [frostbite](frostbite.md#symptoms) and [next](p{i + 1:02d}.md#part)"
                                    if i + 1 < extra else "## Part\n", order=str(i + 3)))
    parallel = build(site, output=tmp_path / "parallel", use_cache=False)
    monkeypatch.setattr(build_mod, "PARALLEL_FROM", 10**9)
    monkeypatch.setattr(content_mod, "PARALLEL_FROM", 10**9)
    serial = build(site, output=tmp_path / "serial", use_cache=False)
    assert parallel.rendered == serial.rendered == len(FIXTURE_PAGES) + extra
    skip_if_program_changed(state)
    assert_same_tree(tmp_path / "parallel", tmp_path / "serial")


def test_output_override_writes_only_there(site, tmp_path):
    result = build(site, output=tmp_path / "preview", use_cache=False)
    assert result.output == tmp_path / "preview"
    assert dict(result.pages) == {"en": 4, "ru": 3}
    assert result.rendered == len(FIXTURE_PAGES)
    assert [w.file for w in result.warnings] == [MISSING_RU], "ru lacks the asthma page: a translation gap"
    assert (tmp_path / "preview/en/winter-health/frostbite/index.html").is_file()
    assert not (site / "public").exists()
    assert staging_left(tmp_path) == [] and staging_left(site) == []



def test_a_config_error_names_site_toml(site):
    edit(site, "site.toml", 'default_language = "en"', 'default_language = "fr"')
    (p,) = problems_of(site)
    assert p.file == "site.toml" and str(p).startswith("site.toml:3: ")
    assert not (site / "public").exists()


UNSAFE_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" role="img" onload="alert(1)"><title>Snowflake'
              '</title><script>alert(2)</script><path d="M16 2v28M4 9l24 14M4 23l24-14" stroke="#2B4C63"/></svg>\n')


def test_a_warning_is_reported_and_the_build_still_succeeds(warm):
    write(warm, "content/images/snowflake.svg", UNSAFE_SVG)
    result = build(warm)
    warnings = [w for w in result.warnings if w.file != MISSING_RU]  # the fixture's translation gap warns too
    assert {(w.file, w.line, w.severity) for w in warnings} == {("content/images/snowflake.svg", 1, "warning")}
    assert any("<script>" in w.message for w in warnings) and any("onload" in w.message for w in warnings)
    assert all(str(w).startswith("content/images/snowflake.svg:1: warning: ") for w in warnings)
    published = (warm / "public/images/snowflake.svg").read_text(encoding="utf-8")
    assert "<script" not in published and "onload" not in published and "Snowflake" in published


def test_strict_turns_warnings_into_errors(warm):
    before = tree(warm / "public")
    write(warm, "content/images/snowflake.svg", UNSAFE_SVG)
    result = CliRunner().invoke(main, ["build", "--root", str(warm), "--strict", "--audit", "none"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert re.search(r"^content/images/snowflake\.svg:1: warning: removed <script>", result.stderr, re.M)
    assert tree(warm / "public") == before, "a strict failure changes nothing, like any other"
    assert staging_left(warm) == []


# --- a site's own theme and catalogs -----------------------------------------------------------------------------


def test_a_site_can_override_one_template_of_the_theme(site):
    write(site, "themes/harbin-ice/templates/partials/footer.html", '<footer class="hp-footer">Our own footer</footer>\n')
    out = build(site, use_cache=False).output
    assert "Our own footer" in html(out, "en/winter-health/frostbite/index.html")


def test_an_edited_inline_script_is_used_by_the_next_build_in_the_same_process(site):
    shutil.copy(ROOT / "themes/harbin-ice/tokens.json", write(site, "themes/harbin-ice/tokens.json", ""))
    write(site, "themes/harbin-ice/inline/mode.js", "/* version one */")
    build(site)
    write(site, "themes/harbin-ice/inline/mode.js", "/* version two */")
    build(site)
    assert "version two" in html(site / "public", "en/index.html")


def test_an_edited_catalog_is_used_by_the_next_build_in_the_same_process(site):
    po = ('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
          'msgid "Skip to main content"\nmsgstr "{}"\n')
    write(site, "locales/ru/LC_MESSAGES/messages.po", po.format("Перейти к содержанию"))
    build(site)
    assert "Перейти к содержанию" in html(site / "public", "ru/index.html")
    write(site, "locales/ru/LC_MESSAGES/messages.po", po.format("К основному тексту"))
    build(site)
    assert "К основному тексту" in html(site / "public", "ru/index.html")


# --- the command line ------------------------------------------------------------------------------------------


def test_cli_build_of_a_broken_site_lists_problems_and_exits_1(site):
    write(site, "content/ru/asthma.md", "---\ntitle: Астма\nreviewed: 2026-01-10\nnext_review: soon\n---\n\n# Астма\n")
    edit(site, "content/en/winter-health/frostbite.md", "## Symptoms", "## Symptoms\n\n[gone](gone.md)")
    result = CliRunner().invoke(main, ["build", "--root", str(site)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), "no crash, a clean exit"
    lines = [line for line in result.stderr.splitlines() if re.match(r"^content/\S+\.md:\d+: ", line)]
    assert lines == [
        "content/en/winter-health/frostbite.md:17: the link to content/en/winter-health/gone.md goes to a page that does not exist",
        "content/ru/asthma.md:4: front matter: next_review must be a date like 2027-05-01",
        "content/ru/asthma.md:7: a heading 1 (#) in the body",
    ]
    assert "3 errors" in result.stderr
    assert not (site / "public").exists()


def test_cli_build_of_a_broken_config_names_site_toml(site):
    edit(site, "site.toml", 'title = "Winter Health"', 'titel = "Winter Health"')
    result = CliRunner().invoke(main, ["build", "--root", str(site)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert re.search(r"^site\.toml:\d+: unknown key \"titel\"", result.stderr, re.M)
    assert "did you mean title?" in result.stderr


SUMMARY = re.compile(r"Built 7 pages \(en 4, ru 3; 7 rendered\), 1 warning, images \d+\.\d KB smaller in \d+\.\d\d s -> .*out")  # ru lacks asthma


def test_cli_build_of_a_good_site_prints_one_line_summary(site, tmp_path):
    args = ["build", "--root", str(site), "--output", str(tmp_path / "out"), "--no-cache", "--audit", "none"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert SUMMARY.fullmatch(line), line
    assert result.stderr.startswith(f"{MISSING_RU}: warning: no Русский (ru) translation"), result.stderr
    assert (tmp_path / "out/ru/index.html").is_file()


def test_cli_build_prints_the_first_warnings_and_how_many_more(site, tmp_path):
    for n in range(30):  # 30 overdue pages, each with no translation, beside the fixture's translation gap
        write(site, f"content/en/winter-health/old-{n:02}.md",
              f"---\ntitle: Old {n:02}\nreviewed: 2020-01-01\nnext_review: 2021-01-01\n---\nText.\n")
    args = ["build", "--root", str(site), "--output", str(tmp_path / "out"), "--audit", "none"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert ", 61 warnings," in result.stdout
    shown = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert len(shown) == 20 and "… and 41 more warnings: --all-warnings prints every one" in result.stderr
    result = CliRunner().invoke(main, args + ["--all-warnings"])
    assert len([line for line in result.stderr.splitlines() if ": warning: " in line]) == 61


def test_cli_build_summary_comes_first_even_with_the_audit(site, tmp_path):
    args = ["build", "--root", str(site), "--output", str(tmp_path / "out"), "--audit", "static"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert SUMMARY.fullmatch(result.stdout.splitlines()[0]), result.stdout
    assert "Traceback" not in result.output


# --- golden output -----------------------------------------------------------------------------------------------

GOLDEN_FILES = ["index.html", "en/winter-health/index.html", "en/winter-health/frostbite/index.html", "sitemap.xml"]


def normalise(text: str) -> str:
    """Take out what theme tweaks change: fingerprinted asset names, inline script bodies and their CSP hashes.
    Template changes still show."""
    text = re.sub(r"(/assets/[^\"'\s>]*?)\.[0-9a-f]{10}(\.[A-Za-z0-9]+)", r"\1.HASH\2", text)
    text = re.sub(r"sha256-[A-Za-z0-9+/]+=*", "sha256-HASH", text)
    for script in sorted((ROOT / "themes/harbin-ice/inline").glob("*.js")):
        body = script.read_text(encoding="utf-8").strip()
        if body:
            text = text.replace(body, f"/* inline script: {script.name} */")
    return text


@pytest.mark.parametrize("rel", GOLDEN_FILES)
def test_golden_output(built, rel):
    actual = normalise((built / rel).read_text(encoding="utf-8"))
    golden = GOLDEN / rel
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
        return
    assert golden.is_file(), f"no golden file {golden}; run UPDATE_GOLDEN=1 pytest tests/test_build.py"
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            f"tests/golden/{rel}", f"built/{rel}"))
        pytest.fail(f"{rel} differs from its golden file (if the change is intended: "
                    f"UPDATE_GOLDEN=1 pytest tests/test_build.py)\n{diff}", pytrace=False)


def test_normalise_only_hides_fingerprints():
    before = '<link href=/assets/theme.ab444c26cb.css><img src="/assets/icons/x.0123456789.svg"> sha256-AbC+/9= /en/a/'
    assert normalise(before) == '<link href=/assets/theme.HASH.css><img src="/assets/icons/x.HASH.svg"> sha256-HASH /en/a/'
