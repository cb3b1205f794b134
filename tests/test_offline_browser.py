"""Offline in a real browser: headless Chromium, a real server that is really stopped (DevTools' offline emulation does
not reach the service worker's own fetches), and a new deploy on the same port."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import ROOT, edit
from test_offline import LEAFLET, OFFLINE_RU, THEME, build_site, make_site, settings_of

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs /usr/bin/chromium")]

ARTICLE = "en/winter-health/frostbite/"  # visited, then saved with "Save for offline"
SECTION = "en/winter-health/"  # visited, never saved
NEVER = "ru/winter-health/frostbite/"  # never visited, not precached
MARKED = "en/winter-health/asthma/"  # offline: true, links the leaflet; never visited
PREFIX = "hp|/|"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=1000,1400"]

# The preview server in its own process: stopping it closes every keep-alive connection too, as a lost network does.
SERVER = textwrap.dedent("""\
    import sys
    from pathlib import Path
    try:
        from healingpixels.serve import make_server
        server = make_server(Path(sys.argv[1]), int(sys.argv[2]), False)
    except ImportError:  # a minimal stand-in: no-cache and strong ETags, as DESIGN.md asks of a test server
        import functools, hashlib
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        class Handler(SimpleHTTPRequestHandler):
            def send_head(self):
                path = Path(self.translate_path(self.path))
                path = path / "index.html" if path.is_dir() else path
                if path.is_file():
                    tag = '"' + hashlib.sha256(path.read_bytes()).hexdigest()[:32] + '"'
                    if self.headers.get("If-None-Match") == tag:
                        self.send_response(304)
                        self.send_header("ETag", tag)
                        self.end_headers()
                        return None
                    self._tag = tag
                return super().send_head()

            def end_headers(self):
                self.send_header("Cache-Control", "no-cache")
                if getattr(self, "_tag", None):
                    self.send_header("ETag", self._tag)
                super().end_headers()

            def log_message(self, *args):
                pass
        server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])),
                                     functools.partial(Handler, directory=sys.argv[1]))

    # Bytes written to the network, headers included; GET /__bytes (a name no site has) reads the count.
    import functools, threading
    sent, lock = [0], threading.Lock()

    def counting(cls):
        if isinstance(cls, functools.partial):
            return functools.partial(counting(cls.func), *cls.args, **cls.keywords)

        class Counting(cls):
            def setup(self):
                super().setup()
                write = self.wfile.write

                def counted(data):
                    if not getattr(self, "quiet", False):
                        with lock:
                            sent[0] += len(data)
                    return write(data)
                self.wfile.write = counted

            def do_GET(self):
                self.quiet = self.path == "/__bytes"
                if not self.quiet:
                    return super().do_GET()
                body = str(sent[0]).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)
        return Counting
    server.RequestHandlerClass = counting(server.RequestHandlerClass)
    print(server.server_address[1], flush=True)
    server.serve_forever()
""")


class Server:
    def __init__(self, output: Path, port: int = 0):
        self.output, self.proc = output, None
        self.port = port
        self.start()

    def start(self) -> None:
        for attempt in range(40):  # the same port again: it may take a moment to be free
            self.proc = subprocess.Popen([sys.executable, "-c", SERVER, str(self.output), str(self.port)],
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
            line = self.proc.stdout.readline().strip()
            if line.isdigit():
                self.port = int(line)
                return
            self.proc.wait(5)
            time.sleep(0.25)
        raise RuntimeError(f"the server did not start: {self.proc.stderr.read()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()  # only the process this test started, by its handle
            self.proc.wait(5)

    def sent(self) -> int:
        """Bytes this server has written so far (since it last started)."""
        from urllib.request import urlopen
        with urlopen(self.url("__bytes"), timeout=5) as response:
            return int(response.read())

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    options = Options()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_script_timeout(30)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def servers():
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def run(driver, body: str, *args):
    """Run async JavaScript: BODY calls done(value)."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];\n"
        "(async () => {" + body + "})().then(done, (e) => done({error: String(e)}));", *args)


def until(driver, body: str, what: str, timeout: float = 20.0, *args):
    """Poll async JavaScript BODY (it returns a value) until it is truthy."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = run(driver, body, *args)
        if value and not (isinstance(value, dict) and "error" in value):
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}; last: {value!r}")


def cache_names(driver) -> list[str]:
    return run(driver, "return (await caches.keys()).filter((n) => n.startsWith(%s));" % json.dumps(PREFIX))


def controlled(driver) -> None:
    """Wait for the worker, then make sure this page is in its hands (reload once if it is not yet)."""
    until(driver, "return Boolean(await navigator.serviceWorker.getRegistration());", "the worker to register")
    run(driver, "await navigator.serviceWorker.ready; return true;")
    if not driver.execute_script("return Boolean(navigator.serviceWorker.controller)"):
        driver.refresh()
    until(driver, "return Boolean(navigator.serviceWorker.controller);", "the page to be controlled")


def kept(driver, url: str) -> None:
    until(driver, "return Boolean(await (await caches.open(arguments[0])).match(arguments[1]));",
          f"{url} to be kept", 20.0, PREFIX + "pages", url)


def assert_rendered(driver, url: str, h1: str | None = None) -> None:
    assert driver.current_url == url and not driver.current_url.startswith("chrome-error://")
    assert not driver.find_elements("id", "main-frame-error"), "Chromium's own error page"
    if h1 is not None:
        assert driver.find_element("tag name", "h1").text == h1


def transfer(driver) -> dict:
    return driver.execute_script("""
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource');
        return {document: nav.transferSize, resources: res.reduce((n, r) => n + r.transferSize, 0),
                requests: res.length, decoded: nav.decodedBodySize + res.reduce((n, r) => n + r.decodedBodySize, 0)};""")


def change_stylesheet(root: Path) -> None:
    """A new theme.css, so the new deploy's stylesheet has a new fingerprint (the site's own copy of the theme)."""
    theme = root / "themes" / "harbin-ice"
    if not (theme / "tokens.json").exists():
        (theme / "static").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(THEME / "tokens.json", theme / "tokens.json")
        shutil.copyfile(THEME / "static" / "theme.css", theme / "static" / "theme.css")
    with (theme / "static" / "theme.css").open("a", encoding="utf-8") as f:
        f.write("\n.hp-deploy-2{order:2}\n")


def test_a_visited_page_opens_offline_and_a_new_deploy_replaces_it(tmp_path, browser, servers):
    root = make_site(tmp_path / "site")
    out = build_site(root).output
    first = settings_of(out)
    server = Server(out)
    servers.append(server)
    sizes = {}

    # Online, version 1: the first visit installs the worker; the article, then the section page.
    browser.get(server.url(ARTICLE))
    sizes["first visit: the page (server bytes)"] = server.sent()
    sizes["first visit: performance"] = transfer(browser)
    run(browser, "await navigator.serviceWorker.ready; return true;")
    kept(browser, server.url(ARTICLE))
    sizes["first visit: with the worker's precache (server bytes)"] = server.sent()
    controlled(browser)
    before = server.sent()
    browser.refresh()
    sizes["repeat visit (server bytes)"] = server.sent() - before
    sizes["repeat visit: performance"] = transfer(browser)
    old_css = browser.execute_script("return document.querySelector('link[rel=stylesheet]').href")
    names = cache_names(browser)
    assert PREFIX + "shell|" + first["version"] in names and PREFIX + "pages" in names
    save = browser.find_element("css selector", "[data-hp-save] button")
    assert save.is_displayed() and save.text == "Save for offline"
    save.click()
    status = browser.find_element("css selector", "[data-hp-save] [aria-live=polite]")
    saved = "Saved. This page and its documents"
    until(browser, "return document.querySelector('[data-hp-save] [aria-live]').textContent.startsWith(arguments[0]);",
          "the saved message", 10.0, saved)
    assert status.text.startswith(saved)
    assert run(browser, "const c = await caches.open(arguments[0]); return Boolean(await c.match(arguments[1])) &&"
                        " Boolean(await c.match(arguments[2]));",
               PREFIX + "saved", server.url(ARTICLE), server.url("images/snowflake.svg"))
    browser.get(server.url(SECTION))
    kept(browser, server.url(SECTION))
    browser.get(server.url("en/no-such-page/"))
    assert browser.find_element("tag name", "h1").text == "Page not found"
    assert not run(browser, "return Boolean(await caches.match(arguments[0]));", server.url("en/no-such-page/")), \
        "a 404 is never kept"

    # Offline: the server is gone, connections and all.
    server.stop()
    browser.get(server.url(ARTICLE))
    assert_rendered(browser, server.url(ARTICLE), "Frostbite")
    browser.refresh()
    assert_rendered(browser, server.url(ARTICLE), "Frostbite")
    assert "caused by freezing" in browser.page_source
    assert browser.execute_script("return getComputedStyle(document.body).backgroundColor") == "rgb(243, 249, 253)", \
        "the stylesheet came from the cache"
    image = browser.find_element("css selector", "main img")
    browser.execute_script("arguments[0].scrollIntoView()", image)
    until(browser, "const i = document.querySelector('main img'); return i.complete && i.naturalWidth > 0;",
          "the article's image, offline")
    browser.get(server.url(NEVER))
    assert_rendered(browser, server.url(NEVER), OFFLINE_RU)
    assert browser.find_element("tag name", "html").get_attribute("lang") == "ru"
    until(browser, "return !document.querySelector('[data-hp-saved-pages]').hidden;", "the list of saved pages")
    listed = [a.get_attribute("href") for a in browser.find_elements("css selector", "[data-hp-saved-pages] a")]
    assert server.url("ru/") in listed and not any("/en/" in href for href in listed)
    pdf = run(browser, "const r = await fetch(arguments[0]); const b = new Uint8Array(await r.arrayBuffer());"
                       "return [r.status, String.fromCharCode(...b.slice(0, 4))];", "/" + LEAFLET)
    assert pdf == [200, "%PDF"], "the leaflet linked from a page marked offline: true"
    browser.get(server.url(MARKED))
    assert_rendered(browser, server.url(MARKED), "Asthma in cold air")
    browser.execute_script("document.querySelector('main img').scrollIntoView()")
    until(browser, "const i = document.querySelector('main img'); return i.complete && i.naturalWidth > 0;",
          "the photo on a page never visited, marked offline: true (any width or format of it)")

    # Version 2, deployed while this browser was away: new words and a new stylesheet, on the same port.
    edit(root, "content/en/winter-health/frostbite.md", "caused by freezing", "caused by severe cold")
    change_stylesheet(root)
    out = build_site(root).output
    second = settings_of(out)
    assert second["version"] != first["version"]
    server.start()
    browser.get(server.url(ARTICLE))
    browser.refresh()
    assert_rendered(browser, server.url(ARTICLE), "Frostbite")
    assert "caused by severe cold" in browser.page_source, "online, the network's page, never a stale one"
    new_css = browser.execute_script("return document.querySelector('link[rel=stylesheet]').href")
    assert new_css != old_css
    # The new worker installs, then waits: this open page keeps the worker (and the precache) it started with.
    until(browser, "const r = await navigator.serviceWorker.getRegistration(); return Boolean(r.waiting);",
          "the new worker to install and wait", 20.0)
    names = cache_names(browser)
    assert PREFIX + "shell|" + first["version"] in names and PREFIX + "shell|" + second["version"] in names
    dates = run(browser, "return Promise.all(arguments[0].map(async (n) => "
                         "(await (await caches.open(n)).match(arguments[1])).headers.get('date')));",
                [PREFIX + "shell|" + first["version"], PREFIX + "shell|" + second["version"]], server.url(LEAFLET))
    assert dates[0] and dates[0] == dates[1], "the unchanged leaflet was copied from the old precache, not downloaded"
    # Close every page of the old worker, then come back: the new one activates and clears the old precache.
    old_tab = browser.current_window_handle
    browser.switch_to.new_window("tab")
    fresh = browser.current_window_handle
    browser.switch_to.window(old_tab)
    browser.close()
    browser.switch_to.window(fresh)
    time.sleep(0.5)
    browser.get(server.url("robots.txt"))
    until(browser, "const n = await caches.keys(); return n.includes(arguments[0]) && !n.includes(arguments[1]);",
          "the old precache to go", 20.0, PREFIX + "shell|" + second["version"], PREFIX + "shell|" + first["version"])
    assert run(browser, "return Boolean(await (await caches.open(arguments[0])).match(arguments[1]));",
               PREFIX + "assets", old_css), "the section page read in version 1 still needs the old stylesheet"
    leaflet_rev = dict(second["precache"])["/" + LEAFLET]
    assert run(browser, "const r = await (await caches.open(arguments[0])).match(arguments[1]);"
                        "return r && r.headers.get('x-hp-revision');",
               PREFIX + "shell|" + second["version"], server.url(LEAFLET)) == leaflet_rev, \
        "the worker checked the leaflet's SHA-256 against the build's"

    # Offline again: the section page kept from version 1 still has its (old) stylesheet; the article is version 2.
    server.stop()
    browser.get(server.url(SECTION))
    assert_rendered(browser, server.url(SECTION))
    assert browser.execute_script("return document.querySelector('link[rel=stylesheet]').href") == old_css
    assert browser.execute_script("return getComputedStyle(document.body).backgroundColor") == "rgb(243, 249, 253)"
    browser.get(server.url(ARTICLE))
    assert_rendered(browser, server.url(ARTICLE), "Frostbite")
    assert "caused by severe cold" in browser.page_source
    print("\ntransfer sizes (bytes):", json.dumps(sizes))


def test_the_kill_switch_removes_the_worker_and_its_caches(tmp_path, browser, servers):
    root = make_site(tmp_path / "site")
    server = Server(build_site(root).output)
    servers.append(server)
    browser.get(server.url(ARTICLE))
    controlled(browser)
    kept(browser, server.url(ARTICLE))
    assert cache_names(browser)

    server.stop()
    with (root / "site.toml").open("a", encoding="utf-8") as f:
        f.write("kill_switch = true\n")  # the [offline] table is the file's last
    kill = build_site(root).output
    assert "unregister" in (kill / "sw.js").read_text(encoding="utf-8")
    server.start()
    # A plain-text page runs none of the site's scripts: only sw.js's own kill switch can act here.
    browser.get(server.url("robots.txt"))
    run(browser, "const r = await navigator.serviceWorker.getRegistration(); if (r) await r.update(); return true;")
    until(browser, "return (await navigator.serviceWorker.getRegistrations()).length === 0 && "
                   "(await caches.keys()).filter((n) => n.startsWith(arguments[0])).length === 0;",
          "the worker to unregister and the caches to go", 20.0, PREFIX)
    # Pages still work, and offline.js registers nothing while the switch is on.
    browser.get(server.url(ARTICLE))
    assert_rendered(browser, server.url(ARTICLE), "Frostbite")
    time.sleep(1.0)
    assert run(browser, "return (await navigator.serviceWorker.getRegistrations()).length;") == 0
    assert not browser.execute_script("return Boolean(navigator.serviceWorker.controller)")
    assert cache_names(browser) == []
