"""The Lighthouse audit: real Lighthouse CI (audits/package.json pins it) against a sample of the site's pages, on
Lighthouse's default mobile emulation and simulated throttling, served compressed from 127.0.0.1 like a real host.

    run(folder, pages, budgets) -> list[PageResult]

Lighthouse takes about 13 s a run on these machines, so by default it audits a sample, not every page: the heaviest
article in each language, one home page and one section index, 3 runs each; each metric is the median of the runs and
is held to the budgets from audits/budgets.toml's [lighthouse] table.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .browser import CHROME_PATH, BrowserMissing, page_url
from .findings import Finding, PageResult

log = logging.getLogger(__name__)

MIN_NODE = (18, 20)
RUN_TIMEOUT = 150  # seconds a Lighthouse run may take before it counts as failed
CHROME_FLAGS = ("--no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking "
                "--disable-component-update --disable-sync --no-first-run "
                '--host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"')  # LHCI adds --headless=new itself
SAMPLES = ("default", "templates", "all")
DEFAULT_RUNS = 3

# budget key -> (Lighthouse audit id, label, unit); the value is the audit's numericValue (bytes shown as KB)
METRICS = {
    "lcp_ms": ("largest-contentful-paint", "Largest Contentful Paint", "ms"),
    "fcp_ms": ("first-contentful-paint", "First Contentful Paint", "ms"),
    "si_ms": ("speed-index", "Speed Index", "ms"),
    "tbt_ms": ("total-blocking-time", "Total Blocking Time", "ms"),
    "cls": ("cumulative-layout-shift", "Cumulative Layout Shift", ""),
    "total_bytes_kb": ("total-byte-weight", "Total transfer size", "KB"),
}
CATEGORIES = {"performance": "performance", "accessibility": "accessibility",
              "best_practices": "best-practices", "seo": "seo"}
SETTINGS = {"runs", "sample"}


@dataclass
class LighthouseStats:
    urls: int = 0
    runs: int = 0
    seconds: float = 0.0
    seconds_per_url: dict[str, float] = field(default_factory=dict)

    @property
    def seconds_per_run(self) -> float:
        return self.seconds / (self.urls * self.runs) if self.urls and self.runs else 0.0


last_stats = LighthouseStats()


# --- Entry point ----------------------------------------------------------------------------------------------------

def run(folder: Path, pages: list[str], budgets: dict, *, full: bool = False, sample: str | None = None,
        runs: int | None = None, base_path: str = "/", report_dir: Path | None = None) -> list[PageResult]:
    """Run Lighthouse CI on a sample of PAGES (paths relative to FOLDER) and hold the medians to BUDGETS, e.g.
    {"performance": 0.95, "accessibility": 1.0, "lcp_ms": 2500, "cls": 0.1, "tbt_ms": 200, "total_bytes_kb": 300,
    "runs": 3}. One PageResult per sampled page, with the medians in .metrics. FULL (or sample="all") audits every
    page; sample="templates" each template type in each language. REPORT_DIR, when given, keeps the HTML report of
    each page's median run. Raises BrowserMissing when Node, Lighthouse CI or Chromium is not installed, and
    ValueError for a budget it does not know."""
    global last_stats
    limits, settings = _split_budgets(budgets)
    runs = int(runs or settings.get("runs") or DEFAULT_RUNS)
    if runs < 1:
        raise ValueError("lighthouse runs must be at least 1")
    sample = "all" if full else (sample or settings.get("sample") or "default")
    if sample not in SAMPLES:
        raise ValueError(f"lighthouse sample must be one of {', '.join(SAMPLES)}, not {sample!r}")
    node, lhci = find_lhci()
    chrome = os.environ.get("CHROME_PATH") or CHROME_PATH
    if not (os.path.isfile(chrome) and os.access(chrome, os.X_OK)):
        raise BrowserMissing(f"Lighthouse needs Chromium; not found at {chrome}. Install it, e.g. on Debian or "
                             f"Ubuntu: sudo apt-get install chromium (or run `make system`), or set CHROME_PATH.")
    folder = Path(folder).resolve()
    chosen = select_pages(pages, sample, folder)
    categories = sorted({"performance", "accessibility"} | {CATEGORIES[k] for k in limits if k in CATEGORIES})
    stats = LighthouseStats(runs=runs)
    started = time.perf_counter()
    results: list[PageResult] = []
    from ..serve import make_server

    server = make_server(folder, 0, False, base_path=base_path)
    thread = threading.Thread(target=server.serve_forever, name="healingpixels-lighthouse-serve", daemon=True)
    thread.start()
    try:
        base_url = f"http://127.0.0.1:{server.server_port}{base_path}"
        for page in chosen:
            if not (folder / page).is_file():
                results.append(PageResult(page, error=f"the page does not exist: {folder / page} is not a file"))
                continue
            t0 = time.perf_counter()
            results.append(_audit_page(node, lhci, chrome, page, page_url(base_url, page), runs, categories,
                                       limits, report_dir))
            stats.seconds_per_url[page] = round(time.perf_counter() - t0, 1)
            stats.urls += 1
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    stats.seconds = time.perf_counter() - started
    last_stats = stats
    log.info("lighthouse: %d pages x %d runs in %.0f s (%.1f s a run)", stats.urls, runs, stats.seconds,
             stats.seconds_per_run)
    return results


def _split_budgets(budgets: dict) -> tuple[dict[str, float], dict]:
    limits, settings = {}, {}
    for key, value in (budgets or {}).items():
        if key in SETTINGS:
            settings[key] = value
        elif key in CATEGORIES or key in METRICS:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"lighthouse budget {key} must be a number, not {value!r}")
            limits[key] = float(value)
        else:
            known = ", ".join(sorted([*CATEGORIES, *METRICS, *SETTINGS]))
            raise ValueError(f"unknown lighthouse budget {key!r}; known: {known}")
    return limits, settings


def find_lhci() -> tuple[str, str]:
    """(node, lhci): Node 18.20+ on PATH and the Lighthouse CI that `npm ci --prefix audits` installs (or
    HEALINGPIXELS_LHCI). Raises BrowserMissing with how to install them."""
    how = ("Install Node.js 18.20 or newer (20 LTS recommended) with npm, then run: npm ci --prefix audits "
           "(from the project's folder).")
    node = shutil.which("node")
    if node is None:
        raise BrowserMissing("The Lighthouse audit needs Node.js, which is not installed. " + how)
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
        version = tuple(int(x) for x in re.findall(r"\d+", out)[:2])
    except (OSError, subprocess.SubprocessError, ValueError):
        version = ()
    if version < MIN_NODE:
        raise BrowserMissing(f"The Lighthouse audit needs Node.js 18.20 or newer; {node} is {out or 'unknown'}. "
                             + how)
    candidates = [os.environ.get("HEALINGPIXELS_LHCI", "")]
    candidates += [str(base / "audits" / "node_modules" / ".bin" / "lhci")
                   for base in (Path.cwd(), Path(__file__).resolve().parents[2])]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate):
            return node, candidate
    raise BrowserMissing("The Lighthouse audit needs Lighthouse CI, which is not installed. " + how)


# --- Choosing pages -------------------------------------------------------------------------------------------------

def classify(pages: list[str]) -> dict[str, tuple[str, str]]:
    """page -> (kind, language). Kinds: root (the language chooser at /index.html), home (<lang>/index.html),
    section (<lang>/<section>/index.html with pages below it), article (any other page), styleguide, 404."""
    folders = defaultdict(int)
    for page in pages:
        parts = page.strip("/").split("/")
        for i in range(1, len(parts)):
            folders["/".join(parts[:i])] += 1
    out = {}
    for page in pages:
        parts = page.strip("/").split("/")
        lang = parts[0] if len(parts) > 1 else ""
        name = parts[-1]
        if name == "404.html":
            kind = "404"
        elif any(re.fullmatch(r"style-?guide", p) for p in parts[:-1]):
            kind = "styleguide"
        elif len(parts) == 1:
            kind = "root" if name == "index.html" else "article"
        elif len(parts) == 2 and name == "index.html":
            kind = "home"
        elif name == "index.html" and folders["/".join(parts[:-1])] > 1:
            kind = "section"
        else:
            kind = "article"
        out[page] = (kind, lang)
    return out


def select_pages(pages: list[str], sample: str = "default", folder: Path | None = None) -> list[str]:
    """The pages to audit, in the order given. default: the heaviest article in each language, plus the home page and
    the heaviest section index of the language with most pages (the first listed on a tie); templates: the heaviest page of each kind in each
    language; all: every page."""
    pages = list(dict.fromkeys(pages))
    if sample == "all":
        return pages
    kinds = classify(pages)

    def weight(page: str) -> tuple:
        # the biggest page of its kind is the one most likely to break a budget; fall back to the path's order
        try:
            size = (folder / page).stat().st_size if folder is not None else 0
        except OSError:
            size = 0
        return (-size, pages.index(page))

    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for page, (kind, lang) in kinds.items():
        groups[(kind, lang)].append(page)
    chosen: set[str] = set()
    if sample == "templates":
        for (kind, _), members in groups.items():
            if kind != "404":
                chosen.add(min(members, key=weight))
    else:
        for (kind, _), members in groups.items():
            if kind == "article":
                chosen.add(min(members, key=weight))
        languages: dict[str, int] = defaultdict(int)
        for kind, lang in kinds.values():
            if kind != "404":
                languages[lang] += 1
        main = min((lang for lang in languages if (("home", lang)) in groups),  # most pages; first on a tie
                   key=lambda lang: (-languages[lang], pages.index(groups[("home", lang)][0])), default=None)
        for kind in ("home", "section"):
            members = groups.get((kind, main)) or [p for p, (k, _) in kinds.items() if k == kind]
            if members:
                chosen.add(min(members, key=weight))
    return [p for p in pages if p in chosen]


# --- One page ---------------------------------------------------------------------------------------------------------

def _audit_page(node, lhci, chrome, page, url, runs, categories, limits, report_dir) -> PageResult:
    with tempfile.TemporaryDirectory(prefix="healingpixels-lhci-") as tmp:
        work = Path(tmp)
        config = {"ci": {"collect": {
            "url": [url], "numberOfRuns": runs,
            "settings": {"chromeFlags": CHROME_FLAGS, "onlyCategories": categories},
        }}}
        (work / "lighthouserc.json").write_text(json.dumps(config), encoding="utf-8")
        env = {**os.environ, "CHROME_PATH": chrome, "LHCI_NO_LIGHTHOUSERC": "1", "NO_UPDATE_NOTIFIER": "1",
               "HOME": os.environ.get("HOME") or tmp}
        try:
            proc = subprocess.run([node, lhci, "collect", "--config=lighthouserc.json"], cwd=work, env=env,
                                  capture_output=True, text=True, timeout=RUN_TIMEOUT * runs + 60)
        except subprocess.TimeoutExpired:
            return PageResult(page, error=f"Lighthouse did not finish {runs} run(s) of {url} within "
                                          f"{RUN_TIMEOUT * runs + 60} s")
        lhrs = []
        for path in sorted((work / ".lighthouseci").glob("lhr-*.json")):
            try:
                lhrs.append((json.loads(path.read_text(encoding="utf-8")), path))
            except (OSError, ValueError):
                continue
        if proc.returncode != 0 or not lhrs:
            tail = " ".join((proc.stderr + proc.stdout).strip().splitlines()[-3:])
            return PageResult(page, error=f"Lighthouse CI failed on {url} (exit {proc.returncode}): {tail[-400:]}")
        for lhr, _ in lhrs:
            problem = lhr.get("runtimeError")
            if problem:
                return PageResult(page, error=f"Lighthouse could not audit {url}: {problem.get('code')}: "
                                              f"{problem.get('message', '')}".strip())
        report = None
        if report_dir is not None:
            report = _keep_report(lhrs, page, Path(report_dir))
        return evaluate(page, [lhr for lhr, _ in lhrs], limits, report)


def _keep_report(lhrs, page: str, report_dir: Path) -> str | None:
    """Copy the HTML report of the median run (by performance score) into REPORT_DIR."""
    ordered = sorted(lhrs, key=lambda item: _score(item[0], "performance") or 0.0)
    _, json_path = ordered[(len(ordered) - 1) // 2]
    html = json_path.with_suffix(".html")
    if not html.is_file():
        return None
    report_dir.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", page.removesuffix(".html")).strip("_.") or "index"
    target = report_dir / f"lighthouse-{stem}.html"
    shutil.copyfile(html, target)
    return str(target)


def _score(lhr: dict, category: str) -> float | None:
    value = (lhr.get("categories", {}).get(category) or {}).get("score")
    return float(value) if isinstance(value, (int, float)) else None


def _numeric(lhr: dict, audit: str) -> float | None:
    value = (lhr.get("audits", {}).get(audit) or {}).get("numericValue")
    return float(value) if isinstance(value, (int, float)) else None


def evaluate(page: str, lhrs: list[dict], limits: dict[str, float], report: str | None = None) -> PageResult:
    """Medians over the runs' LHRs, held to LIMITS: a PageResult with .metrics and a Finding per broken budget."""
    n = len(lhrs)
    result = PageResult(page)
    where = f" Full report: {report}" if report else ""
    for key, category in CATEGORIES.items():
        scores = [s for s in (_score(lhr, category) for lhr in lhrs) if s is not None]
        if scores:
            result.metrics[key] = round(statistics.median(scores), 3)
    for key, (audit, _, _) in METRICS.items():
        values = [v for v in (_numeric(lhr, audit) for lhr in lhrs) if v is not None]
        if values:
            value = statistics.median(values)
            result.metrics[key] = round(value / 1024, 1) if key == "total_bytes_kb" else round(value, 3)
    result.metrics["runs"] = n

    runs_text = f"median of {n} runs" if n > 1 else "1 run"
    for key, budget in limits.items():
        if key in CATEGORIES:
            measured = result.metrics.get(key)
            title = (lhrs[0].get("categories", {}).get(CATEGORIES[key]) or {}).get("title") or key
            if measured is None:
                result.findings.append(Finding(rule=f"lighthouse:{CATEGORIES[key]}", viewport="phone",
                                               message=f"Lighthouse reported no {title} score to hold to {budget:g}."))
            elif measured < budget:
                result.findings.append(Finding(
                    rule=f"lighthouse:{CATEGORIES[key]}", impact="serious" if key != "seo" else "moderate",
                    message=f"{title} score {measured:.2f} ({runs_text}) is below the budget {budget:g}.",
                    help=f"Open the Lighthouse report's {title} section for what costs points.{where}",
                    viewport="phone"))
                if key == "accessibility":
                    result.findings.extend(_failing_audits(lhrs[0], "accessibility", where))
        else:
            audit, label, unit = METRICS[key]
            measured = result.metrics.get(key)
            if measured is None:
                continue
            if measured > budget:
                shown = f"{measured:,.0f} ms" if unit == "ms" else f"{measured:,.1f} KB" if unit == "KB" \
                    else f"{measured:.3f}"
                limit = f"{budget:,.0f} ms" if unit == "ms" else f"{budget:,g} KB" if unit == "KB" else f"{budget:g}"
                result.findings.append(Finding(
                    rule=f"lighthouse:{audit}", impact="serious",
                    message=f"{label} {shown} ({runs_text}, mobile, simulated slow 4G) is over the budget {limit}.",
                    help=_metric_help(audit) + where, viewport="phone"))
    return result


def _failing_audits(lhr: dict, category: str, where: str) -> list[Finding]:
    out = []
    for ref in (lhr.get("categories", {}).get(category) or {}).get("auditRefs", []):
        audit = lhr.get("audits", {}).get(ref.get("id")) or {}
        if ref.get("weight", 0) <= 0 or audit.get("score") != 0:
            continue
        items = ((audit.get("details") or {}).get("items") or [{}])
        for item in items[:20]:
            node = item.get("node") or {}
            out.append(Finding(
                rule=f"lighthouse:{ref['id']}", message=audit.get("title", ref["id"]),
                selector=node.get("selector", ""), html=(node.get("snippet") or "")[:500],
                help=re.sub(r"\s+", " ", audit.get("description", "")) + where, viewport="phone"))
    return out


def _metric_help(audit: str) -> str:
    return {
        "largest-contentful-paint": "Make the largest text or image appear sooner: fewer render-blocking bytes, "
                                    "a smaller hero image, fonts with font-display: swap.",
        "first-contentful-paint": "Send less CSS and no render-blocking scripts before the first paint.",
        "speed-index": "Show the visible part of the page sooner: less render-blocking CSS and JavaScript.",
        "total-blocking-time": "Ship less JavaScript, or split long tasks: the page does not answer taps meanwhile.",
        "cumulative-layout-shift": "Give images and embeds width and height (or aspect-ratio), and do not insert "
                                   "content above what is already shown.",
        "total-byte-weight": "Send fewer bytes: compress and resize images, subset fonts, drop unused CSS and "
                             "JavaScript.",
    }.get(audit, "")
