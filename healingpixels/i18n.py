"""Languages: gettext catalogs compiled from locales/*.po at build time, their extraction and upkeep, the build's check
that every interface text is translated, and CLDR dates and language names through Babel.

Catalogs live in locales/<code>/LC_MESSAGES/messages.po (zh-Hans -> zh_Hans). A site's own catalogs come first and
the built-in ones fill what they leave out, string by string; then the language's fallbacks (site.toml); then the
English of the templates themselves.
"""
from __future__ import annotations

import copy
import datetime as dt
import gettext
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import get_global, parse_locale
from babel.dates import format_date
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

from .errors import Problem

DOMAIN = "messages"
SOURCE_LANGUAGE = "en"  # the language the templates are written in: its catalog is the identity
PROJECT = "Healing Pixels"
TEMPLATE = f"{DOMAIN}.pot"
# The options the theme's Jinja environment is built with (render.Templates), for Babel's Jinja extractor.
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true",
                 "newstyle_gettext": "true"}
COMMENT_TAGS = ("Translators:",)


def N_(message: str) -> str:
    """Marks a text for extraction where it is defined; it is translated where it is shown."""
    return message


# Interface texts written by Python rather than a template. The language switcher shows them in the language of the
# entry, not of the page: they say, in that language, that this page has no translation in it.
SWITCHER_HOME = N_("(page not translated – home page)")
SWITCHER_FALLBACK = N_("(page not translated yet – shown in another language)")
PYTHON_MESSAGES = (SWITCHER_HOME, SWITCHER_FALLBACK)


def locale_dir_name(code: str) -> str:
    """BCP 47 to the gettext folder name: zh-Hans -> zh_Hans."""
    return code.replace("-", "_")


@lru_cache(maxsize=None)  # parsing CLDR data for every date of every page is a real share of a build
def babel_locale(code: str) -> Locale:
    return Locale.parse(locale_dir_name(code))


def catalog_path(locales: Path, code: str) -> Path:
    return locales / locale_dir_name(code) / "LC_MESSAGES" / f"{DOMAIN}.po"


def _as_dirs(locales: Path | tuple[Path, ...] | list[Path]) -> tuple[Path, ...]:
    return (locales,) if isinstance(locales, Path) else tuple(locales)


# --- reading catalogs ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=64)
def _read(path: Path, stamp: tuple[int, int]) -> Catalog:
    return read_catalog(path)


def read_catalog(path: Path) -> Catalog | None:
    """A .po (or .pot) file parsed afresh: a copy to change. The locale is the folder's, for <code>/LC_MESSAGES/."""
    if not path.is_file():
        return None
    locale = path.parent.parent.name if path.parent.name == "LC_MESSAGES" else None
    with path.open("rb") as f:
        return read_po(f, locale=locale, abort_invalid=True)


def load_catalog(path: Path) -> Catalog | None:
    """A .po file parsed, once for as long as it stays unchanged on disk."""
    try:
        st = path.stat()
    except OSError:
        return None
    return _read(path, (st.st_mtime_ns, st.st_size))


def complete(message: Message) -> bool:
    """Translated, every plural form filled in, and not marked fuzzy (a guess a translator has not confirmed)."""
    if not message.id or message.fuzzy:
        return False
    forms = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    return bool(forms) and all(forms)


def broken(catalog: Catalog) -> dict[str, list[str]]:
    """msgid -> what is wrong with its translation (placeholders that do not match the English), per Babel's checks;
    for translations in use only (a fuzzy guess is not used, so its placeholders do not matter yet)."""
    return {_key(msg.id): [str(e) for e in errors] for msg, errors in catalog.check() if errors and complete(msg)}


def usable(catalog: Catalog) -> dict[str, Message]:
    """The messages the build uses: complete ones whose placeholders match; the rest fall back."""
    bad = broken(catalog)
    found = {}
    for msg in catalog:
        if complete(msg) and _key(msg.id) not in bad:
            found[_key(msg.id)] = msg
    return found


def _key(msgid) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


# A .po file's path -> its usable messages compiled to .mo bytes. A build seeds it from its cache (the catalogs are
# in the build's fingerprint), so a rebuild does not parse the catalogs again.
COMPILED: dict[str, bytes] = {}


def _compiled(path: Path) -> bytes | None:
    if str(path) not in COMPILED:
        catalog = load_catalog(path)
        if catalog is None:
            return None
        keep = Catalog(locale=catalog.locale, domain=DOMAIN)
        keep.mime_headers = catalog.mime_headers  # Plural-Forms: each catalog plurals by its own language's rule
        for msg in usable(catalog).values():
            keep[msg.id] = msg
        buf = io.BytesIO()
        write_mo(buf, keep)
        COMPILED[str(path)] = buf.getvalue()
    return COMPILED[str(path)]


@lru_cache(maxsize=None)
def translations(locales: Path | tuple[Path, ...], code: str,
                 fallbacks: tuple[str, ...] = ()) -> gettext.NullTranslations:
    """The catalog for a language, chained to its fallbacks; English source strings when nothing matches.
    LOCALES is one folder or several (the site's first): each language's catalogs are layered in that order."""
    result: gettext.NullTranslations | None = None
    for c in dict.fromkeys((code, *fallbacks)):
        for folder in _as_dirs(locales):
            compiled = _compiled(catalog_path(folder, c))
            if compiled is None:
                continue
            found = Translations(io.BytesIO(compiled), domain=DOMAIN)
            if result is None:
                result = found
            else:
                result.add_fallback(found)
    return result or gettext.NullTranslations()


def clear_caches() -> None:
    translations.cache_clear()
    _read.cache_clear()
    COMPILED.clear()


# --- CLDR ---------------------------------------------------------------------------------------------------------

@lru_cache(maxsize=4096)  # a site has a few hundred review dates, shown on thousands of pages
def long_date(value: str | dt.date, code: str) -> str:
    """'5 March 2026', '2026年3月5日', '5 марта 2026 г.', '2026년 3월 5일': CLDR's long format for the language."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return format_date(value, format="long", locale=babel_locale(code))


def script(code: str) -> str | None:
    """The ISO 15924 script language CODE is written in, from CLDR (its likely subtags when the code names none):
    'en' -> 'Latn', 'ru' -> 'Cyrl', 'zh-Hans' -> 'Hans', 'ko' -> 'Kore', 'sr-Latn' -> 'Latn'; None if CLDR does not
    know the language."""
    try:
        locale = babel_locale(code)
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    if locale.script:
        return locale.script
    likely = get_global("likely_subtags")
    for key in (f"{locale.language}_{locale.territory}", locale.language):
        if key in likely:
            return parse_locale(likely[key])[2]
    return None


def language_name(code: str, in_code: str, default: str = "") -> str:
    """The name of language CODE as written in language IN_CODE, from CLDR: ('en', 'ko') -> '영어'."""
    try:
        names = babel_locale(in_code).languages
    except (ValueError, TypeError, UnknownLocaleError):
        return default or code
    return names.get(locale_dir_name(code)) or names.get(code.split("-")[0]) or default or code


# --- what the templates ask to be translated ----------------------------------------------------------------------

def message_files(site_root: Path, theme: str, python: bool = True) -> list[tuple[str, Path, str]]:
    """(method, file, name) for every file whose texts the site shows: the theme's templates and the components' (the
    site's own copy of a file wins, as when rendering), and the Python modules that mark texts with N_."""
    from .render import PACKAGE, component_dirs, theme_dirs

    found: list[tuple[str, Path, str]] = []
    for label, roots in (("templates", [d / "templates" for d in theme_dirs(site_root, theme)]),
                         ("components", component_dirs(site_root))):
        winners: dict[str, Path] = {}
        for root in roots:
            for path in sorted(root.rglob("*.html")) if root.is_dir() else []:
                winners.setdefault(path.relative_to(root).as_posix(), path)
        found += [("jinja2", path, _display(site_root, path)) for _, path in sorted(winners.items())]
    if python:
        found += [("python", path, _display(site_root, path)) for path in sorted(PACKAGE.rglob("*.py"))
                  if "_builtin" not in path.parts]
    return found


def _display(site_root: Path, path: Path) -> str:
    from .render import BUILTIN

    for base in (site_root, BUILTIN):
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            continue
    return path.as_posix()


def _extract_file(method: str, path: Path, silent: bool = False):
    from babel.messages.extract import DEFAULT_KEYWORDS, extract

    func = "jinja2.ext:babel_extract" if method == "jinja2" else "python"
    options = {**JINJA_OPTIONS, "silent": "true" if silent else "false"} if method == "jinja2" else {}
    with path.open("rb") as f:
        yield from extract(func, f, keywords=DEFAULT_KEYWORDS, comment_tags=COMMENT_TAGS, options=options,
                           strip_comment_tags=True)


def _new_catalog(locale: str | None, comment: str) -> Catalog:
    catalog = Catalog(locale=locale, domain=DOMAIN, project=PROJECT, charset="utf-8", fuzzy=False,
                      header_comment=comment, creation_date=_now())
    catalog.version = "interface texts"
    catalog.msgid_bugs_address = catalog.last_translator = catalog.language_team = ""
    return catalog


def extract_template(site_root: Path, theme: str) -> Catalog:
    """Every interface text of the theme, the components and the program: the messages.pot to translate from."""
    catalog = _new_catalog(None, "# Healing Pixels: every interface text to translate, made by "
                                 "healingpixels i18n extract.\n# Do not edit: translate in locales/<code>/LC_MESSAGES/"
                                 "messages.po, after healingpixels i18n update.")
    for method, path, name in message_files(site_root, theme):
        for lineno, message, comments, context in _extract_file(method, path):
            catalog.add(message, None, [(name, lineno)], auto_comments=comments, context=context)
    return catalog


_TEMPLATE_MESSAGES: dict[tuple[str, str], list[str]] = {}
_PARSER: list = []
_CALLS = re.compile(r"(?<![\w.])(_|gettext|ngettext|pgettext|npgettext)\s*\(|\{%-?\s*trans\b")  # worth parsing


def _template_ids(source: str) -> list[str]:
    """The msgids one template uses: what Babel's Jinja extractor finds, with one parser for all templates."""
    from babel.messages.extract import DEFAULT_KEYWORDS
    from jinja2 import Environment, TemplateSyntaxError
    from jinja2.ext import InternationalizationExtension, extract_from_ast

    if not _CALLS.search(source):
        return []
    if not _PARSER:
        _PARSER.append(Environment(extensions=[InternationalizationExtension], trim_blocks=True, lstrip_blocks=True))
    try:
        node = _PARSER[0].parse(source)
    except TemplateSyntaxError:
        return []  # rendering reports it, with its line
    found = set()
    for _, _, message in extract_from_ast(node, tuple(DEFAULT_KEYWORDS)):
        first = message[0] if isinstance(message, tuple) else message
        if first:
            found.add(first)
    return sorted(found)


def used_messages(site_root: Path, theme: str, cache_dir: Path | None = None) -> set[str]:
    """The msgids the site's templates use (plus the program's own), quickly: each file is parsed only when its bytes
    change, remembered in memory and, with CACHE_DIR, on disk between builds."""
    disk: dict[str, list[str]] = {}
    cache_file = cache_dir / "i18n-messages.json" if cache_dir else None
    if cache_file and cache_file.is_file():
        try:
            disk = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            disk = {}
    used: set[str] = set(PYTHON_MESSAGES)
    fresh: dict[str, list[str]] = {}
    for method, path, _ in message_files(site_root, theme, python=False):
        data = path.read_bytes()
        key = (method, hashlib.blake2b(data, digest_size=16).hexdigest())
        ids = _TEMPLATE_MESSAGES.get(key) or disk.get(key[1])
        if ids is None:
            ids = _template_ids(data.decode("utf-8"))
        _TEMPLATE_MESSAGES[key] = ids
        fresh[key[1]] = ids
        used.update(ids)
    if cache_file and fresh != disk:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_name(f"{cache_file.name}.{os.getpid()}")
        tmp.write_text(json.dumps(fresh, sort_keys=True), encoding="utf-8")
        os.replace(tmp, cache_file)
    return used


# --- the build's check --------------------------------------------------------------------------------------------

def is_source(code: str) -> bool:
    """English needs no catalog: the templates are written in it."""
    return code.split("-")[0] == SOURCE_LANGUAGE


def catalog_problems(config, cache_dir: Path | None = None) -> list[Problem]:
    """A warning for each language whose catalogs leave interface texts untranslated (missing, empty or fuzzy) or
    translate them with placeholders that do not match: those texts show in a fallback language."""
    from .render import locales_dirs

    dirs = locales_dirs(config.root)
    used = used_messages(config.root, config.theme, cache_dir)
    problems = []
    for lang in config.languages:
        if is_source(lang.code):
            continue
        paths = [p for p in (catalog_path(d, lang.code) for d in dirs) if p.is_file()]
        shown = " then ".join([*(language_name(c, SOURCE_LANGUAGE) for c in lang.fallback if not is_source(c)),
                               "English"])
        if not paths:
            where = catalog_path(Path("locales"), lang.code).as_posix()
            problems.append(Problem(where, None, f"there is no interface catalog for {lang.name} ({lang.code}): every "
                                                 f"button, label and notice shows in {shown}",
                                    f"create it with: healingpixels i18n update, then translate {where}",
                                    severity="warning"))
            continue
        done: set[str] = set()
        wrong: dict[str, list[str]] = {}
        for path in paths:
            catalog = load_catalog(path)
            done.update(usable(catalog))
            for key, errors in broken(catalog).items():
                wrong.setdefault(key, errors)
        missing = sorted(used - done)
        where = _display(config.root, paths[0])
        if missing:
            listed = ", ".join(f'"{_short(m)}"' for m in missing[:3]) + (f" and {len(missing) - 3} more"
                                                                         if len(missing) > 3 else "")
            n = len(missing)
            problems.append(Problem(where, None, f"{n} interface text{'s' if n != 1 else ''} not translated into "
                                                 f"{lang.name} ({lang.code}) show{'s' if n == 1 else ''} in {shown}: "
                                                 f"{listed}",
                                    "run: healingpixels i18n update, then fill in the empty and fuzzy entries",
                                    severity="warning"))
        for key in sorted(set(wrong) & used):
            problems.append(Problem(where, None, f'the {lang.code} translation of "{key}" does not match its '
                                                 f"placeholders: {'; '.join(wrong[key])}",
                                    "keep every %(name)s of the English exactly as it is", severity="warning"))
    return problems


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


# --- keeping catalogs up to date ----------------------------------------------------------------------------------

@dataclass
class CatalogStats:
    code: str
    path: Path
    total: int
    translated: int
    fuzzy: int
    untranslated: int
    errors: dict[str, list[str]]
    written: bool = False


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)


_DATE_HEADERS = (b'"POT-Creation-Date:', b'"PO-Revision-Date:')


def _serialise(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, include_lineno=False, ignore_obsolete=True, include_previous=False)
    return buf.getvalue()


def _write_if_changed(path: Path, catalog: Catalog, revision: bool) -> bool:
    """Write a catalog only when its messages changed, so a run that changes nothing leaves every file as it was."""
    def body(data: bytes) -> list[bytes]:
        return [line for line in data.splitlines() if not line.startswith(_DATE_HEADERS)]

    old = path.read_bytes() if path.is_file() else None
    if old is not None and body(old) == body(_serialise(catalog)):
        return False
    if revision:
        catalog.revision_date = _now()
    else:
        catalog.creation_date = _now()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}")
    tmp.write_bytes(_serialise(catalog))
    os.replace(tmp, path)
    return True


def write_template(site_root: Path, theme: str) -> tuple[Path, Catalog, bool]:
    path = site_root / "locales" / TEMPLATE
    template = extract_template(site_root, theme)
    old = load_catalog(path)
    if old is not None:
        template.creation_date = old.creation_date
    return path, template, _write_if_changed(path, template, revision=False)


def update_catalogs(site_root: Path, theme: str, codes: list[str], force: tuple[str, ...] = ()) -> list[CatalogStats]:
    """Merge messages.pot into each language's catalog under SITE_ROOT/locales, creating the catalogs a language of
    the site has nowhere yet (or is asked for with FORCE). New texts arrive empty; changed ones arrive marked fuzzy
    with the old translation as a guess. English is filled with its own texts."""
    from .render import BUILTIN

    _, template, _ = write_template(site_root, theme)
    local = site_root / "locales"
    wanted = list(dict.fromkeys([*codes, *force]))
    if local.is_dir():  # catalogs already here, even for languages site.toml does not list (yet)
        wanted += [d.name.replace("_", "-") for d in sorted(local.iterdir())
                   if (d / "LC_MESSAGES" / f"{DOMAIN}.po").is_file() and d.name.replace("_", "-") not in wanted]
    stats = []
    for code in wanted:
        path = catalog_path(local, code)
        if not path.is_file() and code not in force and catalog_path(BUILTIN / "locales", code).is_file():
            continue  # the built-in catalog covers it
        old = read_catalog(path)
        if old is None:
            comment = (f"# {PROJECT}: interface texts in {language_name(code, SOURCE_LANGUAGE)} ({code}).\n"
                       "# Fill in every msgstr; healingpixels i18n compile checks them.")
            catalog = _new_catalog(locale_dir_name(code), comment)
            catalog.creation_date = template.creation_date
        else:
            catalog = old
        catalog.update(copy.deepcopy(template), update_header_comment=False)  # update shares the template's messages
        catalog.fuzzy = False
        if is_source(code):
            for msg in catalog:
                if msg.id and not complete(msg):
                    msg.string = msg.id if isinstance(msg.id, str) else tuple(
                        msg.id[min(i, 1)] for i in range(catalog.num_plurals))
                    msg.flags.discard("fuzzy")
        written = _write_if_changed(path, catalog, revision=True)
        stats.append(catalog_stats(code, path, template, written))
    return stats


def catalog_stats(code: str, path: Path, template: Catalog | None = None, written: bool = False) -> CatalogStats:
    catalog = load_catalog(path)
    ids = {_key(m.id) for m in (template if template is not None else catalog) if m.id}
    messages = {_key(m.id): m for m in catalog if m.id}
    translated = sum(1 for k in ids if k in messages and complete(messages[k]))
    fuzzy = sum(1 for k in ids if k in messages and messages[k].fuzzy)
    errors = {k: v for k, v in broken(catalog).items() if k in ids}
    return CatalogStats(code, path, len(ids), translated, fuzzy, len(ids) - translated - fuzzy, errors, written)


def compile_catalogs(site_root: Path, theme: str, output: Path | None = None) -> list[CatalogStats]:
    """Compile every catalog of the site as the build does (in memory) and report what is missing; with OUTPUT, also
    write OUTPUT/<code>/LC_MESSAGES/messages.mo for tools that want them (the build never reads .mo files)."""
    template = extract_template(site_root, theme)
    out = []
    local = site_root / "locales"
    for po in sorted(local.glob(f"*/LC_MESSAGES/{DOMAIN}.po")) if local.is_dir() else []:
        code = po.parent.parent.name.replace("_", "-")
        stats = catalog_stats(code, po, template)
        if output is not None:
            catalog = load_catalog(po)
            keep = Catalog(locale=catalog.locale, domain=DOMAIN)
            keep.mime_headers = catalog.mime_headers
            for msg in usable(catalog).values():
                keep[msg.id] = msg
            mo = output / po.relative_to(local).with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            with mo.open("wb") as f:
                write_mo(f, keep)
        out.append(stats)
    return out
