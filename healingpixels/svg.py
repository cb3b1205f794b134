"""SVG: sanitised with defusedxml, optimised with scour; icons into one sprite.

An SVG is a program as much as a picture: opened on its own (or inlined into a page) it can run scripts, follow
links and load things from other sites. Comms teams' files are treated as untrusted: `clean` parses them with
every DTD and entity refused, keeps only SVG elements, drops every script, event handler and reference that
leaves the file, then lets scour make it smaller and checks the result again before returning it.
"""
from __future__ import annotations

import functools
import html
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml.ElementTree import DefusedXMLParser

from .errors import Problem

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
_SVG = "{%s}" % SVG_NS
_XLINK_HREF = "{%s}href" % XLINK_NS

MAX_BYTES = 5 * 1024 * 1024  # a bigger "SVG" is a photo in disguise
MAX_DEPTH = 200  # deeper nesting is an attack on recursive parsers and renderers
MAX_RENDERED = 200_000  # elements drawn once every <use> is expanded: beyond this, a "use bomb"

# What a picture needs, from SVG 1.1 and 2. Everything else (script, foreignObject, handler, listener, the
# SVG 1.1 font and cursor elements that fetch files, HTML elements...) is removed.
ELEMENTS = frozenset("""
    a animate animateMotion animateTransform circle clipPath defs desc ellipse feBlend feColorMatrix
    feComponentTransfer feComposite feConvolveMatrix feDiffuseLighting feDisplacementMap feDistantLight
    feDropShadow feFlood feFuncA feFuncB feFuncG feFuncR feGaussianBlur feImage feMerge feMergeNode feMorphology
    feOffset fePointLight feSpecularLighting feSpotLight feTile feTurbulence filter g image line linearGradient
    marker mask mpath path pattern polygon polyline radialGradient rect set stop style svg switch symbol text
    textPath title tspan use view""".split())
ANIMATIONS = frozenset({"animate", "animateMotion", "animateTransform", "set"})
# Drawing-program bookkeeping: removed without a word, as scour would.
EDITOR_NAMESPACES = (
    "http://www.inkscape.org/namespaces/inkscape", "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
    "http://ns.adobe.com/", "http://www.bohemiancoding.com/sketch/ns", "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://purl.org/dc/elements/1.1/", "http://creativecommons.org/ns#", "http://www.serif.com/",
    "http://www.figma.com/figma/ns", "https://boxy-svg.com", "http://www.vectornator.io", "http://krita.org/",
)
RASTER_DATA = re.compile(r"data:image/(?:png|jpeg|jpg|webp|gif)[;,]")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028\u2029\u2060\ufeff]+")
_SCRIPT_SCHEMES = ("javascript:", "vbscript:", "livescript:")
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.S)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)\s*([^'\")]*)", re.I)
# CSS that loads or runs something: @import, IE's expression() and behavior, Firefox's old -moz-binding, and the
# functions that take a bare string as an address.
_CSS_DANGER = re.compile(r"@import|(?<![\w-])(?:expression|image-set|image|src|-webkit-image-set)\(|-moz-binding"
                         r"|(?<![\w-])behavior:")
ICON_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")

# The one DOCTYPE that Illustrator, Affinity, Graphviz and draw.io all still write: W3C's public SVG DTD with no
# internal subset. It declares nothing and nothing loads it (external DTDs are never read), so it is harmless and
# dropped; every other DOCTYPE, and every entity declaration, is refused. An empty set refuses them all.
SVG_DOCTYPES = frozenset({"-//W3C//DTD SVG 1.0//EN", "-//W3C//DTD SVG 1.1//EN", "-//W3C//DTD SVG 1.1 Basic//EN",
                          "-//W3C//DTD SVG 1.1 Tiny//EN", "-//W3C//DTD SVG 20010904//EN"})
REFUSED_DTD = ("has a DOCTYPE or entity declarations, which can read files or exhaust memory; "
               "export the SVG again without them")
HINT_EXPORT = "export the SVG again as a plain picture (no scripts, links, embedded pages or files from elsewhere)"
HINT_FOREIGN = ("text inside <foreignObject> is a web page inside the picture; its plain-text fallback is shown "
                'instead (in draw.io, export with "Convert labels to SVG" ticked)')

# scour: keep viewBox, <title>, <desc>, role and aria-*; keep every id (pages may point at them); drop editor data
# and comments; 5 significant digits. embed_rasters is off: on, scour reads any file or URL an <image> names
# and pastes it into the output.
_SCOUR_ARGS = [
    "--enable-viewboxing", "--set-precision=5", "--set-c-precision=5", "--enable-comment-stripping",
    "--remove-metadata", "--strip-xml-prolog", "--indent=none", "--no-line-breaks", "--disable-embed-rasters",
    "--quiet",
]
_SCOUR_LOCK = threading.Lock()  # scour keeps its state in module globals


@functools.cache
def _scour():
    """scour and its options, imported when an SVG is first optimised (a rebuild that reuses every SVG does not)."""
    from scour import scour

    return scour, scour.sanitizeOptions(scour.parse_args(_SCOUR_ARGS))


@dataclass(frozen=True)
class CleanResult:
    """The cleaned SVG (b"" when refused), what was wrong, and its size before and after."""

    data: bytes
    problems: list[Problem] = field(default_factory=list)
    before: int = 0
    after: int = 0
    size: tuple[float, float] | None = None  # width, height as drawn (from width/height or the viewBox)

    @property
    def ok(self) -> bool:
        return bool(self.data) and not any(p.severity == "error" for p in self.problems)

    @property
    def saved(self) -> int:
        return self.before - self.after if self.data else 0


class _Refused(Exception):
    def __init__(self, message: str, line: int | None = None, hint: str = ""):
        super().__init__(message)
        self.message, self.line, self.hint = message, line, hint


class _LineBuilder(TreeBuilder):
    """A tree builder that remembers the line each element starts on, so problems can point at it."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[int, int] = {}
        self.parser: DefusedXMLParser | None = None
        self.depth = 0

    def start(self, tag, attrs):  # noqa: ANN001, ANN201 - TreeBuilder's signature
        element = super().start(tag, attrs)
        self.depth += 1
        line = self.parser.parser.CurrentLineNumber if self.parser else None
        if self.depth > MAX_DEPTH:
            raise _Refused(f"nests elements more than {MAX_DEPTH} deep", line, "simplify the drawing")
        if line:
            self.lines[id(element)] = line
        return element

    def end(self, tag):  # noqa: ANN001, ANN201
        self.depth -= 1
        return super().end(tag)


def _doctype(name: str, sysid: str | None, pubid: str | None, has_internal_subset: bool) -> None:
    if has_internal_subset or name != "svg" or pubid not in SVG_DOCTYPES or not (
            sysid or "").startswith(("http://www.w3.org/", "https://www.w3.org/")):
        raise DTDForbidden(name, sysid, pubid)


def _parse(data: bytes) -> tuple[Element, dict[int, int]]:
    builder = _LineBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.parser.StartDoctypeDeclHandler = _doctype  # forbid_dtd, less the one harmless DOCTYPE above
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException as error:
        raise _Refused(REFUSED_DTD) from error
    except ParseError as error:
        line = error.position[0] if getattr(error, "position", None) else None
        raise _Refused(f"is not a well-formed SVG file ({error.msg if hasattr(error, 'msg') else error})", line,
                       "open it in a drawing program and export it again as SVG") from error
    return root, builder.lines


def _squash(value: str) -> str:
    """A value as a browser's URL parser sees it: no whitespace or invisible characters, lower case."""
    return _INVISIBLE.sub("", value).lower()


def _has_script_url(value: str) -> bool:
    squashed = _squash(value)
    return any(s in squashed for s in _SCRIPT_SCHEMES)


def _is_fragment(value: str) -> bool:
    value = value.strip()
    return value.startswith("#") and len(value) > 1 and not _has_script_url(value)


def _css_decoded(text: str) -> str:
    text = _CSS_COMMENT.sub("", text)
    text = _CSS_ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] and 0 < int(m[1], 16) < 0x110000 else (m[2] or ""),
                           text)
    return _INVISIBLE.sub(" ", text).lower()


def _css_danger(text: str) -> str | None:
    """Why this CSS may not stay (it loads or runs something), or None."""
    css = _css_decoded(text)
    if match := _CSS_DANGER.search(re.sub(r"\s+", "", css)):
        return match[0].rstrip("(:")
    if any(s in css.replace(" ", "") for s in _SCRIPT_SCHEMES):
        return "javascript:"
    for match in _CSS_URL.finditer(css):
        if not match[2].strip().startswith("#"):
            return "url() to another file"
    return None


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def _is_editor(ns: str) -> bool:
    return any(ns.startswith(e) for e in EDITOR_NAMESPACES)


class _Report:
    """Removals, counted by what was removed, each with the first line it was seen on."""

    def __init__(self, source: str, lines: dict[int, int]):
        self.source, self.lines = source, lines
        self.found: dict[str, list] = {}

    def __call__(self, element: Element, what: str, hint: str = HINT_EXPORT) -> None:
        entry = self.found.setdefault(what, [self.lines.get(id(element)), 0, hint])
        entry[1] += 1

    def problems(self) -> list[Problem]:
        out = []
        for what, (line, count, hint) in self.found.items():
            times = f" ({count} times)" if count > 1 else ""
            out.append(Problem(self.source, line, f"removed {what}{times}: it could run code or load files from "
                               "elsewhere when the SVG is opened", hint, "warning"))
        return out


def _href(element: Element) -> str | None:
    return element.get("href", element.get(_XLINK_HREF))


def _sanitise(root: Element, report: _Report) -> None:
    """Remove, in place, everything that could run code or reach outside the file."""
    ns, name = _local(root.tag)
    if name != "svg" or ns not in (SVG_NS, ""):
        raise _Refused("is not an SVG file (its outermost element is not <svg>)", report.lines.get(id(root)),
                       "export the drawing as SVG")
    if ns == "":  # no xmlns: browsers would not draw it; it is plainly meant to be SVG
        for element in root.iter():
            if not element.tag.startswith("{"):
                element.tag = _SVG + element.tag
    _clean_attributes(root, report)
    stack = [root]
    while stack:
        parent = stack.pop()
        for child in list(parent):
            if _keep(child, report):
                _clean_attributes(child, report)
                stack.append(child)
            else:
                _remove(parent, child)
    for switch in list(root.iter(_SVG + "switch")):
        _settle_switch(switch)


def _settle_switch(switch: Element) -> None:
    """A <switch> draws its first child whose conditions hold. requiredFeatures always holds in browsers now, so
    children after the first one with no other condition are never drawn: remove them, before scour drops an empty
    first child and brings one of them to light (draw.io's "Viewer does not support full SVG 1.1" link)."""
    for index, child in enumerate(switch):
        if not any(key in child.attrib for key in ("requiredExtensions", "systemLanguage")):
            for later in list(switch)[index + 1:]:
                _remove(switch, later)
            return


def _keep(element: Element, report: _Report) -> bool:
    if not isinstance(element.tag, str):  # a comment or processing instruction
        return False
    ns, name = _local(element.tag)
    if ns != SVG_NS:
        if not _is_editor(ns):
            report(element, f"<{name}> (not part of SVG)")
        return False
    if name == "metadata":
        return False
    if name not in ELEMENTS:
        report(element, f"<{name}>", HINT_FOREIGN if name == "foreignObject" else HINT_EXPORT)
        return False
    href = _href(element)
    if name == "a" and href is not None and not _is_fragment(href):
        report(element, "a link to another page (its drawing is kept)")
        element.tag = _SVG + "g"
        for attr in ("href", _XLINK_HREF, "target", "download", "ping", "rel", "referrerpolicy", "hreflang", "type"):
            element.attrib.pop(attr, None)
    elif name in ("use", "image", "feImage") and href is not None and not _is_fragment(href):
        if name == "use" or not RASTER_DATA.match(_squash(href)):
            report(element, f"<{name}> that loads a file from elsewhere")
            return False
    elif name in ANIMATIONS:
        target = _squash(element.get("attributeName", "")).rpartition(":")[2]
        if target in ("href", "style") or target.startswith("on"):
            report(element, f"<{name}> that changes {target or 'an attribute'}")
            return False
    elif name == "style":
        for child in list(element):
            element.remove(child)
        why = _css_danger(element.text or "")
        if why:
            report(element, f"<style> using {why}")
            return False
    return True


def _clean_attributes(element: Element, report: _Report) -> None:
    _, name = _local(element.tag)
    for attr, value in list(element.attrib.items()):
        ns, local = _local(attr)
        if ns == XLINK_NS and local == "href":
            local = "href"
        elif ns == XML_NS and local in ("space", "lang"):
            continue
        elif ns:  # xml:base, editor data, attributes from other vocabularies: inert at best
            del element.attrib[attr]
            continue
        if local.lower().startswith("on"):
            report(element, f"the event handler attribute {local}")
        elif _has_script_url(value):
            report(element, f'a javascript: address in {local}="…"')
        elif local == "href" and not _is_fragment(value) and not (
                name in ("image", "feImage") and RASTER_DATA.match(_squash(value))):
            report(element, f"a reference to another file in {local}")
        elif local == "style" and (why := _css_danger(value)):
            report(element, f'style="…" using {why}')
        elif local != "style" and "url(" in _squash(value) and _css_danger(value):
            report(element, f"a reference to another file in {local}")
        elif local == "ping":
            report(element, "ping")
        else:
            continue
        del element.attrib[attr]
    # One spelling of href, xlink:href, which scour understands; `_plain_hrefs` turns them back after it.
    if "href" in element.attrib:
        element.set(_XLINK_HREF, element.attrib.pop("href"))


def _remove(parent: Element, child: Element) -> None:
    """Remove an element but keep the text that followed it (it matters inside <text>)."""
    if child.tail:
        index = list(parent).index(child)
        if index:
            before = parent[index - 1]
            before.tail = (before.tail or "") + child.tail
        else:
            parent.text = (parent.text or "") + child.tail
    parent.remove(child)


def _check_use_expansion(root: Element) -> None:
    """Refuse drawings whose <use> elements multiply into more than MAX_RENDERED elements, or refer in a loop."""
    ids = {e.get("id"): e for e in root.iter() if e.get("id")}
    memo: dict[int, int] = {}
    visiting: set[int] = set()

    def count(element: Element) -> int:
        key = id(element)
        if key in memo:
            return memo[key]
        if key in visiting:
            raise _Refused("has <use> elements that refer to each other in a loop", None, "export the SVG again")
        visiting.add(key)
        total = 1 + sum(count(child) for child in element)
        href = _href(element)
        if element.tag == _SVG + "use" and href and href.strip()[1:] in ids:
            total += count(ids[href.strip()[1:]])
        visiting.discard(key)
        memo[key] = total = min(total, MAX_RENDERED + 1)
        return total

    try:
        if count(root) > MAX_RENDERED:
            raise _Refused(f"draws more than {MAX_RENDERED:,} shapes once its <use> copies are counted", None,
                           "simplify the drawing")
    except RecursionError as error:
        raise _Refused("has <use> references nested too deeply", None, "simplify the drawing") from error


def _plain_hrefs(root: Element) -> None:
    for element in root.iter():
        if _XLINK_HREF in element.attrib:
            element.set("href", element.attrib.pop(_XLINK_HREF))


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(value: str) -> str:
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


def _serialise(root: Element, xmlns: bool = True) -> str:
    """SVG-namespace tree -> markup with SVG as the default namespace; iterative, so depth never overflows."""
    out: list[str] = []
    stack: list[tuple[Element, bool]] = [(root, False)]
    while stack:
        element, closing = stack.pop()
        name = _local(element.tag)[1]
        if closing:
            out.append(f"</{name}>")
            if element.tail and element is not root:
                out.append(_escape_text(element.tail))
            continue
        attrs = []
        if element is root and xmlns:
            attrs.append(f' xmlns="{SVG_NS}"')
            if any(_XLINK_HREF in e.attrib for e in root.iter()):
                attrs.append(f' xmlns:xlink="{XLINK_NS}"')
        for key, value in element.attrib.items():
            ns, local = _local(key)
            key = {XLINK_NS: "xlink:", XML_NS: "xml:"}.get(ns, "") + local
            attrs.append(f' {key}="{_escape_attr(value)}"')
        if len(element) == 0 and not element.text:
            out.append(f"<{name}{''.join(attrs)}/>")
            if element.tail and element is not root:
                out.append(_escape_text(element.tail))
            continue
        out.append(f"<{name}{''.join(attrs)}>")
        if element.text:
            out.append(_escape_text(element.text))
        stack.append((element, True))
        stack.extend((child, False) for child in reversed(element))
    return "".join(out)


def _sanitised(data: bytes, source: str) -> tuple[Element, list[Problem]]:
    if len(data) > MAX_BYTES:
        raise _Refused(f"is {len(data) // 1024:,} KB, more than an SVG for the web should be "
                       f"({MAX_BYTES // 1024 // 1024} MB)", None,
                       "simplify the drawing, or save a photo as JPEG rather than SVG")
    if re.search(rb"<\?xml-stylesheet", data[:4096], re.I):
        problems = [Problem(source, None, "removed an xml-stylesheet instruction: it loads a file from elsewhere",
                            HINT_EXPORT, "warning")]
    else:
        problems = []
    root, lines = _parse(data)
    report = _Report(source, lines)
    _sanitise(root, report)
    _check_use_expansion(root)
    return root, problems + report.problems()


def clean(data: bytes, source: str) -> CleanResult:
    """Sanitise and optimise one SVG. `source` names the file in problems (e.g. "content/images/a.svg").

    Refused files (DOCTYPE or entities, not well-formed, not SVG, too big) give b"" and an error Problem; removed
    parts give warnings. The output is deterministic, UTF-8, with no XML prolog."""
    before = len(data)
    try:
        root, problems = _sanitised(data, source)
    except _Refused as refused:
        return CleanResult(b"", [Problem(source, refused.line, refused.message, refused.hint)], before, 0)
    size = _intrinsic_size(root)
    sanitised = _serialise(root)
    try:
        scour, options = _scour()
        with _SCOUR_LOCK:
            optimised = scour.scourString(sanitised, options)
    except Exception as error:  # noqa: BLE001 - scour fails in many ways on odd input; the sanitised file will do
        problems.append(Problem(source, None, f"could not be optimised ({type(error).__name__}: {error}); "
                                "it is published cleaned but not made smaller", "", "warning"))
        optimised = sanitised
    try:  # never trust the optimiser's output blindly: parse and check it again
        root, again = _sanitised(optimised.encode("utf-8"), source)
    except _Refused as refused:
        return CleanResult(b"", [*problems, Problem(source, refused.line, "could not be made safe: " +
                                                    refused.message, refused.hint)], before, 0)
    seen = {p.message for p in problems}
    problems += [p for p in again if p.message not in seen]
    _plain_hrefs(root)
    out = _serialise(root).encode("utf-8")
    return CleanResult(out, problems, before, len(out), size)


def _intrinsic_size(root: Element) -> tuple[float, float] | None:
    """The size the drawing was made at, for <img width height>: scour's viewboxing drops width and height."""
    def number(value: str | None) -> float | None:
        match = re.fullmatch(r"\s*(\d*\.?\d+)\s*(?:px)?\s*", value or "")
        return float(match[1]) if match and float(match[1]) > 0 else None

    width, height = number(root.get("width")), number(root.get("height"))
    box = re.split(r"[\s,]+", (root.get("viewBox") or "").strip())
    try:
        vw, vh = (float(box[2]), float(box[3])) if len(box) == 4 else (0.0, 0.0)
    except ValueError:
        vw = vh = 0.0
    if width and height:
        return width, height
    if vw > 0 and vh > 0:
        if width:
            return width, width * vh / vw
        if height:
            return height * vw / vh, height
        return vw, vh
    return None


# Sprites -------------------------------------------------------------------------------------------------------

_SYMBOL_DROPS = frozenset({"xmlns", "width", "height", "x", "y", "version", "baseProfile", "id", "role", "class",
                           "style", "focusable", "tabindex", "lang", "contentScriptType", "contentStyleType"})
_URL_REF = re.compile(r"url\(\s*(['\"]?)#([^'\")\s]+)\1\s*\)")


def sprite(icons: Mapping[str, bytes], problems: list[Problem] | None = None) -> bytes:
    """One SVG of <symbol id="icon-NAME">, sorted by name. Every icon is cleaned again here (pass `clean`ed bytes
    to get problems that name the right file); refused icons and bad names are left out, with a Problem appended to
    `problems` naming the icon. Symbols lose <title>/<desc> (the label comes from `inline_use`), <style> and style=
    (the site's Content-Security-Policy blocks inline styles), and their ids are prefixed with icon-NAME- so two
    icons, or an icon and the page, never share one."""
    found = problems if problems is not None else []
    out = Element(_SVG + "svg")
    for name in sorted(icons):
        if not ICON_NAME.fullmatch(name):
            found.append(Problem(name, None, "is not a usable icon name", "name icons with letters, digits, - and _"))
            continue
        result = clean(icons[name], name)
        found += [p for p in result.problems if p.severity == "error"]
        if not result.ok:
            continue
        root, _ = _parse(result.data)
        symbol = _symbol(root, name, found)
        if symbol is not None:
            out.append(symbol)
    return _serialise(out).encode("utf-8")


def _symbol(root: Element, name: str, problems: list[Problem]) -> Element | None:
    view_box = root.get("viewBox")
    if not view_box:
        problems.append(Problem(name, None, "has no viewBox (or width and height), so it cannot be scaled",
                                'export it again with a viewBox, like viewBox="0 0 24 24"'))
        return None
    symbol = Element(_SVG + "symbol", {"id": f"icon-{name}", "viewBox": view_box})
    for key, value in root.attrib.items():  # presentation attributes (fill="none", stroke="currentColor"...)
        if key not in _SYMBOL_DROPS and key != "viewBox" and not key.startswith(("aria-", "data-", "{")):
            symbol.set(key, value)
    symbol.text = root.text
    styled = False
    for child in list(root):
        if child.tag in (_SVG + "title", _SVG + "desc", _SVG + "style"):
            styled |= child.tag == _SVG + "style"
            _remove(root, child)
        else:
            symbol.append(child)
    prefix = f"icon-{name}-"
    ids = {e.get("id") for e in symbol.iter() if e.get("id") and e is not symbol}
    for element in symbol.iter():
        if element is symbol:
            continue
        if "style" in element.attrib:
            styled = True
            del element.attrib["style"]
        for key, value in list(element.attrib.items()):
            if key == "id":
                element.set(key, prefix + value)
            elif key == "href" and value.startswith("#") and value[1:] in ids:
                element.set(key, f"#{prefix}{value[1:]}")
            elif key in ("aria-labelledby", "aria-describedby"):
                element.set(key, " ".join(prefix + t if t in ids else t for t in value.split()))
            elif "url(" in value:
                element.set(key, _URL_REF.sub(lambda m: f"url(#{prefix}{m[2]})" if m[2] in ids else m[0], value))
    if styled:
        problems.append(Problem(name, None, "uses <style> or style=\"…\", which pages' Content-Security-Policy "
                                "blocks; "
                                "they were left out of the sprite, so the icon may look different",
                                "use fill and stroke attributes (fill=\"currentColor\" follows the text colour)",
                                "warning"))
    return symbol


@functools.lru_cache(maxsize=8)
def _symbols(sprite_bytes: bytes) -> dict[str, str]:
    root, _ = _parse(sprite_bytes)
    symbols = {}
    for symbol in root.findall(_SVG + "symbol"):
        symbol.tail = None
        symbols[symbol.get("id", "").removeprefix("icon-")] = _serialise(symbol, xmlns=False)
    return symbols


def symbol_names(sprite_bytes: bytes) -> set[str]:
    """The icon names a sprite has, to check a page's icons against."""
    return set(_symbols(sprite_bytes))


def subset(sprite_bytes: bytes, names) -> str:  # noqa: ANN001 - any iterable of names
    """A hidden inline <svg> with only the named symbols (sorted; unknown names are skipped: check them with
    `symbol_names`), for the top of <body>. Give it `.hp-sprite{position:absolute}` in CSS so it takes no line;
    it is not display:none, which would break gradients and clip paths inside the symbols."""
    symbols = _symbols(sprite_bytes)
    chosen = [symbols[n] for n in sorted(set(names)) if n in symbols]
    if not chosen:
        return ""
    return ('<svg class="hp-sprite" width="0" height="0" aria-hidden="true" focusable="false">'
            + "".join(chosen) + "</svg>")


def inline_use(name: str, label: str | None = None) -> str:
    """Markup that draws one icon from the page's sprite: decorative (hidden from screen readers) without a label,
    an image named by `label` with one."""
    href = html.escape(f"#icon-{name}", quote=True)
    if label:
        return (f'<svg class="hp-icon" role="img" focusable="false"><title>{html.escape(label, quote=True)}</title>'
                f'<use href="{href}"/></svg>')
    return f'<svg class="hp-icon" aria-hidden="true" focusable="false"><use href="{href}"/></svg>'


def inline_symbol(sprite_bytes: bytes, name: str, css_class: str = "hp-icon") -> str | None:
    """One symbol of a sprite as a standalone, decorative inline <svg> (hidden from screen readers, never focused),
    for a page that draws a few small icons where it uses them instead of carrying a sprite. None if there is no
    such symbol. The symbol must have no ids: the same icon may appear twice on a page."""
    symbol = _symbols(sprite_bytes).get(name)
    if symbol is None:
        return None
    head, _, rest = symbol.partition(">")
    attrs = re.sub(r'^<symbol\s+id="[^"]*"', "", head)
    return (f'<svg class="{html.escape(css_class, quote=True)}" aria-hidden="true" focusable="false" '
            f'width="24" height="24"{attrs}>' + rest.removesuffix("</symbol>") + "</svg>")
