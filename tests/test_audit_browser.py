"""The browser audits in a real Chromium: axe-core and our own checks (healingpixels.audit.browser) and Lighthouse CI
(healingpixels.audit.lighthouse). The fixture pages under tests/fixtures/browser/ each break one rule."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from healingpixels.audit import browser
from healingpixels.audit.findings import PageResult

CHROME = os.environ.get("CHROME_PATH") or browser.CHROME_PATH
FIXTURES = Path(__file__).parent / "fixtures" / "browser"
AUDITS = Path(__file__).parent.parent / "audits"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROME), reason=f"Chromium is not installed at {CHROME} "
                                                          "(sudo apt-get install chromium chromium-driver)"),
]

ALL_MODES = {("light", "phone"), ("light", "desktop"), ("dark", "phone"), ("dark", "desktop"),
             ("high-contrast", "phone"), ("high-contrast", "desktop"), ("forced-colors", "desktop")}
PAGES = ["clean/index.html", "dark-contrast/index.html", "small-target/index.html", "overflow/index.html",
         "unlabeled-input/index.html", "img-no-alt/index.html", "no-focus/index.html"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A copy of the fixtures, plus a page that is a file on disk but that the server refuses (404): a symlink that
    leads out of the folder."""
    root = tmp_path_factory.mktemp("browser-site")
    folder = root / "site"
    shutil.copytree(FIXTURES, folder)
    (root / "outside.html").write_text("<!doctype html><title>outside</title>", encoding="utf-8")
    (folder / "escape").mkdir()
    (folder / "escape" / "index.html").symlink_to(root / "outside.html")
    return folder


@pytest.fixture(scope="module")
def audited(site, tmp_path_factory) -> tuple[dict[str, PageResult], Path]:
    cache = tmp_path_factory.mktemp("browser-cache")
    results = browser.run(site, PAGES + ["missing/index.html", "escape/index.html"], cache)
    return {r.path: r for r in results}, cache


def rules(result: PageResult) -> set[str]:
    return {f.rule for f in result.findings}


def test_clean_page_passes_in_every_mode_and_viewport(audited):
    results, _ = audited
    clean = results["clean/index.html"]
    assert not clean.error
    assert clean.findings == [], [(f.rule, f.mode, f.viewport, f.message) for f in clean.findings]
    assert not clean.failed


def test_results_come_back_in_the_order_asked(audited):
    results, _ = audited
    assert list(results) == PAGES + ["missing/index.html", "escape/index.html"]


def test_low_contrast_in_dark_mode_only(audited):
    results, _ = audited
    found = [f for f in results["dark-contrast/index.html"].findings if f.rule == "color-contrast"]
    assert found, results["dark-contrast/index.html"]
    assert {f.mode for f in found} == {"dark"}
    assert {f.viewport for f in found} == {"phone", "desktop"}
    first = found[0]
    assert first.wcag == ("1.4.3",)
    assert first.selector == ".note"
    assert "note" in first.html and "contrast" in first.message
    assert "dequeuniversity.com" in first.help
    # nothing else is wrong with the page, in any mode
    assert rules(results["dark-contrast/index.html"]) == {"color-contrast"}


def test_tiny_nav_link_fails_our_44px_check(audited):
    results, _ = audited
    found = [f for f in results["small-target/index.html"].findings if f.rule == "target-size-44"]
    assert len(found) == 1, results["small-target/index.html"].findings
    f = found[0]
    assert f.viewport == "phone" and "20×20" in f.message
    assert f.selector.endswith("a") and 'class="tiny"' in f.html
    assert set(f.wcag) == {"2.5.5", "2.5.8"}


def test_horizontal_overflow_at_320px_fails_reflow(audited):
    results, _ = audited
    found = [f for f in results["overflow/index.html"].findings if f.rule == "reflow"]
    assert found and found[0].wcag == ("1.4.10",)
    assert 'class="wide"' in found[0].html
    assert rules(results["overflow/index.html"]) == {"reflow"}


def test_unlabeled_input_fails_label_in_every_mode(audited):
    results, _ = audited
    found = [f for f in results["unlabeled-input/index.html"].findings if f.rule == "label"]
    assert {(f.mode, f.viewport) for f in found} == ALL_MODES
    assert "4.1.2" in found[0].wcag and found[0].impact == "critical"


def test_image_without_alt_fails_image_alt(audited):
    results, _ = audited
    found = [f for f in results["img-no-alt/index.html"].findings if f.rule == "image-alt"]
    assert {(f.mode, f.viewport) for f in found} == ALL_MODES
    assert found[0].wcag == ("1.1.1",) and found[0].selector == "img"


def test_missing_focus_indicator_fails_focus_visible(audited):
    results, _ = audited
    found = [f for f in results["no-focus/index.html"].findings if f.rule == "focus-visible"]
    assert {f.html for f in found} >= {'<a href="/clean/">Home</a>', '<a href="/clean/">Contact</a>'}
    assert all(f.wcag == ("2.4.7",) for f in found)


def test_screenshots_outline_the_offending_element(audited):
    results, cache = audited
    f = next(f for f in results["img-no-alt/index.html"].findings if f.rule == "image-alt")
    shot = Path(f.screenshot)
    assert shot.parent == cache / "screens"
    assert shot.name == "img-no-alt_index-light-phone.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    reflow = next(f for f in results["overflow/index.html"].findings if f.rule == "reflow")
    assert Path(reflow.screenshot).is_file()


def test_missing_page_and_server_404_are_errors_not_passes(audited):
    results, _ = audited
    missing = results["missing/index.html"]
    assert missing.failed and "does not exist" in missing.error
    refused = results["escape/index.html"]
    assert refused.failed and "HTTP status 404" in refused.error


def test_cache_skips_unchanged_passing_page_and_reaudits_after_css_change(tmp_path):
    folder = tmp_path / "site"
    shutil.copytree(FIXTURES, folder)
    cache = tmp_path / "cache"
    pages = ["clean/index.html", "img-no-alt/index.html"]

    first = browser.run(folder, pages, cache)
    assert [r.failed for r in first] == [False, True]
    assert browser.last_stats.pages == 2 and browser.last_stats.cached == 0
    stored = json.loads((cache / "browser.json").read_text())["pages"]
    assert set(stored) == {"clean/index.html"}  # only passing pages are remembered
    assert {"assets/site.css", "assets/dot.svg"} <= set(stored["clean/index.html"]["assets"])

    second = browser.run(folder, pages, cache)
    assert [r.failed for r in second] == [False, True]
    assert browser.last_stats.cached == 1 and browser.last_stats.pages == 1  # the failing page is audited again

    css = folder / "assets" / "site.css"
    css.write_text(css.read_text() + "\n.note { color: #777; }\n")
    third = browser.run(folder, ["clean/index.html"], cache)
    assert not third[0].failed
    assert browser.last_stats.cached == 0 and browser.last_stats.pages == 1


def test_timeout_and_crash_are_errors_and_the_browser_restarts(tmp_path, monkeypatch):
    folder = tmp_path / "site"
    shutil.copytree(FIXTURES, folder)
    silent = socket.socket()  # accepts the connection and never answers: the page load times out
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    real = browser.page_url

    def url(base_url, page):
        if page.startswith("img-no-alt"):
            return "chrome://crash"  # kills the tab: the session is gone
        if page.startswith("unlabeled-input"):
            return f"http://127.0.0.1:{silent.getsockname()[1]}/"
        return real(base_url, page)

    monkeypatch.setattr(browser, "page_url", url)
    monkeypatch.setattr(browser, "PAGE_LOAD_TIMEOUT", 3)
    try:
        results = browser.run(folder, ["unlabeled-input/index.html", "img-no-alt/index.html", "clean/index.html"],
                              None, workers=1)
    finally:
        silent.close()
    assert results[0].failed and "within 3 s" in results[0].error
    assert results[1].failed and "crashed" in results[1].error
    assert not results[2].failed, results[2]


def test_missing_chromium_raises_browser_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("CHROME_PATH", str(tmp_path / "no-chromium"))
    with pytest.raises(browser.BrowserMissing, match="apt-get install chromium"):
        browser.run(tmp_path, ["index.html"], None)


def test_wcag_tags_map_to_success_criteria():
    assert browser.wcag_from_tags(["cat.color", "wcag2aa", "wcag143", "wcag1410", "wcag21aa", "wcag258"]) == \
        ("1.4.3", "1.4.10", "2.5.8")


# --- Lighthouse ---------------------------------------------------------------------------------------------------------

def test_lighthouse_scores_a_page_and_fails_an_impossible_budget(tmp_path):
    from healingpixels.audit import lighthouse

    if not (AUDITS / "node_modules" / ".bin" / "lhci").exists():  # `make setup` installs it; a fresh clone may not
        npm = shutil.which("npm")
        assert npm, "Lighthouse CI is not installed and there is no npm to install it: install Node.js 20 with npm"
        subprocess.run([npm, "ci", "--prefix", str(AUDITS), "--no-audit", "--no-fund"], check=True, timeout=600,
                       stdout=subprocess.DEVNULL)
    folder = tmp_path / "site"
    shutil.copytree(FIXTURES, folder)
    budgets = {"performance": 1.01, "accessibility": 1.0, "total_bytes_kb": 0.1, "runs": 1}
    results = lighthouse.run(folder, ["clean/index.html"], budgets)
    assert len(results) == 1
    result = results[0]
    assert not result.error, result.error
    assert 0.0 < result.metrics["performance"] <= 1.0
    assert result.metrics["accessibility"] == 1.0
    found = {f.rule: f for f in result.findings}
    assert "lighthouse:performance" in found and "1.01" in found["lighthouse:performance"].message
    assert "lighthouse:total-byte-weight" in found
    assert "lighthouse:accessibility" not in found


def _lhr(perf: float, lcp: float, weight: int) -> dict:
    return {"categories": {"performance": {"title": "Performance", "score": perf},
                           "accessibility": {"title": "Accessibility", "score": 1.0, "auditRefs": []}},
            "audits": {"largest-contentful-paint": {"numericValue": lcp},
                       "cumulative-layout-shift": {"numericValue": 0.0},
                       "total-blocking-time": {"numericValue": 0.0},
                       "total-byte-weight": {"numericValue": weight}}}


def test_lighthouse_budgets_are_held_to_the_median_of_the_runs():
    from healingpixels.audit import lighthouse

    lhrs = [_lhr(0.99, 1200, 200 * 1024), _lhr(0.90, 3100, 200 * 1024), _lhr(0.93, 2900, 200 * 1024)]
    limits = {"performance": 0.95, "lcp_ms": 2500, "total_bytes_kb": 300}
    result = lighthouse.evaluate("en/index.html", lhrs, limits)
    assert result.metrics["performance"] == 0.93 and result.metrics["lcp_ms"] == 2900
    assert result.metrics["total_bytes_kb"] == 200.0 and result.metrics["runs"] == 3
    found = {f.rule: f.message for f in result.findings}
    assert set(found) == {"lighthouse:performance", "lighthouse:largest-contentful-paint"}
    assert "0.93" in found["lighthouse:performance"] and "0.95" in found["lighthouse:performance"]
    assert "2,900 ms" in found["lighthouse:largest-contentful-paint"] and "2,500 ms" in found[
        "lighthouse:largest-contentful-paint"]
    with pytest.raises(ValueError, match="unknown lighthouse budget"):
        lighthouse.run(Path("."), [], {"perfromance": 0.9})


def test_lighthouse_default_sample_is_one_article_per_language_plus_a_home_and_a_section():
    from healingpixels.audit import lighthouse

    pages = ["index.html", "404.html", "en/index.html", "en/404.html", "en/flu/index.html", "en/flu/jab/index.html",
             "en/flu/signs/index.html", "en/about/index.html", "ru/index.html", "ru/flu/index.html",
             "ru/flu/jab/index.html", "styleguide/index.html"]
    kinds = lighthouse.classify(pages)
    assert kinds["index.html"] == ("root", "") and kinds["en/404.html"] == ("404", "en")
    assert kinds["en/index.html"] == ("home", "en") and kinds["en/flu/index.html"] == ("section", "en")
    assert kinds["en/about/index.html"] == ("article", "en") and kinds["styleguide/index.html"][0] == "styleguide"
    assert lighthouse.select_pages(pages) == ["en/index.html", "en/flu/index.html", "en/flu/jab/index.html",
                                              "ru/flu/jab/index.html"]
    templates = lighthouse.select_pages(pages, "templates")
    assert {"index.html", "en/index.html", "ru/index.html", "styleguide/index.html"} <= set(templates)
    assert not any(p.endswith("404.html") for p in templates)
    assert lighthouse.select_pages(pages, "all") == pages
