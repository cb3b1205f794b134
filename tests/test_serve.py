"""The preview server: only the output folder, right types, compression, ETags, live reload, and the rebuild step."""
from __future__ import annotations

import gzip
import http.client
import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from healingpixels import serve

PAGE = "<!doctype html><html lang=en><head><title>t</title></head><body><main>{}</main></body></html>"


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A built-looking output folder, with a secret beside it that must never be served."""
    out = tmp_path / "public"
    (out / "en" / "topics").mkdir(parents=True)
    (out / "en" / "empty").mkdir()
    (out / "index.html").write_text(PAGE.format("root"))
    (out / "en" / "index.html").write_text(PAGE.format("English home " + "words " * 100))
    (out / "en" / "topics" / "index.html").write_text(PAGE.format("topics"))
    (out / "404.html").write_text(PAGE.format("site 404"))
    (out / "en" / "404.html").write_text(PAGE.format("english 404"))
    (out / "style.css").write_text("body { color: black; }\n" * 40)
    (out / "app.js").write_text("console.log(1);\n")
    (out / "icon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    (out / "site.webmanifest").write_text("{}")
    (out / "font.woff2").write_bytes(b"wOF2" + bytes(64))
    (out / "photo.webp").write_bytes(b"RIFF0000WEBP")
    (out / "photo.avif").write_bytes(bytes(32))
    (tmp_path / "site.toml").write_text("secret = 'site config'\n")
    (tmp_path / "secret").write_text("TOP SECRET\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "index.html").write_text("TOP SECRET folder\n")
    (out / "leak.txt").symlink_to(tmp_path / "secret")
    (out / "leakdir").symlink_to(tmp_path / "outside", target_is_directory=True)
    (out / "inside.html").symlink_to(out / "en" / "topics" / "index.html")
    return out


def start(output: Path, live_reload: bool = False):
    server = serve.make_server(output, 0, live_reload)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def server(out):
    server, thread = start(out)
    yield server
    stop(server, thread)


@pytest.fixture
def live(out):
    server, thread = start(out, live_reload=True)
    yield server
    stop(server, thread)


def stop(server, thread):
    server.state.close()
    server.shutdown()
    server.server_close()
    thread.join(5)


def get(server, path: str, method: str = "GET", headers: dict | None = None):
    """A raw request: http.client sends the path exactly as given (no normalising of .. as curl or browsers do)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_binds_loopback_only_and_port_zero_picks_a_free_port(server):
    assert server.server_address[0] == "127.0.0.1"
    assert server.server_port > 0
    assert server.socket.family == socket.AF_INET
    assert server.url == f"http://127.0.0.1:{server.server_port}/"


def test_taken_port_is_an_error(server, tmp_path, capsys):
    with pytest.raises(OSError):
        serve.make_server(server.state.output, server.server_port, False)
    root = make_site(tmp_path / "site")
    with pytest.raises(SystemExit) as exit_info:
        serve.serve(root, server.server_port)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert f"Port {server.server_port} on 127.0.0.1 is already in use" in err and "Traceback" not in err
    assert not (root / "public").exists()  # it said so before building anything


@pytest.mark.parametrize("path", [
    "/../site.toml", "/../secret", "/%2e%2e/secret", "/%2E%2E/site.toml", "/..%2fsecret", "/..%2Fsite.toml",
    "/en/../../secret", "/%2e%2e%2f%2e%2e%2fsecret", "/..\\secret", "/%5c..%5csecret", "//etc/passwd",
    "/%2fetc%2fpasswd", "/etc/passwd", "/%2Fetc/passwd", "secret", "/en/%00", "/.%2e/secret",
    "http://127.0.0.1/../secret",
])
def test_traversal_never_leaves_the_output(server, path):
    status, _, body = get(server, path)
    assert status in (400, 404)
    assert b"SECRET" not in body and b"site config" not in body and b"root:" not in body


def test_symlinks_pointing_outside_are_refused(server):
    for path in ("/leak.txt", "/leakdir/", "/leakdir/index.html", "/leakdir"):
        status, _, body = get(server, path)
        assert status == 404, path
        assert b"SECRET" not in body
    status, headers, body = get(server, "/inside.html")  # a link that stays inside is fine
    assert status == 200 and b"topics" in body and headers["content-type"] == "text/html; charset=utf-8"


def test_folders_serve_their_index_and_never_a_listing(server):
    status, headers, body = get(server, "/en/")
    assert status == 200 and b"English home" in body
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert get(server, "/en/topics/")[2] == (server.state.output / "en/topics/index.html").read_bytes()
    status, headers, _ = get(server, "/en/topics?x=1")
    assert status == 301 and headers["location"] == "/en/topics/?x=1"
    status, headers, _ = get(server, "//en")  # never a redirect to another host (//en/)
    assert status == 301 and headers["location"] == "/en/"
    status, _, body = get(server, "/en/empty/")  # a folder without index.html
    assert status == 404 and b"english 404" in body
    assert get(server, "/en/index.html/")[0] == 404


def test_missing_pages_get_the_404_page(server):
    status, headers, body = get(server, "/nowhere/")
    assert status == 404 and b"site 404" in body and headers["content-type"] == "text/html; charset=utf-8"
    status, _, body = get(server, "/en/nowhere")
    assert status == 404 and b"english 404" in body  # the language's own 404 page
    status, _, body = get(server, "/_hp/livereload.js")  # off without live reload
    assert status == 404


def test_only_get_and_head(server):
    status, headers, body = get(server, "/en/", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0
    for method in ("POST", "PUT", "DELETE"):
        status, headers, _ = get(server, "/en/", method=method, headers={"Content-Length": "0"})
        assert status == 405 and headers["allow"] == "GET, HEAD"


def test_etag_and_if_none_match(server):
    status, headers, body = get(server, "/style.css")
    etag = headers["etag"]
    assert status == 200 and etag.startswith('"') and headers["cache-control"] == "no-cache"
    assert "last-modified" not in headers
    status, headers, body = get(server, "/style.css", headers={"If-None-Match": etag})
    assert status == 304 and body == b"" and headers["etag"] == etag
    assert get(server, "/style.css", headers={"If-None-Match": f'"other", W/{etag}'})[0] == 304
    # a rebuild within the same second still gives the new bytes: the ETag is the content's, not the time's
    path = server.state.output / "style.css"
    mtime = path.stat().st_mtime
    path.write_text("body { color: navy; }\n" * 40)
    os.utime(path, (mtime, mtime))
    status, headers, body = get(server, "/style.css", headers={"If-None-Match": etag})
    assert status == 200 and b"navy" in body and headers["etag"] != etag


def test_gzip_and_brotli(server):
    original = (server.state.output / "style.css").read_bytes()
    status, headers, body = get(server, "/style.css", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(body) == original and int(headers["content-length"]) == len(body)
    status, headers, body = get(server, "/style.css")
    assert "content-encoding" not in headers and body == original and headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in get(server, "/style.css", headers={"Accept-Encoding": "gzip;q=0"})[1]
    if serve.brotli is not None:
        status, headers, body = get(server, "/style.css", headers={"Accept-Encoding": "gzip, deflate, br"})
        assert headers["content-encoding"] == "br" and serve.brotli.decompress(body) == original
    _, headers, _ = get(server, "/font.woff2", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in headers  # already compressed


def test_content_types_and_security_headers(server):
    expected = {
        "/style.css": "text/css; charset=utf-8",
        "/app.js": "text/javascript; charset=utf-8",
        "/site.webmanifest": "application/manifest+json; charset=utf-8",
        "/icon.svg": "image/svg+xml; charset=utf-8",
        "/font.woff2": "font/woff2",
        "/photo.webp": "image/webp",
        "/photo.avif": "image/avif",
    }
    for path, ctype in expected.items():
        status, headers, _ = get(server, path)
        assert status == 200 and headers["content-type"] == ctype, path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    assert get(server, "/icon.svg")[1]["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert "content-security-policy" not in get(server, "/en/")[1]  # pages carry their own in a meta tag
    for path in ("/nowhere", "/../x"):
        assert get(server, path)[1]["x-content-type-options"] == "nosniff"


def test_live_reload_script_only_when_asked_and_only_in_html(server, live):
    tag = b'<script src="/_hp/livereload.js" defer></script>'
    assert tag not in get(server, "/en/")[2]
    body = get(live, "/en/")[2]
    assert body.count(tag) == 1 and body.index(tag) == body.rindex(b"</body>") - len(tag)
    assert tag in get(live, "/nowhere")[2]  # the 404 page reloads too
    assert tag not in get(live, "/style.css")[2] and tag not in get(live, "/icon.svg")[2]
    status, headers, script = get(live, "/_hp/livereload.js")
    assert status == 200 and headers["content-type"] == "text/javascript; charset=utf-8" and b"EventSource" in script
    assert not (live.state.output / "_hp").exists()
    # the injected page's ETag is of what was sent, and still answers If-None-Match
    _, headers, _ = get(live, "/en/")
    assert get(live, "/en/", headers={"If-None-Match": headers["etag"]})[0] == 304


def test_events_stream_a_reload_after_a_build(live):
    sock = socket.create_connection(("127.0.0.1", live.server_port), timeout=5)
    try:
        sock.sendall(b"GET /_hp/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        received = b""
        while b"retry:" not in received:
            received += sock.recv(4096)
        assert b"text/event-stream" in received and b"event: reload" not in received
        live.state.publish()
        while b"event: reload" not in received:
            received += sock.recv(4096)
    finally:
        sock.close()
    # a page served before a rebuild the stream did not see is told to reload at once
    old = f"{live.state.boot}.{live.state.generation - 1}"
    sock = socket.create_connection(("127.0.0.1", live.server_port), timeout=5)
    try:
        sock.sendall(f"GET /_hp/events?since={old} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received = b""
        while b"event: reload" not in received:
            received += sock.recv(4096)
    finally:
        sock.close()


def test_build_errors_are_shown_escaped_over_the_last_good_page(live):
    live.state.publish(["content/en/index.md:3: front matter: <script>alert(1)</script> is wrong"])
    status, _, body = get(live, "/en/")
    assert status == 200 and b"English home" in body  # the last good output is still served
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in body and b"<script>alert(1)" not in body
    assert b'href="/_hp/overlay.css"' in body
    status, headers, css = get(live, "/_hp/overlay.css")
    assert status == 200 and headers["content-type"] == "text/css; charset=utf-8"
    live.state.publish()
    assert b"hp-dev-overlay" not in get(live, "/en/")[2]


def test_no_output_yet(tmp_path):
    server, thread = start(tmp_path / "public", live_reload=True)
    try:
        status, headers, body = get(server, "/en/")
        assert status == 503 and b"/_hp/livereload.js" in body
        server.state.publish(["site.toml:2: broken"])
        status, headers, body = get(server, "/en/")
        assert status == 500 and b"site.toml:2: broken" in body
        assert "content-security-policy" in headers
    finally:
        stop(server, thread)


def test_output_swapped_by_a_rebuild_is_picked_up(server, out):
    assert b"English home" in get(server, "/en/")[2]
    new = out.parent / ".public.building"
    (new / "en").mkdir(parents=True)
    (new / "en" / "index.html").write_text(PAGE.format("rebuilt"))
    out.rename(out.parent / ".public.old")
    new.rename(out)
    assert b"rebuilt" in get(server, "/en/")[2]


def test_a_real_build_is_served_whole(built):
    """Every file the fixture site's pages refer to is served with its type; each language's 404 page is used."""
    server, thread = start(built, live_reload=True)
    try:
        for page in ("/en/", "/ru/winter-health/frostbite/", "/"):
            status, headers, body = get(server, page, headers={"Accept-Encoding": "gzip"})
            assert status == 200 and headers["content-encoding"] == "gzip"
            html = gzip.decompress(body).decode()
            assert html.count('<script src="/_hp/livereload.js" defer></script>') == 1
            for ref in set(re.findall(r'(?:href|src)="(/[^"#?]*)"', html)):
                status, headers, _ = get(server, ref)
                assert status == 200, ref
                suffix = ref.rsplit(".", 1)[-1] if "." in ref.rsplit("/", 1)[-1] else "html"
                if suffix in ("css", "js", "svg", "html"):
                    assert headers["content-type"].endswith("; charset=utf-8"), ref
        status, _, body = get(server, "/ru/nowhere/")
        assert status == 404 and body.startswith((built / "ru" / "404.html").read_bytes()[:200])
        assert b'lang="ru"' in body
    finally:
        stop(server, thread)


# --- the watch loop's rebuild step -----------------------------------------------------------------------------------

def make_site(root: Path) -> Path:
    (root / "content" / "en").mkdir(parents=True)
    (root / "site.toml").write_text('base_url = "https://example.org/"\ndefault_language = "en"\n\n'
                                    '[languages.en]\nname = "English"\ntitle = "Test"\n', encoding="utf-8")
    (root / "content" / "en" / "index.md").write_text("---\ntitle: Home\ndescription: Home.\n---\n\nVersion one.\n")
    return root


def test_rebuild_reports_success_and_failure_and_bumps_the_counter(tmp_path, capsys):
    root = make_site(tmp_path / "site")
    state = serve.State(root / "public", live_reload=True)
    lines = []
    watcher = serve.Watcher(root, state, echo=lambda text, **_: lines.append(text))
    assert watcher.rebuild() is True
    assert state.generation == 1 and state.problems == ()
    assert b"Version one" in (root / "public" / "en" / "index.html").read_bytes()
    assert "built 1 pages" in lines[-1] and " s" in lines[-1]

    page = root / "content" / "en" / "index.md"
    page.write_text("---\ntitle: [unclosed\n---\n\nVersion two.\n")
    assert watcher.rebuild([str(page)]) is False
    assert state.generation == 2 and state.problems and "content/en/index.md" in state.problems[0]
    assert "content/en/index.md changed" in lines[-1] and "failed" in lines[-1]
    assert "content/en/index.md" in capsys.readouterr().err  # printed like the CLI does
    assert b"Version one" in (root / "public" / "en" / "index.html").read_bytes()  # the last good output stays

    page.write_text("---\ntitle: Home\ndescription: Home.\n---\n\nVersion three.\n")
    assert watcher.rebuild([str(page)]) is True
    assert state.generation == 3 and state.problems == ()
    assert b"Version three" in (root / "public" / "en" / "index.html").read_bytes()


def test_watch_filter(tmp_path):
    root = make_site(tmp_path / "site")
    watcher = serve.Watcher(root, serve.State(root / "public", live_reload=True))
    yes = ["content/en/index.md", "themes/t/templates/page.html", "components/x/macro.html", "locales/ru/x.po",
           "site.toml", "reviewers.toml", "content"]
    no = ["public/en/index.html", ".public.building/en/index.html", ".public.old-1-2/x", ".healingpixels-cache/b",
          "content/en/.index.md.swp", "content/en/index.md~", "content/en/#index.md#", "content/en/4913",
          "content/en/index.md___jb_tmp___", ".git/index", "README.md", "locales/ru/LC_MESSAGES/messages.mo"]
    assert [p for p in yes if not watcher.wanted(root / p)] == []
    assert [p for p in no if watcher.wanted(root / p)] == []
    recursive, flat = watcher.targets()
    assert recursive == (root / "content",) and flat == (root,)


def test_watch_loop_rebuilds_on_an_edit(tmp_path):
    root = make_site(tmp_path / "site")
    state = serve.State(root / "public", live_reload=True)
    watcher = serve.Watcher(root, state, echo=lambda *a, **k: None)
    assert watcher.rebuild()
    stop_event = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop_event,), daemon=True)
    thread.start()
    try:
        time.sleep(0.5)  # let the watchers start
        (root / "content" / "en" / "index.md").write_text("---\ntitle: Home\ndescription: Home.\n---\n\nEdited.\n")
        deadline = time.monotonic() + 10
        while state.generation < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state.generation == 2
        assert b"Edited" in (root / "public" / "en" / "index.html").read_bytes()
        time.sleep(1.0)  # the build's own writes (output, cache, staging) must not start another build
        assert state.generation == 2
    finally:
        stop_event.set()
        thread.join(5)
