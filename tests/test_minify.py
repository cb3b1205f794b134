"""Minifying never changes meaning: inline scripts keep their CSP hash, JSON-LD parses, <pre> keeps its spaces."""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from pathlib import Path

import brotli
import pytest

from healingpixels import minify

THEME = Path(__file__).resolve().parents[1] / "themes" / "harbin-ice" / "inline"
MODE = (THEME / "mode.js").read_text(encoding="utf-8").strip() if (THEME / "mode.js").is_file() else \
    'try{var m=localStorage.getItem("hp-mode");if(m)document.documentElement.setAttribute("data-mode",m)}catch(e){}'
SPACED = '\n  var  greeting = "a  b" ;   // two spaces matter to the hash\n  console.log( greeting )\n'
LD = {"@context": "https://schema.org", "@type": "MedicalWebPage", "name": "Frostbite  </script> & more",
      "about": {"name": "Обморожение"}}
LD_TEXT = (json.dumps(LD, ensure_ascii=False, separators=(",", ":"))  # escaped as render._json_ld does
           .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def csp_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


PAGE = f"""<!doctype html>
<html lang="ru" dir="ltr">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' {csp_hash(MODE)}">
<title>Обморожение – Здоровье</title>
<script>{MODE}</script>
<script  data-note="a > b">{SPACED}</script>
<script type="application/ld+json">{LD_TEXT}</script>
<link rel="stylesheet" href="/assets/theme.3f9c2b1a7e.css">
</head>
<body>
<!-- a comment that costs bytes -->
<main id="main">
<h1>Обморожение</h1>
<p>Call   <strong>112</strong> <em>now</em>, then keep the person warm.
   Text like &lt;script&gt;alert(1)&lt;/script&gt; stays text.</p>
<pre>  step 1
      step 2   (indented)
</pre>
<form><input type="text" name="q" value="a  b"><textarea name="t">  keep
  this</textarea></form>
<svg class="hp-icon" aria-hidden="true" focusable="false"><use href="#icon-warning"/></svg>
</main>
</body>
</html>
"""


def scripts(html: str) -> list[str]:
    return re.findall(r"<script\b(?:[^>\"']|\"[^\"]*\")*>(.*?)</script>", html, re.S)


def test_html_keeps_inline_scripts_byte_identical():
    out = minify.html(PAGE)
    assert scripts(out) == scripts(PAGE) == [MODE, SPACED, LD_TEXT]
    assert csp_hash(scripts(out)[0]) in out  # the CSP still allows the script it names


def test_html_keeps_meaning():
    out = minify.html(PAGE)
    assert len(out) < len(PAGE)
    assert json.loads(scripts(out)[2]) == LD
    assert "<script type=application/ld+json>" in out  # minify-html unquotes it, but never drops it
    assert "<pre>  step 1\n      step 2   (indented)\n</pre>" in out
    assert "<textarea name=t>  keep\n  this</textarea>" in out
    assert "<strong>112</strong> <em>now</em>" in out  # the space between inline elements stays
    assert "&lt;script>alert(1)&lt;/script>" in out  # text stays text ("<" escaped; ">" needs no escape)
    assert "a comment" not in out
    for kept in ("<html", "<head>", "</head>", "<body>", "</body>", "</html>", "</p>", "<!doctype html>"):
        assert kept in out, kept
    assert re.search(r"<input [^>]*type=\"?text", out)  # input[type=text] selectors keep working
    assert 'value="a  b"' in out and "<use href=#icon-warning" in out
    assert minify.html(PAGE) == out  # deterministic


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
    data = minify.html(PAGE).encode() * 4
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
    text = minify.html(PAGE).encode() * 4
    made = minify.siblings("en/index.html", text)
    assert set(made) == {"en/index.html.gz", "en/index.html.br"}
    assert gzip.decompress(made["en/index.html.gz"]) == text
    noise = hashlib.shake_256(b"seed").digest(4000)  # incompressible: no sibling is smaller
    assert minify.siblings("data.json", noise) == {}
    assert minify.siblings("small.css", b"a{}") == {}
