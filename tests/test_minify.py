"""CSS and JS minifying keeps meaning; precompressed copies are deterministic and written only where they pay."""
from __future__ import annotations

import gzip
import hashlib

import brotli
import pytest

from healingpixels import minify

# A page as the build writes it (pages get siblings only with precompress = "all", but the same function makes them).
PAGE = """<!doctype html>
<html lang="ru" dir="ltr">
<head>
<meta charset="utf-8">
<title>Обморожение – Здоровье</title>
<link rel="stylesheet" href="/assets/theme.3f9c2b1a7e.css">
</head>
<body>
<main id="main">
<h1>Обморожение</h1>
<p>Call <strong>112</strong> <em>now</em>, then keep the person warm.</p>
</main>
</body>
</html>
"""


def test_css_and_js():
    css = "/*! licence: MIT */\n/* note */\n.hp-card {\n  margin : calc( 100% - 2rem ) ;\n  --gap:  1rem ;\n}\n" \
          "@media (min-width: 48rem) { .hp-card { color : red } }\n.a::after { content: '  x  ' }\n"
    out = minify.css(css)
    assert out == ("/*! licence: MIT */.hp-card{margin:calc(100% - 2rem);--gap:1rem}"
                   "@media (min-width:48rem){.hp-card{color:red}}.a::after{content:'  x  '}")
    js = ("// note\nvar a = `x  // not a comment ${ b }`;\nvar r = /a\\/  b/g; /*! keep */\n"
          "function f ( x ) { return x + + y ; }\n")
    out = minify.js(js)
    assert "`x  // not a comment ${ b }`" in out and "/a\\/  b/g" in out and "/*! keep */" in out
    assert "x+ +y" in out and "// note" not in out and len(out) < len(js)


def test_precompress_round_trips_and_is_deterministic():
    data = PAGE.encode() * 4
    gz, br = minify.precompress(data)
    assert gzip.decompress(gz) == data and brotli.decompress(br) == data
    assert minify.precompress(data) == (gz, br)
    assert gz[4:8] == b"\0\0\0\0" and not gz[3] & 0x08  # no timestamp, no file name
    assert len(br) < len(gz) < len(data)


@pytest.mark.parametrize("rel, size, wanted", [
    ("en/index.html", 5000, True), ("assets/theme.css", 5000, True), ("sw.js", 2000, True),
    ("images/a.svg", 3000, True), ("sitemap.xml", 3000, True), ("robots.txt", 2000, True),
    ("search.json", 2000, True), ("manifest.webmanifest", 2000, True), ("feed.XML", 3000, True),
    ("en/tiny.html", 900, False), ("images/a.webp", 50000, False), ("images/a.jpg", 50000, False),
    ("fonts/a.woff2", 50000, False), ("leaflet.pdf", 50000, False),
])
def test_which_files_get_siblings(rel, size, wanted):
    assert minify.wants_siblings(rel, size) is wanted


def test_siblings_only_when_smaller():
    text = PAGE.encode() * 4
    made = minify.siblings("en/index.html", text)
    assert set(made) == {"en/index.html.gz", "en/index.html.br"}
    assert gzip.decompress(made["en/index.html.gz"]) == text
    noise = hashlib.shake_256(b"seed").digest(4000)  # incompressible: no sibling is smaller
    assert minify.siblings("data.json", noise) == {}
    assert minify.siblings("small.css", b"a{}") == {}
