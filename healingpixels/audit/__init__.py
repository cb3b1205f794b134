"""Audit a folder of built HTML: static checks always, axe in Chromium (browser) and Lighthouse (full) on request."""
from __future__ import annotations

import datetime as dt
import difflib
import time
import tomllib
from pathlib import Path

from .findings import Finding, PageResult
from .report import AuditReport, make_report

__all__ = ["run", "AuditError", "AuditReport", "Finding", "PageResult", "LEVELS", "load_budgets", "load_checklist"]

LEVELS = ("static", "browser", "full")
CACHE_DIR = ".healingpixels-cache"
# The defaults when neither the site nor the package has audits/budgets.toml; keep them equal to that file.
DEFAULT_BUDGETS = {
    "weight_kb": 150,
    "requests": 15,
    "image_kb": 300,
    "lighthouse": {"performance": 0.95, "accessibility": 1.0, "best_practices": 0.9, "seo": 0.9, "lcp_ms": 2500,
                   "cls": 0.1, "tbt_ms": 200, "total_bytes_kb": 200},
}
NUMBERS = {"weight_kb": "kilobytes", "requests": "requests", "image_kb": "kilobytes"}


class AuditError(Exception):
    """The audit could not run at all (not a folder, no pages, a broken budgets file, no browser): exit status 2."""


def _data_file(name: str, site_root: Path | None) -> Path | None:
    """audits/NAME of the site, else the one shipped with Healing Pixels (wheel or source checkout)."""
    package = Path(__file__).resolve().parent.parent
    candidates = [site_root / "audits" / name] if site_root is not None else []
    candidates += [package / "_builtin" / "audits" / name, package.parent / "audits" / name]
    return next((path for path in candidates if path.is_file()), None)


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(f"{path}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise AuditError(f"{path}: {exc}") from None


def load_budgets(site_root: Path | None = None, path: Path | None = None) -> dict:
    """Budgets from PATH, or the site's audits/budgets.toml, or the shipped one; then the [budgets] table of the
    site's site.toml on top, key by key; missing keys take the defaults."""
    path = path or _data_file("budgets.toml", site_root)
    data = _read_toml(path) if path is not None else {}
    site_toml = site_root / "site.toml" if site_root is not None else None
    ours = _read_toml(site_toml).get("budgets", {}) if site_toml is not None and site_toml.is_file() else {}
    for key in ours:
        if key not in DEFAULT_BUDGETS:
            close = difflib.get_close_matches(key, DEFAULT_BUDGETS, n=1)
            raise AuditError(f'site.toml: [budgets] has no "{key}"' + (f"; did you mean {close[0]}?" if close else
                             f"; known: {', '.join(DEFAULT_BUDGETS)}"))
    budgets = {**DEFAULT_BUDGETS, **data, **ours}
    budgets["lighthouse"] = {**DEFAULT_BUDGETS["lighthouse"], **(data.get("lighthouse") or {}),
                             **(ours.get("lighthouse") or {})}
    for key, unit in NUMBERS.items():
        value = budgets.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise AuditError(f"{path or 'budgets'}: {key} must be a positive number of {unit}, like "
                             f"{key} = {DEFAULT_BUDGETS[key]}")
    return budgets


def load_checklist(site_root: Path | None = None) -> dict:
    """audits/checklist.toml: page type -> {"title": …, "items": […]}; empty when there is none."""
    path = _data_file("checklist.toml", site_root)
    if path is None:
        return {}
    data = _read_toml(path)
    return {key: value for key, value in data.items() if isinstance(value, dict) and isinstance(value.get("items"), list)}


def _guarded(kind: str, call, pages: list[str], every_page: bool = True) -> list[PageResult]:
    """Run one audit. Missing tools are an AuditError (the audit cannot run); a crash fails the pages instead of
    passing them, and so does a page the audit returned nothing for (when it must return every page)."""
    try:
        results = list(call())
    except ImportError as exc:
        raise AuditError(f"the {kind} audit needs its extra packages ({exc}); "
                         "install them with: pip install 'healingpixels[browser]' (make setup does)") from None
    except Exception as exc:
        if type(exc).__name__ == "BrowserMissing":  # Chromium, chromedriver, Node or Lighthouse CI not installed
            raise AuditError(str(exc)) from None
        if kind == "lighthouse" and isinstance(exc, ValueError):  # a [lighthouse] budget it does not know
            raise AuditError(f"budgets.toml [lighthouse]: {exc}") from None
        message = f"the {kind} audit did not run: {type(exc).__name__}: {exc}"
        return [PageResult(path, error=message) for path in pages]
    if every_page:
        seen = {result.path for result in results}
        results += [PageResult(path, error=f"the {kind} audit returned no result for this page")
                    for path in pages if path not in seen]
    return results


def run(folder: Path, level: str = "static", site_root: Path | None = None, budgets: dict | None = None,
        jobs: int | None = None, *, today: dt.date | None = None, lighthouse_all: bool = False,
        say=lambda message: None) -> AuditReport:
    """Audit every .html page under FOLDER.

    site_root: the site's source folder, for its base_url (site.toml) and the build's sourcemap; None for any other
    folder of HTML. budgets: as load_budgets returns them (default: the site's or the shipped budgets.toml).
    jobs: processes for the static audit (default: one for small sites, all cores for large ones). today: the date
    review dates are checked against. lighthouse_all: Lighthouse on every page instead of its sample. say: told
    what the slow audits are doing, for a person waiting at a terminal.
    Raises AuditError when the audit cannot run; findings are never exceptions.
    """
    from . import static

    if level not in LEVELS:
        raise AuditError(f'unknown audit level "{level}"; use one of {", ".join(LEVELS)}')
    folder = Path(folder)
    if not folder.is_dir():
        raise AuditError(f"{folder} is not a folder")
    site_root = Path(site_root).resolve() if site_root is not None else None
    if budgets is None:
        budgets = load_budgets(site_root)
    checklist = load_checklist(site_root)
    timings: dict[str, float] = {}

    started = time.perf_counter()
    try:
        site = static.Site.load(folder, site_root, budgets, today or dt.date.today())
    except ValueError as exc:
        raise AuditError(str(exc)) from None
    pages = site.html_pages()
    if not pages:
        hint = (" — it looks like a site's source folder; audit its output folder (like public/) instead"
                if (folder / "site.toml").is_file() else "")
        raise AuditError(f"{folder} has no .html files{hint}")
    results, page_types = static.run(site, jobs)
    kinds = {"static": results}
    timings["static"] = time.perf_counter() - started

    if level in ("browser", "full"):
        say(f"Auditing {len(pages)} pages with axe in Chromium: phone and desktop, light, dark and high contrast, "
            "forced colours (unchanged pages that passed before are skipped)…")
        started = time.perf_counter()
        cache_dir = site_root / CACHE_DIR / "audit" if site_root is not None else None

        def browser_run():
            from . import browser
            return browser.run(folder, pages, cache_dir, base_path=site.base_path)

        kinds["browser"] = _guarded("browser", browser_run, pages)
        timings["browser"] = time.perf_counter() - started
    if level == "full":
        say("Lighthouse on a sample of each page type in each language, the median of several runs "
            "(about a minute a page)…")
        started = time.perf_counter()
        report_dir = site_root / CACHE_DIR / "audit" / "lighthouse" if site_root is not None else None

        def lighthouse_run():  # it picks its sample of PAGES itself (every page with lighthouse_all)
            from . import lighthouse
            return lighthouse.run(folder, pages, budgets.get("lighthouse") or {}, full=lighthouse_all,
                                  base_path=site.base_path, report_dir=report_dir)

        kinds["lighthouse"] = _guarded("lighthouse", lighthouse_run, pages, every_page=False)
        timings["lighthouse"] = time.perf_counter() - started

    return make_report(kinds, timings, level, str(folder), page_types, checklist)
