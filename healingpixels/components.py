"""Components: each folder under components/ is one, found by its component.toml and rendered by its Jinja macro."""
from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from .errors import BuildError, Problem
from .markdown import ComponentError, Heading
from .config import Language
from .render import Templates, component_dirs


@dataclass(frozen=True)
class Spec:
    name: str
    folder: Path
    options: tuple[str, ...] = ()  # the words an author may write after the name
    option_required: bool = False
    heading: str = "optional"  # "required", "optional" or "none": a ### heading as the component's first line
    title_from_args: bool = False  # the rest of the ::: line is the title (details)
    example: str = "example.md"


SPEC_KEYS = {"description", "options", "option_required", "heading", "title_from_args", "example"}


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
            unknown = set(data) - SPEC_KEYS
            if unknown:
                problems.append(Problem(rel, None, f"unknown keys: {', '.join(sorted(unknown))}", f"known: {', '.join(sorted(SPEC_KEYS))}"))
                continue
            specs[name] = Spec(name, toml.parent, tuple(data.get("options", ())), bool(data.get("option_required", False)),
                               data.get("heading", "optional"), bool(data.get("title_from_args", False)),
                               data.get("example", "example.md"))
    if problems:
        raise BuildError(problems)
    return specs


def renderer(specs: dict[str, Spec], templates: Templates, lang: Language):
    """A ComponentRenderer for markdown.PageRenderer: checks what the author wrote, then calls the macro."""
    macros: dict[str, object] = {}

    def render(name: str, args: list[str], heading: Heading | None, body: str) -> str:
        spec = specs.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, specs, n=1)
            raise ComponentError(f'unknown component "{name}"',
                                 f"did you mean {close[0]}?" if close else "known components: " + ", ".join(sorted(specs)))
        option = ""
        if spec.title_from_args:
            if not args and not heading:
                raise ComponentError(f"{name} needs a title", f"write it after the name: ::: {name} What is …?")
            heading = heading or Heading(str(Markup.escape(" ".join(args))), 0, "")
        elif args:
            option = args[0]
            if option not in spec.options or len(args) > 1:
                bad = " ".join(args)
                close = difflib.get_close_matches(bad, spec.options, n=1)
                raise ComponentError(f'{name} has no option "{bad}"',
                                     f"did you mean {close[0]}?" if close else
                                     f"choose one of: {', '.join(spec.options)}" if spec.options else f"write just ::: {name}")
        if spec.option_required and not option:
            raise ComponentError(f"{name} needs one of: {', '.join(spec.options)}", f"like ::: {name} {spec.options[0]}")
        if spec.heading == "required" and not heading:
            raise ComponentError(f"{name} needs a heading as its first line",
                                 f"like ### Call {lang.emergency[0] if lang.emergency else 'for help'} if:")
        if spec.heading == "none" and heading and not spec.title_from_args:
            raise ComponentError(f"{name} cannot start with a heading", "remove the ### line")
        if name not in macros:
            macros[name] = templates.module(f"components/{name}/macro.html", lang)
        title = {"html": Markup(heading.html), "level": heading.level, "id": heading.id} if heading else None
        return str(macros[name].render(title=title, body=Markup(body), option=option, emergency=list(lang.emergency)))

    return render
