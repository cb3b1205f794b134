"""The healingpixels command: new, build, serve, tokens."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .errors import BuildError, Problem

AUDITS = ("none", "static", "browser", "full")


UNCHANGED = "nothing was written; the previous site is unchanged."
SHOWN_WARNINGS = 20  # a screenful: thousands of overdue reviews would bury everything else


def _report(problems: list[Problem], outcome: str = "", all_warnings: bool = True) -> None:
    """Each problem on its own lines (errors all; warnings the first few unless ALL_WARNINGS), then the count of
    errors and, for a build, what that means for the site."""
    errors = sum(p.severity == "error" for p in problems)
    warnings = 0
    for problem in problems:
        if problem.severity != "error":
            warnings += 1
            if warnings > SHOWN_WARNINGS and not all_warnings:
                continue
        click.secho(str(problem), fg="red" if problem.severity == "error" else "yellow", err=True)
    if warnings > SHOWN_WARNINGS and not all_warnings:
        click.secho(f"… and {warnings - SHOWN_WARNINGS} more warnings: --all-warnings prints every one", fg="yellow", err=True)
    if errors:
        click.secho(f"\n{errors} error{'s' if errors != 1 else ''}" + (f": {outcome}" if outcome else "."),
                    fg="red", bold=True, err=True)


class _Commands(click.Group):
    """The commands, with `audit` imported only when it is asked for: its imports would add a tenth of a second to
    every small rebuild."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), "audit"])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "audit":
            from .audit.command import audit

            return audit
        return super().get_command(ctx, name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--audit", type=click.Choice(AUDITS), default=None,
              help="Audits after the build: static checks, + axe in Chromium (browser, the default when Chromium is "
                   "installed), + Lighthouse (full), or none.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--all-warnings", is_flag=True, help=f"Print every warning, not only the first {SHOWN_WARNINGS}.")
def build(root: Path, output: Path | None, no_cache: bool, audit: str | None, strict: bool, all_warnings: bool) -> None:
    """Build the site into its output folder, then audit it."""
    from .build import build as run_build

    audit = audit or _default_audit()
    try:
        with _progress() as progress:
            result = run_build(root, output=output, use_cache=not no_cache, strict=strict, progress=progress)
    except BuildError as exc:
        _report(exc.problems, UNCHANGED)
        sys.exit(1)
    _report(result.warnings, all_warnings=all_warnings)
    per_lang = ", ".join(f"{lang} {n}" for lang, n in result.pages.items())
    warned = f", {len(result.warnings)} warning{'s' if len(result.warnings) != 1 else ''}" if result.warnings else ""
    saved = f", images {result.bytes_saved / 1024:.1f} KB smaller" if result.bytes_saved else ""
    if result.fonts:  # the web font's weight on the site, against the files it was cut from (each counted once)
        faces, source = len(result.fonts), {name: size for name, size, _ in result.fonts}
        saved += (f", web font {faces} file{'s' if faces != 1 else ''} {sum(f[2] for f in result.fonts) / 1024:.1f} KB "
                  f"WOFF2 (from {sum(source.values()) / 1024:.1f} KB)")
    click.echo(f"Built {sum(result.pages.values())} pages ({per_lang}; {result.rendered} rendered){warned}{saved} "
               f"in {result.seconds:.2f} s -> {result.output}")
    if audit != "none":
        from .audit.command import gate

        code = gate(result.output, root.resolve(), audit)
        if code:
            sys.exit(code)


def _default_audit() -> str:
    """axe in Chromium when it is installed; otherwise the static checks, saying how to get the rest."""
    from .audit.browser import BrowserMissing, find_browser

    try:
        find_browser()
        return "browser"
    except BrowserMissing as exc:
        click.secho(f"Only the static audit will run: {exc}", fg="yellow", err=True)
        return "static"


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


@main.command()
@click.option("--root", type=click.Path(file_okay=False, exists=True, path_type=Path), default=".", help="The site's folder (with site.toml).")
@click.option("--format", "fmt", type=click.Choice(["nginx", "headers"]), default="nginx", show_default=True,
              help="nginx: a snippet for a server block; headers: the _headers file the build also writes.")
def deploy(root: Path, fmt: str) -> None:
    """Print the headers a host should send: long caching for assets, the Content-Security-Policy, security."""
    from . import deploy as deploy_mod

    site_config = _site_config(root)
    click.echo(deploy_mod.nginx_snippet(site_config) if fmt == "nginx" else deploy_mod.netlify_headers(site_config), nl=False)


@main.group()
def tokens() -> None:
    """Design tokens: check contrast, export CSS or JSON."""


def _tokens(root: Path):
    from . import assets

    try:
        return assets.load_tokens(_site_config(root))
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


@main.group("i18n")
def i18n_group() -> None:
    """Languages: interface catalogs (extract, update, compile) and translation status (status, mark)."""


def _site_config(root: Path):
    from . import config

    try:
        return config.load(root.resolve())
    except BuildError as exc:
        _report(exc.problems)
        sys.exit(1)


def _root_option(f):
    return click.option("--root", type=click.Path(file_okay=False, exists=True, path_type=Path), default=".",
                        help="The site's folder (with site.toml).")(f)


@i18n_group.command("extract")
@_root_option
def i18n_extract(root: Path) -> None:
    """Write locales/messages.pot: every interface text of the theme, the components and the program."""
    from . import i18n

    config = _site_config(root)
    path, template, written = i18n.write_template(config.root, config.theme)
    click.echo(f"{len(template)} texts -> {path}{'' if written else ' (unchanged)'}")


@i18n_group.command("update")
@_root_option
@click.option("--language", "languages", multiple=True, metavar="CODE",
              help="Also create the site's own catalog for CODE, to change built-in texts (repeatable).")
def i18n_update(root: Path, languages: tuple[str, ...]) -> None:
    """Extract, then merge new and changed texts into every catalog; create one for each language of site.toml
    that has none yet."""
    from . import i18n

    config = _site_config(root)
    for stats in i18n.update_catalogs(config.root, config.theme, [lang.code for lang in config.languages], languages):
        _catalog_line(config.root, stats, "updated" if stats.written else "unchanged")


def _catalog_line(root: Path, stats, what: str) -> None:
    rel = stats.path.relative_to(root) if stats.path.is_relative_to(root) else stats.path
    todo = [f"{n} {label}" for n, label in ((stats.untranslated, "to translate"), (stats.fuzzy, "fuzzy"),
                                             (len(stats.errors), "with wrong placeholders")) if n]
    colour = "yellow" if todo else None
    click.secho(f"{stats.code:<8} {stats.translated}/{stats.total} translated{', ' if todo else ''}{', '.join(todo)}"
                f"  {rel} ({what})", fg=colour)


@i18n_group.command("compile")
@_root_option
@click.option("--mo", "mo_dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Also write DIR/<code>/LC_MESSAGES/messages.mo for other tools (the build needs none).")
@click.option("--strict", is_flag=True, help="Exit with status 1 when a catalog leaves texts untranslated.")
def i18n_compile(root: Path, mo_dir: Path | None, strict: bool) -> None:
    """Compile every catalog as the build does, and say what each one still lacks."""
    from . import i18n

    config = _site_config(root)
    found = i18n.compile_catalogs(config.root, config.theme, output=mo_dir)
    gaps = 0
    for stats in found:
        _catalog_line(config.root, stats, "compiled")
        for msgid, errors in sorted(stats.errors.items()):
            click.secho(f"    {msgid!r}: {'; '.join(errors)}", fg="red", err=True)
        gaps += (stats.untranslated + stats.fuzzy + len(stats.errors)) if not i18n.is_source(stats.code) else 0
    if not found:
        click.echo("No catalogs in locales/: the built-in ones are used. Create the site's own with: "
                   "healingpixels i18n update --language CODE")
    if strict and gaps:
        sys.exit(1)


@i18n_group.command("status")
@_root_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Exit with status 1 when a page is missing or outdated in a language.")
def i18n_status(root: Path, fmt: str, strict: bool) -> None:
    """Which pages each language is missing, and which translations are older than their source."""
    from . import content, translation_status

    site, _ = content.load(_site_config(root))
    report = translation_status.report(site)
    click.echo(report.to_json() if fmt == "json" else report.to_text(), nl=False)
    if strict and report.gaps:
        sys.exit(1)


@i18n_group.command("mark")
@_root_option
@click.argument("paths", nargs=-1, required=True)
def i18n_mark(root: Path, paths: tuple[str, ...]) -> None:
    """Record translations (files or folders, like content/ru or content/ko/flu.md) as up to date with their source
    now, in translations.lock."""
    from . import content, translation_status

    config = _site_config(root)
    site, _ = content.load(config)
    rels = []
    for raw in paths:
        path = Path(raw)
        absolute = path.resolve() if path.exists() else (config.root / path).resolve()
        rels.append(absolute.relative_to(config.root).as_posix() if absolute.is_relative_to(config.root) else raw)
    done, problems = translation_status.mark(site, rels)
    _report(problems)
    click.echo(f"Marked {len(done)} translation{'s' if len(done) != 1 else ''} as up to date in "
               f"{translation_status.LOCK_FILE}.")
    if problems:
        sys.exit(1)


def run() -> None:
    """The console script: the commands, then an immediate exit. A build leaves a large site's pages and cache in
    memory, and Python would free them object by object on the way out: a tenth of a second of a small rebuild."""
    try:
        main(prog_name="healingpixels")
        code = 0
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, str):  # sys.exit("message") prints it, as Python would
        click.echo(code, err=True)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)

