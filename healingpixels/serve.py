"""The preview server: 127.0.0.1 only, serves only the output folder, rebuilds and reloads the browser on every edit."""
from __future__ import annotations

import errno
import gzip
import hashlib
import html
import mimetypes
import os
import queue
import re
import secrets
import signal
import socketserver
import stat
import sys
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import click

from . import build as build_mod, config as config_mod
from .cli import _report
from .errors import BuildError

try:
    import brotli
except ImportError:  # pragma: no cover - brotli is a dependency, but a broken install should still serve gzip
    brotli = None

HOST = "127.0.0.1"
PREFIX = "/_hp/"  # the server's own URLs; a site cannot have them: content/ skips names starting with _
WATCHED_DIRS = ("content", "themes", "components", "locales", "fonts")  # fonts/: where a site keeps an opt-in web font
WATCHED_FILES = (config_mod.CONFIG_FILE, "reviewers.toml")
MIN_COMPRESS = 256  # bytes: smaller bodies are not worth a Content-Encoding (hosts use 20 to 1024)
KEEPALIVE = 15.0  # seconds between comments on an idle event stream, so proxies and browsers keep it open

TYPES = {
    ".html": "text/html", ".htm": "text/html", ".css": "text/css", ".js": "text/javascript", ".mjs": "text/javascript",
    ".json": "application/json", ".map": "application/json", ".webmanifest": "application/manifest+json",
    ".xml": "application/xml", ".svg": "image/svg+xml", ".txt": "text/plain", ".csv": "text/csv", ".vtt": "text/vtt",
    ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".otf": "font/otf",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
    ".avif": "image/avif", ".ico": "image/x-icon", ".pdf": "application/pdf",
    ".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".wasm": "application/wasm",
}
TEXT = {"text/html", "text/css", "text/javascript", "application/json", "application/manifest+json",
        "application/xml", "image/svg+xml", "text/plain", "text/csv", "text/vtt"}
COMPRESSIBLE = TEXT | {"font/ttf", "font/otf", "image/x-icon", "application/wasm"}
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"  # an SVG opened on its own can never run script
OWN_CSP = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'"
RELOAD_TAG = b'<script src="/_hp/livereload.js" defer></script>'
BODY_OPEN = re.compile(rb"<body\b[^>]*>", re.I)

LIVERELOAD_JS = """\
// Healing Pixels preview: reload this page whenever the site has been rebuilt.
(function () {
  "use strict";
  if (!window.EventSource) return;
  var events = new EventSource("/_hp/events?since=" + encodeURIComponent(%s));
  events.addEventListener("reload", function () {
    events.close();
    window.location.reload();
  });
})();
"""

OVERLAY_CSS = """\
.hp-dev-overlay{box-sizing:border-box;position:relative;z-index:2147483647;margin:0;padding:1rem 1.25rem;
max-height:60vh;overflow:auto;background:#fff4f4;color:#1b1b1b;border-bottom:.375rem solid #b00020;
font:1rem/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;text-align:start}
.hp-dev-overlay h2{margin:0 0 .5rem;font-size:1.25rem;line-height:1.3;color:#8a0018}
.hp-dev-overlay ol{margin:0;padding-inline-start:1.5rem}
.hp-dev-overlay li{margin:.25rem 0}
.hp-dev-overlay pre{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;font:.9375rem/1.4 ui-monospace,Menlo,Consolas,monospace}
.hp-dev-overlay p{margin:.75rem 0 0}
body.hp-dev-page{margin:0;background:#fff;color:#1b1b1b}
"""


# --- The server -------------------------------------------------------------------------------------------------------

class State:
    """What the watch loop tells the server: where the output is, the last build's errors, and a rebuild counter."""

    def __init__(self, output: Path, live_reload: bool, base_path: str = "/"):
        self.output = Path(output)  # resolved again on every request: a rebuild swaps a new folder in by renaming
        self.base_path = base_path
        self.live_reload = live_reload
        self.problems: tuple[str, ...] = ()  # the last build's errors, empty after a good build
        self.generation = 0  # bumped after every build, good or bad; browsers reload when it changes
        self.boot = secrets.token_hex(4)  # so a browser still open from an earlier server also reloads
        self.closed = False
        self._changed = threading.Condition()

    @property
    def event_id(self) -> str:
        return f"{self.boot}.{self.generation}"

    def publish(self, problems: Iterable[str] = ()) -> int:
        """Record a finished build and wake every event stream; returns the new generation."""
        with self._changed:
            self.problems = tuple(problems)
            self.generation += 1
            self._changed.notify_all()
            return self.generation

    def wait(self, seen: int, timeout: float) -> int:
        """Block until the generation is no longer SEEN, the state closes, or TIMEOUT passes; return the generation."""
        with self._changed:
            self._changed.wait_for(lambda: self.generation != seen or self.closed, timeout)
            return self.generation

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()


class PreviewServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer on 127.0.0.1 with the preview's State; `url` is where it listens."""

    allow_reuse_port = False  # never share a port with another server: a taken port must be an error
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], state: State):
        self.state = state
        self._cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._cache_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up in DNS, which can hang; the name is known.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_port}{self.state.base_path}"

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # the browser went away (a reload, a closed tab): nothing to report
        click.secho(f"preview server: error answering {client_address[0]}: {exc!r}", fg="red", err=True)
        traceback.print_exc(file=sys.stderr)

    def compressed(self, key: str, body: bytes, encoding: str) -> bytes:
        """The body compressed, remembered by its ETag: a page is usually asked for again after each reload."""
        with self._cache_lock:
            if (key, encoding) in self._cache:
                self._cache.move_to_end((key, encoding))
                return self._cache[(key, encoding)]
        data = brotli.compress(body, quality=5) if encoding == "br" else gzip.compress(body, compresslevel=6, mtime=0)
        with self._cache_lock:
            self._cache[(key, encoding)] = data
            while len(self._cache) > 256:
                self._cache.popitem(last=False)
        return data


def make_server(output: Path, port: int, live_reload: bool, *, base_path: str = "/") -> ThreadingHTTPServer:
    """A server for OUTPUT on 127.0.0.1:PORT (0 picks a free port; read it from .server_port or .url), not yet running:
    call serve_forever() in a thread. With LIVE_RELOAD, HTML gets the reload script and /_hp/events is open.
    Raises OSError when the port cannot be had (errno EADDRINUSE when it is taken)."""
    if not base_path.startswith("/") or not base_path.endswith("/"):
        raise ValueError(f"base_path must start and end with /, not {base_path!r}")
    return PreviewServer((HOST, port), Handler, State(Path(output), live_reload, base_path))


def content_type(name: str) -> str:
    """The Content-Type for a file name, with charset=utf-8 for text."""
    suffix = os.path.splitext(name)[1].lower()
    kind = TYPES.get(suffix) or mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind in TEXT or kind.startswith("text/") else kind


def choose_encoding(accept: str) -> str | None:
    """br (when the brotli module is there) or gzip, by the client's Accept-Encoding and its q-values; None for identity."""
    q: dict[str, float] = {}
    for item in accept.split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        weight = 1.0
        m = re.search(r"\bq\s*=\s*([0-9.]+)", params)
        if m:
            try:
                weight = float(m.group(1))
            except ValueError:
                weight = 0.0
        q["gzip" if name == "x-gzip" else name] = weight
    best, best_q = None, 0.0
    for name in (["br"] if brotli is not None else []) + ["gzip"]:
        weight = q.get(name, q.get("*", 0.0))
        if weight > best_q:
            best, best_q = name, weight
    return best


def _etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison: W/"x" matches "x"."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


class Handler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"  # keep-alive, as real hosts do; every response has a Content-Length
    server_version = "HealingPixelsPreview"
    sys_version = ""
    timeout = 120  # close idle keep-alive connections
    error_content_type = "text/html; charset=utf-8"

    # -- logging: quiet, only errors --

    def log_request(self, code="-", size="-") -> None:
        pass

    def log_error(self, format: str, *args) -> None:
        if format.startswith("Request timed out"):
            return
        self.log_message(format, *args)

    def log_message(self, format: str, *args) -> None:
        request = f"{self.command} {getattr(self, 'path', '')!r}" if self.command else "a request"
        sys.stderr.write(f"preview server: {request}: {format % args}\n")

    def version_string(self) -> str:
        return self.server_version

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    # -- methods --

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _not_allowed(self) -> None:
        self.close_connection = True  # the request may have a body we will not read
        self._send(405, b"Only GET and HEAD are allowed.\n", "text/plain; charset=utf-8", head=False, etag=False,
                   headers={"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed

    # -- routing --

    def _answer(self, head: bool) -> None:
        state = self.server.state
        raw = self.path
        if raw.startswith(("http://", "https://")):  # the absolute form of a request target
            raw = urlsplit(raw).path or "/"
        raw_path, _, query = raw.partition("?")
        raw_path = raw_path.partition("#")[0]
        if not raw_path.startswith("/"):
            return self._bad()
        try:
            path = unquote(raw_path, errors="strict")
        except UnicodeDecodeError:
            return self._bad()
        if "\\" in path or "\0" in path or any(part in (".", "..") for part in path.split("/")):
            return self._bad()

        if path.startswith(PREFIX):
            return self._own(path[len(PREFIX):], query, head)
        base = state.base_path
        if not path.startswith(base):
            if path == "/" or path + "/" == base:
                return self._redirect(base)
            return self._not_found([], head)
        rel = path[len(base):]
        parts = [part for part in rel.split("/") if part]
        trailing = rel == "" or rel.endswith("/")

        for attempt in range(4):
            kind, found, name = self._locate(parts, trailing)
            if kind == "file":
                try:
                    data = found.read_bytes()
                except OSError:  # removed between the look-up and the read: the folder was swapped
                    kind = "missing"
                else:
                    ctype = content_type(name)
                    return self._send(200, self._html(data) if ctype.startswith("text/html") else data, ctype, head=head)
            if kind == "redirect":  # built from the checked parts: never a //other-host/ address
                location = base + "".join(quote(part) + "/" for part in parts)
                return self._redirect(location + (f"?{query}" if query else ""))
            if state.output.exists():
                break
            time.sleep(0.05)  # between the two renames of a rebuild's swap: the output is back in a moment
        if kind == "no-site":
            return self._no_site(head)
        return self._not_found(parts, head)

    def _locate(self, parts: list[str], trailing: bool) -> tuple[str, Path | None, str]:
        """(kind, real path, name served as): kind "file"; "redirect" for a folder asked without its /; "missing";
        "no-site" when there is no output folder. A symlink inside the output that stays inside it is served under
        its own name (its suffix picks the Content-Type)."""
        try:
            out = self.server.state.output.resolve(strict=True)
        except (OSError, RuntimeError):
            return "no-site", None, ""
        if not out.is_dir():
            return "no-site", None, ""
        candidate = out.joinpath(*parts)  # every part is a plain name: never absolute, never ".."
        real = _inside(out, candidate)
        if real is None:
            return "missing", None, ""
        if real.is_dir():
            index = _inside(out, candidate / "index.html")
            if index is None or not _is_file(index):
                return "missing", None, ""  # no directory listings
            return ("file", index, "index.html") if trailing else ("redirect", None, "")
        if trailing or not _is_file(real):
            return "missing", None, ""
        return "file", real, candidate.name

    def _not_found(self, parts: list[str], head: bool) -> None:
        """The language's 404.html when the address starts with a language folder that has one, else the site's."""
        try:
            out = self.server.state.output.resolve(strict=True)
        except (OSError, RuntimeError):
            return self._no_site(head)
        for rel in ([f"{parts[0]}/404.html"] if parts else []) + ["404.html"]:
            page = _inside(out, out / rel)
            if page is not None and _is_file(page):
                try:
                    body = page.read_bytes()
                except OSError:
                    continue
                return self._send(404, self._html(body), "text/html; charset=utf-8", head=head, etag=False)
        body = _own_page("Not found", '<main class="hp-dev-overlay"><h1>Not found</h1>'
                                      "<p>There is no page at this address.</p></main>")
        return self._send(404, self._html(body), "text/html; charset=utf-8", head=head, etag=False,
                          headers={"Content-Security-Policy": OWN_CSP})

    def _no_site(self, head: bool) -> None:
        """No output folder: the first build failed (show why) or has not finished."""
        state = self.server.state
        if state.problems:
            body = _own_page("The site did not build", '<main class="hp-dev-overlay"><p>No version of the site has '
                                                       "built yet, so there is nothing else to show.</p></main>")
            return self._send(500, self._html(body), "text/html; charset=utf-8", head=head, etag=False,
                              headers={"Content-Security-Policy": OWN_CSP})
        body = _own_page("Not built yet", '<main class="hp-dev-overlay"><h1>The site has not been built yet</h1>'
                                          "<p>This page reloads by itself when it has.</p></main>")
        return self._send(503, self._html(body), "text/html; charset=utf-8", head=head, etag=False,
                          headers={"Content-Security-Policy": OWN_CSP, "Retry-After": "1"})

    def _own(self, name: str, query: str, head: bool) -> None:
        """The server's own files under /_hp/; they are never written into the output."""
        state = self.server.state
        if name == "overlay.css":
            return self._send(200, OVERLAY_CSS.encode(), "text/css; charset=utf-8", head=head)
        if state.live_reload and name == "livereload.js":
            script = (LIVERELOAD_JS % _js_string(state.event_id)).encode()
            return self._send(200, script, "text/javascript; charset=utf-8", head=head, etag=False,
                              headers={"Cache-Control": "no-store"})
        if state.live_reload and name == "events":
            return self._events(query, head)
        return self._send(404, b"Not found.\n", "text/plain; charset=utf-8", head=head, etag=False)

    # -- live reload --

    def _events(self, query: str, head: bool) -> None:
        """Server-Sent Events: `event: reload` after every build. A client whose last event id (or ?since=, the
        generation its page was served at) is not the current one is told to reload at once."""
        state = self.server.state
        self.close_connection = True  # the stream ends when the connection does
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        known = self.headers.get("Last-Event-ID") or (parse_qs(query).get("since") or [""])[0]
        generation = state.generation
        try:
            self._event(f"retry: 1000\nid: {state.event_id}\n\n")
            if known and known != state.event_id:
                self._event(f"event: reload\nid: {state.event_id}\ndata: reload\n\n")
            while not state.closed:
                now = state.wait(generation, KEEPALIVE)
                if state.closed:
                    break
                if now != generation:
                    generation = now
                    self._event(f"event: reload\nid: {state.boot}.{now}\ndata: reload\n\n")
                else:
                    self._event(": keep-alive\n\n")
        except (ConnectionError, TimeoutError, ValueError):
            pass  # the page was closed or reloaded

    def _event(self, text: str) -> None:
        self.wfile.write(text.encode())
        self.wfile.flush()

    # -- responses --

    def _html(self, body: bytes) -> bytes:
        """Add the build-error banner after <body> and the reload script before </body>."""
        state = self.server.state
        problems = state.problems
        if problems:
            banner = _banner(problems)
            m = BODY_OPEN.search(body)
            body = body[: m.end()] + banner + body[m.end():] if m else banner + body
        if state.live_reload:
            end = body.lower().rfind(b"</body>")
            body = body[:end] + RELOAD_TAG + body[end:] if end >= 0 else body + RELOAD_TAG
        return body

    def _send(self, status: int, body: bytes, ctype: str, *, head: bool, etag: bool = True,
              headers: dict[str, str] | None = None) -> None:
        kind = ctype.partition(";")[0].strip()
        compressible = kind in COMPRESSIBLE
        encoding = choose_encoding(self.headers.get("Accept-Encoding", "")) if compressible and len(body) >= MIN_COMPRESS else None
        digest = hashlib.blake2b(body, digest_size=16).hexdigest()
        tag = f'"{digest}{"-" + encoding if encoding else ""}"'  # each encoding is its own representation
        common = {"Cache-Control": "no-cache"}
        if etag:
            common["ETag"] = tag
        if compressible:
            common["Vary"] = "Accept-Encoding"
        if kind == "image/svg+xml":
            common["Content-Security-Policy"] = SVG_CSP
        common.update(headers or {})
        if etag and status == 200 and _etag_matches(self.headers.get("If-None-Match"), tag):
            self.send_response(304)
            for name, value in common.items():
                if name != "Content-Security-Policy":
                    self.send_header(name, value)
            self.end_headers()
            return
        payload = self.server.compressed(tag, body, encoding) if encoding else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        if encoding:
            self.send_header("Content-Encoding", encoding)
        for name, value in common.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(payload)

    def _redirect(self, location: str) -> None:
        self.send_response(301)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

    def _bad(self) -> None:
        self.close_connection = True
        self._send(400, b"Bad request: that address is not a path inside the site.\n", "text/plain; charset=utf-8",
                   head=self.command == "HEAD", etag=False)


def _inside(out: Path, path: Path) -> Path | None:
    """PATH with every symlink followed, or None when it does not exist or leads outside OUT."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        return None
    return real if real == out or real.is_relative_to(out) else None


def _is_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)  # not a FIFO or a device, which would hang or leak
    except OSError:
        return False


def _js_string(text: str) -> str:
    return '"' + re.sub(r"[^A-Za-z0-9.]", "", text) + '"'


def _banner(problems: tuple[str, ...]) -> bytes:
    """The build's errors, escaped, above the last good page."""
    n = len(problems)
    items = "".join(f"<li><pre>{html.escape(p)}</pre></li>" for p in problems)
    return (f'<aside class="hp-dev-overlay" role="alert" lang="en" dir="ltr" aria-labelledby="hp-dev-overlay-title">'
            f'<link rel="stylesheet" href="/_hp/overlay.css">'
            f'<h2 id="hp-dev-overlay-title">The site did not build: {n} error{"s" if n != 1 else ""}</h2>'
            f"<ol>{items}</ol>"
            f"<p>Until they are fixed, the preview shows the last version of the site that built. Save a fix and "
            f"this page reloads by itself.</p></aside>").encode()


def _own_page(title: str, main: str) -> bytes:
    return (f'<!doctype html><html lang="en" dir="ltr"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{html.escape(title)} · Healing Pixels preview</title>'
            f'<link rel="stylesheet" href="/_hp/overlay.css"></head>'
            f'<body class="hp-dev-page">{main}</body></html>').encode()


# --- The watch loop ---------------------------------------------------------------------------------------------------

TEMP_SUFFIXES = (".swp", ".swo", ".swx", ".swpx", ".tmp", ".temp", ".bak", ".kate-swp", ".crdownload", ".part",
                 "___jb_tmp___", "___jb_old___", ".pyc", ".mo")


def is_editor_temp(name: str) -> bool:
    """Files editors write beside the one being saved (vim, emacs, JetBrains, Kate, gedit, Office, browsers)."""
    return (name.startswith((".", "#", "~$")) or name.endswith("~") or name.endswith(TEMP_SUFFIXES)
            or name in ("4913", "__pycache__"))


class Watcher:
    """Rebuilds the site at ROOT when its sources change, and tells STATE's browsers to reload.

    rebuild() can be called directly: it returns whether the build succeeded and bumps state.generation."""

    def __init__(self, root: Path, state: State, echo=None):
        self.root = Path(root).resolve()
        self.state = state
        self.echo = echo or (lambda text, **style: click.secho(text, **style))
        self.config: config_mod.Config | None = None

    def rebuild(self, changed: Iterable[str] = ()) -> bool:
        """An incremental build (unchanged pages are reused); prints one line with the time it took."""
        started = time.perf_counter()
        try:
            self.config = config_mod.load(self.root)
            result = build_mod.build(self.root)
        except BuildError as exc:
            self.state.publish(str(p) for p in exc.problems)
            _report(exc.problems, "the last good version is still served.")
            self.echo(f"{_clock()} {_what(changed, self.root)}build failed in {time.perf_counter() - started:.2f} s "
                      f"(the browser shows the errors too)", fg="red")
            return False
        except Exception as exc:  # a bug or a full disk must not end the preview; show it and go on watching
            traceback.print_exc(file=sys.stderr)
            self.state.publish([f"the build crashed: {exc!r} (details in the terminal)"])
            self.echo(f"{_clock()} build crashed after {time.perf_counter() - started:.2f} s", fg="red")
            return False
        self.state.output, self.state.base_path = result.output, self.config.base_path
        self.state.publish()
        _report(result.warnings, all_warnings=False)
        warned = f", {len(result.warnings)} warning{'s' if len(result.warnings) != 1 else ''}" if result.warnings else ""
        self.echo(f"{_clock()} {_what(changed, self.root)}built {sum(result.pages.values())} pages "
                  f"({result.rendered} rendered){warned} in {time.perf_counter() - started:.2f} s")
        return True

    def wanted(self, path: str | Path) -> bool:
        """Whether a change to PATH can change the site: its sources, never the output, cache, staging or temp files."""
        p = Path(os.path.abspath(path))
        output = self.state.output
        tokens = self._tokens()
        if tokens is not None and p == tokens:
            return True
        if p == output or p.is_relative_to(output) or p.is_relative_to(self.root / build_mod.CACHE_DIR):
            return False
        try:
            rel = p.relative_to(self.root)
        except ValueError:
            return False
        if not rel.parts or any(part.startswith(f".{output.name}.") or is_editor_temp(part) for part in rel.parts):
            return False
        return rel.parts[0] in WATCHED_DIRS or rel.as_posix() in WATCHED_FILES

    def targets(self) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
        """(folders watched with their subfolders, folders watched alone). The site's root is watched alone, so
        site.toml and reviewers.toml are seen even when an editor saves them by renaming a new file over them, and
        the output, the cache, .git or a .venv beside them cost nothing."""
        recursive = tuple(self.root / d for d in WATCHED_DIRS if (self.root / d).is_dir())
        flat = {self.root}
        tokens = self._tokens()
        if tokens is not None and tokens.parent.is_dir() and not any(tokens.is_relative_to(d) for d in recursive):
            flat.add(tokens.parent)
        return recursive, tuple(sorted(flat))

    def _tokens(self) -> Path | None:
        tokens = self.config.tokens if self.config else None
        return Path(os.path.abspath(tokens)) if tokens is not None else None

    def run(self, stop: threading.Event) -> None:
        """Watch until STOP is set, rebuilding after each burst of changes (watchfiles debounces them). Changes made
        during a build are kept and start one more build when it ends."""
        failures, resync = 0, False
        while not stop.is_set():
            targets = self.targets()
            changes: queue.Queue = queue.Queue()
            halt = threading.Event()
            threads = [threading.Thread(target=self._watch, args=(paths, recursive, changes, halt),
                                        name="healingpixels-watch", daemon=True)
                       for paths, recursive in ((targets[0], True), (targets[1], False)) if paths]
            for thread in threads:
                thread.start()
            try:
                if resync:  # files written while the watchers were being replaced were not seen: build once more
                    stop.wait(0.2)
                    self.rebuild()
                    resync = False
                while not stop.is_set():
                    try:
                        batch = changes.get(timeout=0.25)
                    except queue.Empty:
                        continue
                    failed = batch is None
                    if not failed:
                        time.sleep(0.05)  # let the other watcher's share of the same save arrive
                    while True:
                        try:
                            more = changes.get_nowait()
                        except queue.Empty:
                            break
                        failed = failed or more is None
                        batch = (batch or set()) | (more or set())
                    if batch:
                        self.rebuild(sorted(batch))
                    if failed:  # a watcher stopped (a watched folder was removed?): wait a little, then look again
                        failures += 1
                        stop.wait(min(30.0, 2.0 ** failures))
                        resync = True
                        break
                    failures = 0
                    if self.targets() != targets:  # a folder or the tokens file appeared or moved
                        resync = True
                        break
            finally:
                halt.set()
                for thread in threads:
                    thread.join(timeout=2)

    def _watch(self, paths: tuple[Path, ...], recursive: bool, changes: queue.Queue, halt: threading.Event) -> None:
        import watchfiles

        try:
            for batch in watchfiles.watch(*paths, watch_filter=lambda _change, path: self.wanted(path),
                                          recursive=recursive, stop_event=halt, raise_interrupt=False):
                changes.put({path for _, path in batch})
        except Exception as exc:
            if not halt.is_set():
                click.secho(f"Watching {', '.join(map(str, paths))} stopped ({exc}); starting again.", fg="yellow", err=True)
                changes.put(None)


def _clock() -> str:
    return time.strftime("%H:%M:%S")


def _what(changed: Iterable[str], root: Path) -> str:
    names = []
    for path in changed:
        try:
            names.append(Path(path).relative_to(root).as_posix())
        except ValueError:
            names.append(str(path))
    if not names:
        return ""
    more = f" and {len(names) - 2} more" if len(names) > 2 else ""
    return f"{', '.join(names[:2])}{more} changed: "


# --- The command ------------------------------------------------------------------------------------------------------

def serve(root: Path, port: int) -> None:
    """Build ROOT, serve its output on http://127.0.0.1:PORT/ and rebuild and reload on every edit until Ctrl-C."""
    root = Path(root).resolve()
    try:
        config = config_mod.load(root)
        output, base_path = config.output, config.base_path
    except BuildError:  # reported by the first build below; serve the default folder meanwhile
        output, base_path = root / "public", "/"
    try:
        server = make_server(output, port, live_reload=True, base_path=base_path)
    except (OSError, OverflowError) as exc:
        click.secho(_bind_problem(port, exc), fg="red", err=True)
        sys.exit(1)

    url = server.url
    watcher = Watcher(root, server.state)
    stop = threading.Event()
    thread = threading.Thread(target=server.serve_forever, name="healingpixels-serve", daemon=True)
    restore = _sigterm_as_interrupt()
    try:
        click.echo(f"Building {root} …")
        watcher.rebuild()
        thread.start()
        click.secho(f"Previewing at {url} (only this computer can open it). Edits rebuild the site and reload "
                    f"the browser. Press Ctrl-C to stop.", bold=True)
        watcher.run(stop)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.state.close()  # ends the open event streams
        if thread.is_alive():
            server.shutdown()
        server.server_close()
        restore()
    click.echo("\nStopped the preview server. Goodbye.")


def _bind_problem(port: int, exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    if code == errno.EADDRINUSE:
        return (f"Port {port} on {HOST} is already in use, perhaps by another preview. Stop that program, or choose "
                f"another port: healingpixels serve --port {port + 1 if port < 65535 else 8000}")
    if code in (errno.EACCES, errno.EPERM):
        return f"This account may not use port {port} (ports below 1024 need administrator rights). Try --port 8000."
    if isinstance(exc, OverflowError):
        return f"{port} is not a port number: choose one from 1 to 65535, like --port 8000."
    return f"Cannot listen on {HOST}:{port}: {getattr(exc, 'strerror', None) or exc}"


def _sigterm_as_interrupt():
    """Stop on SIGTERM (kill, a closing terminal, a process manager) as on Ctrl-C; returns a function that undoes it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    return lambda: signal.signal(signal.SIGTERM, previous)
