"""The static audit: each fixture page fails with exactly its one known violation, the clean page passes, findings map
to Markdown lines through the sourcemap, and the reports (text, JSON, JUnit, HTML) and the command behave."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from healingpixels.audit import AuditError, load_budgets, run, static
from healingpixels.audit.command import audit, gate
from healingpixels.audit.report import JSON_FIELDS, to_html, to_json, to_junit, to_text

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "audit"
TODAY = dt.date(2026, 6, 1)  # after overdue.html's next review (2026-01-31)
BIG = 310 * 1024  # over the 300 KB image budget
# A page budget above the big image, so that oversized-image.html fails on the image budget alone.
BUDGETS = {"weight_kb": 400, "requests": 15, "image_kb": 300}

EXPECTED = {
    "clean.html": set(),
    "missing-alt.html": {"image-alt"},
    "skipped-heading.html": {"heading-order"},
    "two-h1.html": {"single-h1"},
    "unlabeled-input.html": {"label"},
    "third-party-script.html": {"third-party-request"},
    "third-party-font.html": {"third-party-request"},
    "oversized-image.html": {"image-weight"},
    "duplicate-id.html": {"duplicate-id"},
    "click-here.html": {"link-text"},
    "zdes.html": {"link-text"},
    "broken-anchor.html": {"broken-anchor"},
    "lang-missing.html": {"html-has-lang"},
    "table-no-th.html": {"table-headers"},
    "overdue.html": {"review-overdue"},
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """The fixtures, plus the oversized image (written here: no big binary in git)."""
    dest = tmp_path_factory.mktemp("audit") / "site"
    shutil.copytree(FIXTURES, dest)
    (dest / "images" / "big.jpg").write_bytes(bytes(range(256)) * (BIG // 256))
    return dest


@pytest.fixture(scope="module")
def report(folder: Path):
    return run(folder, "static", budgets=BUDGETS, today=TODAY)


def by_path(report) -> dict:
    return {page.path: page for page in report.pages}


def audit_html(tmp_path: Path, body: str, *, head: str = "", lang: str = "en", name: str = "page.html",
               files: dict[str, str] | None = None, site_root: Path | None = None, **kw):
    """Audit one page built from a clean skeleton; returns (errors' rules, warnings' rules, the page result)."""
    page = tmp_path / name
    page.parent.mkdir(parents=True, exist_ok=True)
    lang_attr = f' lang="{lang}"' if lang else ""
    page.write_text(f"""<!doctype html><html{lang_attr}><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'"><title>Test page</title>{head}</head>
<body><main id="main"><h1>Test page</h1>
{body}
</main></body></html>""", encoding="utf-8")
    for rel, text in (files or {}).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    result = by_path(run(tmp_path, budgets=kw.pop("budgets", BUDGETS), today=TODAY, site_root=site_root, **kw))
    rel = page.relative_to(tmp_path).as_posix()
    return {f.rule for f in result[rel].findings}, {f.rule for f in result[rel].warnings}, result[rel]


# --- the parser ------------------------------------------------------------------------------------------------------


def test_parser_reads_html_as_browsers_do():
    page = static.parse("t.html", """<!DOCTYPE html><HTML LANG=en><body>
<!-- <img src="commented.png"> -->
<script>if (a < b) document.write("<div>not a tag</div>")</script>
<a href=/en/>x</a><img src=a.png /><input value="a > b" disabled>
<p title="Fish &amp; chips">Salt &lt;3<p>second
<ul><li>one<li>two</ul><textarea><b>not bold</b></textarea>""".encode())
    tags = [el.tag for el in page.elements]
    assert tags == ["html", "body", "script", "a", "img", "input", "p", "p", "ul", "li", "li", "textarea"]
    a, img, inp, p1, p2, ul = (page.elements[i] for i in (3, 4, 5, 6, 7, 8))
    assert a.attrs == {"href": "/en/"} and a.children == ["x"] and img.attrs == {"src": "a.png"}
    assert inp.attrs == {"value": "a > b", "disabled": ""} and p1.attrs["title"] == "Fish & chips"
    assert p1.children == ["Salt <3"] and p2.parent is p1.parent  # <p> closes the open <p>
    assert [li.parent for li in page.tags("li")] == [ul, ul] and page.html.attrs == {"lang": "en"}
    assert [el.line for el in page.elements][:4] == [1, 1, 3, 4]


# --- the fixture pages -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", sorted(EXPECTED))
def test_each_fixture_fails_with_its_rule(report, page):
    result = by_path(report)[page]
    assert {f.rule for f in result.findings} == EXPECTED[page], [f.message for f in result.findings]
    assert not result.error
    assert result.failed == bool(EXPECTED[page])


def test_every_fixture_page_is_expected(report):
    assert set(by_path(report)) == set(EXPECTED)


def test_clean_page_has_no_findings_or_warnings(report):
    clean = by_path(report)["clean.html"]
    assert clean.findings == [] and clean.warnings == [] and not clean.failed


def test_findings_say_what_where_and_how(report):
    pages = by_path(report)
    (alt,) = pages["missing-alt.html"].findings
    assert alt.wcag == ("1.1.1",) and alt.impact == "critical"
    assert alt.selector == "main > p:nth-of-type(1) > img"
    assert alt.html.startswith('<img src="images/snowflake.svg"')
    assert "alt" in alt.help and alt.source is None  # no sourcemap: no source
    (script,) = pages["third-party-script.html"].findings
    assert "https://cdn.example.com/x.js" in script.message and "script" in script.message
    (font,) = pages["third-party-font.html"].findings
    assert "fonts.example.com" in font.message and "css/font.css" in font.message and "font" in font.message
    (zdes,) = pages["zdes.html"].findings
    assert "здесь" in zdes.message
    (anchor,) = pages["broken-anchor.html"].findings
    assert "#symptom" in anchor.message
    (big,) = pages["oversized-image.html"].findings
    assert "images/big.jpg" in big.message and "310 KB" in big.message
    (overdue,) = pages["overdue.html"].findings
    assert "2026-01-31" in overdue.message


def test_default_budget_also_fails_the_page_weight(folder):
    result = by_path(run(folder, budgets=load_budgets(), today=TODAY))["oversized-image.html"]
    assert {f.rule for f in result.findings} == {"image-weight", "page-weight"}


def test_review_not_due_yet_passes(folder):
    result = by_path(run(folder, budgets=BUDGETS, today=dt.date(2026, 1, 31)))["overdue.html"]
    assert not result.findings


# --- more rules, one page each -------------------------------------------------------------------------------------


@pytest.mark.parametrize("body, head, rule", [
    ('<p><a href="page.html">Read more…</a></p>', "", "link-text"),
    ('<p><a href="page.html" aria-label="Подробнее"><span>About asthma</span></a></p>', "", "link-text"),
    ('<p><a href="page.html"><svg aria-hidden="true"></svg></a></p>', "", "link-name"),
    ('<button type="button"><svg aria-hidden="true"></svg></button>', "", "button-name"),
    ('<h2></h2>', "", "empty-heading"),
    ('<svg role="img" viewBox="0 0 1 1"></svg>', "", "svg-img-alt"),
    ('<table><tr><td>1</td></tr></table>', "", "table-headers"),
    ('<label for="nope">Age</label>', "", "idref-exists"),
    ('<p aria-describedby="nope">x</p>', "", "idref-exists"),
    ('<p><a href="#main" tabindex="3">Top of the page</a></p>', "", "tabindex"),
    ('<div aria-hidden="true"><a href="#main">Top of the page</a></div>', "", "aria-hidden-focus"),
    ('<video src="page.html" autoplay muted controls></video>', "", "autoplay-media"),
    ('<iframe src="page.html"></iframe>', "", "frame-title"),
    ('<p>Call the hospital: 哈尔滨第一医院.</p>', "", "lang-change"),
    ('<p>Say <b>Здравствуйте</b> to the nurse.</p>', "", "lang-change"),
    ('<p><a href="nowhere/">the missing page</a></p>', "", "broken-link"),
    ('<p><a href="#nowhere">the missing part</a></p>', "", "broken-anchor"),
    ('<p><img src="images/missing.png" alt="A missing image"></p>', "", "missing-resource"),
    ('<p>x</p>', '<meta http-equiv="refresh" content="0; url=https://elsewhere.example/">', "third-party-request"),
    ('<p>x</p>', '<link rel="preconnect" href="https://fonts.gstatic.com">', "third-party-request"),
    ('<p><img srcset="https://img.example.com/a.png 1x" alt="A photo of snow"></p>', "", "third-party-request"),
    ('<p>x</p>', '<style>@import url("https://cdn.example.com/a.css");</style>', "third-party-request"),
    ('<p style="background:url(//cdn.example.com/bg.png)">x</p>', "", "third-party-request"),
])
def test_rules(tmp_path, body, head, rule):
    errors, warnings, _ = audit_html(tmp_path, body, head=head)
    assert errors == {rule}, (errors, warnings)


@pytest.mark.parametrize("body, rule", [
    ('<table><caption>Doses</caption><tr><th>1</th></tr></table>', None),
    ('<table><tr><th>Dose</th></tr></table>', "table-caption"),
    ('<p><a href="page.html" target="_blank">The leaflet</a></p>', "link-new-window"),
    ('<p><a href="page.html" target="_blank">The leaflet (opens in a new tab)</a></p>', None),
    ('<p><a href="page.html" target="_blank" lang="ru">Памятка (в новом окне)</a></p>', None),
    ('<input type="text" title="Your age">', "label-title-only"),
    ('<p><img src="page.html" alt="image"></p>', "image-alt-meaningful"),
])
def test_warnings_do_not_fail(tmp_path, body, rule):
    errors, warnings, result = audit_html(tmp_path, body)
    assert errors == set() and not result.failed
    assert warnings == ({rule} if rule else set())


@pytest.mark.parametrize("html_open, head, rule", [
    ('<html lang="jp">', "", "html-lang-valid"),
    ('<html lang="en_US">', "", "html-lang-valid"),
    ('<html lang="ar">', "", "html-dir-rtl"),
    ('<html lang="en">', '<meta name="viewport" content="width=device-width, user-scalable=no">', "meta-viewport"),
    ('<html lang="en">', '<meta name="viewport" content="width=device-width, maximum-scale=1">', "meta-viewport"),
])
def test_page_level_rules(tmp_path, html_open, head, rule):
    (tmp_path / "p.html").write_text(f"""<!doctype html>{html_open}<head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'">{head}<title>T</title></head>
<body><h1>T</h1></body></html>""", encoding="utf-8")
    result = run(tmp_path, budgets=BUDGETS, today=TODAY).pages[0]
    assert {f.rule for f in result.findings} == {rule}


def test_page_without_csp_title_or_h1(tmp_path):
    (tmp_path / "p.html").write_text('<!doctype html><html lang="en"><body><p>Hello</p></body></html>')
    result = run(tmp_path, budgets=BUDGETS, today=TODAY).pages[0]
    assert {f.rule for f in result.findings} == {"csp-meta", "document-title", "page-has-heading-one"}


def test_decorative_and_named_images_pass(tmp_path):
    body = """<p><img src="images/a.svg" alt=""><img src="images/a.svg" role="presentation">
<img src="images/a.svg" aria-hidden="true"><img src="images/a.svg" aria-label="A snowflake"></p>
<svg role="img" aria-label="A thermometer"></svg><svg role="img"><title>A glove</title></svg>
<p><a href="page.html"><img src="images/a.svg" alt="Home"></a></p>
<form><label>Age <input name="age"></label><input aria-label="Town"><span id="w">Weight</span>
<input aria-labelledby="w"><input type="hidden" name="x"><input type="submit"></form>"""
    errors, warnings, _ = audit_html(tmp_path, body, files={"images/a.svg": "<svg/>"})
    assert errors == set() and warnings == set()


def test_lang_in_its_own_folder(tmp_path):
    for code in ("en", "ru"):
        (tmp_path / code).mkdir()
    errors, _, _ = audit_html(tmp_path, "<p>Winter health</p>", lang="en", name="ru/index.html")
    assert errors == {"html-lang-folder"}
    errors, _, _ = audit_html(tmp_path, "<p>Здоровье зимой</p>", lang="ru", name="ru/other.html")
    assert errors == set()


def test_pretty_urls_and_base_path(tmp_path):
    out = tmp_path / "out"
    (out / "en" / "asthma").mkdir(parents=True)
    (out / "en" / "asthma" / "index.html").write_text('<h1 id="symptoms">Asthma</h1>')
    root = tmp_path / "site"
    root.mkdir()
    (root / "site.toml").write_text('base_url = "https://example.org/health/"\n')
    ok = ('<p><a href="/health/en/asthma/#symptoms">asthma symptoms</a> <a href="/health/en/asthma">asthma</a> '
          '<a href="https://example.org/health/en/asthma/">asthma, in full</a></p>')
    errors, _, _ = audit_html(out, ok, site_root=root)
    assert errors == set()
    errors, _, result = audit_html(out, '<p><a href="/en/asthma/">asthma</a></p>', site_root=root)
    assert errors == {"broken-link"} and "outside the site" in result.findings[0].message
    errors, _, _ = audit_html(out, '<p><a href="/health/en/asthma/#causes">causes of asthma</a></p>', site_root=root)
    assert errors == {"broken-anchor"}


# --- the sourcemap ---------------------------------------------------------------------------------------------------


def test_sourcemap_maps_findings_to_markdown_lines(tmp_path):
    out, root = tmp_path / "public", tmp_path / "site"
    (out / "en" / "frostbite").mkdir(parents=True)
    (root / ".healingpixels-cache").mkdir(parents=True)
    (root / "content" / "en").mkdir(parents=True)
    (root / "site.toml").write_text('base_url = "https://health.example.org/"\n')
    (root / "content" / "en" / "frostbite.md").write_text(
        "---\ntitle: Frostbite\nreviewed: 2025-01-01\nnext_review: 2026-01-01\n---\n\nText.\n")
    (root / ".healingpixels-cache" / "sourcemap.json").write_text(json.dumps({"en/frostbite/index.html": {
        "source": "content/en/frostbite.md", "line": 6,
        "locations": {"src=/images/a.svg": 12, "#symptoms": 9, "href=/en/nowhere/": 14}}}))
    (out / "images").mkdir()
    (out / "images" / "a.svg").write_text("<svg/>")
    body = """<div class="hp-body">
<p><img src="/images/a.svg"></p>
<h4 id="symptoms">Symptoms</h4>
<p>See <a href="/en/nowhere/">the other page</a>.</p>
<table><tr><td>no header</td></tr></table>
</div>
<footer><p><a href="/en/nowhere/">the template link</a></p></footer>"""
    head = '<meta name="hp:next-review" content="2026-01-01">'
    _, _, result = audit_html(out, body, head=head, lang="en", name="en/frostbite/index.html", site_root=root)
    sources = {(f.rule, f.source) for f in result.findings}
    assert ("image-alt", "content/en/frostbite.md:12") in sources
    assert ("heading-order", "content/en/frostbite.md:9") in sources
    assert ("broken-link", "content/en/frostbite.md:14") in sources
    assert ("broken-link", None) in sources  # the same link in the template: not in the Markdown
    assert ("table-headers", "content/en/frostbite.md") in sources  # in the Markdown, line unknown
    assert ("review-overdue", "content/en/frostbite.md:4") in sources  # the next_review line of the front matter
    text = to_text(run(out, site_root=root, budgets=BUDGETS, today=TODAY))
    assert "content/en/frostbite.md:12: image-alt: the image /images/a.svg has no alt text" in text


def test_built_fixture_site_passes_and_maps_review_dates(built):
    """Our own build passes the static audit; with the clock moved on, the overdue review points at its front matter."""
    root = built.parent
    report = run(built, "static", root, today=dt.date(2026, 6, 1))
    assert not report.failed, to_text(report, checklist=False)
    late = run(built, "static", root, today=dt.date(2030, 1, 1))
    overdue = {f.source for page in late.pages for f in page.findings if f.rule == "review-overdue"}
    assert overdue and all(s.startswith("content/") and s.split(":")[-1].isdigit() for s in overdue), overdue


# --- reports ---------------------------------------------------------------------------------------------------------


def test_json_matches_the_schema(report):
    data = json.loads(to_json(report))
    assert set(data) == {"pages", "summary"}
    assert [p["path"] for p in data["pages"]] == sorted(EXPECTED)
    for page in data["pages"]:
        assert set(page) == {"path", "findings", "warnings", "error"}
        for finding in page["findings"] + page["warnings"]:
            assert tuple(finding) == JSON_FIELDS
            assert isinstance(finding["wcag"], list) and all(isinstance(c, str) for c in finding["wcag"])
            assert finding["impact"] in ("minor", "moderate", "serious", "critical")
            assert finding["source"] is None or isinstance(finding["source"], str)
            assert all(isinstance(finding[k], str) for k in ("rule", "selector", "message", "mode", "viewport"))
    summary = data["summary"]
    assert summary["pages"] == len(EXPECTED) and summary["failed"] == len(EXPECTED) - 1
    assert summary["rules"]["link-text"] == 2 and summary["rules"]["third-party-request"] == 2
    assert len(summary["worst"]) == 5


def test_junit_is_well_formed(report):
    root = ET.fromstring(to_junit(report).encode())
    assert root.tag == "testsuites" and root.get("failures") == str(len(EXPECTED) - 1)
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "static"
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert set(cases) == set(EXPECTED)
    assert cases["clean.html"].find("failure") is None
    assert "image-alt" in cases["missing-alt.html"].find("failure").text


def test_text_report(report):
    text = to_text(report)
    assert "missing-alt.html: image-alt: the image images/snowflake.svg has no alt text" in text
    assert "Worst pages:" in text and "Check by hand" in text


def test_html_report_is_readable_and_passes_our_own_audit(report, tmp_path):
    page = to_html(report)
    assert 'href="https://www.w3.org/WAI/WCAG22/Understanding/non-text-content.html"' in page
    assert "How to fix" in page and "missing-alt.html" in page and "&lt;img src=&quot;images/snowflake.svg&quot;&gt;" in page
    (tmp_path / "report.html").write_text(page, encoding="utf-8")
    own = run(tmp_path, budgets={"weight_kb": 1000, "requests": 15, "image_kb": 300}, today=TODAY).pages[0]
    assert own.findings == [], [f.message for f in own.findings]


def test_a_page_with_an_error_fails(report):
    from healingpixels.audit.findings import PageResult
    from healingpixels.audit.report import make_report
    broken = make_report({"static": [PageResult("a.html")], "browser": [PageResult("a.html", error="timed out")]}, {})
    assert broken.failed and broken.summary["failed"] == 1
    assert "browser: timed out" in to_text(broken)
    assert ET.fromstring(to_junit(broken)).get("errors") == "1"


# --- browser and Lighthouse, as run() calls them (their own tests cover what they find) ----------------------------


def test_browser_and_lighthouse_levels_merge_and_fail_safely(folder, monkeypatch):
    from healingpixels.audit import browser, lighthouse
    from healingpixels.audit.findings import Finding, PageResult

    calls = {}

    def fake_browser(folder_, pages, cache_dir, **kw):
        calls["browser"] = (pages, cache_dir, kw)
        contrast = Finding("color-contrast", "text is 3.1:1", ("1.4.3",), mode="dark", viewport="phone")
        return [PageResult(p, [contrast] if p == "clean.html" else []) for p in pages if p != "two-h1.html"]

    def fake_lighthouse(folder_, pages, budgets, **kw):
        calls["lighthouse"] = (pages, budgets, kw)
        return [PageResult("clean.html", metrics={"performance": 0.99})]  # its own sample: one page

    monkeypatch.setattr(browser, "run", fake_browser)
    monkeypatch.setattr(lighthouse, "run", fake_lighthouse)
    report = run(folder, "full", budgets=load_budgets(), today=TODAY)
    assert calls["browser"][0] == sorted(EXPECTED) and calls["browser"][1] is None
    assert calls["lighthouse"][1]["performance"] == 0.95 and calls["lighthouse"][2]["full"] is False
    pages = by_path(report)
    assert {f.rule for f in pages["clean.html"].findings} == {"color-contrast"}
    assert pages["clean.html"].metrics == {"performance": 0.99}
    assert "browser: the browser audit returned no result" in pages["two-h1.html"].error  # never a silent pass
    assert not pages["missing-alt.html"].error  # Lighthouse not sampling a page is not an error
    suites = [s.get("name") for s in ET.fromstring(to_junit(report))]
    assert suites == ["static", "browser", "lighthouse"]
    assert json.loads(to_json(report))["pages"][1]["metrics"] == {"performance": 0.99}

    def crash(*a, **kw):
        raise RuntimeError("chrome crashed")

    monkeypatch.setattr(browser, "run", crash)
    crashed = run(folder, "browser", budgets=BUDGETS, today=TODAY)
    assert all(p.failed and "chrome crashed" in p.error for p in crashed.pages)

    def missing(*a, **kw):
        raise browser.BrowserMissing("Chromium is not installed; run make system")

    monkeypatch.setattr(browser, "run", missing)
    with pytest.raises(AuditError, match="Chromium is not installed"):
        run(folder, "browser", budgets=BUDGETS, today=TODAY)
    result = CliRunner().invoke(audit, [str(folder), "--level", "browser"])
    assert result.exit_code == 2 and "Chromium is not installed" in result.output and "Traceback" not in result.output


# --- the command -----------------------------------------------------------------------------------------------------


def test_cli_exit_codes(folder, tmp_path):
    runner = CliRunner()
    failing = runner.invoke(audit, [str(folder), "--today", "2026-06-01"])
    assert failing.exit_code == 1, failing.output
    assert "image-alt" in failing.output
    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copy(folder / "clean.html", clean)
    shutil.copytree(folder / "css", clean / "css")
    shutil.copytree(folder / "images", clean / "images")
    passing = runner.invoke(audit, [str(clean), "--format", "json"])
    assert passing.exit_code == 0, passing.output
    assert json.loads(passing.output)["summary"]["failed"] == 0
    for args in ([str(tmp_path / "missing")], [str(clean), "--level", "nope"], [str(tmp_path / "empty-does-not-exist")]):
        usage = runner.invoke(audit, args)
        assert usage.exit_code == 2
    (tmp_path / "empty").mkdir()
    empty = runner.invoke(audit, [str(tmp_path / "empty")])
    assert empty.exit_code == 2 and "no .html files" in empty.output and "Traceback" not in empty.output


def test_cli_writes_reports(folder, tmp_path):
    runner = CliRunner()
    for fmt in ("json", "junit", "html"):
        out = tmp_path / f"report.{fmt}"
        result = runner.invoke(audit, [str(folder), "--format", fmt, "--report", str(out)])
        assert result.exit_code == 1 and out.is_file() and "Report:" in result.output


def test_gate_writes_reports_into_the_cache(built, tmp_path):
    root = tmp_path / "site"
    shutil.copytree(built.parent, root)  # the shared build stays as it was
    assert gate(root / "public", root, "static", today=TODAY) == 0
    folder = root / ".healingpixels-cache" / "audit"
    assert json.loads((folder / "audit-report.json").read_text())["summary"]["failed"] == 0
    assert (folder / "audit-report.html").read_text().startswith("<!doctype html>")
    assert gate(root / "public", root, "static", today=dt.date(2030, 1, 1)) == 1
    assert json.loads((folder / "audit-report.json").read_text())["summary"]["rules"] == {"review-overdue": 3}
    assert gate(root / "public", root, "none") == 0


def test_bad_budgets_file_is_a_usage_error(tmp_path):
    bad = tmp_path / "budgets.toml"
    bad.write_text("weight_kb = 'lots'\n")
    with pytest.raises(AuditError, match="weight_kb must be a positive number"):
        load_budgets(path=bad)


def test_shipped_budgets_equal_the_defaults():
    from healingpixels.audit import DEFAULT_BUDGETS
    assert load_budgets() == DEFAULT_BUDGETS


def test_rules_are_small_registered_functions():
    ids = [r.id for r in static.RULES]
    assert len(ids) == len(set(ids)) >= 30
    assert all(r.help and r.impact in ("minor", "moderate", "serious", "critical") for r in static.RULES)


def test_a_site_overrides_budgets_in_site_toml(tmp_path):
    (tmp_path / "site.toml").write_text('[budgets]\nweight_kb = 90\n[budgets.lighthouse]\nperformance = 0.99\n')
    budgets = load_budgets(tmp_path)
    assert budgets["weight_kb"] == 90 and budgets["requests"] == 15
    assert budgets["lighthouse"]["performance"] == 0.99 and budgets["lighthouse"]["accessibility"] == 1.0
    (tmp_path / "site.toml").write_text('[budgets]\nweight_kbs = 90\n')
    with pytest.raises(AuditError, match="did you mean weight_kb"):
        load_budgets(tmp_path)
