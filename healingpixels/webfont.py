"""Web fonts, opt-in: the self-hosted font a site names in its tokens (font.webfont), cut down to the characters its
Latin- and Cyrillic-script pages use, as WOFF2 files under assets/ with @font-face rules for the stylesheet.

Nothing here fetches anything: the font is a file in the site. Without the token nothing is written and every page
uses the reader's system fonts (the default). Chinese, Korean and other scripts keep their system fonts always:
their stacks do not name the web font, and its unicode-range leaves their characters out.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from babel import UnknownLocaleError

from . import i18n, tokens
from .content import REVIEWER_TEXTS, Site
from .errors import Problem
from .render import locales_dirs

SCRIPTS = {"Latn", "Cyrl"}  # ISO 15924: the languages written in these get the web font (font.family.latin/cyrillic)
# Always kept: ASCII, and punctuation and spaces that templates, CLDR dates or a writer's keyboard may add to a page.
COMMON = ("".join(map(chr, range(0x20, 0x7F))) + "\u00a0\u2009\u202f\u00ad«»‹›‘’‚“”„–—‑‐…•·№©®™°±×÷€£′″§¶†")
SETTINGS = b"webfont 1"  # change it when the subsetting below changes: older cached subsets are then made again
CACHE = "fonts"  # under the build cache: one subset per (font, weight, characters, fontTools version)


@dataclass
class Subset:
    """One face of the web font as the site gets it."""

    face: tokens.FontFace
    name: str  # "source-sans-3-400.woff2", before the fingerprint
    data: bytes  # WOFF2
    unicode_range: str  # "U+20-7E,U+A0,U+410-44F": the characters it has
    before: int  # bytes of the font file the tokens name


class _Refused(Exception):
    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint


def languages(config) -> list[str]:
    """The site's languages written in Latin or Cyrillic script (from CLDR), the ones the web font is for."""
    return [lang.code for lang in config.languages if i18n.script(lang.code) in SCRIPTS]


def characters(site: Site) -> str:
    """Every character the Latin- and Cyrillic-script pages can show, sorted: their Markdown and front matter, the
    reviewers' texts, the site's titles and banner, the interface catalogs and CLDR's month and language names in
    those languages, and COMMON. Characters the font lacks are dropped later; these only bound what is kept."""
    config = site.config
    codes = set(languages(config))
    texts = [COMMON]
    for page in site.pages:
        if page.lang in codes and not page.is_stand_in:  # a stand-in shows its original, counted in its language
            meta = page.meta
            texts += [page.body, html.unescape(page.body), meta.title, meta.description, *meta.tags]
    for reviewer in site.reviewers.values():
        for key in REVIEWER_TEXTS:
            texts += [text for code, text in getattr(reviewer, key).items() if code in codes and isinstance(text, str)]
    if codes:
        texts += i18n.used_messages(config.root, config.theme)  # the English of the templates: every fallback's end
    for lang in config.languages:
        if lang.code in codes:
            texts += [lang.name, lang.title, *lang.emergency, config.banner.text.get(lang.code, "") if config.banner else ""]
            texts += _interface(config, lang)
    found = set().union(*map(set, texts))
    return "".join(sorted(c for c in found if unicodedata.category(c) not in ("Cc", "Cs", "Cn")))


def _interface(config, lang) -> list[str]:
    """The interface texts of one language: its catalogs' (and its fallbacks') translations, and CLDR's dates and
    language names."""
    texts = []
    for code in dict.fromkeys((lang.code, *lang.fallback)):
        for folder in locales_dirs(config.root):
            catalog = i18n.load_catalog(i18n.catalog_path(folder, code))
            for msg in i18n.usable(catalog).values() if catalog is not None else ():
                texts += msg.string if isinstance(msg.string, (list, tuple)) else [msg.string]
    try:
        locale = i18n.babel_locale(lang.cldr)
        texts += [*locale.months["format"]["wide"].values(), *locale.months["stand-alone"]["wide"].values(),
                  i18n.long_date(dt.date(2026, 12, 31), lang.cldr)]
    except (ValueError, TypeError, KeyError, UnknownLocaleError):
        pass  # config checks the codes; a locale CLDR lacks just adds nothing
    texts += [i18n.language_name(other.code, lang.cldr, other.name) for other in config.languages]
    return texts


def subsets(site: Site, webfont: tokens.WebFont, cache_dir: Path) -> tuple[list[Subset], list[Problem]]:
    """Each face of WEBFONT subset to the site's characters, made once and then read from CACHE_DIR/fonts."""
    if not languages(site.config):
        face = webfont.faces[0]
        return [], [Problem(face.file, face.line, f"{tokens.WEBFONT}: no language of this site is written in Latin or "
                                                  "Cyrillic script, so no page would use the web font",
                            f"remove {tokens.WEBFONT} from the tokens", severity="warning")]
    text = characters(site)
    slug = re.sub(r"[^a-z0-9]+", "-", webfont.family.lower()).strip("-") or "webfont"
    out, problems = [], []
    for face in webfont.faces:
        try:
            data = face.path.read_bytes()
            woff2, unicode_range = subset(data, text, face.weight, cache_dir / CACHE)
        except _Refused as refused:
            problems.append(Problem(face.file, face.line, f'{tokens.WEBFONT}: "{face.name}" {refused.message}',
                                    refused.hint))
            continue
        except OSError as e:
            problems.append(Problem(face.file, face.line, f'{tokens.WEBFONT}: cannot read "{face.name}": {e.strerror}'))
            continue
        except Exception as e:  # noqa: BLE001 - fontTools raises many kinds on a damaged font; say which file
            problems.append(Problem(face.file, face.line, f'{tokens.WEBFONT}: "{face.name}" cannot be read as a font '
                                                          f"({type(e).__name__}: {e})",
                                    "is the file complete? Download the font again, or try its .otf or .ttf"))
            continue
        style = "-italic" if face.style == "italic" else ""
        out.append(Subset(face, f"{slug}-{face.weight}{style}.woff2", woff2, unicode_range, len(data)))
    return out, problems


def subset(data: bytes, text: str, weight: int, cache: Path | None = None) -> tuple[bytes, str]:
    """DATA (a TrueType, OpenType, WOFF or WOFF2 font) with only the glyphs for TEXT, as WOFF2, and the unicode-range
    of the characters it kept. A variable font is fixed at WEIGHT. The same input gives the same bytes; with CACHE,
    the result is stored there and reused."""
    import fontTools

    key = hashlib.blake2b(digest_size=16)
    for part in (SETTINGS, fontTools.version.encode(), hashlib.blake2b(data).digest(), str(weight).encode(),
                 text.encode()):
        key.update(len(part).to_bytes(8, "big") + part)
    name = key.hexdigest()
    if cache is not None:
        try:
            return (cache / f"{name}.woff2").read_bytes(), (cache / f"{name}.range").read_text(encoding="ascii")
        except OSError:
            pass
    woff2, unicode_range = _subset(data, text, weight)
    if cache is not None:
        try:
            cache.mkdir(parents=True, exist_ok=True)
            for path, blob in ((cache / f"{name}.woff2", woff2), (cache / f"{name}.range", unicode_range.encode())):
                tmp = path.with_name(f".{path.name}.{os.getpid()}")
                tmp.write_bytes(blob)
                os.replace(tmp, path)  # the range last: once it is there, so is the font
        except OSError:
            pass  # a read-only cache only costs time
    return woff2, unicode_range


def _subset(data: bytes, text: str, weight: int) -> tuple[bytes, str]:
    from fontTools import subset as ft_subset
    from fontTools.ttLib import TTFont, TTLibError

    options = ft_subset.Options()
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # names, and the copyright and licence that must travel with it
    options.desubroutinize = True  # CFF: WOFF2's Brotli compresses plain outlines better than subroutines
    options.recalc_timestamp = False  # head.modified is set below: no build time in the bytes
    try:
        font = TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=False)
    except TTLibError as e:
        raise _Refused(f"cannot be read as a font ({e})", "is the file complete? Download the font again") from None
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in text])
    subsetter.subset(font)
    if "fvar" in font:  # a variable font: this face is one weight of it
        font = _instance(font, weight)
    font["head"].modified = font["head"].created  # a fixed time: the font's own
    font.flavor = "woff2"
    buf = io.BytesIO()
    font.save(buf, reorderTables=True)
    return buf.getvalue(), unicode_range(font.getBestCmap() or {})


def _instance(font, weight: int):
    from fontTools.varLib import instancer

    axes = {axis.axisTag: axis for axis in font["fvar"].axes}
    if "wght" in axes and not axes["wght"].minValue <= weight <= axes["wght"].maxValue:
        low, high = axes["wght"].minValue, axes["wght"].maxValue
        raise _Refused(f"is a variable font with weights {low:g} to {high:g}, not {weight}",
                       f"name it for a weight from {low:g} to {high:g}")
    # Every other axis (width, optical size...) at its default: one static face, smaller than the variable font.
    limits = {tag: (weight if tag == "wght" else None) for tag in axes}
    return instancer.instantiateVariableFont(font, limits)


def unicode_range(cmap) -> str:
    """The code points of a font's cmap as CSS unicode-range: U+20-7E,U+A0,U+401."""
    ranges: list[list[int]] = []
    for cp in sorted(cmap):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return ",".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in ranges)


def font_face(family: tokens.WebFont, sub: Subset, url: str) -> str:
    """The @font-face rule for one face. URL is relative to the stylesheet (both are in assets/): same origin, always.
    swap: text shows at once in the system font, and changes to the web font when it arrives (WCAG: never invisible)."""
    return (f'@font-face {{ font-family: {family.css_name}; src: url("{url}") format("woff2"); '
            f"font-weight: {sub.face.weight}; font-style: {sub.face.style}; font-display: swap; "
            f"unicode-range: {sub.unicode_range}; }}")
