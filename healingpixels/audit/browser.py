"""The browser audit: axe-core and our own checks in a real Chromium, on a phone and a desktop viewport, in every colour
mode the site supports (light, dark, high contrast) and once with Windows' forced colours.

    run(folder, pages, cache_dir) -> list[PageResult]

Every page is loaded from a local server (healingpixels.serve, compressed, with ETags, like a real host) and audited
7 times: 2 viewports x 3 colour modes, plus forced colours on the desktop. Besides axe (WCAG 2.0-2.2 A/AA and best
practices) it checks:

- target-size-44: on the phone, links in nav/header/footer and every button, summary, input, select and [role=button]
  are at least 44 x 44 CSS px (axe's own target-size only asks for 24 px); links inside sentences are exempt;
- reflow: at 320 CSS px wide the page does not scroll sideways (WCAG 1.4.10);
- focus-visible: the first focusable elements reached with Tab look different when focused (WCAG 2.4.7).

A page that does not load (a missing file, an HTTP status other than 200, Chromium's error page, a time-out, a crash)
is a PageResult with `error` set, never a pass. Pages whose HTML and loaded assets are unchanged since their last
passing audit are skipped when a cache folder is given.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import re
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

from .findings import Finding, PageResult

log = logging.getLogger(__name__)

CHROME_PATH = "/usr/bin/chromium"
CHROMEDRIVER_PATH = "/usr/bin/chromedriver"
PAGE_LOAD_TIMEOUT = 20  # seconds
SCRIPT_TIMEOUT = 60  # seconds for one axe run
CACHE_FILE = "browser.json"
SCREENS_DIR = "screens"
CHECKS_VERSION = "3"  # bump when a check changes what it reports: every cached pass is then audited again

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]  # target-size is under wcag22aa
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}

VIEWPORTS = {
    "phone": {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
    "desktop": {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
}
REFLOW_VIEWPORT = {"width": 320, "height": 640, "deviceScaleFactor": 1, "mobile": False}  # 1280 px at 400 % zoom


def _media(scheme: str, contrast: str, forced: str) -> list[dict]:
    return [{"name": "prefers-color-scheme", "value": scheme}, {"name": "prefers-contrast", "value": contrast},
            {"name": "forced-colors", "value": forced}]


MODES = {
    "light": _media("light", "no-preference", "none"),
    "dark": _media("dark", "no-preference", "none"),
    "high-contrast": _media("light", "more", "none"),
    "forced-colors": _media("light", "", "active"),  # Windows High Contrast; "" leaves prefers-contrast alone
}
# (viewport, mode) in the order they run. The page is loaded again after each change of colour mode (so its own mode
# script sees the preference) and re-laid out, without a reload, for the second viewport, as when a window is resized.
RUNS = [(viewport, mode) for mode in ("light", "dark", "high-contrast") for viewport in ("phone", "desktop")] + \
       [("desktop", "forced-colors")]
COLOUR_RULES = {"color-contrast", "color-contrast-enhanced", "link-in-text-block", "non-text-contrast"}

TAP_TARGET = 44  # CSS px
FOCUS_TABS = 10  # how many Tab presses the focus check makes

INSTALL_HINT = ("Install them with your package manager, e.g. on Debian or Ubuntu: "
                "sudo apt-get install chromium chromium-driver fonts-noto-cjk (or run `make system`). "
                "If they are installed elsewhere, set CHROME_PATH and CHROMEDRIVER_PATH to the two programs.")


class BrowserMissing(RuntimeError):
    """Chromium, chromedriver, Selenium (or, for Lighthouse, Node and Lighthouse CI) are not installed."""


# --- The result of one run ------------------------------------------------------------------------------------------

@dataclass
class BrowserStats:
    pages: int = 0  # pages audited in the browser
    cached: int = 0  # pages skipped: unchanged since their last passing audit
    errors: int = 0
    workers: int = 0
    seconds: float = 0.0
    runs_per_page: int = len(RUNS)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0


last_stats = BrowserStats()  # of the latest run(), for the command's summary line and benchmarks


# --- Entry point ----------------------------------------------------------------------------------------------------

def run(folder: Path, pages: list[str], cache_dir: Path | None, *, workers: int | None = None,
        base_path: str = "/") -> list[PageResult]:
    """Audit PAGES (paths relative to FOLDER, like "en/asthma/index.html") in Chromium; one PageResult per page, in
    the order given. CACHE_DIR keeps the keys of passing pages (browser.json) and the screenshots (screens/); None
    audits everything and takes no screenshots. BASE_PATH is the site's base path ("/" unless site.toml sets one).
    Raises BrowserMissing when Chromium, chromedriver or Selenium is not installed."""
    global last_stats
    started = time.perf_counter()
    folder = Path(folder).resolve()
    chrome, driver = find_browser()
    cache = _Cache(Path(cache_dir) if cache_dir is not None else None, base_path)
    results: dict[str, PageResult] = {}
    todo: list[str] = []
    stats = BrowserStats()
    for page in dict.fromkeys(pages):  # keep the order, drop duplicates
        if not _is_page_file(folder, page):
            results[page] = PageResult(page, error=f"the page does not exist: {folder / page} is not a file")
            cache.forget(page)
        elif cache.fresh(folder, page):
            results[page] = PageResult(page)
            stats.cached += 1
        else:
            todo.append(page)
    if todo:
        n = max(1, min(workers or min(2, os.cpu_count() or 1), len(todo)))
        stats.workers = n
        screens = cache.dir / SCREENS_DIR if cache.dir is not None else None
        with _serving(folder, base_path) as base_url:
            audited = _audit_all(todo, base_url, base_path, folder, screens, n, chrome, driver)
        for page, (result, assets) in audited.items():
            results[page] = result
            if result.failed:
                cache.forget(page)
            else:
                cache.remember(folder, page, assets)
        stats.pages = len(todo)
    cache.save()
    stats.errors = sum(1 for r in results.values() if r.error)
    stats.seconds = time.perf_counter() - started
    last_stats = stats
    if stats.pages:
        log.info("browser audit: %d pages in %.1f s (%.2f pages/s, %d runs a page, %d workers), %d unchanged",
                 stats.pages, stats.seconds, stats.pages_per_second, stats.runs_per_page, stats.workers, stats.cached)
    return [results[page] for page in dict.fromkeys(pages)]


def find_browser() -> tuple[str, str]:
    """The paths of Chromium and chromedriver (CHROME_PATH, CHROMEDRIVER_PATH override them); raises BrowserMissing."""
    try:
        import selenium  # noqa: F401
        import axe_selenium_python  # noqa: F401
    except ImportError:
        raise BrowserMissing("The browser audit needs Selenium and axe-selenium-python: "
                             "pip install 'healingpixels[browser]' (or run `make setup`).") from None
    chrome = os.environ.get("CHROME_PATH") or CHROME_PATH
    driver = os.environ.get("CHROMEDRIVER_PATH") or CHROMEDRIVER_PATH
    missing = [f"{name} ({path})" for name, path in (("Chromium", chrome), ("chromedriver", driver))
               if not (os.path.isfile(path) and os.access(path, os.X_OK))]
    if missing:
        raise BrowserMissing(f"The browser audit needs Chromium and chromedriver; not found: {', '.join(missing)}. "
                             + INSTALL_HINT)
    return chrome, driver


def axe_script_path() -> Path:
    from axe_selenium_python.axe import _DEFAULT_SCRIPT

    return Path(_DEFAULT_SCRIPT)


# --- Serving --------------------------------------------------------------------------------------------------------

@contextmanager
def _serving(folder: Path, base_path: str):
    """The folder on http://127.0.0.1:<free port>/ in a thread; yields the site's base URL."""
    from ..serve import make_server

    server = make_server(folder, 0, False, base_path=base_path)
    thread = threading.Thread(target=server.serve_forever, name="healingpixels-audit-serve", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{base_path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def page_url(base_url: str, page: str) -> str:
    """en/asthma/index.html -> <base>en/asthma/ (the address people use); other files keep their name."""
    path = page.strip("/")
    if path == "index.html":
        path = ""
    elif path.endswith("/index.html"):
        path = path[: -len("index.html")]
    return base_url + "/".join(_quote_part(p) for p in path.split("/"))


def _quote_part(part: str) -> str:
    from urllib.parse import quote

    return quote(part, safe="-._~!$&'()*+,;=:@")


def _is_page_file(folder: Path, page: str) -> bool:
    if PurePosixPath(page).is_absolute() or ".." in PurePosixPath(page).parts:
        return False
    return (folder / page).is_file()


# --- Workers ----------------------------------------------------------------------------------------------------------

def _audit_all(pages, base_url, base_path, folder, screens, n, chrome, driver_path):
    todo: queue.Queue[str] = queue.Queue()
    for page in pages:
        todo.put(page)
    done: dict[str, tuple[PageResult, set[str]]] = {}
    failures: list[BaseException] = []
    lock = threading.Lock()
    axe_source = axe_script_path().read_text(encoding="utf-8")

    def work():
        worker = _Worker(chrome, driver_path, axe_source, base_url, base_path, folder, screens)
        try:
            while True:
                try:
                    page = todo.get_nowait()
                except queue.Empty:
                    return
                outcome = worker.audit(page)
                with lock:
                    done[page] = outcome
        except BaseException as exc:  # BrowserMissing when Chromium cannot start at all: stop every worker
            with lock:
                failures.append(exc)
            while True:
                try:
                    todo.get_nowait()
                except queue.Empty:
                    break
        finally:
            worker.close()

    threads = [threading.Thread(target=work, name=f"healingpixels-axe-{i}", daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures and len(done) < len(pages):
        raise failures[0]
    return done


class _PageFailed(Exception):
    """The page did not load: the message becomes PageResult.error."""


class _Worker:
    """One Chromium, reused for every page; restarted after a crash."""

    def __init__(self, chrome, driver_path, axe_source, base_url, base_path, folder, screens):
        self.chrome, self.driver_path, self.axe_source = chrome, driver_path, axe_source
        self.base_url, self.base_path, self.folder, self.screens = base_url, base_path, folder, screens
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
        self.driver = None
        self.profile: str | None = None
        self.viewport: dict | None = None
        self.media: list | None = None
        self.starts = 0

    # -- browser lifecycle --

    def start(self) -> None:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="healingpixels-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = self.chrome
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
                    "--hide-scrollbars",
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                    f"--user-data-dir={self.profile}"):
            options.add_argument(arg)
        options.page_load_strategy = "normal"
        try:
            self.driver = webdriver.Chrome(service=Service(executable_path=self.driver_path), options=options)
        except WebDriverException as exc:
            self._remove_profile()
            raise BrowserMissing(f"Chromium ({self.chrome}) did not start through chromedriver ({self.driver_path}): "
                                 f"{_first_line(exc)}. The two must be the same version. " + INSTALL_HINT) from None
        self.starts += 1
        self.driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
        self.driver.set_script_timeout(SCRIPT_TIMEOUT)
        # axe in every document before the page's own scripts; the page's CSP does not apply to DevTools scripts.
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": self.axe_source})
        self.viewport = self.media = None

    def close(self) -> None:
        if self.driver is not None:
            try:
                self.driver.quit()
            except Exception:  # already gone after a crash
                pass
            self.driver = None
        self._remove_profile()

    def _remove_profile(self) -> None:
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None

    def cdp(self, command: str, params: dict) -> dict:
        return self.driver.execute_cdp_cmd(command, params)

    def set_viewport(self, metrics: dict) -> None:
        if metrics != self.viewport:
            self.cdp("Emulation.setDeviceMetricsOverride", metrics)
            # a phone has a touch screen: (pointer: coarse) matches, as it does on a real one
            self.cdp("Emulation.setTouchEmulationEnabled", {"enabled": metrics["mobile"], "maxTouchPoints": 5})
            self.viewport = metrics

    def set_media(self, mode: str) -> None:
        features = MODES[mode]
        if features != self.media:
            self.cdp("Emulation.setEmulatedMedia", {"media": "", "features": features})
            self.media = features

    # -- one page --

    def audit(self, page: str) -> tuple[PageResult, set[str]]:
        """All runs of one page. Never raises: a failure to load or a crash is the result's error."""
        from selenium.common.exceptions import TimeoutException, WebDriverException

        if self.driver is None:
            self.start()
        url = page_url(self.base_url, page)
        result = PageResult(page)
        assets: set[str] = set()
        shots: dict[tuple, str] = {}
        try:
            loaded_mode = None
            for viewport, mode in RUNS:
                self.set_viewport(VIEWPORTS[viewport])
                if mode != loaded_mode:
                    self.set_media(mode)
                    self._load(url)
                    loaded_mode = mode
                result.findings.extend(self._one_run(page, url, viewport, mode, assets, shots))
        except _PageFailed as exc:
            return PageResult(page, error=str(exc)), assets
        except TimeoutException:
            self._restart()
            return PageResult(page, error=f"the page did not finish loading (or axe did not finish) within "
                                          f"{PAGE_LOAD_TIMEOUT} s at {url}"), assets
        except WebDriverException as exc:
            self._restart()
            return PageResult(page, error=f"the browser crashed or stopped answering on {url}: {_first_line(exc)}"), \
                assets
        except Exception as exc:  # an answer we did not expect: this page fails, the others go on
            log.exception("browser audit of %s failed", url)
            return PageResult(page, error=f"the browser audit failed on {url}: {exc!r}"), assets
        return result, assets

    def _restart(self) -> None:
        self.close()
        self.start()

    def _load(self, url: str) -> None:
        from selenium.common.exceptions import TimeoutException, WebDriverException

        try:
            self.driver.get(url)
        except TimeoutException:
            raise
        except WebDriverException as exc:
            text = str(exc)
            if "net::ERR_" in text:
                raise _PageFailed(f"the page did not load: {_first_line(exc)} ({url})") from None
            raise
        state = self.driver.execute_script(LOAD_STATE_JS)
        if state["href"].startswith("chrome-error://") or state["errorPage"]:
            raise _PageFailed(f"the page did not load: Chromium showed its error page for {url}")
        if state["status"] != 200:
            raise _PageFailed(f"the page did not load: HTTP status {state['status']} for {url}")
        if not state["axe"]:
            raise _PageFailed(f"axe-core could not be injected into {url}")

    def _one_run(self, page: str, url: str, viewport: str, mode: str, assets: set[str],
                 shots: dict[tuple, str]) -> list[Finding]:
        outcome = self.driver.execute_async_script(AXE_RUN_JS, AXE_OPTIONS)
        if outcome.get("error"):
            raise _PageFailed(f"axe-core failed on {url} ({mode}, {viewport}): {outcome['error']}")
        found = [f for v in outcome["violations"] for f in _axe_findings(v, mode, viewport)]
        if viewport == "phone" and mode == "light":
            found += [_tap_finding(t) for t in self.driver.execute_script(TAP_TARGETS_JS, TAP_TARGET)]
        if viewport == "desktop" and mode == "light":
            found += self._focus_findings()
        assets.update(self._loaded_assets())
        found = self._screenshot(page, mode, viewport, found, shots)
        if viewport == "phone" and mode == "light":
            found += self._reflow(page, shots)
        return found

    def _loaded_assets(self) -> set[str]:
        """Files of the audited folder this page loaded (stylesheets, scripts, images, fonts), relative to it."""
        out = set()
        for name in self.driver.execute_script(RESOURCES_JS):
            rel = _url_to_rel(name, self.origin, self.base_path)
            if rel is not None:
                out.add(rel)
        return out

    def _reflow(self, page: str, shots: dict[tuple, str]) -> list[Finding]:
        self.set_viewport(REFLOW_VIEWPORT)
        outcome = self.driver.execute_async_script(REFLOW_JS)
        found = []
        if outcome["overflow"]:
            culprits = outcome["culprits"] or [{"selector": "html", "html": "", "right": outcome["scrollWidth"]}]
            for c in culprits:
                found.append(Finding(
                    rule="reflow",
                    message=(f"At 320 CSS px wide the page scrolls sideways: it is {outcome['scrollWidth']} px wide "
                             f"and this element reaches {c['right']} px."),
                    wcag=("1.4.10",), impact="serious", selector=c["selector"], html=c["html"],
                    help="Let content wrap at narrow widths: no fixed widths wider than the screen, max-width: 100% "
                         "on images and media, overflow-wrap: anywhere for long words and URLs, and wide tables in "
                         "a container with overflow-x: auto. https://www.w3.org/WAI/WCAG22/Understanding/reflow",
                    viewport=""))
            found = self._screenshot(page, "reflow", "320px", found, shots)
        return found

    def _focus_findings(self) -> list[Finding]:
        """Tab through the first FOCUS_TABS focusable elements; each must look different when focused. The page
        records every focus change itself (a focusin listener), so all the Tabs go in one round trip."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        if not self.driver.execute_script(FOCUS_SNAPSHOT_JS):
            return []
        ActionChains(self.driver).send_keys(Keys.TAB * FOCUS_TABS).perform()
        steps = self.driver.execute_script(FOCUS_LOG_JS)
        found, seen = [], set()
        for state in steps:
            if state["index"] in seen:
                break  # went round
            seen.add(state["index"])
            if state["visible"]:
                continue
            found.append(Finding(
                rule="focus-visible",
                message=(f"Reached with Tab, {state['what']} looks the same as when it is not focused: no "
                         f"outline, shadow, border, background or underline change."),
                wcag=("2.4.7",), impact="serious", selector=state["selector"], html=state["html"],
                help="Give it a clear :focus-visible style, e.g. outline: 3px solid currentColor; "
                     "outline-offset: 2px. Never outline: none without a replacement. "
                     "https://www.w3.org/WAI/WCAG22/Understanding/focus-visible",
                mode="light", viewport="desktop"))
        return found

    def _screenshot(self, page: str, mode: str, viewport: str, found: list[Finding],
                    shots: dict[tuple, str]) -> list[Finding]:
        """A PNG of the viewport with the first new offending element outlined; sets Finding.screenshot. A finding
        already shown in an earlier run of the page (the same rule on the same element, in the same colour mode for
        colour rules) points to that run's screenshot instead of taking another. Without a cache folder there is
        nowhere to keep screenshots."""
        if not found or self.screens is None:
            return found

        def shot_key(f: Finding) -> tuple:
            return f.rule, f.selector, f.mode if f.rule in COLOUR_RULES else ""

        new = [f for f in found if shot_key(f) not in shots]
        if new:
            first = next((f.selector for f in new if f.selector), "")
            name = f"{_sanitise(page)}-{mode}-{viewport}.png"
            target = self.screens / name
            try:
                self.driver.execute_script(OUTLINE_JS, first)
                png = self.driver.get_screenshot_as_png()
                self.driver.execute_script(UNOUTLINE_JS)
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{name}.{os.getpid()}.{threading.get_ident()}.tmp")
                tmp.write_bytes(png)
                os.replace(tmp, target)
            except OSError as exc:
                log.warning("could not save the screenshot %s: %s", target, exc)
            else:
                for f in new:
                    shots.setdefault(shot_key(f), str(target))
        return [_replace(f, screenshot=shots.get(shot_key(f), "")) for f in found]


def _replace(finding: Finding, **changes) -> Finding:
    from dataclasses import replace

    return replace(finding, **changes)


def _first_line(exc: BaseException) -> str:
    text = getattr(exc, "msg", None) or str(exc)
    return (text.strip().splitlines() or ["(no message)"])[0].removeprefix("Message: ")


def _sanitise(page: str) -> str:
    stem = page.strip("/")
    stem = stem[: -len(".html")] if stem.endswith(".html") else stem
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("_.") or "index"


# --- Mapping axe's results ------------------------------------------------------------------------------------------

_WCAG_TAG = re.compile(r"^wcag(\d)(\d)(\d+)$")


def wcag_from_tags(tags: list[str]) -> tuple[str, ...]:
    """["wcag2aa", "wcag143", "wcag1410"] -> ("1.4.3", "1.4.10"); level tags like wcag2aa are not criteria."""
    out = []
    for tag in tags:
        m = _WCAG_TAG.match(tag)
        if m:
            out.append(".".join(m.groups()))
    return tuple(dict.fromkeys(out))


def _selector(target) -> str:
    """axe's target: a list with one selector per frame; a shadow-DOM step is itself a list."""
    parts = []
    for step in target or []:
        parts.append(" >>> ".join(step) if isinstance(step, list) else str(step))
    return " | ".join(parts)


def _axe_findings(violation: dict, mode: str, viewport: str) -> list[Finding]:
    wcag = wcag_from_tags(violation.get("tags", []))
    help_text = f"{violation.get('help', '')}. {violation.get('helpUrl', '')}".strip(". ")
    out = []
    for node in violation.get("nodes", []):
        summary = (node.get("failureSummary") or violation.get("description") or "").strip()
        out.append(Finding(
            rule=violation["id"],
            message=re.sub(r"\s*\n\s*", " ", summary),
            wcag=wcag,
            impact=node.get("impact") or violation.get("impact") or "serious",
            selector=_selector(node.get("target")),
            html=(node.get("html") or "")[:500],
            help=help_text,
            mode=mode,
            viewport=viewport,
        ))
    return out


def _tap_finding(t: dict) -> Finding:
    return Finding(
        rule="target-size-44",
        message=(f"This {t['what']} is {t['width']}×{t['height']} CSS px on a phone; tap targets should be at least "
                 f"{TAP_TARGET}×{TAP_TARGET}."),
        wcag=("2.5.5", "2.5.8"), impact="moderate", selector=t["selector"], html=t["html"],
        help=(f"Make it at least {TAP_TARGET}×{TAP_TARGET} CSS px, e.g. with padding or min-height and min-width "
              f"(best practice beyond WCAG 2.5.8's 24 px). https://www.w3.org/WAI/WCAG22/Understanding/target-size-enhanced"),
        mode="", viewport="phone")


# --- The cache --------------------------------------------------------------------------------------------------------

class _Cache:
    """cache_dir/browser.json: {"salt": ..., "pages": {page: {"key": blake2b, "assets": [files]}}} for pages that
    passed. A page is fresh when the key over its bytes and the bytes of every file it loaded is unchanged."""

    def __init__(self, directory: Path | None, base_path: str = "/"):
        self.dir = directory
        self.base_path = base_path
        self.pages: dict[str, dict] = {}
        self.changed = False
        self.salt = _salt() if directory is not None else ""
        if directory is None:
            return
        try:
            data = json.loads((directory / CACHE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("salt") == self.salt and isinstance(data.get("pages"), dict):
            self.pages = data["pages"]

    def fresh(self, folder: Path, page: str) -> bool:
        entry = self.pages.get(page)
        if self.dir is None or not isinstance(entry, dict):
            return False
        return entry.get("key") == _key(folder, page, entry.get("assets") or [], self.salt)

    def remember(self, folder: Path, page: str, loaded: set[str]) -> None:
        if self.dir is None:
            return
        assets = sorted((loaded | static_assets(folder, page, self.base_path)) - {page})
        self.pages[page] = {"key": _key(folder, page, assets, self.salt), "assets": assets}
        self.changed = True

    def forget(self, page: str) -> None:
        if self.pages.pop(page, None) is not None:
            self.changed = True

    def save(self) -> None:
        if self.dir is None or not self.changed:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        target = self.dir / CACHE_FILE
        tmp = target.with_name(f".{CACHE_FILE}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"salt": self.salt, "pages": self.pages}, indent=0, sort_keys=True),
                       encoding="utf-8")
        os.replace(tmp, target)


_salt_value: str | None = None


def _salt() -> str:
    """What else decides the results: our checks, axe's version and the Chromium in use."""
    global _salt_value
    if _salt_value is None:
        h = hashlib.blake2b(digest_size=16)
        h.update(CHECKS_VERSION.encode())
        h.update(json.dumps([AXE_OPTIONS, VIEWPORTS, MODES, TAP_TARGET], sort_keys=True).encode())
        h.update(Path(__file__).read_bytes())
        try:
            h.update(axe_script_path().read_bytes())
        except (ImportError, OSError):
            pass
        chrome = os.environ.get("CHROME_PATH") or CHROME_PATH
        try:
            st = os.stat(os.path.realpath(chrome))
            h.update(f"{chrome}:{st.st_size}:{st.st_mtime_ns}".encode())
        except OSError:
            pass
        _salt_value = h.hexdigest()
    return _salt_value


def _key(folder: Path, page: str, assets: list[str], salt: str) -> str:
    h = hashlib.blake2b(digest_size=32)
    h.update(salt.encode())
    for rel in [page, *assets]:
        h.update(b"\0" + rel.encode() + b"\0")
        try:
            data = (folder / rel).read_bytes()
        except OSError:
            data = b"\0missing\0"
        h.update(hashlib.blake2b(data, digest_size=32).digest())
    return h.hexdigest()


class _Refs(HTMLParser):
    """URLs a page loads by itself: stylesheets, scripts, images, media, icons, frames (not links it points to)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: v for k, v in attrs if v}
        if tag == "link":
            rel = (a.get("rel") or "").lower()
            if any(word in rel.split() for word in ("stylesheet", "icon", "preload", "modulepreload", "manifest",
                                                    "apple-touch-icon", "mask-icon")) and a.get("href"):
                self.urls.append(a["href"])
        for name in ("src", "poster", "data"):
            if name in a and tag != "a":
                self.urls.append(a[name])
        for name in ("srcset", "imagesrcset"):
            if name in a:
                self.urls.extend(part.strip().split(" ")[0] for part in a[name].split(",") if part.strip())
        if tag in ("image", "use") and (a.get("href") or a.get("xlink:href")):
            self.urls.append(a.get("href") or a.get("xlink:href"))


_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""")


def static_assets(folder: Path, page: str, base_path: str = "/") -> set[str]:
    """Local files PAGE references by itself, and what its stylesheets import or use (fonts, images), relative to
    FOLDER. Together with what the browser loaded this is the page's cache key."""
    page_url_path = base_path + page
    out: set[str] = set()
    try:
        text = (folder / page).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    parser = _Refs()
    try:
        parser.feed(text)
    except Exception:  # a broken page still gets a key from its own bytes
        pass
    pending = [(u, page_url_path) for u in parser.urls]
    seen: set[str] = set()
    while pending and len(seen) < 500:
        ref, against = pending.pop()
        rel = _url_to_rel(urljoin("http://site" + against, ref.strip()), "http://site", base_path)
        if rel is None or rel in seen:
            continue
        seen.add(rel)
        out.add(rel)
        if rel.endswith(".css"):
            try:
                css = (folder / rel).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            for m in _CSS_URL.finditer(css):
                found = next((g for g in m.groups() if g), "")
                if found and not found.startswith(("data:", "#")):
                    pending.append((found, base_path + rel))
    return out


def _url_to_rel(url: str, origin: str, base_path: str) -> str | None:
    """http://127.0.0.1:port/base/en/x.css -> en/x.css; None for other origins, data: URLs and the base itself."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return None
    path = unquote(parts.path)
    if not path.startswith(base_path):
        return None
    rel = path[len(base_path):]
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    if ".." in rel.split("/"):
        return None
    return rel


# --- Scripts run in the page ------------------------------------------------------------------------------------------

LOAD_STATE_JS = """
var nav = performance.getEntriesByType('navigation')[0];
return {href: location.href, status: nav ? nav.responseStatus : null,
        errorPage: !!document.getElementById('main-frame-error'), axe: typeof window.axe === 'object'};
"""

AXE_RUN_JS = """
var done = arguments[arguments.length - 1];
axe.run(document, arguments[0]).then(function (r) {
  done({violations: r.violations.map(function (v) {
    return {id: v.id, impact: v.impact, tags: v.tags, help: v.help, helpUrl: v.helpUrl, description: v.description,
            nodes: v.nodes.map(function (n) {
              return {target: n.target, html: n.html, impact: n.impact, failureSummary: n.failureSummary};
            })};
  })});
}, function (e) { done({error: String(e && e.message || e)}); });
"""

RESOURCES_JS = """
return performance.getEntriesByType('resource').map(function (e) { return e.name; });
"""

# Shared helpers: a short unique selector, a snippet, visibility.
HELPERS_JS = """
function hpSelector(el) {
  if (el.id && document.querySelectorAll('#' + CSS.escape(el.id)).length === 1) return '#' + CSS.escape(el.id);
  var parts = [];
  while (el && el.nodeType === 1 && el !== document.documentElement) {
    if (el.id && document.querySelectorAll('#' + CSS.escape(el.id)).length === 1) {
      parts.unshift('#' + CSS.escape(el.id)); break;
    }
    var tag = el.localName, i = 1, sib = el;
    while ((sib = sib.previousElementSibling)) if (sib.localName === tag) i++;
    var only = i === 1 && !Array.prototype.some.call(el.parentNode ? el.parentNode.children : [],
                                                     function (c) { return c !== el && c.localName === tag; });
    parts.unshift(only ? tag : tag + ':nth-of-type(' + i + ')');
    el = el.parentElement;
  }
  return parts.join(' > ') || 'html';
}
function hpSnippet(el) {
  var html = el.outerHTML || '';
  var open = html.indexOf('>');
  if (html.length > 300) html = open > 0 && open < 300 ? html.slice(0, open + 1) + '…' : html.slice(0, 300) + '…';
  return html;
}
function hpVisible(el, r) {
  if (r.width <= 1 || r.height <= 1) return false;
  var s = getComputedStyle(el);
  if (s.visibility !== 'visible' || parseFloat(s.opacity) === 0) return false;
  if (r.right + scrollX <= 0 || r.bottom + scrollY <= 0) return false;  // parked off-screen, like a skip link
  return true;
}
function hpWhat(el) {
  var text = (el.innerText || el.value || el.getAttribute('aria-label') || el.getAttribute('alt') || '').trim()
             .replace(/\\s+/g, ' ');
  if (text.length > 40) text = text.slice(0, 40) + '…';
  var kind = el.localName === 'a' ? 'link' : el.localName === 'input' ? (el.type || 'text') + ' input' : el.localName;
  if (el.getAttribute('role') === 'button' && el.localName !== 'button') kind = 'button';
  return text ? kind + ' “' + text + '”' : kind;
}
"""

TAP_TARGETS_JS = HELPERS_JS + """
var MIN = arguments[0], out = [], seen = new Set();
var sel = 'nav a[href], header a[href], footer a[href], button, summary, input:not([type=hidden]), select, ' +
          '[role=button]';
function textWithoutLinks(block) {
  var t = '';
  var walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    var n = walker.currentNode;
    if (!n.parentElement.closest('a')) t += n.nodeValue;
  }
  return t.replace(/[\\s\\p{P}\\p{S}]+/gu, '');
}
function inSentence(a) {  // WCAG 2.5.8's inline exception: a link inside a line of text
  if (a.localName !== 'a' || !getComputedStyle(a).display.startsWith('inline')) return false;
  var block = a.parentElement;
  while (block && getComputedStyle(block).display.startsWith('inline')) block = block.parentElement;
  return !!block && textWithoutLinks(block).length > 0;
}
function box(el) {
  var r = el.getBoundingClientRect(), w = r.width, h = r.height;
  if (el.labels) Array.prototype.forEach.call(el.labels, function (l) {  // a label is part of the target
    var lr = l.getBoundingClientRect();
    if (lr.width * lr.height > w * h) { w = lr.width; h = lr.height; }
  });
  return {r: r, w: w, h: h};
}
document.querySelectorAll(sel).forEach(function (el) {
  if (seen.has(el)) return;
  seen.add(el);
  var b = box(el);
  if (!hpVisible(el, b.r) || inSentence(el)) return;
  if (Math.round(b.w * 10) / 10 >= MIN - 0.05 && Math.round(b.h * 10) / 10 >= MIN - 0.05) return;
  out.push({selector: hpSelector(el), html: hpSnippet(el), what: hpWhat(el),
            width: Math.round(b.w * 10) / 10, height: Math.round(b.h * 10) / 10});
});
return out;
"""

REFLOW_JS = HELPERS_JS + """
var done = arguments[arguments.length - 1];
requestAnimationFrame(function () { requestAnimationFrame(function () {
  var root = document.documentElement, cw = root.clientWidth, sw = root.scrollWidth;
  var result = {overflow: sw > cw + 1, scrollWidth: sw, width: cw, culprits: []};
  if (result.overflow) {
    var all = document.body ? document.body.querySelectorAll('*') : [];
    function sticksOut(el) {
      var r = el.getBoundingClientRect();
      return r.width > 1 && r.height > 1 && (r.right > cw + 1 || r.left < -1) ? r : null;
    }
    function clipped(el) {  // inside something that scrolls or clips by itself: that is allowed
      for (var p = el.parentElement; p && p !== document.body && p !== root; p = p.parentElement) {
        if (getComputedStyle(p).overflowX !== 'visible') return true;
      }
      return false;
    }
    for (var i = 0; i < all.length && result.culprits.length < 3; i++) {
      var el = all[i], r = sticksOut(el);
      if (!r || clipped(el) || getComputedStyle(el).visibility !== 'visible') continue;
      if (el.parentElement && el.parentElement !== document.body && sticksOut(el.parentElement)) continue;
      result.culprits.push({selector: hpSelector(el), html: hpSnippet(el), right: Math.round(r.right)});
    }
  }
  done(result);
}); });
"""

_FOCUS_COMMON_JS = HELPERS_JS + """
// What a sighted keyboard user can see change: outlines and borders only when they are drawn, not their leftovers.
function hpLook(s, full) {
  var parts = [];
  var ow = parseFloat(s.outlineWidth) || 0;
  parts.push(s.outlineStyle !== 'none' && ow > 0 ? [s.outlineStyle, ow, s.outlineColor, s.outlineOffset].join(' ')
                                                 : 'no outline');
  ['Top', 'Right', 'Bottom', 'Left'].forEach(function (side) {
    var w = parseFloat(s['border' + side + 'Width']) || 0, st = s['border' + side + 'Style'];
    parts.push(st !== 'none' && st !== 'hidden' && w > 0 ? [st, w, s['border' + side + 'Color']].join(' ') : '-');
  });
  parts.push(s.boxShadow, s.backgroundColor, s.backgroundImage);
  if (full) {
    parts.push(s.color, s.filter, s.transform, s.opacity);
    parts.push(s.textDecorationLine === 'none' ? 'no underline'
               : [s.textDecorationLine, s.textDecorationStyle, s.textDecorationColor, s.textDecorationThickness].join(' '));
  }
  return parts.join('|');
}
function hpStyle(el) {
  var parts = [hpLook(getComputedStyle(el), true)];
  ['::before', '::after'].forEach(function (pseudo) {  // underlines and rings drawn with pseudo-elements
    var s = getComputedStyle(el, pseudo);
    parts.push(s.content === 'none' || s.display === 'none' ? '-'
               : hpLook(s, true) + '|' + s.content + '|' + s.width + '|' + s.height);
  });
  if (el.parentElement) parts.push(hpLook(getComputedStyle(el.parentElement), false));  // :focus-within
  return parts.join('||');
}
"""

FOCUS_SNAPSHOT_JS = _FOCUS_COMMON_JS + """
if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
var sel = 'a[href], area[href], button, input:not([type=hidden]), select, textarea, summary, iframe, ' +
          '[tabindex], [contenteditable=""], [contenteditable=true]';
var els = Array.prototype.slice.call(document.querySelectorAll(sel), 0, 300);
var before = new Map();
els.forEach(function (el, i) { before.set(el, {index: i, style: hpStyle(el)}); });
var log = [];
function onFocus(ev) {
  var el = ev.target, was = before.get(el);
  if (!was) return;
  document.getAnimations().forEach(function (a) { try { a.finish(); } catch (e) {} });  // transitions to their end
  log.push({index: was.index, visible: hpStyle(el) !== was.style, selector: hpSelector(el), html: hpSnippet(el),
            what: hpWhat(el)});
}
document.addEventListener('focusin', onFocus, true);
window.__hpFocus = {log: log, stop: function () { document.removeEventListener('focusin', onFocus, true); }};
return els.length;
"""

FOCUS_LOG_JS = """
var f = window.__hpFocus;
if (!f) return [];
f.stop();
if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
window.scrollTo(0, 0);
return f.log;
"""

OUTLINE_JS = """
var sel = arguments[0], el = null;
try { el = sel && sel.indexOf(' >>> ') < 0 && sel.indexOf(' | ') < 0 ? document.querySelector(sel) : null; }
catch (e) { el = null; }
window.__hpOutlined = el ? {el: el, css: el.style.cssText} : null;
if (el) {
  el.scrollIntoView({block: 'center', inline: 'center'});
  el.style.setProperty('outline', '4px solid #e0007a', 'important');
  el.style.setProperty('outline-offset', '2px', 'important');
  el.style.setProperty('box-shadow', '0 0 0 8px rgba(255, 230, 0, 0.85)', 'important');
} else {
  window.scrollTo(0, 0);
}
"""

UNOUTLINE_JS = """
var o = window.__hpOutlined;
if (o) { o.el.style.cssText = o.css; window.__hpOutlined = null; }
window.scrollTo(0, 0);
"""
