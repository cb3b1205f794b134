"""Minify HTML, CSS and JS without changing meaning; write gzip and brotli siblings.

HTML goes through minify-html with its conservative settings, and with every <script> element's text set aside
first and put back byte for byte afterwards: inline scripts are allowed by their sha256 in the
Content-Security-Policy, and JSON-LD must stay exactly as `render` escaped it. CSS goes through rcssmin and JS
through rjsmin, both regex-based minifiers that only remove comments and whitespace (no renaming, no rewriting),
so they cannot change what the code means.
"""
from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import PurePosixPath

import brotli
import minify_html
import rcssmin
import rjsmin

# minify-html, told to keep what pages and their CSS rely on: closing tags, <html>/<head>, type="text" on inputs
# (selectors like input[type=text]), and everything inside <script> and <style> (never minified by it). It still
# drops quotes from attribute values where the HTML standard allows that (it has no option to keep them), which
# changes no meaning; and it never uses the non-standard shortcuts listed as False below.
HTML_OPTIONS = {
    "keep_closing_tags": True,
    "keep_html_and_head_opening_tags": True,
    "keep_input_type_text_attr": True,
    "keep_comments": False,
    "keep_ssi_comments": False,
    "minify_css": False,
    "minify_js": False,
    "minify_doctype": False,  # "<!doctypehtml>" is a parse error
    "allow_noncompliant_unquoted_attribute_values": False,
    "allow_optimal_entities": False,
    "allow_removing_spaces_between_attributes": False,
    "remove_bangs": False,
    "remove_processing_instructions": False,
    "preserve_brace_template_syntax": False,
    "preserve_chevron_percent_template_syntax": False,
}

# A <script> start tag (attribute values may hold ">"), its text, up to the end tag as HTML parsers find it.
_SCRIPT = re.compile(r"(<script\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>)(.*?)(?=</script[\s/>])", re.I | re.S)

# Files that get .gz and .br siblings: text, bigger than MIN_SIZE, and only a sibling that is smaller.
PRECOMPRESS_TYPES = frozenset({".html", ".css", ".js", ".svg", ".xml", ".txt", ".json", ".webmanifest"})
MIN_SIZE = 1024


def html(text: str) -> str:
    """Minified HTML with every inline script's text unchanged, byte for byte, and <pre>/<textarea> kept as is."""
    nonce = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
    while f"hpkeep{nonce}" in text:
        nonce = hashlib.blake2b(nonce.encode(), digest_size=8).hexdigest()
    kept: dict[str, str] = {}

    def set_aside(match: re.Match) -> str:
        if not match[2]:
            return match[0]
        token = f"hpkeep{nonce}n{len(kept)}x"
        kept[token] = match[2]
        return match[1] + token

    out = minify_html.minify(_SCRIPT.sub(set_aside, text), **HTML_OPTIONS)
    for token, script in kept.items():
        out = out.replace(token, script, 1)  # a token can only be gone if its script sat in a removed comment
    return out


def css(text: str) -> str:
    """Minified CSS: comments and needless whitespace removed; /*! licence */ comments kept."""
    return rcssmin.cssmin(text, keep_bang_comments=True)


def js(text: str) -> str:
    """Minified JavaScript: comments and needless whitespace removed, nothing renamed; /*! licence */ kept.
    Deterministic, so a script minified before its CSP hash is taken keeps that hash."""
    return rjsmin.jsmin(text, keep_bang_comments=True)


def precompress(data: bytes, brotli_quality: int = 11) -> tuple[bytes, bytes]:
    """(gzip, brotli) of data, both deterministic: gzip level 9 with mtime 0 and no file name, and brotli at the
    quality asked (11, the smallest, takes about 15 times as long as 5: worth it for shared assets, not pages)."""
    return gzip.compress(data, compresslevel=9, mtime=0), brotli.compress(data, quality=brotli_quality)


def wants_siblings(rel: str, size: int) -> bool:
    """Whether a file of this name and size is worth .gz and .br copies (servers send those when browsers ask)."""
    return PurePosixPath(rel).suffix.lower() in PRECOMPRESS_TYPES and size > MIN_SIZE


def siblings(rel: str, data: bytes, brotli_quality: int = 11) -> dict[str, bytes]:
    """{"rel.gz": ..., "rel.br": ...} for files that want them, each only if it is smaller than the file."""
    if not wants_siblings(rel, len(data)):
        return {}
    gz, br = precompress(data, brotli_quality)
    return {f"{rel}{ext}": blob for ext, blob in ((".gz", gz), (".br", br)) if len(blob) < len(data)}
