"""Design tokens: load, resolve aliases, check contrast, compile to CSS."""
from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError, Problem

TOKENS_FILE = "tokens.json"
EXTENSION = "org.healingpixels"  # our key inside the root "$extensions" (DTCG reverse-domain convention)
PREFIX = "--hp-"
DEFAULT_MODE = "light"  # the mode written to plain :root
HIGH_CONTRAST = "high-contrast"  # text pairs in this mode are held to 1.4.6 (AAA)
MODE_MEDIA = {"dark": "(prefers-color-scheme: dark)", HIGH_CONTRAST: "(prefers-contrast: more)"}

# (kind, criterion) -> minimum ratio. Declared 1.4.3 text pairs are raised to 1.4.6 in high-contrast;
# non-text stays at 3:1 there, as WCAG asks for nothing more (the shipped tokens give far more).
RATIOS = {("text", "1.4.3"): 4.5, ("large-text", "1.4.3"): 3.0, ("text", "1.4.6"): 7.0,
          ("large-text", "1.4.6"): 4.5, ("non-text", "1.4.11"): 3.0, ("non-text", "2.4.13"): 3.0}
DEFAULT_CRITERION = {"text": "1.4.3", "large-text": "1.4.3", "non-text": "1.4.11"}

# Windows High Contrast / forced colours: the browser repaints color and background itself, but any token
# used in a border, outline, SVG fill or box-shadow could vanish, so pin those to system colours.
FORCED_COLORS = (("color.focus.ring", "Highlight"), ("color.focus.bg-on-focus", "Highlight"),
                 ("color.focus.text-on-focus", "HighlightText"), ("color.link.", "LinkText"),
                 ("color.button.bg", "ButtonFace"), ("color.button.text", "ButtonText"),
                 ("color.border.", "CanvasText"), ("color.do", "CanvasText"), ("color.dont", "CanvasText"))

ALIAS = re.compile(r"\{([^{}\s]+)\}")
HEX = re.compile(r"#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
RGB = re.compile(r"rgba?\(([^()]*)\)", re.IGNORECASE)
LEXEME = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')  # enough of JSON to find where keys are
GENERIC_FONTS = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "ui-sans-serif",
                 "ui-serif", "ui-monospace", "ui-rounded", "math", "emoji", "fangsong", "-apple-system"}
COLOR_HINT = "write a colour as #rgb, #rrggbb, #rrggbbaa, rgb(r g b) or rgba(r, g, b, a)"

# A site's own web font (opt-in): a fontFamily token whose $extensions name its files, one per weight and style.
WEBFONT = "font.webfont"
WEBFONT_STACKS = ("font.family.latin", "font.family.cyrillic")  # the stacks it goes first in
FACE_KEY = re.compile(r"([1-9]00)(italic)?")  # "400", "700", "400italic"
FONT_MAGIC = (b"\x00\x01\x00\x00", b"true", b"OTTO", b"wOFF", b"wOF2")  # TrueType, OpenType (CFF), WOFF, WOFF2
WEBFONT_EXAMPLE = ('"webfont": {"$type": "fontFamily", "$value": "Source Sans 3", "$extensions": {"org.healingpixels": '
                   '{"files": {"400": "fonts/SourceSans3-Regular.otf", "700": "fonts/SourceSans3-Bold.otf"}}}} '
                   'inside "font"')

Source = tuple[str, int | None]  # (file relative to the site root, line)


@dataclass(frozen=True)
class Pair:
    """A declared contrast pair: semantic colour paths (without the mode prefix) and how to judge them."""

    foreground: str
    background: str
    kind: str  # text | large-text | non-text
    criterion: str  # 1.4.3 | 1.4.6 | 1.4.11 | 2.4.13
    file: str
    line: int | None


@dataclass(frozen=True)
class FontFace:
    """One file of a web font: the weight and style it is for, and where the tokens name it (for messages)."""

    weight: int  # 100 ... 900
    style: str  # normal | italic
    path: Path  # the font file (TrueType, OpenType, WOFF or WOFF2)
    name: str  # the path as the tokens give it, relative to the site root
    file: str  # the tokens file ...
    line: int | None  # ... and the line that names it


@dataclass(frozen=True)
class WebFont:
    family: str  # "Source Sans 3"
    faces: tuple[FontFace, ...]

    @property
    def css_name(self) -> str:
        return _font_name(self.family)


@dataclass
class TokenSet:
    """Resolved tokens. Paths are dotted; mode tokens drop their "mode.<name>." prefix."""

    modes: dict[str, dict[str, str]]  # mode name -> {path -> CSS value}
    shared: dict[str, str]  # path -> CSS value (palette, typography, spacing, ...)
    pairs: list[Pair]
    sources: dict[str, Source]  # full dotted path (with "mode.<name>.") -> where it was defined
    types: dict[str, str]  # full dotted path -> $type (inherited from groups)
    files: list[str]  # the tokens files read, theme first
    webfont: WebFont | None = None  # a self-hosted font the site names in font.webfont; None: system fonts only


# ---------------------------------------------------------------- loading

def load(theme_dir: Path, override: Path | None = None, root: Path | None = None) -> TokenSet:
    """Read the theme's tokens, deep-merge a site's override over them, resolve aliases, validate."""
    problems: list[Problem] = []
    documents = [_read(path, root, problems) for path in [theme_dir / TOKENS_FILE, override] if path]
    if problems:
        raise BuildError(problems)
    tree, sources, pairs = _combine(documents, problems)
    raw, types = _flatten(tree, sources, problems)
    values = _resolve(raw, sources, problems)
    webfont = _webfont(tree, types, sources, {name: lines for name, _, lines in documents},
                       root or (override.parent if override else theme_dir), problems)
    _check_colours(values, raw, types, sources, problems)
    modes, shared = _split(values, tree.get("mode"), sources, problems)
    if DEFAULT_MODE not in modes:
        problems.append(Problem(documents[0][0], None, f'no "mode": {{"{DEFAULT_MODE}": ...}} group',
                                "the default colours are defined there"))
    if not problems:  # a pair naming a token that failed above would only repeat that problem
        _check_pairs(pairs, modes, types, problems)
    if problems:
        raise BuildError(problems)
    if webfont:
        _put_first(webfont, shared)
    return TokenSet(modes, shared, pairs, sources, types, [d[0] for d in documents], webfont)


def _combine(documents: list[tuple[str, dict, dict]], problems: list[Problem]):
    """Deep-merge the files in order; remember which file (and line) each node came from."""
    tree: dict = {}
    origin: dict[tuple, str] = {}
    lines: dict[str, dict[tuple, int]] = {}
    pairs: dict[tuple[str, str], Pair] = {}
    for name, data, key_lines in documents:
        lines[name] = key_lines
        _merge(tree, data, (), origin, name)
        for pair in _pairs(data, name, key_lines, problems):
            pairs[pair.foreground, pair.background] = pair  # a site may re-declare a theme pair
    sources = {".".join(p): (f, lines[f].get(p)) for p, f in origin.items()}
    return tree, sources, list(pairs.values())


def _relative(path: Path, root: Path | None) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix() if root else path.as_posix()
    except ValueError:  # outside the site: show it as given
        return path.as_posix()


def _read(path: Path, root: Path | None, problems: list[Problem]) -> tuple[str, dict, dict]:
    name = _relative(path, root)
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text)
    except FileNotFoundError:
        problems.append(Problem(name, None, "tokens file not found",
                                'check the path given as tokens = "..." under [theme] in site.toml'))
        return name, {}, {}
    except UnicodeDecodeError:
        problems.append(Problem(name, None, "tokens file is not UTF-8 text", "save it as UTF-8"))
        return name, {}, {}
    except OSError as e:
        problems.append(Problem(name, None, f"cannot read tokens file: {e.strerror}"))
        return name, {}, {}
    except json.JSONDecodeError as e:
        problems.append(Problem(name, e.lineno, f"invalid JSON: {e.msg} (column {e.colno})",
                                "look for a missing comma or quote, or a trailing comma, on this line or the one before"))
        return name, {}, {}
    if not isinstance(data, dict):
        problems.append(Problem(name, 1, "a tokens file must be a JSON object { ... }"))
        return name, {}, {}
    key_lines, duplicates = _key_lines(text)
    for path, line in duplicates:
        problems.append(Problem(name, line, f'"{".".join(map(str, path))}" is defined twice in this file',
                                "JSON keeps only the last one; rename or remove one of them"))
    return name, data, key_lines


def _key_lines(text: str) -> tuple[dict[tuple, int], list[tuple[tuple, int]]]:
    """Map the path of every object key and array element to its line (text is already valid JSON)."""
    lines: dict[tuple, int] = {}
    duplicates: list[tuple[tuple, int]] = []
    stack: list[dict] = []  # open containers: {"path", "array", "index" (arrays), "keys" (objects)}
    key, last, line, pos = None, "", 1, 0
    for m in LEXEME.finditer(text):
        line += text.count("\n", pos, m.start())
        pos, token = m.start(), m.group()
        if token == ":":
            key = json.loads(last)
            path = (*stack[-1]["path"], key)
            if key in stack[-1]["keys"]:
                duplicates.append((path, line))
            stack[-1]["keys"].add(key)
            lines[path] = line
        elif token in "{[":
            if not stack:
                path = ()
            elif stack[-1]["array"]:
                path = (*stack[-1]["path"], stack[-1]["index"])
                lines[path] = line
            else:
                path = (*stack[-1]["path"], key)
            stack.append({"path": path, "array": token == "[", "index": 0, "keys": set()})
        elif token in "}]":
            stack.pop()
        elif token == ",":
            stack[-1]["index"] += 1
        else:
            last = token
    return lines, duplicates


def _merge(base: dict, over: dict, path: tuple, origin: dict[tuple, str], name: str) -> None:
    """Deep-merge groups; a token (or anything not a group on both sides) is replaced whole."""
    for key, value in over.items():
        here = (*path, key)
        if _is_group(value) and _is_group(base.get(key)):
            origin.setdefault(here, name)
            _merge(base[key], value, here, origin, name)
        else:
            base[key] = value
            _mark(value, here, origin, name)


def _is_group(node: object) -> bool:
    return isinstance(node, dict) and "$value" not in node


def _mark(node: object, path: tuple, origin: dict[tuple, str], name: str) -> None:
    origin[path] = name
    if _is_group(node):
        for key, value in node.items():
            _mark(value, (*path, key), origin, name)


def _pairs(data: dict, name: str, key_lines: dict, problems: list[Problem]) -> list[Pair]:
    where = ("$extensions", EXTENSION, "contrast-pairs")
    declared: object = data
    for key in where:
        declared = declared.get(key, []) if isinstance(declared, dict) else []
    pairs = []
    if not isinstance(declared, list):
        problems.append(Problem(name, key_lines.get(where), "contrast-pairs must be a list [ ... ]"))
        declared = []
    for i, item in enumerate(declared):
        line = key_lines.get((*where, i))
        kind = item.get("kind", "text") if isinstance(item, dict) else None
        criterion = item.get("criterion", DEFAULT_CRITERION.get(kind)) if kind else None
        if not (isinstance(item, dict) and {"foreground", "background"} <= item.keys()):
            problems.append(Problem(name, line, "a contrast pair needs a foreground and a background",
                                    'like {"foreground": "color.text.default", "background": "color.surface.page", '
                                    '"kind": "text", "criterion": "1.4.3"}'))
        elif (kind, criterion) not in RATIOS:
            problems.append(Problem(name, line, f'contrast pair has kind "{kind}" and criterion "{criterion}"',
                                    "kind is text or large-text (criterion 1.4.3 or 1.4.6), "
                                    "or non-text (criterion 1.4.11 or 2.4.13)"))
        else:
            pairs.append(Pair(item["foreground"], item["background"], kind, criterion, name, line))
    return pairs


def _flatten(tree: dict, sources: dict[str, Source], problems: list[Problem]):
    """Walk groups to tokens: {path -> raw CSS text} and {path -> $type}, with $type inherited."""
    raw: dict[str, str] = {}
    types: dict[str, str] = {}

    def walk(node: dict, path: str, type_: str | None) -> None:
        type_ = node.get("$type", type_)
        if "$value" in node:
            raw[path], types[path] = _css_value(node["$value"], type_), type_ or ""
            return
        children = {k: v for k, v in node.items() if not k.startswith("$")}
        if path and not children:
            problems.append(Problem(*sources[path], f"{path} has no $value", 'add "$value": ...'))
        for key, child in children.items():
            here = f"{path}.{key}" if path else key
            if isinstance(child, dict):
                walk(child, here, type_)
            else:
                problems.append(Problem(*sources[here], f"{here} has no $value",
                                        f'write "{key}": {{"$value": {json.dumps(child, ensure_ascii=False)}}}'))

    walk(tree, "", None)
    for path in raw:
        types[path] = _alias_type(path, raw, types)
    return raw, types


def _alias_type(path: str, raw: dict[str, str], types: dict[str, str]) -> str:
    """DTCG: a token without $type takes the type of the token its whole value aliases."""
    seen = {path}
    while not types[path] and (m := ALIAS.fullmatch(raw[path])) and (target := _target(m.group(1), path, raw)):
        if target in seen:
            break  # a cycle; _resolve reports it
        seen.add(target)
        path = target
    return types[path]


def _css_value(value: object, type_: str | None) -> str:
    """Turn a DTCG $value into CSS text; aliases stay as {path} until resolved."""
    if isinstance(value, dict) and {"value", "unit"} <= value.keys():  # DTCG dimension/duration object
        return f"{_number(value['value'])}{value['unit']}"
    if isinstance(value, list) and type_ == "cubicBezier":
        return f"cubic-bezier({', '.join(_number(v) for v in value)})"
    if isinstance(value, list):  # fontFamily
        return ", ".join(_font_name(str(v)) for v in value)
    if type_ == "fontFamily" and isinstance(value, str) and "," not in value and not value.startswith(("'", '"')):
        return _font_name(value)  # DTCG: a string is one family, quoted when CSS needs it ("Source Sans 3")
    if isinstance(value, bool):
        return str(value).lower()
    return _number(value) if isinstance(value, (int, float)) else str(value)


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _font_name(name: str) -> str:
    if name in GENERIC_FONTS or ALIAS.fullmatch(name) or re.fullmatch(r"[A-Za-z-]+", name):
        return name
    return json.dumps(name, ensure_ascii=False)


# ---------------------------------------------------------------- web font

def _webfont(tree: dict, types: dict[str, str], sources: dict[str, Source], lines: dict[str, dict[tuple, int]],
             root: Path, problems: list[Problem]) -> WebFont | None:
    """font.webfont, checked: one family name, and files (from the site root) that exist and are fonts."""
    group = tree.get("font")
    node = group.get("webfont") if isinstance(group, dict) else None
    if not isinstance(node, dict) or "$value" not in node:
        return None  # none (the default); a group there without $value is reported by _flatten
    file, line = sources[WEBFONT]
    where = lambda *keys: lines.get(file, {}).get(("font", "webfont", *keys), line)  # noqa: E731
    count = len(problems)
    if types.get(WEBFONT) not in ("", "fontFamily"):
        problems.append(Problem(file, where("$type"), f'{WEBFONT} has "$type": "{types.get(WEBFONT)}"',
                                "a web font is a fontFamily token, like " + WEBFONT_EXAMPLE))
    family = node["$value"]
    if not isinstance(family, str) or not family.strip() or re.search(r"[,\"'{}\\]", family) \
            or family.strip() in GENERIC_FONTS:
        problems.append(Problem(file, where("$value"), f"{WEBFONT} must name one font family, like \"Source Sans 3\"",
                                "its $value is the family name alone; the files go under $extensions, like "
                                + WEBFONT_EXAMPLE if isinstance(family, dict) else
                                "its $value is the family name the pages ask for; the system fonts after it in the "
                                "theme's stacks stay as fallbacks"))
    extension = node.get("$extensions", {}).get(EXTENSION) if isinstance(node.get("$extensions"), dict) else None
    files = extension.get("files") if isinstance(extension, dict) else None
    if not isinstance(files, dict) or not files:
        problems.append(Problem(file, where("$extensions"), f"{WEBFONT} names no font files",
                                f'give one file per weight under "$extensions": {{"{EXTENSION}": {{"files": ...}}}}, '
                                "like " + WEBFONT_EXAMPLE))
        files = {}
    faces = []
    for key, rel in files.items():
        at = where("$extensions", EXTENSION, "files", key)
        face = FACE_KEY.fullmatch(key)
        if not face:
            problems.append(Problem(file, at, f'{WEBFONT} has a file for the unknown weight "{key}"',
                                    'name each file by its weight, 100 to 900 in hundreds (400 is regular, 700 bold), '
                                    'with "italic" after it for an italic: "400", "700", "400italic"'))
        elif not isinstance(rel, str) or not rel.strip():
            problems.append(Problem(file, at, f"{WEBFONT}: the file for {key} must be a path",
                                    'like "fonts/SourceSans3-Regular.otf", from the folder of site.toml'))
        elif (problem := _font_file(root / rel, rel, file, at)) is not None:
            problems.append(problem)
        else:
            faces.append(FontFace(int(face[1]), "italic" if face[2] else "normal", root / rel, rel, file, at))
    if len(problems) > count:
        return None
    return WebFont(family.strip(), tuple(sorted(faces, key=lambda f: (f.style == "italic", f.weight))))


def _font_file(path: Path, rel: str, file: str, line: int | None) -> Problem | None:
    """A problem if PATH is not a font file we can subset (the build reads it in full later)."""
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except FileNotFoundError:
        folder = path.parent
        close = difflib.get_close_matches(path.name, [p.name for p in folder.iterdir()], n=1) \
            if folder.is_dir() else []
        return Problem(file, line, f'{WEBFONT}: the font file "{rel}" does not exist',
                       f"did you mean {(Path(rel).parent / close[0]).as_posix()}?" if close else
                       "copy the font into the site (a fonts/ folder, say) and give its path from the folder of site.toml")
    except IsADirectoryError:
        return Problem(file, line, f'{WEBFONT}: "{rel}" is a folder', "name one font file in it")
    except OSError as e:
        return Problem(file, line, f'{WEBFONT}: cannot read the font file "{rel}": {e.strerror}')
    if magic == b"ttcf":
        return Problem(file, line, f'{WEBFONT}: "{rel}" is a font collection (.ttc/.otc), not one font',
                       "use the separate .otf or .ttf file of each weight")
    if magic not in FONT_MAGIC:
        return Problem(file, line, f'{WEBFONT}: "{rel}" is not a font file',
                       "give a TrueType (.ttf) or OpenType (.otf) font; WOFF and WOFF2 files are read too")
    return None


def _put_first(webfont: WebFont, shared: dict[str, str]) -> None:
    """The family as the font.webfont custom property, and first in the Latin and Cyrillic stacks (the rest stay as
    fallbacks: for a reader whose browser has not loaded it yet, and for characters it does not have)."""
    name = webfont.css_name
    shared[WEBFONT] = name
    for path in WEBFONT_STACKS:
        stack = shared.get(path)
        if stack is not None and stack.split(",")[0].strip() != name:
            shared[path] = f"{name}, {stack}"


# ---------------------------------------------------------------- aliases

def _resolve(raw: dict[str, str], sources: dict[str, Source], problems: list[Problem]) -> dict[str, str]:
    """Replace every {path} by the value it names; report unknown names and cycles once each."""
    done: dict[str, str | None] = {}
    cycles: set[frozenset] = set()

    def visit(path: str, trail: list[str]) -> str | None:
        if path in done:
            return done[path]
        if path in trail:
            cycle = trail[trail.index(path):] + [path]
            if frozenset(cycle) not in cycles:
                cycles.add(frozenset(cycle))
                problems.append(Problem(*sources[cycle[0]], f"alias cycle: {' -> '.join(cycle)}",
                                        "one of these tokens must have a real value instead of an alias"))
            return None
        ok = True

        def substitute(m: re.Match) -> str:
            nonlocal ok
            target = _target(m.group(1), path, raw)
            if target is None:
                ok = False
                if _target(m.group(1), path, sources) is None:  # else it exists but is broken, reported already
                    problems.append(_unknown_alias(path, m.group(1), raw, sources))
                return m.group(0)
            value = visit(target, trail + [path])
            ok = ok and value is not None
            return value or ""

        value = ALIAS.sub(substitute, raw[path])
        done[path] = value if ok else None
        return done[path]

    for path in raw:
        visit(path, [])
    return {path: value for path, value in done.items() if value is not None}


def _target(ref: str, path: str, raw: dict) -> str | None:
    """Inside mode.<name>, {color.x} means this mode's color.x first, then a shared token."""
    parts = path.split(".")
    if parts[0] == "mode" and len(parts) > 2 and f"mode.{parts[1]}.{ref}" in raw:
        return f"mode.{parts[1]}.{ref}"
    return ref if ref in raw else None


def _unknown_alias(path: str, ref: str, raw: dict[str, str], sources: dict[str, Source]) -> Problem:
    names = set(raw)
    parts = path.split(".")
    if parts[0] == "mode":  # offer this mode's tokens by the short name an alias would use
        names |= {p.split(".", 2)[2] for p in raw if p.startswith(f"mode.{parts[1]}.")}
    close = difflib.get_close_matches(ref, sorted(names), n=3, cutoff=0.6)
    hint = "did you mean " + " or ".join(f"{{{c}}}" for c in close) + "?" if close else \
        "an alias is the dotted path of another token, like {palette.ice.700}"
    return Problem(*sources[path], f"{path} refers to {{{ref}}}, which is not defined", hint)


# ---------------------------------------------------------------- validation

def _check_colours(values: dict[str, str], raw: dict[str, str], types: dict[str, str],
                   sources: dict[str, Source], problems: list[Problem]) -> None:
    """Normalise colours to lowercase hex; report a bad one where it is written, not at every alias of it."""
    for path, value in list(values.items()):
        if types.get(path) != "color":
            continue
        try:
            values[path] = _hex(_parse(value))
        except ValueError:
            del values[path]
            whole = ALIAS.fullmatch(raw[path])
            target = whole and _target(whole.group(1), path, raw)
            if not (target and types.get(target) == "color"):
                problems.append(Problem(*sources[path], f'{path} has "{value}", which is not a colour', COLOR_HINT))


def _split(values: dict[str, str], mode_group: object, sources: dict[str, Source], problems: list[Problem]):
    """Separate mode tokens from shared ones; every mode must define the same tokens."""
    names = [k for k in mode_group if not k.startswith("$")] if isinstance(mode_group, dict) else []
    modes: dict[str, dict[str, str]] = {name: {} for name in names}
    shared: dict[str, str] = {}
    for path, value in values.items():
        parts = path.split(".", 2)
        if parts[0] == "mode" and len(parts) == 3:
            modes[parts[1]][parts[2]] = value
        else:
            shared[path] = value
    everything = set().union(*modes.values()) if modes else set()
    for name, tokens in modes.items():
        for missing in sorted(everything - tokens.keys()):
            if f"mode.{name}.{missing}" not in sources:  # defined but broken was reported already
                problems.append(Problem(*sources[f"mode.{name}"], f"mode {name} has no {missing}",
                                        "every mode must define the same tokens"))
    return modes, shared


def _check_pairs(pairs: list[Pair], modes: dict[str, dict[str, str]], types: dict[str, str],
                 problems: list[Problem]) -> None:
    tokens = modes.get(DEFAULT_MODE, {})
    for pair in pairs:
        for path in (pair.foreground, pair.background):
            if path in tokens and types.get(f"mode.{DEFAULT_MODE}.{path}") != "color":
                problems.append(Problem(pair.file, pair.line, f"contrast pair names {path}, which is not a colour"))
            elif path not in tokens:
                close = difflib.get_close_matches(path, sorted(tokens), n=1)
                problems.append(Problem(pair.file, pair.line, f"contrast pair names {path}, which no mode defines",
                                        f"did you mean {close[0]}?" if close else "use a path like color.text.default"))


# ---------------------------------------------------------------- contrast

def check(ts: TokenSet) -> list[Problem]:
    """Every declared pair in every mode; one Problem per failing pair."""
    problems = []
    for mode, tokens in ts.modes.items():
        for pair in ts.pairs:
            ratio, criterion = _requirement(pair, mode)
            fg, bg = tokens[pair.foreground], _backdrop(tokens[pair.background], tokens)
            measured = contrast(fg, bg)
            if measured < ratio:
                problems.append(_contrast_problem(ts, mode, pair, fg, bg, measured, ratio, criterion))
    return problems


def _requirement(pair: Pair, mode: str) -> tuple[float, str]:
    criterion = "1.4.6" if mode == HIGH_CONTRAST and pair.criterion == "1.4.3" else pair.criterion
    return RATIOS[pair.kind, criterion], criterion


def _backdrop(bg: str, tokens: dict[str, str]) -> str:
    """A translucent background shows the page through it."""
    rgba = _parse(bg)
    if rgba[3] < 1 and "color.surface.page" in tokens:
        return _hex(_over(rgba, _parse(tokens["color.surface.page"])))
    return bg


def _contrast_problem(ts: TokenSet, mode: str, pair: Pair, fg: str, bg: str, measured: float, ratio: float,
                      criterion: str) -> Problem:
    nearest = nearest_passing(fg, bg, ratio)
    if contrast(nearest, bg) >= ratio:
        suggestion, hint = nearest, f'set its "$value" to {nearest}, or pick another shade with more contrast'
    else:
        suggestion, hint = "none of this hue", f"no shade of this hue reaches {ratio:g}:1; change {pair.background}"
    message = (f"{mode}: {pair.foreground} {fg} on {pair.background} {bg} is {_floor1(measured)}:1, "
               f"needs {ratio:g}:1 (WCAG {criterion}); nearest passing: {suggestion}")
    file, line = ts.sources[f"mode.{mode}.{pair.foreground}"]
    return Problem(file, line, message, hint + " (see themes/harbin-ice/README.md)")


def _floor1(ratio: float) -> str:
    """Round down, so 4.49 prints 4.4 and never looks like it meets 4.5."""
    return f"{math.floor(ratio * 10 + 1e-9) / 10:.1f}"


def contrast(fg: str, bg: str) -> float:
    """WCAG 2.x contrast ratio; a translucent fg is composited over bg, a translucent bg over white."""
    back = _over(_parse(bg), (1.0, 1.0, 1.0, 1.0))
    front = _over(_parse(fg), back)
    lighter, darker = sorted((_luminance(front), _luminance(back)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def nearest_passing(fg: str, bg: str, ratio: float) -> str:
    """The passing hex closest in OKLCH lightness, same hue; chroma drops only to stay inside sRGB."""
    back = _over(_parse(bg), (1.0, 1.0, 1.0, 1.0))
    front = _over(_parse(fg), back)
    if contrast(_hex(front), _hex(back)) >= ratio:
        return _hex(front)
    lightness, chroma, hue = _oklch(front)
    chroma = chroma if chroma > 1e-3 else 0.0  # a grey stays grey, not tinted by rounding noise
    found = [c for c in (_search(lightness, chroma, hue, _hex(back), ratio, end) for end in (0.0, 1.0)) if c]
    if not found:  # no shade of this hue gets there: give the best there is
        return max(("#000000", "#ffffff"), key=lambda c: contrast(c, _hex(back)))
    return min(found, key=lambda c: abs(_oklch(_parse(c))[0] - lightness))


def _search(lightness: float, chroma: float, hue: float, bg: str, ratio: float, end: float) -> str | None:
    """Bisect lightness between the failing colour and `end` (black or white side) for the pass boundary."""
    def passes(at: float) -> bool:  # judged on the rounded hex, the colour that will ship
        return contrast(_hex(_from_oklch(at, chroma, hue)), bg) >= ratio

    if not passes(end):
        return None
    fail, ok = lightness, end
    for _ in range(30):
        mid = (fail + ok) / 2
        fail, ok = (fail, mid) if passes(mid) else (mid, ok)
    return _hex(_from_oklch(ok, chroma, hue))


# ---------------------------------------------------------------- colour maths

def _parse(text: str) -> tuple[float, float, float, float]:
    """#rgb, #rgba, #rrggbb, #rrggbbaa, rgb(), rgba() -> (r, g, b, a) in 0..1."""
    text = text.strip()
    if m := HEX.fullmatch(text):
        digits = m.group(1)
        if len(digits) <= 4:
            digits = "".join(d * 2 for d in digits)
        digits += "ff" if len(digits) == 6 else ""
        r, g, b, a = (int(digits[i:i + 2], 16) / 255 for i in range(0, 8, 2))
        return r, g, b, a
    if m := RGB.fullmatch(text):
        parts = [p for p in re.split(r"[\s,/]+", m.group(1).strip()) if p]
        if len(parts) in (3, 4):
            channels = [_channel(p, 255) for p in parts[:3]]
            alpha = _channel(parts[3], 1) if len(parts) == 4 else 1.0
            if all(0 <= c <= 1 for c in (*channels, alpha)):
                return (*channels, alpha)
    raise ValueError(text)


def _channel(part: str, scale: float) -> float:
    return float(part[:-1]) / 100 if part.endswith("%") else float(part) / scale


def _hex(rgba: tuple[float, ...]) -> str:
    """Lowercase #rrggbb, or #rrggbbaa when translucent."""
    channels = rgba if len(rgba) == 4 and rgba[3] < 1 else rgba[:3]
    return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in channels)


def _over(front: tuple[float, ...], back: tuple[float, ...]) -> tuple[float, float, float, float]:
    a = front[3]
    return (*(f * a + b * (1 - a) for f, b in zip(front[:3], back[:3])), 1.0)


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _gamma(c: float) -> float:
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def _luminance(rgb: tuple[float, ...]) -> float:
    r, g, b = (_linear(round(c * 255) / 255) for c in rgb[:3])  # measure what will actually be shipped
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _oklch(rgb: tuple[float, ...]) -> tuple[float, float, float]:
    """sRGB -> OKLCH (Björn Ottosson's OKLab), hue in degrees."""
    r, g, b = (_linear(c) for c in rgb[:3])
    l_ = math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b)
    m_ = math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b)
    s_ = math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b)
    lightness = 0.2104542553 * l_ + 0.7936177850 * m_ - 0.0040720468 * s_
    a = 1.9779984951 * l_ - 2.4285922050 * m_ + 0.4505937099 * s_
    b_ = 0.0259040371 * l_ + 0.7827717662 * m_ - 0.8086757660 * s_
    return lightness, math.hypot(a, b_), math.degrees(math.atan2(b_, a)) % 360


def _from_oklch(lightness: float, chroma: float, hue: float) -> tuple[float, float, float, float]:
    """OKLCH -> sRGB; out of gamut, lower chroma (never hue) until it fits."""
    rgb = _oklab_to_linear(lightness, chroma, hue)
    if not _in_gamut(rgb):
        low, high = 0.0, chroma
        for _ in range(20):
            mid = (low + high) / 2
            low, high = (mid, high) if _in_gamut(_oklab_to_linear(lightness, mid, hue)) else (low, mid)
        rgb = _oklab_to_linear(lightness, low, hue)
    return (*(_gamma(min(max(c, 0.0), 1.0)) for c in rgb), 1.0)


def _oklab_to_linear(lightness: float, chroma: float, hue: float) -> tuple[float, float, float]:
    a, b = chroma * math.cos(math.radians(hue)), chroma * math.sin(math.radians(hue))
    l_ = (lightness + 0.3963377774 * a + 0.2158037573 * b) ** 3
    m_ = (lightness - 0.1055613458 * a - 0.0638541728 * b) ** 3
    s_ = (lightness - 0.0894841775 * a - 1.2914855480 * b) ** 3
    return (4.0767416621 * l_ - 3.3077115913 * m_ + 0.2309699292 * s_,
            -1.2684380046 * l_ + 2.6097574011 * m_ - 0.3413193965 * s_,
            -0.0041960863 * l_ - 0.7034186147 * m_ + 1.7076147010 * s_)


def _in_gamut(rgb: tuple[float, float, float]) -> bool:
    return all(-1e-6 <= c <= 1 + 1e-6 for c in rgb)


# ---------------------------------------------------------------- output

def to_css(ts: TokenSet) -> str:
    """CSS custom properties: light on :root, other modes by media query and by [data-mode]."""
    shared = [_declaration(p, v) for p, v in ts.shared.items()]
    out = [f"/* Generated from {', '.join(ts.files)} by healingpixels.tokens; edit the tokens, not this file. */",
           _block(":root", shared + _mode_declarations(ts, DEFAULT_MODE))]
    for mode in ts.modes:
        if mode == DEFAULT_MODE:
            continue
        declarations = _mode_declarations(ts, mode)
        if mode in MODE_MEDIA:  # follow the OS setting unless the reader picked a mode on the page
            out.append(f"@media {MODE_MEDIA[mode]} {{\n{_block(':root:not([data-mode])', declarations, 1)}\n}}")
        out.append(_block(f':root[data-mode="{mode}"]', declarations))
    # ":root, :root[data-mode]" so these win over the [data-mode] blocks above (same specificity, later).
    forced = [_declaration(p, c) for p in ts.modes.get(DEFAULT_MODE, {}) if (c := _system_colour(p))]
    out.append(f"@media (forced-colors: active) {{\n{_block(':root, :root[data-mode]', forced, 1)}\n}}")
    durations = dict.fromkeys(_short(p) for p, t in ts.types.items() if t == "duration")  # ordered, unique
    still = [_declaration(p, "0s") for p in durations]
    out.append(f"@media (prefers-reduced-motion: reduce) {{\n{_block(':root, :root[data-mode]', still, 1)}\n}}")
    return "\n\n".join(out) + "\n"


def _mode_declarations(ts: TokenSet, mode: str) -> list[str]:
    tokens = ts.modes.get(mode, {})
    scheme = ["color-scheme: " + _scheme(tokens["color.surface.page"])] if "color.surface.page" in tokens else []
    return scheme + [_declaration(p, v) for p, v in tokens.items()]


def _scheme(page: str) -> str:
    """Tell the browser to draw form controls and scrollbars to match the page."""
    return "dark" if _luminance(_parse(page)) < 0.18 else "light"


def _system_colour(path: str) -> str | None:
    if path.startswith("color.callout.") and path.endswith(".border"):
        return "CanvasText"
    return next((colour for prefix, colour in FORCED_COLORS if path == prefix or
                 prefix.endswith(".") and path.startswith(prefix)), None)


def _short(path: str) -> str:
    return path.split(".", 2)[2] if path.startswith("mode.") else path


def _declaration(path: str, value: str) -> str:
    return f"{custom_property(path)}: {value}"


def custom_property(path: str) -> str:
    """color.text.default -> --hp-color-text-default"""
    return PREFIX + path.replace(".", "-")


def _block(selector: str, declarations: list[str], depth: int = 0) -> str:
    pad = "  " * depth
    body = "".join(f"{pad}  {d};\n" for d in declarations)
    return f"{pad}{selector} {{\n{body}{pad}}}"


def to_json(ts: TokenSet) -> str:
    """Flat {full dotted path: CSS value}, sorted, for other tools (tokens export --format json)."""
    flat = dict(ts.shared)
    flat.update({f"mode.{m}.{p}": v for m, tokens in ts.modes.items() for p, v in tokens.items()})
    return json.dumps(flat, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
