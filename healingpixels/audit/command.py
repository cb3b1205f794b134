"""`healingpixels audit PATH` and the gate `healingpixels build --audit LEVEL` runs after a build."""
from __future__ import annotations

import datetime as dt
import sys
import tomllib
from pathlib import Path

import click

from . import CACHE_DIR, LEVELS, AuditError, load_budgets, run
from .report import FORMATS, render, to_html, to_json, to_text


def _site_root_of(path: Path) -> Path | None:
    """The site whose output PATH is (its parent holds a site.toml naming it as output), for base_url and line numbers."""
    path = path.resolve()
    parent = path.parent
    config = parent / "site.toml"
    if not config.is_file():
        return None
    try:
        output = tomllib.loads(config.read_text(encoding="utf-8")).get("output", "public")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return parent if isinstance(output, str) and (parent / output).resolve() == path else None


def _fail(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(2)


@click.command("audit")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--level", type=click.Choice(LEVELS), default="static", show_default=True,
              help="static: HTML and CSS only (fast); browser: also axe in Chromium, in every colour mode; "
                   "full: also Lighthouse.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="How to report.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report here (the terminal then shows the text summary).")
@click.option("--site", "site_root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The site's folder (with site.toml), for its base URL and Markdown line numbers. "
                   "Found by itself when PATH is that site's output folder.")
@click.option("--budgets", "budgets_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Page weight budgets (default: the site's audits/budgets.toml).")
@click.option("--jobs", type=click.IntRange(1, 64), help="Processes for the static audit (default: by site size).")
@click.option("--lighthouse-all", is_flag=True, help="Run Lighthouse on every page, not one per page type and language.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), hidden=True, help="Check review dates against this day.")
def audit(path: Path, level: str, fmt: str, report_file: Path | None, site_root: Path | None,
          budgets_file: Path | None, jobs: int | None, lighthouse_all: bool, today: dt.datetime | None) -> None:
    """Audit the built site (or any folder of HTML) at PATH for accessibility, privacy and weight.

    Exit status: 0 when every page passes, 1 when any page has a problem (or could not be audited), 2 when the audit
    could not run.
    """
    if site_root is None:
        site_root = _site_root_of(path)
    try:
        budgets = load_budgets(site_root, budgets_file)
        report = run(path, level, site_root, budgets, jobs, today=today.date() if today else None,
                     lighthouse_all=lighthouse_all, say=lambda message: click.echo(message, err=True))
        output = render(report, fmt, report_file.resolve().parent if report_file else None)
        if report_file is not None:
            report_file.parent.mkdir(parents=True, exist_ok=True)
            report_file.write_text(output, encoding="utf-8")
    except AuditError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
    except Exception as exc:  # a bug: one line, not a traceback, and not a pass
        _fail(f"the audit crashed: {type(exc).__name__}: {exc}")
    if report_file is not None:
        click.echo(to_text(report, checklist=False), nl=False)
        click.echo(f"Report: {report_file}")
    else:
        click.echo(output, nl=False)
    sys.exit(1 if report.failed else 0)


def gate(output: Path, site_root: Path, level: str, *, today: dt.date | None = None) -> int:
    """After `build --audit LEVEL`: audit OUTPUT, print the summary, write .healingpixels-cache/audit/audit-report.html
    and .json under SITE_ROOT, and return the exit status (0 clean, 1 problems, 2 the audit could not run)."""
    if level == "none":
        return 0
    site_root = Path(site_root).resolve()
    try:
        report = run(Path(output), level, site_root, today=today, say=lambda message: click.echo(message, err=True))
        folder = site_root / CACHE_DIR / "audit"
        folder.mkdir(parents=True, exist_ok=True)
        (site_root / CACHE_DIR / ".gitignore").write_text("*\n")
        (folder / "audit-report.html").write_text(to_html(report, folder), encoding="utf-8")
        (folder / "audit-report.json").write_text(to_json(report), encoding="utf-8")
    except AuditError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        return 2
    except OSError as exc:
        click.secho(f"error: the audit report could not be written: {exc}", fg="red", err=True)
        return 2
    except Exception as exc:  # a bug: one line, not a traceback, and not a pass
        click.secho(f"error: the audit crashed: {type(exc).__name__}: {exc}", fg="red", err=True)
        return 2
    click.echo(to_text(report, checklist=False), nl=False)
    click.echo(f"Report: {folder / 'audit-report.html'}")
    return 1 if report.failed else 0
