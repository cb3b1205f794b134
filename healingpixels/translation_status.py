"""Translation status: which pages each language is missing, and which translations are older than their source.

The source of a page is its version in the default language. `healingpixels i18n mark PATH…` records, in
translations.lock at the site's root, a hash of each named translation's source (title and body) at that moment:
"this translation is up to date with its source". Later, a different hash means the source changed since: outdated.
Writers never edit the lock file; it is sorted and stable, so it diffs well in version control.
"""
from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .content import CONTENT, Page, Site
from .errors import Problem

LOCK_FILE = "translations.lock"
LOCK_HEADER = ("# Written by `healingpixels i18n mark`: for each translation, the hash of its source page (title and\n"
               "# body) when the translation was last brought up to date with it. Do not edit; mark again instead.\n")
MISSING, OUTDATED, UNMARKED, CURRENT = "missing", "outdated", "unmarked", "current"


def source_hash(page: Page) -> str:
    """What a translation follows: the title and the body, with line endings and trailing space made uniform."""
    text = page.meta.title.strip() + "\n\n" + "\n".join(line.rstrip() for line in page.body.strip().splitlines())
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


@dataclass(frozen=True)
class Entry:
    state: str  # missing, outdated, unmarked, current
    page: str  # the translation's file (for a missing one: where it would be)
    source: str  # the source page's file


@dataclass
class Report:
    source_language: str
    sources: int  # pages in the source language
    languages: dict[str, list[Entry]] = field(default_factory=dict)  # code -> entries, sorted by page

    def count(self, code: str, state: str) -> int:
        return sum(e.state == state for e in self.languages[code])

    @property
    def gaps(self) -> list[Entry]:
        return [e for entries in self.languages.values() for e in entries if e.state in (MISSING, OUTDATED)]

    def to_json(self) -> str:
        data = {
            "source_language": self.source_language,
            "source_pages": self.sources,
            "ok": not self.gaps,
            "languages": {code: {
                "current": self.count(code, CURRENT),
                **{state: [{"page": e.page, "source": e.source} for e in entries if e.state == state]
                   for state in (MISSING, OUTDATED, UNMARKED)},
            } for code, entries in self.languages.items()},
        }
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"

    def to_text(self) -> str:
        lines = [f"Translation status: {self.sources} source page{'s' if self.sources != 1 else ''} "
                 f"in {self.source_language}"]
        width = max((len(c) for c in self.languages), default=2)
        for code, entries in self.languages.items():
            parts = [f"{self.count(code, s)} {label}" for s, label in
                     ((CURRENT, "up to date"), (OUTDATED, "outdated"), (MISSING, "missing"), (UNMARKED, "not marked"))
                     if self.count(code, s)]
            lines.append(f"  {code:<{width}}  {', '.join(parts) or 'nothing to translate'}")
            for e in entries:
                if e.state == MISSING:
                    lines.append(f"      missing     {e.page}  (translate {e.source})")
                elif e.state == OUTDATED:
                    lines.append(f"      outdated    {e.page}  ({e.source} changed since it was marked)")
                elif e.state == UNMARKED:
                    lines.append(f"      not marked  {e.page}")
        unmarked = [e.page for entries in self.languages.values() for e in entries if e.state == UNMARKED]
        if unmarked:
            folders = sorted({"/".join(page.split("/")[:2]) for page in unmarked})
            lines.append("A translation not marked may be outdated: nothing says which version of its source it "
                         "follows. Mark the ones that match their source (a file, or a whole language):\n"
                         f"  healingpixels i18n mark {unmarked[0]}\n  healingpixels i18n mark {' '.join(folders)}")
        if any(e.state == OUTDATED for e in self.gaps):
            lines.append("After updating an outdated translation, mark it again: healingpixels i18n mark PATH")
        return "\n".join(lines) + "\n"


# --- the lock file ------------------------------------------------------------------------------------------------

def read_lock(root: Path) -> dict[str, dict[str, str]]:
    """translation file -> {"source": file, "hash": hash}; empty when there is no lock file (or it is unreadable)."""
    path = root / LOCK_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict) and isinstance(v.get("hash"), str)}


def write_lock(root: Path, entries: dict[str, dict[str, str]]) -> None:
    """Sorted keys, one table per translation: the same entries always give the same bytes."""
    out = [LOCK_HEADER]
    for page in sorted(entries):
        entry = entries[page]
        out.append(f"\n[{json.dumps(page, ensure_ascii=False)}]\n"
                   f"source = {json.dumps(entry['source'], ensure_ascii=False)}\n"
                   f"hash = {json.dumps(entry['hash'])}\n")
    path = root / LOCK_FILE
    tmp = path.with_name(f".{LOCK_FILE}.{os.getpid()}")
    tmp.write_text("".join(out), encoding="utf-8")
    os.replace(tmp, path)


# --- status -------------------------------------------------------------------------------------------------------

def _where(source: Page, code: str) -> str:
    """content/en/a/b.md -> content/ru/a/b.md: where the translation into CODE belongs."""
    return f"{CONTENT}/{code}/{source.source.split('/', 2)[2]}"


def report(site: Site, lock: dict[str, dict[str, str]] | None = None) -> Report:
    config = site.config
    default = config.default_language
    lock = read_lock(config.root) if lock is None else lock
    sources = sorted((p for p in site.pages if p.lang == default and not p.is_stand_in), key=lambda p: p.source)
    result = Report(default, len(sources))
    for lang in config.languages:
        if lang.code == default:
            continue
        entries = []
        for source in sources:
            translation = site.translations.get(source.key, {}).get(lang.code)
            if translation is None:
                entries.append(Entry(MISSING, _where(source, lang.code), source.source))
                continue
            marked = lock.get(translation.source)
            state = UNMARKED if marked is None else CURRENT if marked["hash"] == source_hash(source) else OUTDATED
            entries.append(Entry(state, translation.source, source.source))
        result.languages[lang.code] = sorted(entries, key=lambda e: e.page)
    return result


def build_problems(site: Site) -> list[Problem]:
    """The build's warnings: one for each page missing in a language, and each translation older than its source."""
    config = site.config
    problems = []
    for code, entries in report(site).languages.items():
        lang = config.language(code)
        for e in entries:
            if e.state == MISSING:
                shown = ("readers get the page in another language, with a notice"
                         if site.stand_ins.get(site.by_source[e.source].key, {}).get(code)
                         else "the language switcher sends its readers to the home page")
                problems.append(Problem(e.source, None, f"no {lang.name} ({code}) translation: {shown}",
                                        f"translate it as {e.page}", severity="warning"))
            elif e.state == OUTDATED:
                problems.append(Problem(e.page, None, f"this {lang.name} ({code}) translation is older than its source "
                                                      f"{e.source}, which changed since the translation was marked",
                                        f"bring it up to date, then run: healingpixels i18n mark {e.page}",
                                        severity="warning"))
    return problems


def mark(site: Site, paths: list[str]) -> tuple[list[str], list[Problem]]:
    """Record each translation under PATHS (files or folders, relative to the site) as up to date with its source
    now. Entries for translations that no longer exist are dropped. Returns (marked files, problems)."""
    config = site.config
    default = config.default_language
    translations = {p.source: p for p in site.pages if not p.is_stand_in and p.lang != default}
    chosen, problems = [], []
    for raw in paths:
        rel = raw.strip("/").removeprefix("./")
        found = [s for s in translations if s == rel or s.startswith(rel + "/")]
        if not found:
            source_side = rel == f"{CONTENT}/{default}" or rel.startswith(f"{CONTENT}/{default}/")
            what = "this is the source language, not a translation" if source_side else "no translated page here"
            problems.append(Problem(rel, None, what, f"name translations, like {CONTENT}/ru/… or the folder {CONTENT}/ru"))
            continue
        chosen += found
    lock = read_lock(config.root)
    done = []
    for page_source in sorted(set(chosen)):
        page = translations[page_source]
        source = site.translations.get(page.key, {}).get(default)
        if source is None:
            problems.append(Problem(page_source, None, f"this page has no {default} source to follow",
                                    f"add {_where(page, default)}, or give both the same translation_key"))
            continue
        lock[page_source] = {"source": source.source, "hash": source_hash(source)}
        done.append(page_source)
    live = {p.source for p in translations.values()}
    lock = {k: v for k, v in lock.items() if k in live and "source" in v}
    if done or lock != read_lock(config.root):
        write_lock(config.root, lock)
    return done, problems


__all__ = ["LOCK_FILE", "Entry", "Report", "report", "build_problems", "mark", "read_lock", "write_lock", "source_hash"]
