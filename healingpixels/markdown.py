"""Markdown to safe HTML with markdown-it-py: heading ids, checked links, components, sanitised raw HTML."""
from __future__ import annotations

import functools
import posixpath
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, NamedTuple
from urllib.parse import unquote, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_block_plugin, attrs_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

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
    md = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable(["table", "strikethrough"])
    md.use(footnote_plugin).use(deflist_plugin)
    md.use(attrs_plugin, allowed=ALLOWED_ATTRS).use(attrs_block_plugin, allowed=ALLOWED_ATTRS)
    md.use(container_plugin, name="component", validate=lambda params, *_: bool(params.strip()))
    return md


class PageRenderer:
    """Turns one page's Markdown into HTML, recording headings, links and problems with file:line."""

    def __init__(self, components: ComponentRenderer, base: str, pictures: dict[str, dict]):
        self.md = md = make_parser()
        self.components = components
        self.base = base
        self.pictures = pictures  # URL of a site image -> {"width", "height"} or {"variants": images.Variants}
        md.add_render_rule("image", lambda renderer, *args: self._image(renderer, *args))
        md.add_render_rule("table_open", _table_open)
        md.add_render_rule("table_close", lambda renderer, *args: "</table>\n</div>\n")

    def _image(self, renderer, tokens: list[Token], idx: int, options, env: dict) -> str:
        """Site images get their size (no layout shift) and, for photos, a <picture> of smaller, modern formats.
        The first image of a page may be what it is seen with first, so only the later ones load lazily."""
        tok = tokens[idx]
        lazy = env.setdefault("images_seen", 0) > 0
        env["images_seen"] += 1
        info = self.pictures.get(tok.attrGet("src") or "")
        if info and "variants" in info:
            alt = renderer.renderInlineAsText(tok.children or [], options, env)
            return images.picture_html(info["variants"], alt, self.base, lazy)
        if info:
            tok.attrSet("width", str(info["width"]))
            tok.attrSet("height", str(info["height"]))
        tok.attrSet("loading", "lazy" if lazy else "eager")
        tok.attrSet("decoding", "async")
        return renderer.image(tokens, idx, options, env)

    def render(self, source: str, lang: str, body: str, body_line: int) -> Rendered:
        out = Rendered("")
        env: dict = {}
        tokens = self.md.parse(body, env)
        ctx = _Context(source, lang, body_line - 1, self.base, out)
        _heading_ids(tokens, ctx)
        _name_tables(tokens)
        _links(tokens, ctx)
        _raw_html(tokens)
        out.html = self._render(tokens, env, ctx)
        return out

    def _render(self, tokens: list[Token], env: dict, ctx: "_Context") -> str:
        parts, i = [], 0
        while i < len(tokens):
            tok = tokens[i]
            if tok.type != "container_component_open":
                start = i
                while i < len(tokens) and tokens[i].type != "container_component_open":
                    i += 1
                parts.append(self.md.renderer.render(tokens[start:i], self.md.options, env))
                continue
            end, depth = i + 1, 1
            while depth:
                depth += {"container_component_open": 1, "container_component_close": -1}.get(tokens[end].type, 0)
                end += 1
            parts.append(self._component(tok, tokens[i + 1:end - 1], env, ctx))
            i = end
        return "".join(parts)

    def _component(self, open_tok: Token, inner: list[Token], env: dict, ctx: "_Context") -> str:
        name, *args = split_args(open_tok.info)
        heading = None
        if len(inner) >= 3 and inner[0].type == "heading_open":
            heading = Heading(self.md.renderer.render(inner[1:2], self.md.options, env), int(inner[0].tag[1]),
                              inner[0].attrGet("id") or "")
            inner = inner[3:]
        blocks = [self._block(group, env, ctx) for group in _groups(inner)]
        body = "".join(b.html for b in blocks)
        line = ctx.line(open_tok)

        def link(url: str) -> str:
            """A file path written in the component's ::: line: checked like a link, rewritten to its published URL."""
            new = _resolve(url, "src", posixpath.dirname(ctx.source), ctx, line)
            url = url if new is None else new
            ctx.out.locations.setdefault(f"src={url}", line)
            return url

        try:
            return self.components(name, args, heading, body, blocks=blocks, link=link)
        except ComponentError as exc:
            ctx.out.problems.append(Problem(ctx.source, line, str(exc), exc.hint))
            return ""

    def _block(self, group: list[Token], env: dict, ctx: "_Context") -> Block:
        html = self._render(group, env, ctx)
        first = group[0]
        if first.type == "paragraph_open" and len(group) == 3:
            inner = self.md.renderer.render(group[1:2], self.md.options, env)
            kind = _paragraph_kind(group[1])
            if kind == "link":
                children = [c for c in group[1].children or [] if c.type not in ("softbreak", "hardbreak")]
                start = next(i for i, c in enumerate(children) if c.type == "link_open")
                end = max(i for i, c in enumerate(children) if c.type == "link_close")
                label = self.md.renderer.renderInline(children[start + 1:end], self.md.options, env)
                return Block(kind, html, inner.strip(), children[start].attrGet("href") or "", label)
            return Block(kind, html, inner.strip())
        kind = {"bullet_list_open": "list", "ordered_list_open": "list", "dl_open": "dl", "table_open": "table",
                "heading_open": "heading", "container_component_open": "component"}.get(first.type, "other")
        return Block(kind, html, html)


def _groups(tokens: list[Token]) -> list[list[Token]]:
    """Top-level blocks: each opening token with everything up to its closing one, or a single self-contained token."""
    groups, depth = [], 0
    for tok in tokens:
        if depth == 0:
            groups.append([])
        groups[-1].append(tok)
        depth += tok.nesting
    return groups


def _paragraph_kind(inline: Token) -> str:
    """"image" for a paragraph of only images, "link" for only one link, else "text"."""
    children = [c for c in inline.children or []
                if not (c.type in ("softbreak", "hardbreak") or (c.type == "text" and not c.content.strip()))]
    if children and all(c.type == "image" for c in children):
        return "image"
    if len(children) >= 2 and children[0].type == "link_open" and children[-1].type == "link_close" \
            and sum(c.type == "link_open" for c in children) == 1:
        return "link"
    return "text"


@dataclass
class _Context:
    source: str
    lang: str
    offset: int  # lines before the body
    base: str
    out: Rendered

    def line(self, block: Token, child_index: int = 0) -> int:
        """The file line of a block token, or of its child_index'th inline child."""
        line = (block.map[0] if block.map else 0) + 1 + self.offset
        if block.children and child_index:
            line += sum(1 for t in block.children[:child_index] if t.type in ("softbreak", "hardbreak"))
        return line

    def problem(self, line: int, message: str, hint: str = "") -> None:
        self.out.problems.append(Problem(self.source, line, message, hint))


def _heading_ids(tokens: list[Token], ctx: _Context) -> None:
    used: set[str] = set()
    previous = 1  # the page title is the h1
    for i, tok in enumerate(tokens):
        if tok.type != "heading_open":
            continue
        level = int(tok.tag[1])
        inline = tokens[i + 1]
        text = "".join(c.content for c in inline.children or [] if c.type in ("text", "code_inline"))
        if level == 1:
            ctx.problem(ctx.line(tok), "a heading 1 (#) in the body", "the title from the front matter is the page's only heading 1: use ## here")
        elif level > previous + 1:
            ctx.problem(ctx.line(tok), f"heading level {level} follows level {previous}: a level is skipped",
                        f"use {'#' * (previous + 1)} here; screen reader users move between headings by level")
        previous = level
        slug = base = tok.attrGet("id") or slugify(text)
        n = 1
        while slug in used:  # "step", "step-2", then a heading "Step 2" must not get "step-2" again
            n += 1
            slug = f"{base}-{n}"
        used.add(slug)
        tok.attrSet("id", slug)
        ctx.out.anchors.add(slug)
        ctx.out.locations.setdefault(f"#{slug}", ctx.line(tok))
        if level in (2, 3):
            ctx.out.toc.append((level, slug, text))


def _name_tables(tokens: list[Token]) -> None:
    """A table is named by the heading above it (or its header row), for screen readers and for its scroll region."""
    heading = ""
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            heading = tok.attrGet("id") or ""
        elif tok.type == "table_open":
            if heading:
                tok.meta["labelledby"] = heading
            else:
                cells = [t.content for t in tokens[i:] if t.type == "inline"][:4]
                tok.meta["label"] = ", ".join(cells)


def _table_open(renderer, tokens: list[Token], idx: int, options, env) -> str:
    """Tables scroll inside a focusable region (so keyboards can scroll them), never the page."""
    meta = tokens[idx].meta
    name = (f'aria-labelledby="{escapeHtml(meta["labelledby"])}"' if meta.get("labelledby")
            else f'aria-label="{escapeHtml(meta.get("label", ""))}"')
    return f'<div class="hp-table" role="region" tabindex="0" {name}>\n<table {name}>\n'


def _links(tokens: list[Token], ctx: _Context) -> None:
    """Rewrite relative .md links to page URLs and files to their published paths, and record them to check later."""
    page_dir = posixpath.dirname(ctx.source)
    for tok in tokens:
        if tok.type == "footnote_open":  # the ids markdown-it writes: fn1, fnref1
            ctx.out.anchors.update((f"fn{tok.meta['id'] + 1}", f"fnref{tok.meta['id'] + 1}"))
        if not tok.children or tok.type == "footnote_reference_open":
            continue
        for j, child in enumerate(tok.children):  # a page has hundreds: test the type first
            kind = child.type
            if kind == "footnote_anchor":
                if child.attrGet("id"):
                    ctx.out.anchors.add(child.attrGet("id"))
                continue
            attr = "href" if kind == "link_open" else "src" if kind == "image" else None
            url = child.attrGet(attr) if attr else None
            if url is None:
                continue
            line = ctx.line(tok, j)
            new = _resolve(url, attr, page_dir, ctx, line)
            if new is not None:
                child.attrSet(attr, new)
            ctx.out.locations.setdefault(f"{attr}={child.attrGet(attr)}", line)


def _resolve(url: str, attr: str, page_dir: str, ctx: _Context, line: int) -> str | None:
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


def _raw_html(tokens: list[Token]) -> None:
    """Authors' raw HTML: blocks go through nh3 with a small allow-list; inline tags only from a short list."""
    for tok in tokens:
        if tok.type == "html_block":
            tok.content = nh3.clean(tok.content, tags=BLOCK_TAGS, attributes=BLOCK_ATTRS, link_rel=None) + "\n"
        for child in tok.children or []:
            if child.type == "html_inline" and not INLINE_HTML.fullmatch(child.content.strip()):
                child.type, child.content = "text", child.content
