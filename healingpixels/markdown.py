"""Markdown to safe HTML with markdown-it-pyrs: heading ids, checked links, components, sanitised raw HTML."""
from __future__ import annotations

import bisect
import functools
import posixpath
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, NamedTuple
from urllib.parse import unquote, urlsplit

import nh3
from markdown_it_pyrs import MarkdownIt, Node

from . import images
from .errors import Problem

# What authors may set with {#id .class key=value}: nothing that runs code or loads from elsewhere.
ALLOWED_ATTRS = ("id", "class", "lang", "dir", "width", "height")
# Raw inline HTML authors may write; anything else is shown as text.
INLINE_HTML = re.compile(r"</?(b|i|em|strong|sub|sup|small|mark|kbd|s|u|br|wbr)\s*/?>", re.I)
BLOCK_TAGS = {"p", "div", "span", "br", "hr", "b", "i", "em", "strong", "sub", "sup", "small", "mark", "kbd", "s", "u",
              "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
              "blockquote", "abbr", "cite", "q", "figure", "figcaption", "h2", "h3", "h4", "h5", "h6", "wbr", "pre", "code"}
BLOCK_ATTRS = {"*": {"lang", "dir", "class"}, "abbr": {"title"}, "th": {"scope", "colspan", "rowspan"},
               "td": {"colspan", "rowspan"}, "ol": {"start", "reversed"}}
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:|^//", re.I)


class Link(NamedTuple):  # a tuple: thousands are kept in the build cache, and tuples pickle several times faster
    target: str  # a site-relative source path ("content/en/x.md", "content/images/a.svg") or a site path ("/en/")
    anchor: str  # "" when the link has no #fragment
    line: int
    kind: str  # "page", "file" or "path"


@dataclass
class Rendered:
    html: str
    toc: list[tuple[int, str, str]] = field(default_factory=list)  # (level, id, text) of h2 and h3
    anchors: set[str] = field(default_factory=set)
    links: list[Link] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Where elements came from, for audits to point at the Markdown: "#id", "src=/images/a.svg", "href=/en/x/" -> line
    locations: dict[str, int] = field(default_factory=dict)


@functools.lru_cache(maxsize=4096)  # the same headings recur page after page ("Symptoms", "When to get help")
def slugify(text: str) -> str:
    """A heading id that keeps every script: 'Когда звонить 103' -> 'когда-звонить-103', '何时就医？' -> '何时就医'.
    Letters, combining marks (Devanagari, Thai vowels) and digits stay; punctuation and symbols go."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(c for c in text if c in "-_" or c.isspace() or unicodedata.category(c)[0] in "LMN")
    return re.sub(r"[\s-]+", "-", text).strip("-") or "section"


@dataclass(frozen=True)
class Heading:
    html: str  # the heading's content, rendered
    level: int
    id: str


@dataclass(frozen=True)
class Block:
    """One top-level block of a component's body, so a macro can place its parts (a figure's image, its caption)."""
    kind: str  # "image", "link", "text" (paragraphs), "list", "dl", "table", "heading", "component" or "other"
    html: str  # the block as rendered
    inner: str  # a paragraph's content without <p> (an image's <img> or <picture>, a link's <a>); else html
    href: str = ""  # for a link: where it goes (already rewritten to the page's URL)
    label: str = ""  # for a link: its content, rendered


# A component renderer takes (name, args, heading or None, body_html) and keywords blocks (list[Block]) and link
# (a function that checks and rewrites a file path the author wrote, as for a link at the component's line), and
# returns HTML, or raises ComponentError; the build gives one that renders the component's Jinja macro.
ComponentRenderer = Callable[..., str]
# Words after a component's name: key=value (the value may be in double quotes) or a bare word.
ARG = re.compile(r'([A-Za-z][\w-]*)=(?:"([^"]*)"|(\S*))|(\S+)')


def split_args(info: str) -> list[str]:
    """'video src=/a.mp4 title="Two words"' -> ['video', 'src=/a.mp4', 'title=Two words']."""
    out = []
    for m in ARG.finditer(info):
        out.append(m[4] if m[4] is not None else f"{m[1]}={m[2] if m[2] is not None else m[3]}")
    return out


class ComponentError(Exception):
    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


def make_parser() -> MarkdownIt:
    """CommonMark (raw HTML included, sanitised later) with tables, strikethrough, footnotes and definition lists.
    Components and {attributes} are read from the tree this parser builds (see _mark_components and _attrs)."""
    return MarkdownIt("commonmark").enable_many(["table", "strikethrough", "footnote", "deflist"])


# A component's ::: line becomes an HTML comment carrying its number before parsing: CommonMark then ends the
# paragraph or list above it exactly as the ::: line should, and the comment is found again in the tree. The
# private-use character cannot be forged: authors' text has it replaced before the swap.
SENTINEL = "\ue000"
MARKER_LINE = re.compile(r"^((?:[ \t]*>)*[ \t]*)(:{3,}.*)$", re.M)
MARKER = re.compile(f"<!--{SENTINEL}(\\d+)-->")
BACKTICK_RUN = re.compile(rb"`+")
FENCE_LINE = re.compile(rb"^[ \t>]*\x01{3,}[^\x01\n]*$", re.M)  # a ``` fence once its backticks are masked
# a marker shown in code, or in text (a ::: line indented into a paragraph is text)
SHOWN_MARKER = re.compile(f"&lt;!--{SENTINEL}(\\d+)--&gt;")
# {#id .class key=value} after an image, link or code span, or on a line of its own before a block
ATTRS = re.compile(r'\{((?:\s*(?:[#.][^\s{}#."\'=]+|[A-Za-z][\w-]*=(?:"[^"]*"|\'[^\']*\'|[^\s"\'{}]+)))+)\s*\}')
ATTR = re.compile(r'([#.])([^\s{}#."\'=]+)|([A-Za-z][\w-]*)=(?:"([^"]*)"|\'([^\']*)\'|([^\s"\'{}]+))')
INLINE = frozenset({"text", "text_special", "softbreak", "hardbreak", "em", "strong", "strikethrough", "code_inline",
                    "link", "image", "autolink", "html_inline", "footnote_ref"})
TAGS = {"em": "em", "strong": "strong", "strikethrough": "s", "blockquote": "blockquote", "bullet_list": "ul",
        "list_item": "li", "definition_list": "dl", "definition_term": "dt", "definition_description": "dd"}
KINDS = {"bullet_list": "list", "ordered_list": "list", "definition_list": "dl", "table": "table",
         "heading": "heading"}


def _escape(text: str) -> str:
    """As markdown-it escapes: html.escape would also turn every apostrophe of the text into &#x27;."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _attrs(text: str) -> tuple[dict[str, str], int] | None:
    """'{#id .a .b lang=ru}…' -> ({"id": "id", "class": "a b", "lang": "ru"}, where the braces end); only the
    attributes in ALLOWED_ATTRS are kept (an author's onclick or style is dropped). None if text has no {…} first."""
    m = ATTRS.match(text)
    if not m:
        return None
    attrs: dict[str, str] = {}
    for a in ATTR.finditer(m[1]):
        if a[1] == "#":
            attrs["id"] = a[2]
        elif a[1] == ".":
            attrs["class"] = f"{attrs['class']} {a[2]}" if "class" in attrs else a[2]
        elif a[3] in ALLOWED_ATTRS:
            attrs[a[3]] = next(v for v in a.groups()[3:] if v is not None)
    return attrs, m.end()


def _attrs_html(attrs: dict[str, str]) -> str:
    return "".join(f' {k}="{_escape(v)}"' for k, v in attrs.items())


class _Marker(NamedTuple):
    text: str  # the ::: line as written, after its indentation
    info: str  # what follows the colons ("care-card urgent"); "" closes a component


def _mark_components(body: str) -> tuple[str, list[_Marker]]:
    markers: list[_Marker] = []

    def swap(m: re.Match) -> str:
        markers.append(_Marker(m[2].rstrip(), m[2].lstrip(":").strip()))
        return f"{m[1]}<!--{SENTINEL}{len(markers) - 1}-->"
    return MARKER_LINE.sub(swap, body), markers


@dataclass
class _Component:
    marker: _Marker
    node: Node  # the marker's node, for its line
    inner: list[_Item]  # the component's body: blocks and nested components


class _Item(NamedTuple):
    """A block to render: a node (or a component) with the {attributes} written above it."""
    node: Node | _Component
    attrs: dict[str, str]
    inline: list[Node] | None = None  # a paragraph's children once its leading {…} line is taken off


class PageRenderer:
    """Turns one page's Markdown into HTML, recording headings, links and problems with file:line."""

    def __init__(self, components: ComponentRenderer, base: str, pictures: dict[str, dict]):
        self.md = make_parser()
        self.components = components
        self.base = base
        self.pictures = pictures  # URL of a site image -> {"width", "height"} or {"variants": images.Variants}

    def render(self, source: str, body: str, body_line: int) -> Rendered:
        out = Rendered("")
        # CommonMark's line endings and its replacement of NUL; the sentinel only ever comes from _mark_components
        body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd").replace(SENTINEL, "\ufffd")
        body, markers = _mark_components(body) if ":::" in body else (body, [])
        try:
            if "`" in body and "[" in body:
                body = self._escape_lone_backticks(body)
            tree = self.md.tree(body)
        except BaseException as exc:  # a Rust panic is pyo3's PanicException, a BaseException
            if type(exc).__name__ != "PanicException":
                raise
            out.problems.append(Problem(source, body_line, f"the Markdown parser failed on this page ({exc})",
                                        "a ` that starts no code span, near a [, can cause this: write \\` for a "
                                        "backtick shown as it is"))
            return out
        out.html = _Page(self, source, body, body_line - 1, markers, out).blocks(tree.children)
        if markers and SENTINEL in out.html:  # ::: lines CommonMark reads as code or text are shown as written
            out.html = SHOWN_MARKER.sub(lambda m: _escape(markers[int(m[1])].text), out.html)
        return out

    def _escape_lone_backticks(self, body: str) -> str:
        """Escape each backtick run that closes no code span (CommonMark shows it as text, and so does "\\`").
        markdown-it-pyrs 0.4 (markdown-it 0.6.0) panics when it meets such a run twice, as it does inside a
        link's brackets ("[`"). A code span never leaves its paragraph, heading or table cell, so the runs are
        paired within each of those, found by a parse with no backtick to panic on (``` fences become ~~~)."""
        data = body.encode()
        masked = FENCE_LINE.sub(lambda m: m[0].replace(b"\x01", b"~"), data.replace(b"`", b"\x01"))
        lone: list[tuple[int, int]] = []
        for node in self.md.tree(masked.decode()).walk():
            if node.name in INLINE:  # a link's text is inside its paragraph's, paired there
                continue
            spans = [c.srcmap for c in node.children if c.name in INLINE and c.srcmap]
            if not spans:
                continue
            if len(spans) == len(node.children) and node.srcmap:  # a paragraph, heading or cell: all of it
                start, end = node.srcmap
            else:  # the text of a tight list item, before the lists in it
                start, end = spans[0][0], spans[-1][1]
            if node.name != "tcell":  # whole lines, as positions inside a line can be off after a tab (">\t`a`")
                start, newline = data.rfind(b"\n", 0, start) + 1, data.find(b"\n", end)
                end = newline if newline >= 0 else len(data)
            lone += _lone_runs(data, start, end)
        for start, length in sorted(lone, reverse=True):  # footnotes come last in the tree, not in the text
            data = data[:start] + b"\\`" * length + data[start + length:]
        return data.decode()


def _lone_runs(data: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """(offset, length) of the backtick runs in data[start:end] that open no code span, as CommonMark pairs them:
    a run opens a span closed by the next run of the same length; an escaped backtick opens nothing."""
    runs = [(m.start(), len(m[0])) for m in BACKTICK_RUN.finditer(data, start, end)]
    lone, i = [], 0
    while i < len(runs):
        at, n = runs[i]
        backslashes = len(data[:at]) - len(data[:at].rstrip(b"\\"))
        if backslashes % 2:  # "\``": the first backtick is text, the rest a run
            at, n = at + 1, n - 1
        closer = next((j for j in range(i + 1, len(runs)) if runs[j][1] == n), None) if n else None
        if closer is None:
            if n:
                lone.append((at, n))
            i += 1
        else:
            i = closer + 1
    return lone


class _Page:
    """The state of one page's rendering: it walks the tree once, in document order."""

    def __init__(self, renderer: PageRenderer, source: str, body: str, offset: int, markers: list[_Marker],
                 out: Rendered):
        self.r, self.source, self.offset, self.markers, self.out = renderer, source, offset, markers, out
        self.page_dir = posixpath.dirname(source)
        self.base = renderer.base
        self.body = body
        self.line_starts: list[int] | None = None
        self.used: set[str] = set()  # heading ids given so far
        self.previous_level = 1  # the page title is the h1
        self.last_heading = ""  # the id of the heading above, which names a table
        self.images_seen = 0
        self.footnotes_seen: dict[int, list[str]] = {}  # footnote -> ids of its references, numbered as first cited
        self.last_link = ("", "")  # (href, label) of the link rendered last, for a component's link block

    # ---------------------------------------------------------------------------------------------- positions

    def line(self, node: Node) -> int:
        """The file line where a node starts (the tree gives byte offsets into the body)."""
        if self.line_starts is None:
            self.line_starts = [m.end() for m in re.finditer(b"\n", self.body.encode())]
        return bisect.bisect_right(self.line_starts, (node.srcmap or (0, 0))[0]) + 1 + self.offset

    def problem(self, line: int, message: str, hint: str = "") -> None:
        self.out.problems.append(Problem(self.source, line, message, hint))

    # ------------------------------------------------------------------------------------------------ blocks

    def marker(self, node: Node) -> _Marker | None:
        if node.name == "html_block" and self.markers:
            m = MARKER.fullmatch(node.meta["content"].strip())
            if m:
                return self.markers[int(m[1])]
        return None

    def items(self, nodes: list[Node]) -> list[_Item]:
        """Sibling nodes as blocks: each component's nodes gathered under it, {attribute} lines given to the block
        below them."""
        items: list[_Item] = []
        stack: list[tuple[_Component, list[_Item]]] = []
        pending: dict[str, str] = {}
        for node in nodes:
            marker = self.marker(node)
            if marker is not None:
                if marker.info:
                    stack.append((_Component(marker, node, []), items))
                    items = []
                elif stack:
                    component, outer = stack.pop()
                    component.inner, items = items, outer
                    items.append(_Item(component, {}))
                else:
                    self.problem(self.line(node), "this ::: closes no component",
                                 "delete it, or start the component above it with a line like ::: warning")
                continue
            inline = None
            if node.name == "paragraph":
                children = node.children
                first = children[0] if children else None
                found = _attrs(first.meta["content"]) if first is not None and first.name == "text" else None
                if found and found[1] == len(first.meta["content"]):
                    if len(children) == 1:  # a line of {attributes} alone: for the block below
                        pending.update(found[0])
                        continue
                    if children[1].name == "softbreak":
                        pending.update(found[0])
                        inline = children[2:]
            items.append(_Item(node, pending, inline))
            pending = {}
        while stack:  # a component never closed: report it, and still show what it holds
            component, outer = stack.pop()
            self.problem(self.line(component.node), f"{component.marker.text} is never closed",
                         "end the component with a line of three colons: :::")
            outer.extend(items)
            items = outer
        return items

    def blocks(self, nodes: list[Node]) -> str:
        return "".join(self.block(item) for item in self.items(nodes))

    def block(self, item: _Item) -> str:
        node, attrs = item.node, item.attrs
        if isinstance(node, _Component):
            return self.component(node)
        name = node.name
        if name == "paragraph":
            inline = item.inline if item.inline is not None else node.children
            return f"<p{_attrs_html(attrs)}>{self.inline(inline)}</p>\n"
        if name == "heading":
            level, html = self.heading(node, attrs)
            return f"<h{level}{_attrs_html(attrs)}>{html}</h{level}>\n"
        if name in ("bullet_list", "blockquote", "definition_list"):
            tag = TAGS[name]
            return f"<{tag}{_attrs_html(attrs)}>\n{self.blocks(node.children)}</{tag}>\n"
        if name == "ordered_list":
            start = node.meta.get("start", 1)
            attrs = {"start": str(start), **attrs} if start != 1 else attrs
            return f"<ol{_attrs_html(attrs)}>\n{self.blocks(node.children)}</ol>\n"
        if name in ("list_item", "definition_term", "definition_description"):
            return self.container(node, TAGS[name])
        if name == "table":
            return self.table(node, attrs)
        if name == "html_block":  # ::: lines inside raw HTML are its text, as written
            html = MARKER.sub(lambda m: self.markers[int(m[1])].text, node.meta["content"])
            return nh3.clean(html, tags=BLOCK_TAGS, attributes=BLOCK_ATTRS, link_rel=None) + "\n"
        if name in ("fence", "code_block"):
            lang = node.meta.get("info", "").split(maxsplit=1)
            attrs = {"class": f"language-{lang[0]}", **attrs} if lang else attrs
            return f"<pre><code{_attrs_html(attrs)}>{_escape(node.meta['content'])}</code></pre>\n"
        if name == "hr":
            return f"<hr{_attrs_html(attrs)} />\n"
        if name == "footnote_container":
            return self.footnotes(node)
        return ""  # link reference definitions ("definition") print nothing

    def container(self, node: Node, tag: str) -> str:
        """A list item or definition: in a tight list its text sits directly in it, with no paragraph around."""
        parts: list[str] = []
        inline: list[Node] = []
        for item in self.items(node.children):
            if not isinstance(item.node, _Component) and item.node.name in INLINE:
                inline.append(item.node)
                continue
            if inline or not parts:  # a block after the text, or first, starts on a line of its own
                parts.append(self.inline(inline) + "\n")
                inline = []
            parts.append(self.block(item))
        if inline:
            parts.append(self.inline(inline))
        return f"<{tag}>{''.join(parts)}</{tag}>\n"

    def heading(self, node: Node, attrs: dict[str, str]) -> tuple[int, str]:
        """Give a heading its id (a written {#id} or one made from its text, numbered if taken), check its level, and
        record it for the contents list; attrs gets the id. Returns the level and the heading's content as HTML."""
        level = node.meta["level"]
        text = _plain(node.children)
        line = self.line(node)
        if level == 1:
            self.problem(line, "a heading 1 (#) in the body",
                         "the title from the front matter is the page's only heading 1: use ## here")
        elif level > self.previous_level + 1:
            self.problem(line, f"heading level {level} follows level {self.previous_level}: a level is skipped",
                         f"use {'#' * (self.previous_level + 1)} here; screen reader users move between headings "
                         "by level")
        self.previous_level = level
        slug = base = attrs.get("id") or slugify(text)
        n = 1
        while slug in self.used:  # "step", "step-2", then a heading "Step 2" must not get "step-2" again
            n += 1
            slug = f"{base}-{n}"
        self.used.add(slug)
        attrs["id"] = slug
        self.last_heading = slug
        self.out.anchors.add(slug)
        self.out.locations.setdefault(f"#{slug}", line)
        if level in (2, 3):
            self.out.toc.append((level, slug, text))
        return level, self.inline(node.children)

    def table(self, node: Node, attrs: dict[str, str]) -> str:
        """Tables scroll inside a focusable region (so keyboards can scroll them), never the page; both are named
        by the heading above the table, or else by its first cells, for screen readers."""
        if self.last_heading:
            name = f'aria-labelledby="{_escape(self.last_heading)}"'
        else:
            cells = [_plain(c.children) for part in node.children for row in part.children for c in row.children]
            name = f'aria-label="{_escape(", ".join(cells[:4]))}"'
        align = node.meta.get("alignments", [])
        parts = [f'<div class="hp-table" role="region" tabindex="0" {name}>\n<table {name}{_attrs_html(attrs)}>\n']
        for section in node.children:
            tag, cell = ("thead", "th") if section.name == "thead" else ("tbody", "td")
            parts.append(f"<{tag}>\n")
            for row in section.children:
                parts.append("<tr>\n")
                for i, c in enumerate(row.children):
                    style = f' style="text-align:{align[i]}"' if i < len(align) and align[i] != "none" else ""
                    parts.append(f"<{cell}{style}>{self.inline(c.children)}</{cell}>\n")
                parts.append("</tr>\n")
            parts.append(f"</{tag}>\n")
        parts.append("</table>\n</div>\n")
        return "".join(parts)

    def footnote_ref(self, node: Node) -> str:
        """Footnotes are numbered in the order they are first cited; a second citation gets id fnref1:1."""
        refs = self.footnotes_seen.setdefault(node.meta["def_id"], [])
        n = list(self.footnotes_seen).index(node.meta["def_id"]) + 1
        ref_id = f"fnref{n}" + (f":{len(refs)}" if refs else "")
        refs.append(ref_id)
        self.out.anchors.add(ref_id)
        return f'<sup class="footnote-ref"><a href="#fn{n}" id="{ref_id}">[{n}]</a></sup>'

    def footnotes(self, node: Node) -> str:
        """The cited footnotes, in the order of their numbers, each ending with links back to its citations."""
        by_def = {fn.meta["def_id"]: fn for fn in node.children}
        parts = ['<hr class="footnotes-sep" />\n<section class="footnotes">\n<ol class="footnotes-list">\n']
        for n, (def_id, refs) in enumerate(list(self.footnotes_seen.items()), 1):
            if def_id not in by_def:
                continue
            self.out.anchors.add(f"fn{n}")
            html = self.blocks(by_def[def_id].children)
            back = "".join(f' <a href="#{r}" class="footnote-backref">↩︎</a>' for r in refs)
            html = html[:-5] + back + "</p>\n" if html.endswith("</p>\n") else html + back
            parts.append(f'<li id="fn{n}" class="footnote-item">{html}</li>\n')
        parts.append("</ol>\n</section>\n")
        return "".join(parts)

    # ------------------------------------------------------------------------------------------------ inline

    def inline(self, nodes: list[Node]) -> str:
        parts = []
        trim = 0  # characters of this text node that were the {attributes} of the element before it
        for i, node in enumerate(nodes):
            name = node.name
            if name == "text":
                parts.append(_escape(node.meta["content"][trim:]))
                trim = 0
                continue
            if name == "text_special":
                parts.append(_escape(node.meta["content"]))
                continue
            attrs: dict[str, str] = {}
            if name in ("link", "image", "code_inline") and i + 1 < len(nodes) and nodes[i + 1].name == "text":
                found = _attrs(nodes[i + 1].meta["content"])
                if found:
                    attrs, trim = found
            if name == "softbreak":
                parts.append("\n")
            elif name == "hardbreak":
                parts.append("<br />\n")
            elif name in TAGS:
                parts.append(f"<{TAGS[name]}>{self.inline(node.children)}</{TAGS[name]}>")
            elif name == "code_inline":
                parts.append(f"<code{_attrs_html(attrs)}>{_escape(_plain(node.children))}</code>")
            elif name in ("link", "autolink"):
                parts.append(self.link(node, attrs))
            elif name == "image":
                parts.append(self.image(node, attrs))
            elif name == "html_inline":
                content = node.meta["content"]
                parts.append(content if INLINE_HTML.fullmatch(content.strip()) else _escape(content))
            elif name == "footnote_ref":
                parts.append(self.footnote_ref(node))
        return "".join(parts)

    def url(self, url: str, attr: str, line: int) -> str:
        """A URL checked and rewritten to where it is published; where it was written is recorded."""
        new = _resolve(url, attr, self.page_dir, self, line)
        url = url if new is None else new
        self.out.locations.setdefault(f"{attr}={url}", line)
        return url

    def link(self, node: Node, attrs: dict[str, str]) -> str:
        a = {"href": self.url(node.meta["url"], "href", self.line(node))}
        if node.meta.get("title"):
            a["title"] = node.meta["title"]
        label = self.inline(node.children)
        self.last_link = (a["href"], label)
        return f"<a{_attrs_html({**a, **attrs})}>{label}</a>"

    def image(self, node: Node, attrs: dict[str, str]) -> str:
        """Site images get their size (no layout shift) and, for photos, a <picture> of smaller, modern formats.
        The first image of a page may be what it is seen with first, so only the later ones load lazily."""
        src = self.url(node.meta["url"], "src", self.line(node))
        alt = _plain(node.children, images=True)
        lazy = self.images_seen > 0
        self.images_seen += 1
        info = self.r.pictures.get(src)
        if info and "variants" in info:
            return images.picture_html(info["variants"], alt, self.r.base, lazy)
        a = {"src": src, "alt": alt}
        if node.meta.get("title"):
            a["title"] = node.meta["title"]
        a.update(attrs)
        if info:
            a["width"], a["height"] = str(info["width"]), str(info["height"])
        a["loading"], a["decoding"] = "lazy" if lazy else "eager", "async"
        return f"<img{_attrs_html(a)} />"

    # ------------------------------------------------------------------------------------------------ components

    def component(self, c: _Component) -> str:
        name, *args = split_args(c.marker.info)
        items = c.inner
        heading = None
        first = items[0].node if items else None
        if isinstance(first, Node) and first.name == "heading":
            level, html = self.heading(first, dict(items[0].attrs))
            heading = Heading(html, level, self.last_heading)
            items = items[1:]
        blocks = [self.block_of(item) for item in items]
        body = "".join(b.html for b in blocks)
        line = self.line(c.node)

        def link(url: str) -> str:
            """A file path written in the component's ::: line: checked like a link, rewritten to its published URL."""
            return self.url(url, "src", line)

        try:
            return self.r.components(name, args, heading, body, blocks=blocks, link=link)
        except ComponentError as exc:
            self.problem(line, str(exc), exc.hint)
            return ""

    def block_of(self, item: _Item) -> Block:
        """One block of a component's body, rendered, with what a macro needs to place it."""
        html = self.block(item)
        node = item.node
        if isinstance(node, _Component):
            return Block("component", html, html)
        if node.name == "paragraph":
            children = item.inline if item.inline is not None else node.children
            content = [c for c in children if not (c.name in ("softbreak", "hardbreak")
                                                   or (c.name == "text" and not c.meta["content"].strip()))]
            inner = html[html.index(">") + 1:-len("</p>\n")].strip()
            if content and all(c.name == "image" for c in content):
                return Block("image", html, inner)
            if len(content) == 1 and content[0].name == "link":
                return Block("link", html, inner, *self.last_link)
            return Block("text", html, inner)
        return Block(KINDS.get(node.name, "other"), html, html)


def _plain(nodes: list[Node], images: bool = False) -> str:
    """The text of inline nodes without markup: a heading's id and contents entry, a code span, a table's name; with
    IMAGES, an image's description too, as CommonMark asks for its alt (nested images' text kept)."""
    out = []
    for n in nodes:
        if n.name in ("text", "text_special"):
            out.append(n.meta["content"])
        elif n.name != "html_inline" and (images or n.name != "image"):
            out.append(_plain(n.children, images))
    return "".join(out)


def _resolve(url: str, attr: str, page_dir: str, ctx: "_Page", line: int) -> str | None:
    if url.startswith("#"):
        ctx.out.links.append(Link(ctx.source, unquote(url[1:]), line, "page"))
        return None
    if EXTERNAL.match(url):
        if attr == "src":
            ctx.problem(line, f"the image {url} is on another website",
                        "save the image under content/images/ and link to it there: pages make no third-party requests")
            return ""
        return None
    parts = urlsplit(url)
    path, anchor = unquote(parts.path), unquote(parts.fragment)
    if path.startswith("/"):
        target = posixpath.normpath("content" + path)
    else:
        target = posixpath.normpath(posixpath.join(page_dir, path))
    if not target.startswith("content/") and target != "content":
        ctx.problem(line, f"the link {url} points outside the site", "link to a page or file inside content/")
        return ""
    if target.endswith(".md"):
        lang_path = target[len("content/"):-3]
        lang, _, rest = lang_path.partition("/")
        if rest == "index" or rest.endswith("/index"):
            rest = rest[:-len("index")].rstrip("/")
        ctx.out.links.append(Link(target, anchor, line, "page"))
        return f"{ctx.base}{lang}/{rest + '/' if rest else ''}" + (f"#{parts.fragment}" if anchor else "")
    if path.endswith("/") or not posixpath.splitext(path)[1]:
        if not path.startswith("/"):
            ctx.problem(line, f"the link {url} is relative but not to a .md file", "link to the page's .md file, like ../infections/seasonal-flu.md")
            return ""
        ctx.out.links.append(Link(path, anchor, line, "path"))
        return ctx.base + url[1:]
    ctx.out.links.append(Link(target, "", line, "file"))
    return ctx.base + target[len("content/"):]
