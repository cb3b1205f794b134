"""Offline: the service worker, web app manifests and offline pages, generated at build time."""
from __future__ import annotations

import hashlib
import io
import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from . import assets, images, render
from .config import Offline
from .content import digest
from .errors import BuildError, Problem

# What the worker does, in numbers. Cache names are "hp|<base path>|<kind>": a second site on the same origin under
# another base path has its own caches, and the kill switch deletes only ours.
NETWORK_TIMEOUT_MS = 3000  # a navigation waits this long for the network before showing a saved copy (if any)
PAGE_LIMIT = 200  # pages read, kept for offline reading; the oldest go first
ASSET_LIMIT = 300  # images and fingerprinted files those pages use
PRECACHE_CONCURRENCY = 3  # background downloads at once while installing: gentle on an overloaded network
DEFAULT_BUDGET_KB = 1024
CACHE_DIR = ".healingpixels-cache"  # as build.CACHE_DIR (not imported: build imports this module)
WORKER = "sw.js"
MANIFEST = "manifest.webmanifest"
OFFLINE_PAGE = "offline.html"  # per language, beside 404.html: never the output of a content page
ICON_SIZES = (192, 512)
SHORT_NAME_MAX = 12

def _colour(token_set, mode: str, path: str, fallback: str | None = None) -> str | None:
    return (token_set.modes.get(mode) or {}).get(path) or fallback


# ------------------------------------------------------------------------------------------------ the build step

def write_shell(site, staging, shared: dict, token_set, templates: render.Templates) -> list[Problem]:
    """Write the manifests, their icons and the offline pages into STAGING: what offline reading needs besides the
    worker. They depend on the site's structure, theme and settings only. Returns warnings and errors."""
    config = site.config
    opts = config.offline
    if opts.mode != "on":
        return []
    problems = _collisions(site)
    if problems:
        return problems
    base = config.base_path
    light = _colour(token_set, "light", "color.header.bg", "#ffffff")
    page_bg = _colour(token_set, "light", "color.surface.page", "#ffffff")
    source, where, found = _icon_source(config, opts)
    problems += found
    icon_urls: dict[str, str] = {}
    if source is not None:
        made, found = _make_icons(config, source, light, where)
        problems += found
        for name, data in sorted(made.items()):
            published = assets.fingerprinted(name, data)
            staging.write(f"assets/{published}", data)
            icon_urls[name] = f"{base}assets/{published}"
    for lang in config.languages:
        _write(config, staging, f"{lang.code}/{MANIFEST}", manifest(config, lang, icon_urls, light, page_bg))
    write_offline_pages(site, staging, shared, templates)
    return problems


def write(site, staging, version: str, memo: dict | None = None) -> list[Problem]:
    """Write sw.js into STAGING, whose folder already holds every page, asset and write_shell file of this build.
    VERSION is a hash of the build. Returns warnings; writes nothing when offline reading is off. MEMO (hash of a
    page -> what it refers to) saves parsing unchanged pages again: it is updated."""
    config = site.config
    opts = config.offline
    if opts.mode == "off" or _collisions(site):  # collisions: reported by write_shell
        return []
    if opts.mode == "kill":
        _write(config, staging, WORKER, kill_worker(config.base_path).encode())
        return []
    entries = precache_entries(site, staging, memo if memo is not None else {})
    _write(config, staging, WORKER, worker(config, version, entries).encode())
    return _budget(entries, opts.precache_budget_kb)


def _write(config, staging, rel: str, data: bytes) -> None:
    """A file, with its .gz and .br siblings when the site precompresses its assets (the offline files are few)."""
    assets.write(staging, rel, data, config.precompress_assets)


def _collisions(site) -> list[Problem]:
    """Files under content/ that would sit where this step writes."""
    config = site.config
    ours = {WORKER} | {f"{lang.code}/{name}" for lang in config.languages for name in (MANIFEST, OFFLINE_PAGE)}
    return [Problem(f"content/{rel}", None, f"content/{rel} would replace the site's own {rel}",
                    "rename the file, or set enabled = false under [offline] in site.toml")
            for rel in site.files if rel in ours]


def _budget(entries: list[tuple[str, str, int]], budget_kb: int) -> list[Problem]:
    total = sum(size for _, _, size in entries)
    if total <= budget_kb * 1024:
        return []
    biggest = ", ".join(f"{url} ({size // 1024} KB)" for url, _, size in sorted(entries, key=lambda e: -e[2])[:3])
    return [Problem("site.toml", None,
                    f"offline: a first visit would download {-(-total // 1024)} KB (before compression) in the "
                    f"background for offline reading, more than precache_budget_kb = {budget_kb}",
                    f"the largest: {biggest}. Mark fewer pages offline: true, make those files smaller, or raise "
                    "precache_budget_kb under [offline]", "warning")]


# ------------------------------------------------------------------------------------------------ precache

class _Refs(HTMLParser):
    """The URLs a page needs to render (stylesheets, scripts, images) and the ones it links to."""

    SKIP_RELS = {"canonical", "alternate", "manifest", "next", "prev", "search", "author", "license"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.needs: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "link" and a.get("href"):
            if not set((a.get("rel") or "").lower().split()) & self.SKIP_RELS:
                self.needs.append(a["href"])
        elif tag in ("script", "img", "video", "audio", "track", "embed", "iframe"):
            # An image's src only: of a <picture>'s many widths and formats, the fallback is the one every browser
            # shows, and offline the worker answers for any of its variants with a kept one (sameImage in sw.js).
            for key in ("src", "poster"):
                if a.get(key):
                    self.needs.append(a[key])
        elif tag == "use":
            href = a.get("href") or a.get("xlink:href")
            if href and not href.startswith("#"):
                self.needs.append(href.partition("#")[0])
        elif tag == "object" and a.get("data"):
            self.needs.append(a["data"])

    handle_startendtag = handle_starttag


def _local_file(config, staging, page_url: str, href: str) -> str | None:
    """The site path of a file in the output that HREF (on the page at PAGE_URL) points to; None for other sites,
    pages (folders) and files that do not exist."""
    base = config.base_path
    href = href.strip()
    if href.startswith(config.base_url):
        href = base + href[len(config.base_url):]
    parts = urlsplit(urljoin(page_url, href))
    if parts.scheme or parts.netloc or not parts.path.startswith(base):
        return None
    rel = unquote(parts.path[len(base):])
    if not rel or rel.endswith("/") or ".." in rel.split("/"):
        return None
    return base + rel if staging.path(rel) is not None else None


def _refs(data: bytes) -> tuple[list[str], list[str]]:
    """(what a page needs to render, what it links to)."""
    parser = _Refs()
    parser.feed(data.decode("utf-8", errors="replace"))
    parser.close()
    return parser.needs, parser.links


def page_refs(data: bytes) -> dict[str, tuple[list[str], list[str]]]:
    """{hash of a page: what it needs and links to}, for precache_entries' memo."""
    return {digest(data): _refs(data)}


def precache_entries(site, staging, memo: dict) -> list[tuple[str, str, int]]:
    """(URL, revision, bytes) of what the worker downloads when it installs, sorted by URL: the root page, each
    language's home and offline pages and what they need to render, and every page marked offline: true with the
    images and documents it uses and links to. MEMO: hash of a page -> its _refs, left holding this build's."""
    config = site.config
    base = config.base_path
    shell: dict[str, str] = {}  # URL -> the file's path in the output
    used: dict[str, tuple[list[str], list[str]]] = {}
    read: dict[str, bytes] = {}  # path in the output -> its bytes, for the pages already read

    def add_page(url: str, rel: str, with_links: bool) -> None:
        if staging.path(rel) is None:
            return
        shell[url] = rel
        data = read[rel] = staging.path(rel).read_bytes()
        key = digest(data)
        needs, links = used[key] = memo.get(key) or _refs(data)
        for href in needs + (links if with_links else []):
            found = _local_file(config, staging, url, href)
            if found:
                shell.setdefault(found, found[len(base):])

    add_page(base, "index.html", False)
    for lang in config.languages:
        add_page(f"{base}{lang.code}/", f"{lang.code}/index.html", False)
        add_page(f"{base}{lang.code}/{OFFLINE_PAGE}", f"{lang.code}/{OFFLINE_PAGE}", False)
    for page in site.pages:
        if page.meta.offline:
            add_page(page.url(base), page.output, True)
    memo.clear()
    memo.update(used)
    entries = []
    for url, rel in sorted(shell.items()):
        data = read[rel] if rel in read else staging.path(rel).read_bytes()
        entries.append((url, revision(data), len(data)))
    return entries


def revision(data: bytes) -> str:
    """The first 10 hex digits of SHA-256: the worker checks a download against it (SubtleCrypto has no BLAKE2)."""
    return hashlib.sha256(data).hexdigest()[:10]


# ------------------------------------------------------------------------------------------------ the worker

def cache_version(version: str, entries: list[tuple[str, str, int]]) -> str:
    """The build's version mixed with every precached file's revision and this worker's code: a new precache never
    lands in the cache an older worker of the same build version is still serving from."""
    h = hashlib.blake2b(digest_size=8)
    h.update(version.encode() + b"\0" + WORKER_JS.encode())
    for url, rev, _ in entries:
        h.update(f"{url}\0{rev}\0".encode())
    return h.hexdigest()


def worker(config, version: str, entries: list[tuple[str, str, int]]) -> str:
    settings_ = {
        "base": config.base_path,
        "build": version,
        "version": cache_version(version, entries),
        "languages": [lang.code for lang in config.languages],
        "defaultLanguage": config.default_language,
        "offline": {lang.code: f"{config.base_path}{lang.code}/{OFFLINE_PAGE}" for lang in config.languages},
        "precache": [[url, rev] for url, rev, _ in entries],
        "timeout": NETWORK_TIMEOUT_MS,
        "pageLimit": PAGE_LIMIT,
        "assetLimit": ASSET_LIMIT,
        "concurrency": PRECACHE_CONCURRENCY,
    }
    return ("/* Healing Pixels service worker, made by healingpixels/offline.py at build time: do not edit. */\n"
            f"const HP = {_js_json(settings_)};\n" + WORKER_JS)


def kill_worker(base: str) -> str:
    return ("/* Healing Pixels kill switch, made by healingpixels/offline.py: offline reading is switched off. This\n"
            "   worker takes over at once, deletes every cache the site's workers made, then unregisters itself. */\n"
            f"const BASE = {_js_json(base)};\n" + KILL_JS)


def _js_json(value) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


WORKER_JS = r'''"use strict";
// Navigations: network first; after HP.timeout ms a saved copy if there is one (the network answer still refreshes
// it); offline, the saved copy or the offline page in the language of the address. Fingerprinted files: cache first.
// Other same-origin GETs: network, then any saved copy. Never stores anything but a same-origin 200.
const PREFIX = "hp|" + HP.base + "|";
const SHELL = PREFIX + "shell|" + HP.version; // this version's precache; older ones go when this worker activates
const PAGES = PREFIX + "pages"; // pages read, oldest first, at most HP.pageLimit
const ASSETS = PREFIX + "assets"; // images and fingerprinted files those pages use
const SAVED = PREFIX + "saved"; // "Save for offline": kept until the kill switch
const REVISION = "x-hp-revision";
const FINGERPRINTED = /\.[0-9a-f]{10}\.[A-Za-z0-9]+$/;
const ASSET_URL = /(?:https?:\/\/[^"'()\s,<>]+)?\/[^"'()\s,<>]*\.[0-9a-f]{10}\.[A-Za-z0-9]+/g;
const CSS_URL = /url\(\s*["']?([^"')\s]*\.[0-9a-f]{10}\.[A-Za-z0-9]+)/g;

const absolute = (path) => new URL(path, self.location.origin).href;
const pageKey = (url) => url.origin + url.pathname;

function cacheable(response) {
  return Boolean(response) && response.status === 200 && response.type === "basic" && !response.redirected &&
    !/no-store/i.test(response.headers.get("cache-control") || "");
}

function isHTML(response) {
  return /^text\/html/i.test(response.headers.get("content-type") || "");
}

async function match(names, request) {
  for (const name of names) {
    const found = await (await caches.open(name)).match(request, { ignoreVary: true });
    if (found) return found;
  }
  return undefined;
}

async function trim(name, limit) {
  const cache = await caches.open(name);
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, Math.max(0, keys.length - limit)).map((key) => cache.delete(key)));
}

async function putFresh(name, key, response, limit) {
  const cache = await caches.open(name);
  await cache.delete(key); // so it counts as the newest
  await cache.put(key, response);
  if (limit) await trim(name, limit);
}

async function eachLimited(items, limit, fn) {
  let next = 0;
  const run = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}

// ---------------------------------------------------------------------------------------------------- install

self.addEventListener("install", (event) => {
  event.waitUntil(precache());
});

async function precache() {
  const cache = await caches.open(SHELL);
  const have = new Set((await cache.keys()).map((request) => request.url)); // an interrupted install resumes
  const older = (await caches.keys()).filter((name) => name.startsWith(PREFIX + "shell|") && name !== SHELL);
  await eachLimited(HP.precache, HP.concurrency, async ([path, revision]) => {
    const url = absolute(path);
    if (have.has(url)) return;
    // Unchanged since an earlier version: copy it instead of downloading it again.
    for (const name of older) {
      const old = await (await caches.open(name)).match(url);
      if (old && old.headers.get(REVISION) === revision) return cache.put(url, old);
    }
    let response = await download(url, FINGERPRINTED.test(path) ? "default" : "no-cache");
    let body = await response.arrayBuffer();
    if (await digest(body) !== revision) {
      // A deploy half-way through, or a stale cache on the way: ask the server itself once more.
      response = await download(url, "reload");
      body = await response.arrayBuffer();
    }
    const headers = new Headers(response.headers);
    // Only a copy that matches the build is reused by later versions; a host that rewrites pages still works.
    if (await digest(body) === revision) headers.set(REVISION, revision);
    await cache.put(url, new Response(body, { status: 200, statusText: response.statusText, headers }));
  });
}

async function download(url, mode) {
  const response = await fetch(url, { cache: mode, credentials: "same-origin" });
  if (!cacheable(response)) throw new Error("precache: " + url + " answered " + response.status);
  return response;
}

async function digest(body) {
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  return Array.from(bytes.slice(0, 5), (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---------------------------------------------------------------------------------------------------- activate

// No skipWaiting: this worker activates once no page uses the previous one, so an open page never meets a worker
// that deleted what it needs. Pages read earlier may still name older stylesheets and scripts: those move from the
// older precaches into ASSETS before the older precaches go; what no kept page names any more is dropped.
self.addEventListener("activate", (event) => {
  event.waitUntil(activate());
});

async function activate() {
  if (self.registration.navigationPreload) {
    try { await self.registration.navigationPreload.enable(); } catch (error) { /* not supported: plain fetch */ }
  }
  const names = await caches.keys();
  const older = names.filter((name) => name.startsWith(PREFIX + "shell|") && name !== SHELL);
  const assets = await caches.open(ASSETS);
  for (const name of older) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      if (FINGERPRINTED.test(new URL(request.url).pathname) && !(await assets.match(request))) {
        const response = await cache.match(request);
        if (response) await assets.put(request, response);
      }
    }
  }
  await prune();
  const known = new Set([SHELL, PAGES, ASSETS, SAVED]);
  await Promise.all(names.filter((name) => name.startsWith(PREFIX) && !known.has(name)).map((name) => caches.delete(name)));
  await self.clients.claim(); // pages opened before the first install; none of them uses an older worker
}

// Drop fingerprinted files that no kept page, and no stylesheet such a page uses, names any more.
async function prune() {
  const named = new Set();
  const scan = async (request, response) => {
    const type = (response && response.headers.get("content-type")) || "";
    if (!/text\/(html|css)/i.test(type)) return;
    const text = await response.text();
    for (const found of text.matchAll(ASSET_URL)) named.add(new URL(found[0], request.url).href);
    for (const found of text.matchAll(CSS_URL)) named.add(new URL(found[1], request.url).href); // url(relative)
  };
  for (const name of [SHELL, PAGES, SAVED]) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) await scan(request, await cache.match(request));
  }
  const assets = await caches.open(ASSETS);
  const keys = await assets.keys();
  for (const request of keys) {
    if (named.has(request.url) && /\.css$/.test(new URL(request.url).pathname)) await scan(request, await assets.match(request));
  }
  await Promise.all(keys.filter((request) => FINGERPRINTED.test(new URL(request.url).pathname) && !named.has(request.url))
    .map((request) => assets.delete(request)));
}

// ---------------------------------------------------------------------------------------------------- fetch

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || request.headers.has("range")) return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(HP.base)) return;
  const rest = url.pathname.slice(HP.base.length);
  // The worker itself, and names a site cannot have (content/ skips _names): the preview server's /_hp/ stream.
  if (rest === "sw.js" || rest.startsWith("_") || (request.headers.get("accept") || "").includes("text/event-stream")) return;
  if (request.mode === "navigate") event.respondWith(navigate(event, url));
  else if (FINGERPRINTED.test(url.pathname)) event.respondWith(cacheFirst(event, request));
  else event.respondWith(networkThenCache(event, request));
});

async function findPage(key) {
  return match([PAGES, SAVED, SHELL], key);
}

async function offlinePage(url) {
  const first = url.pathname.slice(HP.base.length).split("/")[0];
  const lang = HP.languages.includes(first) ? first : HP.defaultLanguage;
  return match([SHELL], absolute(HP.offline[lang]));
}

async function navigate(event, url) {
  const key = pageKey(url);
  const network = (async () => (await event.preloadResponse) || fetch(event.request))();
  // Store what the network brings even when a saved copy answered first: the next visit gets it.
  const copy = network.then((response) => response.clone());
  event.waitUntil(copy.then((response) => remember(key, response)).catch(() => {}));
  let timer;
  const slow = new Promise((resolve) => { timer = setTimeout(resolve, HP.timeout); })
    .then(() => findPage(key))
    .then((saved) => saved || new Promise(() => {})); // nothing saved: keep waiting for the network
  try {
    const response = await Promise.race([network, slow]);
    if (response.status >= 500) return (await findPage(key)) || response; // an overloaded server: the saved copy
    return response;
  } catch (error) {
    return (await findPage(key)) || (await offlinePage(url)) || Response.error();
  } finally {
    clearTimeout(timer);
  }
}

async function remember(key, response) {
  if (response.status === 404 || response.status === 410) {
    await (await caches.open(PAGES)).delete(key); // the page is gone: do not show it offline either
    return;
  }
  if (!cacheable(response) || !isHTML(response)) return;
  const body = await response.arrayBuffer();
  const copy = () => new Response(body, { status: 200, statusText: response.statusText, headers: response.headers });
  await putFresh(PAGES, key, copy(), HP.pageLimit);
  const saved = await caches.open(SAVED);
  if (await saved.match(key)) await saved.put(key, copy()); // keep a saved page up to date
}

async function cacheFirst(event, request) {
  const cached = await caches.match(request, { ignoreVary: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (cacheable(response)) {
    const copy = response.clone();
    event.waitUntil(putFresh(ASSETS, request, copy, HP.assetLimit));
  }
  return response;
}

async function networkThenCache(event, request) {
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    return (await caches.match(request, { ignoreVary: true })) ||
      (request.destination === "image" && (await sameImage(request))) || Response.error();
  }
  if (response.status >= 500) return (await caches.match(request, { ignoreVary: true })) || response;
  if (cacheable(response)) {
    const copy = response.clone();
    event.waitUntil(refresh(request, copy));
  }
  return response;
}

// images/photo.640w.3f9c2b1a.webp and its siblings in other widths and formats (images.picture_html): offline, a
// kept sibling beats a broken image. The same format first, else a JPEG or PNG, which every browser shows.
const VARIANT = /^(.*)\.(\d+)w\.[0-9a-f]+\.([A-Za-z0-9]+)$/;

async function sameImage(request) {
  const wanted = new URL(request.url).pathname.match(VARIANT);
  if (!wanted) return undefined;
  let best;
  for (const name of [ASSETS, SAVED, SHELL]) {
    const cache = await caches.open(name);
    for (const key of await cache.keys()) {
      const found = new URL(key.url).pathname.match(VARIANT);
      if (!found || found[1] !== wanted[1]) continue;
      const score = found[3] === wanted[3] ? 2 : /^(jpe?g|png)$/i.test(found[3]) ? 1 : 0;
      const distance = Math.abs(Number(found[2]) - Number(wanted[2]));
      if (score && (!best || score > best.score || (score === best.score && distance < best.distance))) {
        best = { cache, key, score, distance };
      }
    }
  }
  return best ? best.cache.match(best.key) : undefined;
}

async function refresh(request, response) {
  const saved = await caches.open(SAVED);
  if (await saved.match(request, { ignoreVary: true })) await saved.put(request, response);
  else if (request.destination === "image") await putFresh(ASSETS, request, response, HP.assetLimit);
}

// ---------------------------------------------------------------------------------------------------- messages

// {type: "remember", page, assets}: a page that opened before this worker controlled it asks to be kept, with its
// images, as if it had come through the worker.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "remember") event.waitUntil(rememberPage(data).catch(() => {}));
});

function inScope(href) {
  try {
    const url = new URL(href);
    return url.origin === self.location.origin && url.pathname.startsWith(HP.base) ? url : null;
  } catch (error) {
    return null;
  }
}

async function rememberPage(data) {
  const page = inScope(data.page);
  if (page) await remember(pageKey(page), await fetch(pageKey(page), { credentials: "same-origin" }));
  const wanted = (Array.isArray(data.assets) ? data.assets : []).map(inScope).filter(Boolean).slice(0, 50);
  await eachLimited(wanted, HP.concurrency, async (url) => {
    if (await caches.match(url.href, { ignoreVary: true })) return;
    const response = await fetch(url.href, { credentials: "same-origin" });
    if (cacheable(response)) await putFresh(ASSETS, url.href, response, HP.assetLimit);
  });
}
'''

KILL_JS = r'''"use strict";
const PREFIX = "hp|" + BASE + "|";
self.addEventListener("install", () => {
  self.skipWaiting();
});
self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    await self.clients.claim(); // open pages stop using the old worker now: this one has no fetch handler
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith(PREFIX)).map((name) => caches.delete(name)));
    await self.registration.unregister();
  })());
});
'''


# ------------------------------------------------------------------------------------------------ manifests

def short_name(title: str, limit: int = SHORT_NAME_MAX) -> str:
    """A home-screen label of at most LIMIT characters: the title if it fits, else its longest run of whole words
    from the start (dropping a dangling short word such as "in" or "в"), else its first LIMIT - 1 characters and …."""
    import unicodedata
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    words, best = title.split(" "), ""
    for n in range(1, len(words) + 1):
        candidate = " ".join(words[:n]).rstrip(",.;:–—-·|/ ")
        if len(candidate) > limit:
            break
        best = candidate
    parts = best.split(" ")
    while len(parts) > 1 and len(parts[-1]) <= 2:
        parts.pop()
    best = " ".join(parts)
    if best:
        return best
    cut = title[: limit - 1]
    while cut and unicodedata.combining(cut[-1]):
        cut = cut[:-1]
    return cut.rstrip() + "…"


def manifest(config, lang, icon_urls: dict[str, str], theme_color: str, background: str) -> bytes:
    base = config.base_path
    start = f"{base}{lang.code}/"
    icons_ = []
    for size in ICON_SIZES:
        if f"icon-{size}.png" in icon_urls:
            icons_.append({"src": icon_urls[f"icon-{size}.png"], "sizes": f"{size}x{size}", "type": "image/png",
                           "purpose": "any"})
    if "icon-maskable-512.png" in icon_urls:
        icons_.append({"src": icon_urls["icon-maskable-512.png"], "sizes": "512x512", "type": "image/png",
                       "purpose": "maskable"})
    data = {
        "id": start,
        "name": lang.title,
        "short_name": short_name(lang.title),
        "start_url": start,
        "scope": base,
        "display": "standalone",
        "lang": lang.code,
        "dir": lang.dir,
        "theme_color": theme_color,
        "background_color": background,
        "icons": icons_,
    }
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()


# ------------------------------------------------------------------------------------------------ icons

def _icon_source(config, opts: Offline) -> tuple[bytes | None, str, list[Problem]]:
    if opts.icon is not None:
        where = _site_rel(config, opts.icon)
        try:
            return opts.icon.read_bytes(), where, []
        except OSError:
            return None, "site.toml", [Problem("site.toml", None, f'the offline icon "{where}" does not exist',
                                               "give icon under [offline] as a path relative to site.toml")]
    for folder in render.theme_dirs(config.root, config.theme):
        path = folder / "static" / "icon.png"
        if path.is_file():
            return path.read_bytes(), _site_rel(config, path), []
    return draw_default_icon(), "icon", []


def _make_icons(config, source: bytes, background: str, where: str) -> tuple[dict[str, bytes], list[Problem]]:
    """The app icons through the shared image pipeline (images.icons: cached, metadata stripped, deterministic)."""
    try:
        return images.icons(source, config.root / CACHE_DIR / "icons", background, name=where), []
    except BuildError as exc:
        return {}, list(exc.problems)


def _site_rel(config, path: Path) -> str:
    try:
        return path.resolve().relative_to(config.root.resolve()).as_posix()
    except ValueError:
        return path.name


def draw_default_icon(size: int = 1024) -> bytes:
    """The theme's icon.png: a white snowflake with a heart and cross at its centre on a calm ice-blue disc. Used
    when a theme has no icon.png; the shipped file was made by this function (quantised to 64 colours)."""
    import math
    from PIL import Image, ImageDraw
    s = 4  # drawn at 4× and scaled down: smooth edges
    n = size * s
    img = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    c = n / 2
    r = n * 0.47
    d.ellipse((c - r, c - r, c + r, c + r), fill=(122, 166, 194, 255))  # palette.brand.calm-blue
    r2 = n * 0.43
    d.ellipse((c - r2, c - r2, c + r2, c + r2), outline=(231, 242, 250, 255), width=int(n * 0.008))  # ice.100
    white = (255, 255, 255, 255)
    arm, w = n * 0.33, int(n * 0.038)
    for k in range(6):
        a = math.pi / 2 + k * math.pi / 3
        ux, uy = math.cos(a), -math.sin(a)
        x2, y2 = c + ux * arm, c + uy * arm
        d.line((c + ux * n * 0.11, c + uy * n * 0.11, x2, y2), fill=white, width=w)
        d.ellipse((x2 - w / 2, y2 - w / 2, x2 + w / 2, y2 + w / 2), fill=white)
        for t, length in ((0.55, 0.085), (0.80, 0.06)):
            bx, by = c + ux * arm * t, c + uy * arm * t
            for side in (-1, 1):
                b = a + side * math.pi / 4
                ex, ey = bx + math.cos(b) * n * length, by - math.sin(b) * n * length
                d.line((bx, by, ex, ey), fill=white, width=int(w * 0.8))
                d.ellipse((ex - w * 0.4, ey - w * 0.4, ex + w * 0.4, ey + w * 0.4), fill=white)
    hs = n * 0.105  # the heart
    top = c - hs * 0.55
    d.ellipse((c - hs, top - hs * 0.5, c, top + hs * 0.5), fill=white)
    d.ellipse((c, top - hs * 0.5, c + hs, top + hs * 0.5), fill=white)
    d.polygon([(c - hs * 0.97, top + hs * 0.2), (c + hs * 0.97, top + hs * 0.2), (c, c + hs * 1.05)], fill=white)
    cw, cl, cy = n * 0.022, n * 0.06, c - hs * 0.25  # the cross, ice.800
    d.rounded_rectangle((c - cw, cy - cl, c + cw, cy + cl), radius=cw * 0.4, fill=(33, 65, 84, 255))
    d.rounded_rectangle((c - cl, cy - cw, c + cl, cy + cw), radius=cw * 0.4, fill=(33, 65, 84, 255))
    img = img.resize((size, size), Image.Resampling.LANCZOS).quantize(64, method=Image.Quantize.FASTOCTREE)
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


# ------------------------------------------------------------------------------------------------ offline pages

def write_offline_pages(site, staging, shared: dict, templates: render.Templates) -> None:
    """/<lang>/offline.html: what a person sees offline on a page this device never kept, in that page's language."""
    config = site.config
    base = config.base_path
    for lang in config.languages:
        ctx = render.common_context(site, lang.code, shared)
        url = f"{base}{lang.code}/{OFFLINE_PAGE}"
        ctx["page"] = {"title": "", "description": "", "url": url, "canonical": config.base_url + url[len(base):],
                       "kind": "offline"}
        html = templates.render(OFFLINE_PAGE, ctx, lang)
        _write(config, staging, f"{lang.code}/{OFFLINE_PAGE}", html.encode())
