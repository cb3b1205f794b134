"""The healingpixels command: new, build, serve, tokens."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .errors import BuildError, Problem

AUDITS = ("none", "static", "browser", "full")


def _report(problems: list[Problem]) -> None:
    errors = sum(p.severity == "error" for p in problems)
    for problem in problems:
        click.secho(str(problem), fg="red" if problem.severity == "error" else "yellow", err=True)
    if errors:
        click.secho(f"\n{errors} error{'s' if errors != 1 else ''}: nothing was written; the previous site is unchanged.",
                    fg="red", bold=True, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="healingpixels")
def main() -> None:
    """Healing Pixels: accessible, multilingual health-education websites from Markdown."""


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--languages", default="en,zh-Hans,ru,ko", show_default=True, help="Language codes, comma-separated; the first is the default.")
def new(directory: Path, languages: str) -> None:
    """Create a new site in DIRECTORY."""
    from .scaffold import scaffold

    try:
        scaffold(directory, [code.strip() for code in languages.split(",") if code.strip()])
    except BuildError as exc:
        _report(exc.problems)
        sys.exit(1)
    click.echo(f"Created a site in {directory}. Next:\n  cd {directory}\n  healingpixels serve")


@main.command()
@click.option("--root", type=click.Path(file_okay=False, exists=True, path_type=Path), default=".", help="The site's folder (with site.toml).")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), help="Write here instead of site.toml's output.")
@click.option("--no-cache", is_flag=True, help="Ignore the build cache: a full, cold build.")
@click.option("--audit", type=click.Choice(AUDITS), default="static", show_default=True,
              help="Audits after the build: static checks, + axe in Chromium (browser), + Lighthouse (full).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def build(root: Path, output: Path | None, no_cache: bool, audit: str, strict: bool) -> None:
    """Build the site into its output folder."""
    from .build import build as run_build

    try:
        with _progress() as progress:
            result = run_build(root, output=output, use_cache=not no_cache, strict=strict, progress=progress)
    except BuildError as exc:
        _report(exc.problems)
        sys.exit(1)
    _report(result.warnings)
    per_lang = ", ".join(f"{lang} {n}" for lang, n in result.pages.items())
    warned = f", {len(result.warnings)} warning{'s' if len(result.warnings) != 1 else ''}" if result.warnings else ""
    click.echo(f"Built {sum(result.pages.values())} pages ({per_lang}; {result.rendered} rendered){warned} "
               f"in {result.seconds:.2f} s -> {result.output}")
    if audit != "none":
        from .audit.command import gate

        code = gate(result.output, root.resolve(), audit)
        if code:
            sys.exit(code)


class _progress:
    """A progress bar on a terminal for long builds; nothing in logs or for short ones."""

    def __enter__(self):
        self.bar = None
        self.total = 0
        return self if sys.stderr.isatty() else None

    def __call__(self, n: int) -> None:
        self.total += n
        if self.bar is None and self.total >= 200:
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.bar.start()
            self.task = self.bar.add_task("Rendering pages", total=None)
        if self.bar is not None:
            self.bar.update(self.task, completed=self.total)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()


@main.command()
@click.option("--root", type=click.Path(file_okay=False, exists=True, path_type=Path), default=".", help="The site's folder (with site.toml).")
@click.option("--port", default=8000, show_default=True, help="The port on 127.0.0.1.")
def serve(root: Path, port: int) -> None:
    """Preview the site at http://127.0.0.1:PORT/, rebuilding and reloading the browser on every edit."""
    from .serve import serve as run

    run(root.resolve(), port)


def _register_audit() -> None:
    from .audit.command import audit

    main.add_command(audit)


_register_audit()


@main.group()
def tokens() -> None:
    """Design tokens: check contrast, export CSS or JSON."""


def _tokens(root: Path):
    from . import assets, config

    try:
        return assets.load_tokens(config.load(root.resolve()))
    except BuildError as exc:
        _report(exc.problems)
        sys.exit(1)


@tokens.command("check")
@click.option("--root", type=click.Path(file_okay=False, exists=True, path_type=Path), default=".")
def tokens_check(root: Path) -> None:
    """Check every declared colour pair in every mode against WCAG."""
    token_set, problems = _tokens(root)
    if problems:
        _report(problems)
        sys.exit(1)
    click.echo(f"All {len(token_set.pairs)} colour pairs pass in {len(token_set.modes)} modes.")


@tokens.command("export")
@click.option("--root", type=click.Path(file_okay=False, exists=True, path_type=Path), default=".")
@click.option("--format", "fmt", type=click.Choice(["css", "json"]), default="css", show_default=True)
def tokens_export(root: Path, fmt: str) -> None:
    """Print the resolved tokens as CSS custom properties or JSON."""
    from . import tokens as tokens_mod

    token_set, _ = _tokens(root)
    click.echo(tokens_mod.to_css(token_set) if fmt == "css" else tokens_mod.to_json(token_set), nl=False)
