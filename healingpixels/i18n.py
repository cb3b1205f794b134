"""Languages: gettext catalogs compiled from locales/*.po at build time, and CLDR dates through Babel."""
from __future__ import annotations

import datetime as dt
import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "messages"


def locale_dir_name(code: str) -> str:
    """BCP 47 to the gettext folder name: zh-Hans -> zh_Hans."""
    return code.replace("-", "_")


def babel_locale(code: str) -> Locale:
    return Locale.parse(locale_dir_name(code))


def _catalog(path: Path) -> gettext.NullTranslations | None:
    if not path.is_file():
        return None
    with path.open("rb") as f:
        catalog = read_po(f, locale=path.parent.parent.name)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


@lru_cache(maxsize=None)
def translations(locales: Path, code: str, fallbacks: tuple[str, ...] = ()) -> gettext.NullTranslations:
    """The catalog for a language, chained to its fallbacks; English source strings when nothing matches."""
    chain = [c for c in (code, *fallbacks)]
    result: gettext.NullTranslations | None = None
    for c in chain:
        found = _catalog(locales / locale_dir_name(c) / "LC_MESSAGES" / f"{DOMAIN}.po")
        if found is None:
            continue
        if result is None:
            result = found
        else:
            result.add_fallback(found)
    return result or gettext.NullTranslations()


def long_date(value: str | dt.date, code: str) -> str:
    """'5 March 2026', '2026年3月5日', '5 марта 2026 г.', '2026년 3월 5일': CLDR's long format for the language."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return format_date(value, format="long", locale=babel_locale(code))
