"""The static audit: what a careful reviewer can check from a folder of HTML and CSS alone, fast and without a browser.

Every page is parsed once (a regex tokenizer into a small tree), then each rule — a small function registered with
@rule — looks at the tree and yields (element, message) pairs. Links to #anchors on other pages are checked once every
page's ids are known. Pages are audited in a forked process pool on large sites.
"""
from __future__ import annotations

import datetime as dt
import gzip
import json
import multiprocessing
import os
import posixpath
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Callable, Iterable, Iterator
from urllib.parse import unquote, urljoin, urlsplit

from .findings import Finding, PageResult

CACHE_DIR = ".healingpixels-cache"  # as in healingpixels.build; not imported from there, that pulls in the whole build
PARALLEL_FROM = 300  # pages: below this a process pool costs more than it saves
KB = 1024

# ---------------------------------------------------------------------------------------------------------------------
# The parsed page

VOID = frozenset("area base br col embed hr img input keygen link meta param source track wbr".split())
_SCOPE = frozenset("applet caption html table td th marquee object template button".split())
_P_CLOSERS = frozenset("address article aside blockquote details dialog div dl dd dt fieldset figcaption figure footer "
                       "form h1 h2 h3 h4 h5 h6 header hgroup hr li main menu nav ol p pre search section table ul".split())
_CLOSES = {  # start tag -> (open elements it closes, elements that stop the search)
    "li": ({"li"}, {"ul", "ol", "menu"} | _SCOPE),
    "dt": ({"dt", "dd"}, {"dl"} | _SCOPE),
    "dd": ({"dt", "dd"}, {"dl"} | _SCOPE),
    "tr": ({"tr"}, {"table", "thead", "tbody", "tfoot"}),
    "td": ({"td", "th"}, {"tr", "table"}),
    "th": ({"td", "th"}, {"tr", "table"}),
    "thead": ({"thead", "tbody", "tfoot"}, {"table"}),
    "tbody": ({"thead", "tbody", "tfoot"}, {"table"}),
    "tfoot": ({"thead", "tbody", "tfoot"}, {"table"}),
    "option": ({"option"}, {"select", "datalist", "optgroup"}),
    "optgroup": ({"optgroup", "option"}, {"select"}),
}
NOT_TEXT = frozenset({"script", "style", "template", "noscript"})
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


class Element:
    __slots__ = ("tag", "attrs", "parent", "children", "line", "raw", "lang")

    def __init__(self, tag: str, attrs: dict[str, str], parent: "Element | None", line: int, raw: str):
        self.tag, self.attrs, self.parent, self.line, self.raw = tag, attrs, parent, line, raw
        self.children: list[Element | str] = []
        lang = attrs.get("lang")  # the language in effect here: its own lang, or its parent's
        self.lang: str | None = lang.strip() if lang is not None else parent.lang if parent is not None else None

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.attrs

    def attr(self, name: str) -> str:
        """The attribute, stripped; "" when absent."""
        value = self.attrs.get(name)
        return value.strip() if value else ""

    def elements(self) -> Iterator["Element"]:
        for child in self.children:
            if isinstance(child, Element):
                yield child

    def descendants(self) -> Iterator["Element"]:
        stack = list(reversed(list(self.elements())))
        while stack:
            el = stack.pop()
            yield el
            stack.extend(reversed(list(el.elements())))

    def ancestors(self) -> Iterator["Element"]:
        el = self.parent
        while el is not None and el.tag != "#document":
            yield el
            el = el.parent

    def classes(self) -> set[str]:
        return set(self.attr("class").split())

    def __repr__(self) -> str:
        return f"<{self.tag} line {self.line}>"


# A tokenizer for HTML as browsers read it, as far as audits need: about three times faster than html.parser, which
# does a lot of Python-level work for every tag. Script and style contents are raw text; title and textarea are text.
_TOKEN = re.compile(r"""
      <!--.*?(?:-->|\Z)                                             # comment (an unclosed one runs to the end)
    | <!\[CDATA\[.*?(?:\]\]>|\Z)
    | <[!?][^>]*>                                                   # doctype, processing instruction
    | </(?P<end>[a-zA-Z][^\s/>]*)[^>]*>
    | <(?P<start>[a-zA-Z][^\s/>]*)(?P<attrs>(?:[^>"']|"[^"]*"|'[^']*')*)>
    """, re.S | re.X)
_ATTR = re.compile(r"""([^\s"'>/=][^\s"'>/=]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "noembed", "noframes"})
_RAW_END = {tag: re.compile(rf"</{tag}[\s/>]", re.I) for tag in RAW_TEXT}


def _attrs(text: str) -> tuple[dict[str, str], bool]:
    """Attributes of a start tag (the first of a name wins, values unescaped) and whether it ends with />."""
    values: dict[str, str] = {}
    bare = ""
    for name, double, single, bare in _ATTR.findall(text):
        name = name.lower()
        if name not in values:
            value = double or single or bare
            values[name] = unescape(value) if "&" in value else value
    text = text.rstrip()
    # "/>" closes the tag, unless the slash ends an unquoted value: <a href=/en/>
    return values, text.endswith("/") and not (bare and text.endswith(bare))


class _Builder:
    """Tokens -> a tree, closing the elements HTML closes implicitly (p, li, td, …)."""

    def __init__(self) -> None:
        self.root = Element("#document", {}, None, 0, "")
        self.stack = [self.root]
        self.elements: list[Element] = []
        self.foreign: list[tuple[Element, str]] = []  # text nodes with non-ASCII characters, for lang-change

    def feed(self, text: str) -> None:
        pos, line, counted = 0, 1, 0
        search = _TOKEN.search
        while True:
            m = search(text, pos)
            if m is None:
                if pos < len(text):
                    self.data(text[pos:])
                return
            start = m.start()
            if start > pos:
                self.data(text[pos:start])
            line += text.count("\n", counted, start)
            counted = start
            end_tag, tag, attr_text = m.groups()
            if tag is not None:
                tag = tag.lower()
                attrs, closed = _attrs(attr_text) if attr_text and not attr_text.isspace() else ({}, False)
                el = self.open(tag, attrs, closed or tag in VOID, line, m.group())
                pos = m.end()
                if tag in RAW_TEXT and not closed:
                    end = _RAW_END[tag].search(text, pos)
                    stop = end.start() if end else len(text)
                    if stop > pos:
                        raw = text[pos:stop]
                        el.children.append(raw if tag not in ("title", "textarea") or "&" not in raw else unescape(raw))
                    pos = stop
                    closing = _TOKEN.match(text, pos)
                    if closing is not None:
                        self.end(tag)
                        pos = closing.end()
                continue
            if end_tag is not None:
                self.end(end_tag.lower())
            pos = m.end()

    def data(self, text: str) -> None:
        if "&" in text:
            text = unescape(text)
        parent = self.stack[-1]
        parent.children.append(text)
        if not text.isascii():
            self.foreign.append((parent, text))

    def open(self, tag: str, attrs: dict[str, str], closed: bool, line: int, raw: str) -> Element:
        if tag in _P_CLOSERS:
            self._close({"p"}, _SCOPE)
        spec = _CLOSES.get(tag)
        if spec:
            self._close(*spec)
        parent = self.stack[-1]
        el = Element(tag, attrs, parent, line, raw)
        parent.children.append(el)
        self.elements.append(el)
        if not closed:
            self.stack.append(el)
        return el

    def _close(self, names, boundary) -> None:
        stack = self.stack
        for i in range(len(stack) - 1, 0, -1):
            tag = stack[i].tag
            if tag in names:
                del stack[i:]
                return
            if tag in boundary:
                return

    def end(self, tag: str) -> None:
        stack = self.stack
        for i in range(len(stack) - 1, 0, -1):
            if stack[i].tag == tag:
                del stack[i:]
                return


@dataclass(frozen=True)
class Request:
    """Something the page makes the browser fetch."""

    url: str  # as written
    el: Element  # the element that asks for it (for CSS url(), the <link> or <style>)
    kind: str  # css, js, image, font, media, frame, manifest, connection, refresh, other
    local: str | None = None  # the file in the folder when it is on this site (whether or not it exists)
    exists: bool = False
    external: str = ""  # the absolute URL when it is on another origin
    via: str = ""  # the CSS file whose url() or @import asks for it
    counted: bool = True  # loaded on page load (False: a fallback font format, a video file, a preconnect)


@dataclass
class Page:
    path: str  # relative to the audited folder, posix
    root: Element
    elements: list[Element]  # every element, in document order
    size: int  # bytes of the HTML
    url: str  # the document's URL path on the site, e.g. "/en/asthma/index.html"
    by_tag: dict[str, list[Element]] = field(default_factory=dict)
    ids: dict[str, list[Element]] = field(default_factory=dict)
    deferred: list = field(default_factory=list)  # (target page, fragment, Finding): anchors on other pages
    foreign: list = field(default_factory=list)  # (element, text) of text nodes with non-ASCII characters
    _cache: dict = field(default_factory=dict)

    def tags(self, *names: str) -> list[Element]:
        if len(names) == 1:
            return self.by_tag.get(names[0], [])
        wanted = set(names)
        return [el for el in self.elements if el.tag in wanted]

    def first(self, tag: str) -> Element | None:
        found = self.by_tag.get(tag)
        return found[0] if found else None

    @property
    def html(self) -> Element | None:
        return self.first("html")

    def by_id(self, id_: str) -> Element | None:
        found = self.ids.get(id_)
        return found[0] if found else None


def parse(path: str, data: bytes, base_path: str = "/") -> Page:
    builder = _Builder()
    builder.feed(data.decode("utf-8", "replace"))
    page = Page(path, builder.root, builder.elements, len(data), base_path + path, foreign=builder.foreign)
    for el in builder.elements:
        page.by_tag.setdefault(el.tag, []).append(el)
        if "id" in el.attrs and el.attrs["id"]:
            page.ids.setdefault(el.attrs["id"], []).append(el)
    return page


# ---------------------------------------------------------------------------------------------------------------------
# The site around the pages


@dataclass
class Site:
    folder: Path
    files: set[str]  # every file, relative posix paths
    dirs: set[str]
    budgets: dict
    today: dt.date
    base_path: str = "/"  # the path of base_url: every internal URL starts with it
    origin: str = ""  # "https://health.example.org" when site.toml says so
    languages: frozenset[str] = frozenset()  # the site's language codes, lower case, from site.toml
    lang_folders: frozenset[str] = frozenset()  # top-level folders that hold one language's pages, lower case
    sourcemap: dict = field(default_factory=dict)
    site_root: Path | None = None
    _sizes: dict = field(default_factory=dict)
    _css: dict = field(default_factory=dict)
    _front: dict = field(default_factory=dict)
    _resolved: dict = field(default_factory=dict)

    @staticmethod
    def load(folder: Path, site_root: Path | None, budgets: dict, today: dt.date) -> "Site":
        files, dirs = set(), set()
        base = str(folder)
        for dirpath, dirnames, filenames in os.walk(folder):
            rel = os.path.relpath(dirpath, base).replace(os.sep, "/")
            rel = "" if rel == "." else rel + "/"
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            dirs.update(rel + d for d in dirnames)
            files.update(rel + f for f in filenames)
        site = Site(folder, files, dirs, budgets, today, site_root=site_root)
        if site_root is not None:
            config = site_root / "site.toml"
            if config.is_file():
                try:
                    data = tomllib.loads(config.read_text(encoding="utf-8"))
                except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                    raise ValueError(f"{config}: {exc}") from None
                base_url = str(data.get("base_url") or "")
                parts = urlsplit(base_url)
                if parts.scheme and parts.netloc:
                    site.origin = f"{parts.scheme}://{parts.netloc}".lower()
                    site.base_path = "/" + parts.path.strip("/") + "/" if parts.path.strip("/") else "/"
                site.languages = frozenset(str(code).lower() for code in (data.get("languages") or {}))
            try:
                site.sourcemap = json.loads((site_root / CACHE_DIR / "sourcemap.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                site.sourcemap = {}
        top = {d for d in dirs if "/" not in d}
        if site.languages:
            site.lang_folders = frozenset(d.lower() for d in top if d.lower() in site.languages)
        else:  # another site's folder: language-looking top folders, when there are at least two of them
            found = frozenset(d.lower() for d in top if _lang_folder_name(d))
            site.lang_folders = found if len(found) >= 2 else frozenset()
        return site

    def html_pages(self) -> list[str]:
        return sorted(f for f in self.files if f.endswith((".html", ".htm")))

    def size(self, local: str) -> tuple[int, int]:
        """(bytes on disk, bytes over the wire): text types gzipped at level 6, other files as they are."""
        cached = self._sizes.get(local)
        if cached is None:
            try:
                data = (self.folder / local).read_bytes()
            except OSError:
                cached = (0, 0)
            else:
                wire = len(gzip.compress(data, 6, mtime=0)) if local.lower().endswith(TEXT_TYPES) else len(data)
                cached = (len(data), wire)
            self._sizes[local] = cached
        return cached

    def resolve(self, url: str, doc: str) -> tuple[str, str | None, str, str]:
        """A URL on a page -> (kind, file, fragment, path).

        kind: "local" (on this site; file is the folder's file or None when it does not exist), "external", "outside"
        (this origin but above the base path), "skip" (data:, mailto:, tel:, javascript: …).
        """
        key = (url, "" if url.startswith("/") or _SCHEME.match(url) else doc)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolved[key] = self._resolve(url, doc)
        return found

    def _resolve(self, url: str, doc: str) -> tuple[str, str | None, str, str]:
        url = url.strip()
        if not url or _SKIP_SCHEME.match(url):
            return "skip", None, "", ""
        try:
            joined = urljoin(SELF + doc, url)
            parts = urlsplit(joined)
        except ValueError:
            return "skip", None, "", ""
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        if origin != SELF and not (self.origin and _same_origin(origin, self.origin)):
            if parts.scheme in ("http", "https", "ftp", "ws", "wss"):
                return "external", None, "", joined
            return "skip", None, "", ""
        path = unquote(parts.path) or "/"
        fragment = unquote(parts.fragment)
        if not path.startswith(self.base_path):
            if path + "/" == self.base_path:
                path = self.base_path
            else:
                return "outside", None, fragment, path
        rel = path[len(self.base_path):]
        return "local", self.find(rel), fragment, path

    def find(self, rel: str) -> str | None:
        """The file a site path names, the way a static server maps it: x/ -> x/index.html."""
        rel = rel.lstrip("/")
        if rel == "" or rel.endswith("/"):
            candidate = rel + "index.html"
            return candidate if candidate in self.files else None
        if rel in self.files:
            return rel
        if rel in self.dirs and rel + "/index.html" in self.files:
            return rel + "/index.html"
        if rel + ".html" in self.files:
            return rel + ".html"
        return None

    def front_matter_line(self, source: str, key: str) -> tuple[int, str] | None:
        """(line, value) of a front-matter key in a Markdown source of the site, when it is there."""
        if self.site_root is None:
            return None
        cached = self._front.get(source)
        if cached is None:
            cached = {}
            try:
                lines = (self.site_root / source).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                lines = []
            if lines and lines[0].strip() == "---":
                for number, line in enumerate(lines[1:], start=2):
                    if line.strip() == "---":
                        break
                    m = re.match(r"([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*(#.*)?$", line)
                    if m:
                        cached.setdefault(m.group(1), (number, m.group(2).strip("'\"")))
            self._front[source] = cached
        return cached.get(key)


SELF = "https://self.invalid"
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_SKIP_SCHEME = re.compile(r"^(data|blob|about|javascript|mailto|tel|sms|callto|geo|urn|news|irc|xmpp):", re.I)
TEXT_TYPES = (".html", ".htm", ".css", ".js", ".mjs", ".json", ".webmanifest", ".svg", ".xml", ".txt", ".map")
FONT_TYPES = (".woff2", ".woff", ".ttf", ".otf", ".eot")
IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico", ".bmp", ".jxl")


def _same_origin(a: str, b: str) -> bool:
    return a.split("://", 1)[-1] == b.split("://", 1)[-1]


# ---------------------------------------------------------------------------------------------------------------------
# Languages

# ISO 639-1: the two-letter primary language subtags a lang attribute may use
ISO639_1 = frozenset("""aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da
de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is
it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb
nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st
su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu""".split())
_LANGTAG = re.compile(r"""^(?:
      (?P<lang>[a-z]{2,3})(?:-[a-z]{3}){0,3}     # language, extlang
      (?:-(?P<script>[a-z]{4}))?
      (?:-(?P<region>[a-z]{2}|[0-9]{3}))?
      (?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*    # variants
      (?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*        # extensions
      (?:-x(?:-[a-z0-9]{1,8})+)?
    | x(?:-[a-z0-9]{1,8})+                         # private use
    )$""", re.I | re.X)
RTL_LANGS = frozenset("ar arc ckb dv fa he iw ks ku ps sd syr ug ur yi".split())
RTL_SCRIPTS = frozenset("arab hebr syrc thaa nkoo adlm rohg".split())


def lang_valid(tag: str) -> bool:
    """A well-formed BCP 47 tag whose two-letter language is a real one (catches "jp", "cn", "en_US", "english")."""
    m = _LANGTAG.match(tag)
    if not m:
        return False
    lang = (m.group("lang") or "").lower()
    return len(lang) != 2 or lang in ISO639_1


def _lang_folder_name(name: str) -> bool:
    m = _LANGTAG.match(name)
    return bool(m and m.group("lang") and m.group("lang").lower() in ISO639_1)


def lang_is_rtl(tag: str) -> bool:
    m = _LANGTAG.match(tag)
    if not m or not m.group("lang"):
        return False
    script = (m.group("script") or "").lower()
    return script in RTL_SCRIPTS or (not script and m.group("lang").lower() in RTL_LANGS)


# Scripts whose runs of text in a page of another language need a lang attribute. Latin is never flagged: brand names,
# units and abbreviations in Latin letters are everywhere.
SCRIPTS = {
    "Cyrillic": "\u0400-\u052f", "Greek": "\u0370-\u03ff", "Han": "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff",
    "Kana": "\u3040-\u30ff", "Hangul": "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af", "Arabic": "\u0600-\u06ff\u0750-\u077f",
    "Hebrew": "\u0590-\u05ff", "Thai": "\u0e00-\u0e7f", "Devanagari": "\u0900-\u097f",
}
_RUNS = re.compile("|".join(f"(?P<{name}>[{chars}]+(?:[\\s\\-,.·'’]+[{chars}]+)*)" for name, chars in SCRIPTS.items()))
_FOREIGN: dict[frozenset, re.Pattern] = {}


def foreign_runs(expected: frozenset) -> re.Pattern:
    """A pattern for runs of the scripts a language does not use."""
    pattern = _FOREIGN.get(expected)
    if pattern is None:
        pattern = _FOREIGN[expected] = re.compile("|".join(
            f"(?P<{name}>[{chars}]+(?:[\\s\\-,.·'’]+[{chars}]+)*)"
            for name, chars in SCRIPTS.items() if name not in expected))
    return pattern
LANG_SCRIPTS = {
    **{code: {"Cyrillic"} for code in "ru uk be bg sr mk kk ky mn tg tt ba cv ce os ab av kv".split()},
    "el": {"Greek"}, "zh": {"Han"}, "ja": {"Han", "Kana"}, "ko": {"Hangul", "Han"},
    **{code: {"Arabic"} for code in "ar fa ur ps sd ug ckb ku ks".split()},
    "he": {"Hebrew"}, "yi": {"Hebrew"}, "th": {"Thai"}, **{code: {"Devanagari"} for code in "hi mr ne sa".split()},
}
SCRIPT_SUBTAGS = {"cyrl": {"Cyrillic"}, "grek": {"Greek"}, "hans": {"Han"}, "hant": {"Han"}, "hani": {"Han"},
                  "jpan": {"Han", "Kana"}, "kore": {"Hangul", "Han"}, "arab": {"Arabic"}, "hebr": {"Hebrew"},
                  "thai": {"Thai"}, "deva": {"Devanagari"}, "latn": set()}


def scripts_of(tag: str) -> set[str] | None:
    m = _LANGTAG.match(tag or "")
    if not m or not m.group("lang"):
        return None
    script = (m.group("script") or "").lower()
    if script in SCRIPT_SUBTAGS:
        return SCRIPT_SUBTAGS[script]
    return LANG_SCRIPTS.get(m.group("lang").lower(), set())


# ---------------------------------------------------------------------------------------------------------------------
# Text, names, roles


def norm_space(text: str) -> str:
    return " ".join(text.split())


def text_of(el: Element) -> str:
    parts: list[str] = []
    _text(el, parts)
    return norm_space("".join(parts))


def _text(el: Element, parts: list[str]) -> None:
    for child in el.children:
        if isinstance(child, str):
            parts.append(child)
        elif child.tag not in NOT_TEXT:
            _text(child, parts)


def hidden(el: Element) -> bool:
    if el.has("hidden") or el.attr("aria-hidden").lower() == "true":
        return True
    style = el.attr("style").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def role(el: Element) -> str:
    return el.attr("role").lower().split(" ")[0] if el.has("role") else ""


def accessible_name(el: Element, page: Page, follow_refs: bool = True) -> str:
    """A simplified accessible-name computation: aria-labelledby, aria-label, alt, labels, content, title."""
    if follow_refs and el.attr("aria-labelledby"):
        texts = []
        for ref in el.attr("aria-labelledby").split():
            target = page.by_id(ref)
            if target is not None:
                texts.append(accessible_name(target, page, False) or text_of(target))
        if norm_space(" ".join(texts)):
            return norm_space(" ".join(texts))
    label = el.attr("aria-label")
    if label:
        return norm_space(label)
    tag = el.tag
    if tag in ("img", "area") or (tag == "input" and el.attr("type").lower() == "image"):
        return norm_space(el.get("alt") or "") or el.attr("title")
    if tag == "svg":
        for child in el.elements():
            if child.tag == "title":
                return text_of(child)
        return el.attr("title")
    if tag == "input":
        kind = el.attr("type").lower()
        if kind in ("button", "submit", "reset"):
            return el.attr("value") or {"submit": "Submit", "reset": "Reset"}.get(kind, "") or el.attr("title")
        return el.attr("title")
    return _content_name(el, page) or el.attr("title")


def _content_name(el: Element, page: Page) -> str:
    parts: list[str] = []
    for child in el.children:
        if isinstance(child, str):
            parts.append(child)
        elif child.tag in NOT_TEXT or hidden(child):
            continue
        else:
            parts.append(" " + accessible_name(child, page, False) + " " if child.tag in ("img", "svg", "input")
                         else accessible_name(child, page, False))
    return norm_space("".join(parts))


def focusable(el: Element) -> bool:
    tag = el.tag
    if tag in ("button", "input", "select", "textarea") and el.has("disabled"):
        return False
    tabindex = el.attr("tabindex")
    if tabindex:
        try:
            return int(tabindex) >= 0
        except ValueError:
            pass
    if tag in ("a", "area"):
        return el.has("href")
    if tag == "input":
        return el.attr("type").lower() != "hidden"
    if tag in ("button", "select", "textarea", "iframe", "summary"):
        return True
    if tag in ("audio", "video"):
        return el.has("controls")
    return el.has("contenteditable") and el.attr("contenteditable").lower() != "false"


def loose(text: str) -> str:
    """Lower case, without spaces, punctuation or symbols: "Click here!" -> "clickhere"."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold()
                   if unicodedata.category(ch)[0] not in "PSZC")


# ---------------------------------------------------------------------------------------------------------------------
# Selectors, snippets, source lines

_IDENT = re.compile(r"^-?[_a-zA-Z\u0080-\U0010ffff][\w\u0080-\U0010ffff-]*$")


def selector(el: Element | None, page: Page) -> str:
    """A short CSS path: "main > div > p:nth-of-type(3) > a", starting at an element with a unique id when there is one."""
    if el is None:
        return ""
    parts = []
    node = el
    if el.tag in ("meta", "link") and el.parent is not None and el.parent.tag == "head":
        for attr in ("name", "http-equiv", "rel", "property", "charset"):
            if el.has(attr) and len([m for m in page.tags(el.tag) if m.get(attr) == el.get(attr)]) == 1:
                return f'head > {el.tag}[{attr}="{el.attr(attr)}"]' if el.attr(attr) else f"head > {el.tag}[{attr}]"
    while node is not None and node.tag != "#document":
        id_ = node.attr("id")
        if node.tag == "main" and len(page.tags("main")) == 1:
            parts.append("main")
            break
        if id_ and len(page.ids.get(id_, ())) == 1:
            parts.append(f"#{id_}" if _IDENT.match(id_) else f'[id="{id_}"]')
            break
        if node.tag in ("html", "body", "head"):
            parts.append(node.tag)
            break
        part = node.tag
        parent = node.parent
        if parent is not None:
            same = [c for c in parent.elements() if c.tag == node.tag]
            if len(same) > 1:
                part += f":nth-of-type({same.index(node) + 1})"
        parts.append(part)
        node = parent
    return " > ".join(reversed(parts))


def snippet(el: Element | None, limit: int = 160) -> str:
    if el is None:
        return ""
    raw = norm_space(el.raw) or f"<{el.tag}>"
    if len(raw) > limit:
        raw = raw[:limit - 1] + "…>"
    if el.tag in VOID:
        return raw
    inner = text_of(el) if el.tag not in NOT_TEXT else ""
    if len(inner) > 60:
        inner = inner[:59] + "…"
    return f"{raw}{inner}</{el.tag}>"


def _in_body_content(el: Element) -> bool:
    """True inside the theme's Markdown body (div.hp-body)."""
    for a in el.ancestors():
        if a.tag == "div" and "hp-body" in a.classes():
            return True
    return False


def source_of(el: Element | None, page: Page, site: Site) -> str | None:
    """"content/en/x.md:12" when the sourcemap places the element; the page's Markdown file when it is in the Markdown
    but has no line; None for template elements, page-level findings and pages without a sourcemap."""
    entry = site.sourcemap.get(page.path)
    if not entry or el is None or not entry.get("source"):
        return None
    has_body = page._cache.get("has_body")
    if has_body is None:
        has_body = page._cache["has_body"] = any("hp-body" in d.classes() for d in page.tags("div"))
    if has_body and not _in_body_content(el):
        return None
    locations = page._cache.get("locations")
    if locations is None:
        locations = {}
        for key, line in (entry.get("locations") or {}).items():
            locations.setdefault(key, line)
            locations.setdefault(unquote(key), line)
        page._cache["locations"] = locations
    for node in (el, *el.ancestors()):
        if node.tag == "div" and "hp-body" in node.classes():
            break
        keys = []
        if node.attr("id"):
            keys.append("#" + node.attr("id"))
        if node.tag == "img" and node.attr("src"):
            keys.append("src=" + node.attr("src"))
        if node.tag == "a" and node.attr("href"):
            keys.append("href=" + node.attr("href"))
        for key in keys:
            line = locations.get(key) or locations.get(unquote(key))
            if line:
                return f"{entry['source']}:{line}"
    return entry["source"] if has_body else None


# ---------------------------------------------------------------------------------------------------------------------
# The rules


@dataclass(frozen=True)
class Rule:
    id: str
    wcag: tuple[str, ...]
    impact: str
    help: str
    warning: bool  # reported, but the page still passes
    check: Callable[[Page, Site], Iterable[tuple]]


RULES: list[Rule] = []


def rule(id_: str, wcag: tuple[str, ...] = (), impact: str = "serious", help: str = "", warning: bool = False):
    """Register a check. It yields (element or None, message) or (element, message, {"source": …, "defer": …})."""
    def register(fn):
        RULES.append(Rule(id_, wcag, impact, help, warning, fn))
        return fn
    return register


def _folder_lang(page: Page, site: Site) -> str | None:
    first = page.path.split("/", 1)[0]
    return first if "/" in page.path and first.lower() in site.lang_folders else None


@rule("html-has-lang", ("3.1.1",), "serious",
      'Say which language the page is in on the html element, like <html lang="en">: screen readers choose their '
      "voice and pronunciation from it.")
def check_html_has_lang(page: Page, site: Site):
    html = page.html
    if html is None or not html.attr("lang"):
        yield html, "the page does not say which language it is in (<html> has no lang attribute)"


@rule("html-lang-valid", ("3.1.1",), "serious",
      'Use a BCP 47 language tag: "en", "zh-Hans", "ru", "ko", "en-GB" — not "jp", "cn", "en_US" or "english".')
def check_html_lang_valid(page: Page, site: Site):
    html = page.html
    lang = html.attr("lang") if html is not None else ""
    if lang and not lang_valid(lang):
        yield html, f'lang="{lang}" is not a valid language tag'


@rule("html-lang-folder", ("3.1.1",), "serious",
      "Each page's lang must be the language of its folder: a page under ru/ is read with a Russian voice only when "
      'it says lang="ru". Fix the template or move the page.')
def check_html_lang_folder(page: Page, site: Site):
    html = page.html
    lang = html.attr("lang") if html is not None else ""
    folder = _folder_lang(page, site)
    if lang and folder and lang_valid(lang) and lang.lower() != folder.lower():
        yield html, f'lang="{lang}" but the page is in the {folder}/ folder'


@rule("html-dir-rtl", ("1.3.2",), "serious",
      'Pages in right-to-left languages need dir="rtl" on the html element, or the text runs the wrong way.')
def check_html_dir(page: Page, site: Site):
    html = page.html
    lang = html.attr("lang") if html is not None else ""
    if lang and lang_is_rtl(lang) and html.attr("dir").lower() != "rtl":
        found = f'dir="{html.attr("dir")}"' if html.attr("dir") else "no dir"
        yield html, f'lang="{lang}" is a right-to-left language, but <html> has {found}'


@rule("document-title", ("2.4.2",), "serious",
      "Give every page a <title> that says what the page is about: it is the first thing a screen reader reads and "
      "the name of the browser tab.")
def check_document_title(page: Page, site: Site):
    titles = page.tags("title")
    if not titles or not text_of(titles[0]):
        yield (titles[0] if titles else None), "the page has no title" if not titles else "the page's <title> is empty"


@rule("meta-viewport", ("1.4.4",), "critical",
      'Let people zoom: remove user-scalable=no and maximum-scale from the viewport meta; '
      '"width=device-width, initial-scale=1" is enough.')
def check_meta_viewport(page: Page, site: Site):
    for meta in page.tags("meta"):
        if meta.attr("name").lower() != "viewport":
            continue
        settings = {}
        for item in re.split(r"[,;]", meta.attr("content")):
            if "=" in item:
                key, value = item.split("=", 1)
                settings[key.strip().lower()] = value.strip().lower()
        if settings.get("user-scalable") in ("no", "0"):
            yield meta, "the viewport meta stops people from zooming (user-scalable=no)"
        elif "maximum-scale" in settings:
            try:
                scale = float(settings["maximum-scale"])
            except ValueError:
                continue
            if scale < 2:
                yield meta, f"the viewport meta limits zoom to {settings['maximum-scale']}× (maximum-scale below 2)"


@rule("csp-meta", (), "serious",
      'Add <meta http-equiv="Content-Security-Policy" content="default-src \'self\'; …">: it stops the page from '
      "loading anything from another website, even by mistake.")
def check_csp(page: Page, site: Site):
    for meta in page.tags("meta"):
        if meta.attr("http-equiv").lower() == "content-security-policy" and meta.attr("content"):
            return
    yield page.first("head"), "the page has no Content-Security-Policy meta element"


@rule("page-has-heading-one", ("1.3.1", "2.4.6"), "moderate",
      "Start the page's content with one <h1> that says what the page is about.")
def check_has_h1(page: Page, site: Site):
    if not page.tags("h1"):
        yield None, "the page has no heading 1 (<h1>)"


@rule("single-h1", ("1.3.1",), "moderate",
      "Use one <h1> per page, for its title; make the other headings <h2> and below.")
def check_single_h1(page: Page, site: Site):
    h1s = page.tags("h1")
    for h1 in h1s[1:]:
        yield h1, f'a second heading 1: "{text_of(h1)[:60]}" (the page has {len(h1s)})'


def _headings(page: Page) -> list[tuple[int, Element]]:
    out = []
    for el in page.elements:
        if el.tag in HEADINGS:
            out.append((HEADINGS[el.tag], el))
        elif role(el) == "heading":
            try:
                out.append((int(el.attr("aria-level") or 2), el))
            except ValueError:
                pass
    return out


@rule("heading-order", ("1.3.1",), "moderate",
      "Do not skip heading levels: after a heading 2 comes a heading 3, not a heading 4. Screen reader users move "
      "through pages by heading level. In Markdown: ## then ###.")
def check_heading_order(page: Page, site: Site):
    previous = None
    for level, el in _headings(page):
        if previous is not None and level > previous + 1:
            yield el, f"heading level {level} follows level {previous}: a level is skipped"
        previous = level


@rule("empty-heading", ("1.3.1", "2.4.6"), "serious",
      "Give every heading text, or remove it: an empty heading is announced as a heading with nothing in it.")
def check_empty_heading(page: Page, site: Site):
    for _, el in _headings(page):
        if not hidden(el) and not accessible_name(el, page):
            yield el, "the heading is empty"


@rule("image-alt", ("1.1.1",), "critical",
      'Give every image an alt text that says what the image tells the reader; write alt="" for an image that is '
      "only decoration. In Markdown: ![what it shows](/images/x.svg).")
def check_image_alt(page: Page, site: Site):
    for el in page.tags("img", "area", "input"):
        if el.tag == "input" and el.attr("type").lower() != "image":
            continue
        if el.tag == "area" and not el.has("href"):
            continue
        if el.has("alt") and (el.tag == "img" or el.attr("alt")):
            continue
        if role(el) in ("presentation", "none") or el.attr("aria-hidden").lower() == "true":
            continue
        if el.attr("aria-label") or (el.attr("aria-labelledby") and accessible_name(el, page)) or el.attr("title"):
            continue
        what = el.attr("src") or el.attr("href")
        yield el, f"the image {what} has no alt text" if what else "an image has no alt text"


GENERIC_ALT = frozenset(loose(w) for w in (
    "image", "img", "picture", "photo", "photograph", "graphic", "icon", "logo", "figure", "diagram", "chart",
    "spacer", "untitled", "alt", "null", "图片", "图像", "照片", "изображение", "картинка", "фото", "рисунок",
    "이미지", "사진", "그림"))


@rule("image-alt-meaningful", ("1.1.1",), "moderate",
      'Say what the image shows or means ("Frostbite on two fingertips"), not what it is ("image") or its file name.',
      warning=True)
def check_image_alt_meaningful(page: Page, site: Site):
    for el in page.tags("img"):
        alt = el.attr("alt")
        if not alt:
            continue
        name = posixpath.basename(urlsplit(el.attr("src")).path)
        if loose(alt) in GENERIC_ALT or re.search(r"\.(png|jpe?g|gif|svg|webp|avif)$", alt, re.I) or \
                (name and loose(alt) == loose(name)):
            yield el, f'the alt text "{alt}" does not say what the image shows'


@rule("svg-img-alt", ("1.1.1",), "serious",
      'An <svg role="img"> needs a name: a <title> as its first child, or aria-label. Decorative icons take '
      'aria-hidden="true" instead of role="img".')
def check_svg_alt(page: Page, site: Site):
    for el in page.tags("svg"):
        if role(el) in ("img", "graphics-document", "graphics-symbol") and not hidden(el) \
                and not accessible_name(el, page):
            yield el, 'an <svg role="img"> has no accessible name'


VAGUE_LINKS = frozenset(loose(w) for w in (
    "click here", "here", "read more", "more", "link", "learn more", "click", "more info", "more information",
    "this link", "this page", "go", "details",
    "点击这里", "这里", "点击此处", "此处", "更多", "了解更多", "阅读更多", "详情", "链接",
    "здесь", "тут", "подробнее", "нажмите здесь", "читать далее", "далее", "ссылка", "по ссылке",
    "여기", "여기를 클릭", "자세히", "자세히 보기", "더 보기", "더보기", "클릭", "링크"))


def _links(page: Page) -> list[Element]:
    return [el for el in page.tags("a", "area") if el.has("href")]


@rule("link-name", ("2.4.4", "4.1.2"), "serious",
      "Every link needs text that a screen reader can read: words inside the link, or an alt text on the image "
      "inside it.")
def check_link_name(page: Page, site: Site):
    for el in _links(page):
        if el.tag == "area" or hidden(el) or el.attr("aria-hidden").lower() == "true":
            continue
        if not accessible_name(el, page):
            yield el, f"the link to {el.attr('href') or '(nothing)'} has no text"


@rule("link-text", ("2.4.4",), "serious",
      'Make the link text say where it goes ("symptoms of frostbite"), not "click here" or "read more": screen '
      "reader users often hear links on their own, in a list.")
def check_link_text(page: Page, site: Site):
    for el in _links(page):
        if el.tag == "area" or hidden(el):
            continue
        name = accessible_name(el, page)
        if name and loose(name) in VAGUE_LINKS:
            yield el, f'the link text "{name}" does not say where the link goes'


NEW_WINDOW_WORDS = tuple(loose(w) for w in (
    "new window", "new tab", "opens in new", "新窗口", "新标签", "新视窗", "新分页", "новом окне",
    "новой вкладке", "новое окно", "새 창", "새 탭"))


@rule("link-new-window", ("3.2.5",), "moderate",
      'Tell people when a link opens a new window or tab: add "(opens in a new tab)" to the link text — or let the '
      "link open in the same tab.", warning=True)
def check_new_window(page: Page, site: Site):
    for el in _links(page):
        target = el.attr("target").lower()
        if not target or target in ("_self", "_parent", "_top"):
            continue
        said = [accessible_name(el, page), el.attr("title")]
        for ref in el.attr("aria-describedby").split():
            ref_el = page.by_id(ref)
            if ref_el is not None:
                said.append(text_of(ref_el))
        if not any(word in loose(" ".join(said)) for word in NEW_WINDOW_WORDS):
            yield el, f"the link to {el.attr('href')} opens a new window without saying so"


@rule("button-name", ("4.1.2",), "critical",
      "Every button needs text that says what it does: words inside it, or aria-label when it shows only an icon.")
def check_button_name(page: Page, site: Site):
    for el in page.elements:
        is_button = el.tag == "button" or role(el) == "button" or \
            (el.tag == "input" and el.attr("type").lower() in ("button", "submit", "reset"))
        if is_button and not hidden(el) and not accessible_name(el, page):
            yield el, "the button has no text"


LABELLED_INPUTS_EXCEPT = frozenset({"hidden", "submit", "button", "reset", "image"})


def _controls(page: Page) -> Iterator[Element]:
    for el in page.tags("input", "select", "textarea"):
        if el.tag == "input" and el.attr("type").lower() in LABELLED_INPUTS_EXCEPT:
            continue
        if hidden(el):
            continue
        yield el


def _label_text(el: Element, page: Page) -> str:
    """The text of the control's label: aria-labelledby, aria-label, <label for>, a wrapping <label>."""
    if el.attr("aria-labelledby"):
        texts = [text_of(t) for t in (page.by_id(r) for r in el.attr("aria-labelledby").split()) if t is not None]
        if norm_space(" ".join(texts)):
            return norm_space(" ".join(texts))
    if el.attr("aria-label"):
        return el.attr("aria-label")
    id_ = el.attr("id")
    if id_:
        labels = page._cache.get("labels")
        if labels is None:
            labels = page._cache["labels"] = {}
            for label in page.tags("label"):
                labels.setdefault(label.attr("for"), []).append(label)
        for label in labels.get(id_, []):
            if text_of(label) or accessible_name(label, page):
                return text_of(label) or accessible_name(label, page)
    for a in el.ancestors():
        if a.tag == "label":
            return text_of(a)
    return ""


@rule("label", ("1.3.1", "4.1.2"), "critical",
      'Give every form field a visible label tied to it: <label for="field-id">Your age</label>. A placeholder is '
      "not a label: it disappears as soon as someone types.")
def check_label(page: Page, site: Site):
    for el in _controls(page):
        if _label_text(el, page) or el.attr("title"):
            continue
        kind = (el.attr("type").lower() or "text") if el.tag == "input" else el.tag
        extra = " (a placeholder is not a label)" if el.attr("placeholder") else ""
        yield el, f"a form field ({kind}) has no label{extra}"


@rule("label-title-only", ("3.3.2",), "moderate",
      "The field is named only by its title attribute, which most people never see and touch screens never show: "
      "add a visible <label>.", warning=True)
def check_label_title_only(page: Page, site: Site):
    for el in _controls(page):
        if not _label_text(el, page) and el.attr("title"):
            yield el, f'the form field is labelled only by its title ("{el.attr("title")}")'


@rule("table-headers", ("1.3.1",), "serious",
      "Mark the header cells of data tables: <th> in the first row (and the first column when rows have names). In "
      "Markdown the first row of a table is its header.")
def check_table_headers(page: Page, site: Site):
    for table in page.tags("table"):
        if role(table) in ("presentation", "none"):
            continue
        if not any(d.tag == "th" or role(d) in ("columnheader", "rowheader") for d in table.descendants()):
            yield table, "the table has no header cells (<th>)"


@rule("table-caption", ("1.3.1",), "minor",
      'Give data tables a name — a <caption>, or aria-label, or aria-labelledby pointing at the heading above — so '
      "screen reader users know what a table is about before they go into it.", warning=True)
def check_table_caption(page: Page, site: Site):
    for table in page.tags("table"):
        if role(table) in ("presentation", "none"):
            continue
        if any(c.tag == "caption" and text_of(c) for c in table.elements()):
            continue
        if table.attr("aria-label") or table.attr("aria-labelledby") or table.attr("title"):
            continue
        yield table, "the table has no caption or name"


@rule("duplicate-id", ("4.1.2",), "moderate",
      "Every id on a page must be different: labels, links to #sections and ARIA find the first element with an id "
      "and miss the rest.")
def check_duplicate_id(page: Page, site: Site):
    for id_, els in page.ids.items():
        for el in els[1:]:
            yield el, f'the id "{id_}" is used {len(els)} times on the page'


IDREF_ATTRS = frozenset({"aria-labelledby", "aria-describedby", "aria-controls", "aria-owns", "aria-details",
                         "aria-errormessage", "aria-activedescendant", "aria-flowto"})


@rule("idref-exists", ("1.3.1", "4.1.2"), "serious",
      "aria-labelledby, aria-describedby, label for= and headers= must name the id of an element on the same page; "
      "check the spelling, or add the id.")
def check_idrefs(page: Page, site: Site):
    for el in page.elements:
        for attr, value in el.attrs.items():
            if attr in IDREF_ATTRS or (attr == "headers" and el.tag in ("td", "th")):
                for ref in value.split():
                    if ref not in page.ids:
                        yield el, f'{attr}="{ref}" names no element on the page'
            elif attr == "for" and el.tag == "label" and value.strip() and value.strip() not in page.ids:
                yield el, f'the label is for="{value.strip()}", but there is no element with that id'


@rule("frame-title", ("4.1.2",), "serious",
      'Give every iframe a title that says what is in it: <iframe title="Map of the hospital" …>.')
def check_frame_title(page: Page, site: Site):
    for el in page.tags("iframe", "frame"):
        if not hidden(el) and not el.attr("title") and not el.attr("aria-label") and not el.attr("aria-labelledby"):
            yield el, "the frame has no title"


@rule("tabindex", ("2.4.3",), "serious",
      'Remove tabindex values above 0: they change the order in which the keyboard moves through the page. Use '
      'tabindex="0" or change the order of the HTML.')
def check_tabindex(page: Page, site: Site):
    for el in page.elements:
        value = el.attr("tabindex")
        if value and value.lstrip("+").isdigit() and int(value) > 0:
            yield el, f'tabindex="{value}" changes the keyboard order'


@rule("aria-hidden-focus", ("4.1.2",), "serious",
      'Do not put aria-hidden="true" on links, buttons or fields (or around them): keyboard users can still reach '
      'them but screen readers say nothing. Remove aria-hidden, or add tabindex="-1" and hide them visually too.')
def check_aria_hidden_focus(page: Page, site: Site):
    for el in page.elements:
        if "aria-hidden" not in el.attrs or el.attr("aria-hidden").lower() != "true":
            continue
        if focusable(el):
            yield el, 'the element is hidden from screen readers (aria-hidden="true") but keyboard users can reach it'
            continue
        inner = next((d for d in el.descendants() if focusable(d)), None)
        if inner is not None:
            yield el, (f'aria-hidden="true" hides a <{inner.tag}> that keyboard users can still reach '
                       f"(line {inner.line})")


@rule("autoplay-media", ("1.4.2", "2.2.2"), "serious",
      "Do not start video or sound on its own: remove autoplay and let people press play. Give every video controls.")
def check_autoplay(page: Page, site: Site):
    for el in page.tags("video", "audio"):
        if el.has("autoplay"):
            muted = " (muted)" if el.has("muted") else ""
            yield el, f"the {el.tag} plays by itself{muted}"


def _lang_runs(page: Page) -> Iterator[tuple[Element, str, str, str]]:
    """(element, its language, script, text) for each run of >= 3 letters of a script the language does not use."""
    patterns: dict[str | None, re.Pattern | None] = {}
    has_body = page.first("body") is not None
    for el, text in page.foreign:
        lang = el.lang
        if lang not in patterns:
            expected = scripts_of(lang or "")
            # no or unknown language: html-has-lang or html-lang-valid reports the page
            patterns[lang] = foreign_runs(frozenset(expected)) if expected is not None else None
        pattern = patterns[lang]
        if pattern is None:
            continue
        for m in pattern.finditer(text):
            if sum(1 for ch in m.group() if ch.isalpha()) >= 3:
                if _in_page_text(el, has_body):
                    yield el, lang or "", m.lastgroup, m.group()
                break


def _in_page_text(el: Element, has_body: bool) -> bool:
    """Text a reader gets: in the body (or outside <head> when there are no body tags), not in script or template."""
    for node in (el, *el.ancestors()):
        if node.tag in NOT_TEXT or node.tag == "head":
            return False
        if node.tag == "body":
            return True
    return not has_body


@rule("lang-change", ("3.1.2",), "serious",
      'Mark text in another language with its language: <span lang="ru">…</span> (in Markdown: [Здоровье]{lang=ru}), '
      "so that screen readers switch voice instead of spelling it out or skipping it.")
def check_lang_change(page: Page, site: Site):
    reported = set()
    for el, lang, script, text in _lang_runs(page):
        if el in reported:
            continue
        reported.add(el)
        yield el, f'text in {script} script ("{text[:40]}") in a lang="{lang}" part of the page has no lang attribute'


# --- links, files, requests


def _doc_url(page: Page) -> str:
    cached = page._cache.get("doc")
    if cached is None:
        cached = page.url
        base = page.first("base")
        if base is not None and base.attr("href"):
            cached = urljoin(SELF + page.url, base.attr("href"))
            cached = cached[len(SELF):] if cached.startswith(SELF) else page.url
        page._cache["doc"] = cached
    return cached


@rule("broken-link", (), "serious",
      "Fix the link so that it goes to a page or file that exists in the site — check the spelling and the folder; in "
      "Markdown link to the page's .md file.")
def check_broken_link(page: Page, site: Site):
    doc = _doc_url(page)
    for el in _links(page):
        href = el.attr("href")
        kind, target, _, path = site.resolve(href, doc)
        if kind == "local" and target is None:
            yield el, f"the link to {href} goes to a page or file that is not in the site"
        elif kind == "outside":
            yield el, f"the link to {href} is outside the site (it does not start with {site.base_path})"


@rule("broken-anchor", (), "serious",
      "Fix the #part of the link: it must be the id of a heading or element on the target page (heading ids are the "
      "heading's words in lower case, joined by hyphens).")
def check_broken_anchor(page: Page, site: Site):
    doc = _doc_url(page)
    for el in _links(page):
        href = el.attr("href")
        kind, target, fragment, _ = site.resolve(href, doc)
        if kind != "local" or target is None or not fragment or fragment.lower() == "top":
            continue
        message = f"the link to {href} goes to #{fragment}, which is not on " + \
            ("this page" if target == page.path else target)
        if target == page.path:
            if fragment not in page.ids and fragment not in _names(page):
                yield el, message
        elif target.endswith((".html", ".htm")):
            yield el, message, {"defer": (target, fragment)}


def _names(page: Page) -> set[str]:
    return {a.attr("name") for a in page.tags("a") if a.attr("name")}


_REL_KIND = {"stylesheet": "css", "icon": "image", "shortcut": "image", "apple-touch-icon": "image",
             "apple-touch-icon-precomposed": "image", "mask-icon": "image", "manifest": "manifest",
             "preload": "", "modulepreload": "js", "prefetch": "", "preconnect": "connection",
             "dns-prefetch": "connection", "prerender": "other"}
_AS_KIND = {"style": "css", "script": "js", "font": "font", "image": "image", "fetch": "other", "audio": "media",
            "video": "media", "document": "frame"}


def _kind_by_ext(url: str, default: str = "other") -> str:
    path = urlsplit(url).path.lower()
    if path.endswith(FONT_TYPES):
        return "font"
    if path.endswith(IMAGE_TYPES):
        return "image"
    if path.endswith(".css"):
        return "css"
    if path.endswith((".js", ".mjs")):
        return "js"
    return default


def _srcset(value: str) -> list[str]:
    return [part.split()[0] for part in value.split(",") if part.strip()]


_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?(['"]?)([^'")\s;]+)\1""", re.I)
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)""", re.I | re.S)
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}", re.I)


def css_urls(css: str) -> list[tuple[str, str, bool]]:
    """(url, kind, counted) for every url() and @import of a style sheet; in @font-face only the first source counts."""
    css = _CSS_COMMENT.sub("", css)
    out: list[tuple[str, str, bool]] = []
    imports = set()
    for m in _CSS_IMPORT.finditer(css):
        out.append((m.group(2), "css", True))
        imports.add(m.start())
    faces = [(m.start(), m.end()) for m in _FONT_FACE.finditer(css)]
    seen_face = set()
    for m in _CSS_URL.finditer(css):
        url = m.group(2).strip()
        if not url or any(start <= m.start() < start + 8 for start in imports):
            continue
        face = next((f for f in faces if f[0] <= m.start() < f[1]), None)
        if face is not None:
            out.append((url, "font", face not in seen_face))
            seen_face.add(face)
        else:
            out.append((url, _kind_by_ext(url, "image"), True))
    return out


def _css_file(site: Site, local: str) -> list[tuple[str, str, bool]]:
    cached = site._css.get(local)
    if cached is None:
        try:
            cached = css_urls((site.folder / local).read_text(encoding="utf-8", errors="replace"))
        except OSError:
            cached = []
        site._css[local] = cached
    return cached


def requests(page: Page, site: Site) -> list[Request]:
    """Everything the page asks the browser to fetch, style sheets followed (url() and @import), in document order."""
    cached = page._cache.get("requests")
    if cached is not None:
        return cached
    doc = _doc_url(page)
    out: list[Request] = []

    def add(url: str, el: Element, kind: str, base: str = doc, via: str = "", counted: bool = True,
            depth: int = 0) -> None:
        where, local, _, path = site.resolve(url, base)
        if where == "skip":
            return
        if where == "external":
            out.append(Request(url, el, kind, external=path, via=via, counted=counted))
            return
        name = local or (path[len(site.base_path):] if path.startswith(site.base_path) else path).lstrip("/")
        out.append(Request(url, el, kind, local=name, exists=local is not None, via=via, counted=counted))
        if kind == "css" and local is not None and depth < 5:
            for css_url, css_kind, css_counted in _css_file(site, local):
                add(css_url, el, css_kind, site.base_path + local, local, counted and css_counted, depth + 1)

    for el in page.elements:
        tag = el.tag
        if tag == "script" and el.attr("src"):
            add(el.attr("src"), el, "js")
        elif tag == "link" and el.attr("href"):
            rels = el.attr("rel").lower().split()
            for rel in rels:
                if rel in _REL_KIND:
                    kind = _REL_KIND[rel] or _AS_KIND.get(el.attr("as").lower(), _kind_by_ext(el.attr("href")))
                    add(el.attr("href"), el, kind, counted=kind not in ("connection",) and rel != "prefetch")
                    break
        elif tag == "img":
            if el.attr("src"):
                add(el.attr("src"), el, "image")
            for i, url in enumerate(_srcset(el.attr("srcset"))):
                add(url, el, "image", counted=not el.attr("src") and i == 0)
        elif tag == "source":
            if el.attr("src"):
                add(el.attr("src"), el, "media", counted=False)
            for url in _srcset(el.attr("srcset")):
                add(url, el, "image", counted=False)
        elif tag in ("video", "audio"):
            if el.attr("src"):
                add(el.attr("src"), el, "media", counted=el.has("autoplay"))
            if tag == "video" and el.attr("poster"):
                add(el.attr("poster"), el, "image")
        elif tag == "track" and el.attr("src"):
            add(el.attr("src"), el, "other", counted=False)
        elif tag in ("iframe", "frame", "embed") and el.attr("src"):
            add(el.attr("src"), el, "frame")
        elif tag == "object" and el.attr("data"):
            add(el.attr("data"), el, "frame")
        elif tag == "input" and el.attr("type").lower() == "image" and el.attr("src"):
            add(el.attr("src"), el, "image")
        elif tag == "meta" and el.attr("http-equiv").lower() == "refresh":
            m = re.search(r"url\s*=\s*['\"]?([^'\"]+)", el.attr("content"), re.I)
            if m:
                add(m.group(1).strip(), el, "refresh", counted=False)
        elif tag == "style":
            for url, kind, counted in css_urls(text_of_raw(el)):
                add(url, el, kind, counted=counted)
        if el.attrs.get("style") and "url(" in el.attrs["style"].lower():
            for url, kind, counted in css_urls(el.attrs["style"]):
                add(url, el, kind, counted=counted)
    page._cache["requests"] = out
    return out


def text_of_raw(el: Element) -> str:
    return "".join(c for c in el.children if isinstance(c, str))


KIND_WORDS = {"css": "a style sheet", "js": "a script", "image": "an image", "font": "a font", "media": "a video or "
              "sound file", "frame": "a frame", "manifest": "a web app manifest", "connection": "a connection",
              "refresh": "a redirect", "other": "a file"}


@rule("third-party-request", (), "critical",
      "Serve every script, style sheet, font and image from the site itself (save the file into the site): a request "
      "to another website tells it who is reading about which illness, and fails when that site is slow or blocked.")
def check_third_party(page: Page, site: Site):
    seen = set()
    for req in requests(page, site):
        if req.external and (req.external, req.via) not in seen:
            seen.add((req.external, req.via))
            via = f" (from {req.via})" if req.via else ""
            yield req.el, f"the page loads {KIND_WORDS.get(req.kind, 'a file')} from another website: {req.external}{via}"


@rule("missing-resource", (), "serious",
      "The page asks for a file that is not in the site: fix the path, or add the file.")
def check_missing_resource(page: Page, site: Site):
    seen = set()
    for req in requests(page, site):
        if not req.external and not req.exists and req.local and req.local not in seen:
            seen.add(req.local)
            via = f" (from {req.via})" if req.via else ""
            yield req.el, f"{KIND_WORDS.get(req.kind, 'a file')} the page loads is not in the site: {req.url}{via}"


def _weights(page: Page, site: Site) -> tuple[dict[str, int], int, list[tuple[Request, int]]]:
    """(bytes over the wire by kind, request count, [(image request, bytes)]) of what the page loads on page load."""
    cached = page._cache.get("weights")
    if cached is not None:
        return cached
    by_kind = {"html": page.size}  # gzipped by check_page_weight when the total could be over the budget
    count, seen, images = 1, set(), []
    for req in requests(page, site):
        key = req.external or req.local
        if not req.counted or key in seen or req.kind in ("connection", "refresh"):
            continue
        seen.add(key)
        count += 1
        if req.exists and req.local:
            raw, wire = site.size(req.local)
            kind = req.kind if req.kind in ("css", "js", "image", "font") else "other"
            by_kind[kind] = by_kind.get(kind, 0) + wire
            if req.kind == "image":
                images.append((req, raw))
    page._cache["weights"] = by_kind, count, images
    return by_kind, count, images


def _kb(size: int) -> str:
    return f"{size / KB:.1f} KB" if size < 10 * KB else f"{size / KB:.0f} KB"


def _budget(site: Site, key: str) -> float | None:
    value = site.budgets.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@rule("page-weight", (), "moderate",
      "Make the page lighter for slow winter networks and old phones: smaller images (SVG, or WebP at the size they "
      "are shown), fewer fonts and scripts. Budgets are in audits/budgets.toml.")
def check_page_weight(page: Page, site: Site):
    budget = _budget(site, "weight_kb")
    if budget is None:
        return
    by_kind, _, _ = _weights(page, site)
    if sum(by_kind.values()) <= budget * KB:  # even with the HTML uncompressed
        return
    by_kind = {**by_kind, "html": len(gzip.compress(page._cache.get("data", b""), 6, mtime=0)) or page.size}
    total = sum(by_kind.values())
    if total > budget * KB:
        parts = ", ".join(f"{kind} {_kb(size)}" for kind, size in sorted(by_kind.items(), key=lambda kv: -kv[1])
                          if size)
        yield None, f"the page loads {_kb(total)} ({parts}); the budget is {budget:g} KB"


@rule("request-count", (), "moderate",
      "Make fewer requests: combine style sheets and scripts, use inline SVG icons, drop what the page does not need. "
      "Budgets are in audits/budgets.toml.")
def check_request_count(page: Page, site: Site):
    budget = _budget(site, "requests")
    if budget is None:
        return
    _, count, _ = _weights(page, site)
    if count > budget:
        yield None, f"the page makes {count} requests; the budget is {budget:g}"


@rule("image-weight", (), "moderate",
      "Make the image smaller: save it at the size it is shown, as SVG for drawings or WebP/AVIF for photos.")
def check_image_weight(page: Page, site: Site):
    budget = _budget(site, "image_kb")
    if budget is None:
        return
    _, _, images = _weights(page, site)
    for req, raw in images:
        if raw > budget * KB:
            yield req.el, f"the image {req.url} is {raw / KB:.0f} KB; the budget for one image is {budget:g} KB"


@rule("review-overdue", (), "serious",
      "The page's medical review is overdue: ask the reviewer to check the page, then update reviewed and next_review "
      "in its front matter.")
def check_review(page: Page, site: Site):
    meta = next((m for m in page.tags("meta") if m.attr("name").lower() == "hp:next-review"), None)
    value = meta.attr("content") if meta is not None else ""
    source = None
    entry = site.sourcemap.get(page.path) or {}
    if entry.get("source"):
        found = site.front_matter_line(entry["source"], "next_review")
        if found:
            source = f"{entry['source']}:{found[0]}"
            value = value or found[1]
        else:
            source = entry["source"]
    if not value:
        return
    try:
        due = dt.date.fromisoformat(value[:10])
    except ValueError:
        yield meta, f'the next review date "{value}" is not a date like 2027-05-01', {"source": source}
        return
    if due < site.today:
        days = (site.today - due).days
        yield meta, f"the medical review was due on {due.isoformat()} ({days} day{'s' if days != 1 else ''} ago)", \
            {"source": source}


# ---------------------------------------------------------------------------------------------------------------------
# Running


def page_type(page: Page) -> str:
    """article, section, root, 404 or page: which manual checklist applies."""
    if posixpath.basename(page.path) == "404.html":
        return "404"
    if any("hp-root" in m.classes() for m in page.tags("main")):
        return "root"
    if any(m.attr("name").lower() == "hp:next-review" for m in page.tags("meta")) or \
            any("MedicalWebPage" in text_of_raw(s) for s in page.tags("script") if "ld+json" in s.attr("type")):
        return "article"
    if any("hp-body" in d.classes() for d in page.tags("div")):
        return "section"
    return "page"


def audit_page(path: str, site: Site) -> tuple[PageResult, frozenset[str], list, str]:
    """One page -> (its result, its ids, its links to anchors on other pages, its type)."""
    result = PageResult(path)
    try:
        data = (site.folder / path).read_bytes()
        page = parse(path, data, site.base_path)
    except Exception as exc:  # an unreadable file or a parser crash: a failure, never a pass
        result.error = f"the page could not be read: {exc}"
        return result, frozenset(), [], "page"
    page._cache["data"] = data
    deferred = []
    for r in RULES:
        try:
            hits = list(r.check(page, site))
        except Exception as exc:  # a bug in one rule must not hide the others' findings, nor pass the page
            crash = f"the {r.id} check crashed on this page: {type(exc).__name__}: {exc}"
            result.error = f"{result.error}; {crash}" if result.error else crash
            continue
        for hit in hits:
            el, message = hit[0], hit[1]
            extra = hit[2] if len(hit) > 2 else {}
            finding = Finding(rule=r.id, message=message, wcag=r.wcag, impact=r.impact, selector=selector(el, page),
                              html=snippet(el), help=r.help,
                              source=extra["source"] if "source" in extra else source_of(el, page, site))
            if "defer" in extra:
                deferred.append((*extra["defer"], finding, r.warning))
            else:
                (result.warnings if r.warning else result.findings).append(finding)
    ids = frozenset(page.ids) | frozenset(_names(page))
    return result, ids, deferred, page_type(page)


_worker: dict = {}


def _audit_chunk(paths: list[str]) -> list:
    return [audit_page(path, _worker["site"]) for path in paths]


def run(site: Site, jobs: int | None = None) -> tuple[list[PageResult], dict[str, str]]:
    """Audit every HTML page of the site's folder -> (results in path order, page types)."""
    paths = site.html_pages()
    if jobs is None:
        jobs = 1 if len(paths) < PARALLEL_FROM else min(os.cpu_count() or 1, 8)
    outcomes = []
    if jobs > 1 and len(paths) > 1 and "fork" in multiprocessing.get_all_start_methods():
        _worker["site"] = site
        size = max(8, len(paths) // (jobs * 8))
        chunks = [paths[i:i + size] for i in range(0, len(paths), size)]
        try:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                for chunk in pool.imap(_audit_chunk, chunks):
                    outcomes.extend(chunk)
        finally:
            _worker.clear()
    else:
        outcomes = [audit_page(path, site) for path in paths]
    results = {r.path: r for r, _, _, _ in outcomes}
    ids = {r.path: page_ids for r, page_ids, _, _ in outcomes if not r.error}
    for result, _, deferred, _ in outcomes:
        for target, fragment, finding, warning in deferred:
            if target in ids and fragment not in ids[target]:
                (result.warnings if warning else result.findings).append(finding)
    return [results[p] for p in paths], {r.path: kind for r, _, _, kind in outcomes}
