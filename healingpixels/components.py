"""Components: each folder under components/ is one, found by its component.toml and rendered by its Jinja macro.

Two kinds share one folder layout (component.toml, macro.html, style.css, README.md and an example):
- Markdown components, which authors write as `::: name option key=value` containers; the build checks what they
  wrote against component.toml and calls the macro;
- layout components (`markdown = false`): the header, footer, breadcrumbs… The theme's templates call their macros
  (`{% from "components/breadcrumbs/macro.html" import render as breadcrumbs with context %}`); an author who writes
  `::: header` is told so. Their example is an example.toml with the values the macro takes.
"""
from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from .errors import BuildError, Problem
from .markdown import EXTERNAL, Block, ComponentError, Heading, PageRenderer
from .config import Language
from .render import Templates, component_dirs

# Block kinds a component.toml may name in `blocks`, with the words an author reads in a message.
BLOCK_KINDS = {
    "image": "an image on a line of its own, like ![A thermometer](/images/thermometer.svg)",
    "link": "a link on a line of its own, like [Find a pharmacy](../pharmacies.md)",
    "text": "a paragraph of text",
    "list": "a list (lines starting with - or 1.)",
    "dl": "a list of terms and their values: a term on one line, then a line starting with : and its value",
    "table": "a table",
    "heading": "a heading",
    "component": "another ::: component",
    "other": "other content",
    "any": "any content",
}
TEXT_KINDS = {"text", "link"}  # a caption may be a paragraph that is only a link


@dataclass(frozen=True)
class Arg:
    """A key=value setting on a component's ::: line."""
    name: str
    required: bool = False
    file: bool = False  # a file of the site (checked and published like a link's target)
    suffixes: tuple[str, ...] = ()  # what the value must end with, like (".vtt",)
    what: str = ""  # for messages: "the video file"
    example: str = ""  # for messages: "/media/flu-vaccine.mp4"
    hint: str = ""  # why it is needed, for the message of a missing value


@dataclass(frozen=True)
class Spec:
    name: str
    folder: Path
    options: tuple[str, ...] = ()  # the words an author may write after the name
    option_required: bool = False
    heading: str = "optional"  # "required", "optional" or "none": a ### heading as the component's first line
    title_from_args: bool = False  # the rest of the ::: line is the title (details)
    example: str = "example.md"
    markdown: bool = True  # False: a layout component, placed by the theme's templates
    hint: str = ""  # for a layout component an author wrote as ::: name: what to do instead
    args: tuple[Arg, ...] = ()
    blocks: tuple[str, ...] = ()  # the body's shape, in order: kinds with ?, + or *, like ("image", "text+")
    description: str = ""

    @property
    def title(self) -> str:
        """The README's first heading ("Details (expander)"), else the folder's name."""
        try:
            first = (self.folder / "README.md").read_text(encoding="utf-8").lstrip().splitlines()[0]
        except (OSError, IndexError):
            return self.name
        return first[2:].strip() if first.startswith("# ") else self.name


SPEC_KEYS = {"description", "options", "option_required", "heading", "title_from_args", "example", "markdown", "hint",
             "args", "blocks"}
ARG_KEYS = {"required", "file", "suffixes", "what", "example", "hint"}
REQUIRED_FILES = ("component.toml", "macro.html", "style.css", "README.md")
# What a Markdown component's macro may declare among its parameters; it gets only those it declares.
MACRO_PARAMS = ("title", "body", "option", "emergency", "args", "blocks", "lang")


def discover(site_root: Path) -> dict[str, Spec]:
    """Every component folder, a site's own first; a folder without component.toml is not a component."""
    specs: dict[str, Spec] = {}
    problems = []
    for root in component_dirs(site_root):
        for toml in sorted(root.glob("*/component.toml")):
            name = toml.parent.name
            if name in specs:
                continue
            rel = toml.relative_to(root.parent).as_posix()
            try:
                data = tomllib.loads(toml.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                problems.append(Problem(rel, None, f"not valid TOML: {exc}"))
                continue
            spec, found = _spec(name, toml.parent, data, rel)
            problems += found
            if spec is not None:
                specs[name] = spec
    if problems:
        raise BuildError(problems)
    return specs


def _spec(name: str, folder: Path, data: dict, rel: str) -> tuple[Spec | None, list[Problem]]:
    unknown = set(data) - SPEC_KEYS
    if unknown:
        return None, [Problem(rel, None, f"unknown keys: {', '.join(sorted(unknown))}",
                              f"known: {', '.join(sorted(SPEC_KEYS))}")]
    problems = []
    if data.get("heading", "optional") not in ("required", "optional", "none"):
        problems.append(Problem(rel, None, f'heading must be "required", "optional" or "none", not "{data["heading"]}"'))
    args = []
    for key, value in (data.get("args") or {}).items():
        if not isinstance(value, dict) or set(value) - ARG_KEYS:
            problems.append(Problem(rel, None, f"args.{key} must be a table with some of: {', '.join(sorted(ARG_KEYS))}"))
            continue
        args.append(Arg(key, bool(value.get("required", False)), bool(value.get("file", False)),
                        tuple(value.get("suffixes", ())), str(value.get("what", key)), str(value.get("example", "")),
                        str(value.get("hint", ""))))
    blocks = tuple(data.get("blocks", ()))
    for item in blocks:
        if item.rstrip("?+*") not in BLOCK_KINDS:
            problems.append(Problem(rel, None, f'blocks: "{item}" is not a kind of block',
                                    f"use {', '.join(BLOCK_KINDS)}, each with an optional ?, + or *"))
    markdown = bool(data.get("markdown", True))
    example = data.get("example", "example.md" if markdown or not (folder / "example.toml").is_file() else "example.toml")
    if problems:
        return None, problems
    return Spec(name, folder, tuple(data.get("options", ())), bool(data.get("option_required", False)),
                data.get("heading", "optional"), bool(data.get("title_from_args", False)), example, markdown,
                str(data.get("hint", "")), tuple(args), blocks, str(data.get("description", ""))), []


def _close(word: str, choices) -> str | None:
    found = difflib.get_close_matches(word, list(choices), n=1)
    return found[0] if found else None


def _usage(spec: Spec) -> str:
    words = [spec.options[0]] if spec.option_required and spec.options else []
    words += [f"{a.name}={a.example or '…'}" for a in spec.args if a.required]
    return " ".join([f"::: {spec.name}", *words])


def check_blocks(spec: Spec, blocks: list[Block]) -> None:
    """Match the body's blocks against spec.blocks (kinds with ?, + or *), or raise a ComponentError saying what is
    missing or what does not belong."""
    if not spec.blocks:
        return
    i = 0
    for item in spec.blocks:
        kind, quantifier = item.rstrip("?+*"), item[len(item.rstrip("?+*")):] or "1"

        def fits(block: Block) -> bool:
            return kind == "any" or block.kind == kind or (kind == "text" and block.kind in TEXT_KINDS)

        count = 0
        while i < len(blocks) and fits(blocks[i]) and (quantifier in "+*" or count < 1):
            i, count = i + 1, count + 1
        if count == 0 and quantifier in "1+":
            found = f", not {BLOCK_KINDS[blocks[i].kind]}" if i < len(blocks) else ""
            where = "first" if i == 0 else "next"
            raise ComponentError(f"{spec.name} needs {BLOCK_KINDS[kind]} {where}{found}",
                                 f"see components/{spec.name}/README.md for what to write")
    if i < len(blocks):
        allowed = " then ".join(BLOCK_KINDS[k.rstrip('?+*')] for k in spec.blocks)
        raise ComponentError(f"{spec.name} cannot also hold {BLOCK_KINDS[blocks[i].kind]}",
                             f"it holds {allowed}; move the rest out, below the closing :::")


def parse_args(spec: Spec, words: list[str], link=None) -> tuple[list[str], dict[str, str]]:
    """Split the words after the name into bare words and checked key=value settings; file settings go through
    `link` (which checks the file and returns its URL). Raises ComponentError."""
    bare, settings = [], {}
    known = {a.name: a for a in spec.args}
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or spec.title_from_args:
            bare.append(word)
            continue
        if key not in known:
            close = _close(key, known)
            raise ComponentError(f'{spec.name} has no setting "{key}"',
                                 f"did you mean {close}=…?" if close else
                                 f"its settings are: {', '.join(known)}" if known else f"write just {_usage(spec)}")
        arg = known[key]
        if key in settings:
            raise ComponentError(f"{spec.name} has {key}= twice", f"keep one {key}=")
        if not value:
            raise ComponentError(f"{spec.name}: {key}= has no value",
                                 f"write {key}={arg.example or '…'} with no space after the =")
        if arg.suffixes and not value.lower().endswith(tuple(s.lower() for s in arg.suffixes)):
            raise ComponentError(f'{spec.name}: {key} must be {" or ".join(arg.suffixes)} ({arg.what}), not "{value}"',
                                 f"like {key}={arg.example}" if arg.example else "")
        if arg.file and EXTERNAL.match(value):
            raise ComponentError(f"{spec.name}: {key} must be a file of this site, not {value}",
                                 f"save it under content/ and write {key}={arg.example or '/media/…'}: "
                                 "pages make no third-party requests")
        settings[key] = link(value) if arg.file and link else value
    for arg in spec.args:
        if arg.required and arg.name not in settings:
            raise ComponentError(f"{spec.name} needs {arg.what}: write {arg.name}=… on the ::: line",
                                 (arg.hint + "; " if arg.hint else "") + f"like {_usage(spec)}")
    return bare, settings


def renderer(specs: dict[str, Spec], templates: Templates, lang: Language):
    """A ComponentRenderer for markdown.PageRenderer: checks what the author wrote, then calls the macro."""
    macros: dict[str, object] = {}
    markdown_names = sorted(n for n, s in specs.items() if s.markdown)
    language = {"code": lang.code, "name": lang.name, "dir": lang.dir}

    def render(name: str, args: list[str], heading: Heading | None, body: str, blocks: list[Block] | None = None,
               link=None) -> str:
        spec = specs.get(name)
        if spec is None:
            close = _close(name, markdown_names)
            raise ComponentError(f'unknown component "{name}"',
                                 f"did you mean {close}?" if close else "known components: " + ", ".join(markdown_names))
        if not spec.markdown:
            close = _close(name, markdown_names)
            raise ComponentError(f'"{name}" is part of the page layout, not a component to write in Markdown',
                                 spec.hint or ("the theme's templates place it" +
                                               (f"; did you mean {close}?" if close else "")))
        args, settings = parse_args(spec, args, link)
        option = ""
        if spec.title_from_args:
            if not args and not heading:
                raise ComponentError(f"{name} needs a title", f"write it after the name: ::: {name} What is …?")
            heading = heading or Heading(str(Markup.escape(" ".join(args))), 0, "")
        elif args:
            option = args[0]
            if option not in spec.options or len(args) > 1:
                bad = " ".join(args)
                close = _close(bad, spec.options)
                raise ComponentError(f'{name} has no option "{bad}"',
                                     f"did you mean {close}?" if close else
                                     f"choose one of: {', '.join(spec.options)}" if spec.options else f"write just {_usage(spec)}")
        if spec.option_required and not option:
            raise ComponentError(f"{name} needs one of: {', '.join(spec.options)}", f"like ::: {name} {spec.options[0]}")
        if spec.heading == "required" and not heading:
            raise ComponentError(f"{name} needs a heading as its first line",
                                 f"like ### Call {lang.emergency[0] if lang.emergency else 'for help'} if:")
        if spec.heading == "none" and heading and not spec.title_from_args:
            raise ComponentError(f"{name} cannot start with a heading", "remove the ### line")
        check_blocks(spec, blocks if blocks is not None else [])
        if name not in macros:
            macros[name] = templates.module(f"components/{name}/macro.html", lang).render
        macro = macros[name]
        title = {"html": Markup(heading.html), "level": heading.level, "id": heading.id} if heading else None
        given = {"title": title, "body": Markup(body), "option": option, "emergency": list(lang.emergency),
                 "args": settings, "lang": language,
                 "blocks": [{"kind": b.kind, "html": Markup(b.html), "inner": Markup(b.inner), "href": b.href,
                             "label": Markup(b.label)} for b in blocks or []]}
        return str(macro(**{k: v for k, v in given.items() if k in macro.arguments}))

    return render


# --- examples: what the style guide and the tests render ---------------------------------------------------------


@dataclass
class Example:
    name: str
    source: str  # "components/care-card/example.md"
    html: str
    problems: list[str]


def render_example(spec: Spec, templates: Templates, lang: Language, page_renderer: PageRenderer) -> Example:
    """A Markdown component's example.md through the real Markdown pipeline, or a layout component's example.toml
    (the values its macro takes; [[example]] tables for several) through its macro."""
    source = f"components/{spec.name}/{spec.example}"
    path = spec.folder / spec.example
    if not path.is_file():
        return Example(spec.name, source, "", [f"{source}: no example file"])
    if path.suffix == ".md":
        # An example is a fragment of a page: put it under a level-2 heading, as on a page, so the heading-order
        # check judges its ### as a page would, then drop that heading. Line numbers still count from the file.
        body = page_renderer.render(source, "## -\n\n" + path.read_text(encoding="utf-8"), -1)
        return Example(spec.name, source, body.html.split("</h2>", 1)[-1].lstrip(), [str(p) for p in body.problems])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        return Example(spec.name, source, "", [f"{source}: not valid TOML: {exc}"])
    calls = data["example"] if isinstance(data.get("example"), list) else [data]
    module = templates.module(f"components/{spec.name}/macro.html", lang)
    html = "\n".join(str(module.render(**_markup(call))) for call in calls)
    return Example(spec.name, source, html, [])


def _markup(value):
    """Example values: strings under a key ending in _html are trusted markup (they come from the component's own
    folder), like a body the template would pass."""
    if isinstance(value, dict):
        return {k: Markup(v) if isinstance(v, str) and (k.endswith("_html") or k == "body") else _markup(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_markup(v) for v in value]
    return value


def missing_files(spec: Spec) -> list[str]:
    """The files every component folder has, that this one lacks (its example included)."""
    return [f for f in (*REQUIRED_FILES, spec.example) if not (spec.folder / f).is_file()]

