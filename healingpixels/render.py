"""Render: the data each template sees, and the Jinja2 environments (one per language) that turn it into HTML."""
from __future__ import annotations

import base64
import difflib
import hashlib
import marshal
import html
import json
from pathlib import Path

from jinja2 import (ChoiceLoader, Environment, FileSystemBytecodeCache, FileSystemLoader, PrefixLoader, StrictUndefined,
                    TemplateError, TemplateRuntimeError, pass_context)
from markupsafe import Markup

from . import i18n, images, svg, tokens
from .config import Config, Language
from .content import Page, Site
from .errors import Problem
from .markdown import Rendered

PACKAGE = Path(__file__).resolve().parent
# Built-in themes, components and locales: inside the wheel, or beside the package in a source checkout.
BUILTIN = PACKAGE / "_builtin" if (PACKAGE / "_builtin").is_dir() else PACKAGE.parent


def theme_dirs(site_root: Path, theme: str) -> list[Path]:
    """A site's own copy of a theme wins over the built-in one."""
    return [d for d in (site_root / "themes" / theme, BUILTIN / "themes" / theme) if d.is_dir()]


def component_dirs(site_root: Path) -> list[Path]:
    return [d for d in dict.fromkeys((site_root / "components", BUILTIN / "components")) if d.is_dir()]


def locales_dir(site_root: Path) -> Path:
    """The site's own catalogs' folder when it has one, else the built-in one (see locales_dirs)."""
    return site_root / "locales" if (site_root / "locales").is_dir() else BUILTIN / "locales"


def locales_dirs(site_root: Path) -> tuple[Path, ...]:
    """Catalog folders, the site's first: a site's catalog adds a language or overrides texts of a built-in one."""
    return tuple(d for d in dict.fromkeys((site_root / "locales", BUILTIN / "locales")) if d.is_dir())


def csp_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


class Templates:
    """The theme's and components' templates in one Jinja2 environment, so each compiles once per build (and is kept
    compiled on disk between builds); each language brings its own gettext and date format to every render."""

    def __init__(self, site_root: Path, theme: str, cache_dir: Path | None = None):
        self.site_root, self.theme = site_root, theme
        loader = ChoiceLoader([
            FileSystemLoader([d / "templates" for d in theme_dirs(site_root, theme)]),
            PrefixLoader({"components": FileSystemLoader(component_dirs(site_root))}),
        ])
        cache = FileSystemBytecodeCache(str(_mkdir(cache_dir / "jinja"))) if cache_dir else None
        self.env = Environment(loader=loader, autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                               lstrip_blocks=True, extensions=["jinja2.ext.i18n"], auto_reload=False,
                               bytecode_cache=cache)
        self.env.install_null_translations(newstyle=True)  # compiles _() the new-style way; renders pass the real one
        self.env.filters["long_date"] = _long_date
        self.env.filters["tojson_ld"] = _json_ld
        self.env.globals["inline_script"] = lambda name: Markup(inline_scripts(site_root, theme)[name])
        self.env.globals["icon"] = lambda name: icon(site_root, theme, name)
        self._names: dict[str, dict] = {}

    def names(self, lang: Language) -> dict:
        """What a render in this language adds to the context: gettext with its fallbacks, and the CLDR locale."""
        if lang.code not in self._names:
            catalog = i18n.translations(locales_dirs(self.site_root), lang.code, lang.fallback)
            gettext, ngettext = _newstyle(catalog)
            self._names[lang.code] = {"_": gettext, "gettext": gettext, "ngettext": ngettext, "cldr": lang.cldr}
        return self._names[lang.code]

    def render(self, name: str, ctx: dict, lang: Language, **extra) -> str:
        return self.env.get_template(name).render(ctx, **self.names(lang), **extra)

    def module(self, name: str, lang: Language):
        """A template's macros, bound to a language (components are macros)."""
        return self.env.get_template(name).make_module(self.names(lang))


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _newstyle(catalog):
    """gettext and ngettext as Jinja's new-style i18n has them: results are Markup, %(name)s values are escaped."""
    @pass_context
    def gettext(context, string: str, **variables) -> str:
        text = catalog.gettext(string)
        if not variables and "%" not in text:  # most texts: nothing to fill in (a page has dozens)
            return Markup(text) if context.eval_ctx.autoescape else text
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    @pass_context
    def ngettext(context, singular: str, plural: str, num: int, **variables) -> str:
        variables.setdefault("num", num)
        text = catalog.ngettext(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    return gettext, ngettext


@pass_context
def _long_date(context, value) -> str:
    return i18n.long_date(value, context["cldr"])


def _json_ld(data: dict) -> Markup:
    """JSON for a <script type=application/ld+json>: '<' escaped so no text can close the element."""
    data = {k: v for k, v in data.items() if v is not None}
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


_SCRIPTS: dict[tuple[Path, str], dict[str, str]] = {}


def forget_cached_files() -> None:
    """For a long-running preview: read inline scripts, icons and catalogs again on the next build."""
    _SCRIPTS.clear()
    ICONS.clear()
    i18n.clear_caches()


def inline_scripts(site_root: Path, theme: str) -> dict[str, str]:
    """The theme's inline scripts (run before first paint), read once; their hashes go into the CSP."""
    key = (site_root, theme)
    if key not in _SCRIPTS:
        scripts = {}
        for d in reversed(theme_dirs(site_root, theme)):
            for path in sorted((d / "inline").glob("*.js")) if (d / "inline").is_dir() else []:
                scripts[path.stem] = path.read_text(encoding="utf-8").strip()
        _SCRIPTS[key] = scripts
    return _SCRIPTS[key]


# (site root, theme) -> icon name -> inline SVG; a build seeds it from its cache
ICONS: dict[tuple[Path, str], dict[str, str]] = {}


def icons(site_root: Path, theme: str) -> dict[str, str]:
    """The theme's icons (icons/*.svg; a site's own copy of the theme adds or replaces them by name), cleaned and
    checked once as one sprite, each then ready to inline where a template uses it: a page draws only the few icons
    it shows, with no sprite to carry and no <use> reference to resolve (see themes/harbin-ice/README.md)."""
    key = (site_root, theme)
    if key not in ICONS:
        sources: dict[str, bytes] = {}
        for d in reversed(theme_dirs(site_root, theme)):
            for path in sorted((d / "icons").glob("*.svg")) if (d / "icons").is_dir() else []:
                sources[path.stem] = path.read_bytes()
        problems: list[Problem] = []
        sprite = svg.sprite(sources, problems)
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise TemplateRuntimeError("icons: " + "; ".join(f"{p.file}.svg {p.message}" for p in errors))
        found = {}
        for name in sorted(svg.symbol_names(sprite)):
            markup = svg.inline_symbol(sprite, name, f"hp-icon hp-icon--{name}")
            if markup and ' id="' in markup:
                raise TemplateRuntimeError(f"icons: {name}.svg has ids; icons are inlined at each use, so ids would "
                                           "repeat on a page: remove them (use no gradients or clip paths)")
            found[name] = markup
        ICONS[key] = found
    return ICONS[key]


def icon(site_root: Path, theme: str, name: str) -> Markup:
    """{{ icon("urgent") }}: a decorative inline SVG icon, hidden from assistive technology: the words next to it
    say what it means."""
    found = icons(site_root, theme)
    if name not in found:
        close = difflib.get_close_matches(name, list(found), n=1)
        raise TemplateRuntimeError(f'there is no icon "{name}" in the theme\'s icons/ folder'
                                   + (f"; did you mean {close[0]}?" if close else f"; icons: {', '.join(found)}"))
    return Markup(found[name])


def content_security_policy(site_root: Path, theme: str) -> str:
    hashes = " ".join(csp_hash(s) for _, s in sorted(inline_scripts(site_root, theme).items()))
    return (f"default-src 'self'; script-src 'self' {hashes}; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'")


def _link(page: Page, base: str) -> dict:
    """A link to a page; "lang" is set when the page shows another language's text (a stand-in)."""
    return {"title": page.meta.title, "url": page.url(base), "description": page.meta.description,
            "lang": page.original.lang if page.original else None}


def shared_context(config: Config, assets: dict[str, str], token_set: tokens.TokenSet) -> dict:
    """What every page of one build shares: its asset URLs, Content-Security-Policy, offline mode and theme colours."""
    def header(mode: str) -> str | None:
        return token_set.modes.get(mode, {}).get("color.header.bg")

    return {"assets": assets, "csp": content_security_policy(config.root, config.theme),
            "offline": {"mode": config.offline.mode, "theme_color": header("light"), "theme_color_dark": header("dark")}}


def common_context(site: Site, code: str, shared: dict) -> dict:
    """What every page of a language sees: the build's shared context, the site, its languages, header and footer."""
    config = site.config
    base = config.base_path
    lang = config.language(code)
    return {
        "lang": code,
        "dir": lang.dir,
        "base": base,
        **shared,
        "site": {"title": lang.title, "base_url": config.base_url, "default_language": config.default_language,
                 "home": f"{base}{code}/", "reviewers": f"{base}{code}/reviewers/" if site.reviewers else None},
        "nav": [dict(_link(p, base), current=False) for p in site.menu(code)],
        "translations": [{"code": other.code, "name": other.name, "dir": other.dir, "title": other.title,
                          "url": None, "home": f"{base}{other.code}/", "note": None} for other in config.languages],
        "alternates": [],
        "x_default": None,
        "breadcrumbs": [],
        "emergency": list(lang.emergency),
        "banner": {"text": config.banner.text[code], "level": config.banner.level}
        if config.banner and code in config.banner.text else None,
    }


def page_context(site: Site, page: Page, shared: dict, pictures: dict[str, dict] | None = None) -> dict:
    """Everything a page's template sees except its body: plain data, so its hash says when to render again.
    `pictures` (URL of a content image -> what its <img> needs) gives the reviewer's photo."""
    config = site.config
    base = config.base_path
    ctx = common_context(site, page.lang, shared)
    lang = config.language(page.lang)
    ancestors = _ancestors(page)
    siblings = page.parent.children if page.parent else []
    at = page.position
    group = site.translations.get(page.key, {})
    reviewer = site.reviewers.get(page.meta.reviewer) if page.meta.reviewer else None
    meta = page.meta
    absolute = lambda p: config.base_url + p.url(base)[len(base):]  # noqa: E731
    for item in ctx["nav"]:
        item["current"] = any(item["url"] == a.url(base) for a in (page, *ancestors))
    stand_ins = site.stand_ins.get(page.key, {})
    for t in ctx["translations"]:
        t["url"] = group[t["code"]].url(base) if t["code"] in group else None
        if t["url"] is None and t["code"] != page.lang:  # say so in that language: no translation of this page
            other = config.language(t["code"])
            catalog = i18n.translations(locales_dirs(config.root), other.code, other.fallback)
            if t["code"] in stand_ins:
                t["url"], t["note"] = stand_ins[t["code"]].url(base), catalog.gettext(i18n.SWITCHER_FALLBACK)
            else:
                t["note"] = catalog.gettext(i18n.SWITCHER_HOME)
    ctx.update({
        "page": {"title": meta.title, "description": meta.description, "url": page.url(base), "canonical": absolute(page),
                 "kind": "home" if not page.path else "section" if page.is_index else "article",
                 "source": page.source, "reviewed": meta.reviewed.isoformat() if meta.reviewed else None,
                 "next_review": meta.next_review.isoformat() if meta.next_review else None, "tags": list(meta.tags),
                 "body_digest": page.digest},
        "reviewer": reviewer_context(site, reviewer, lang, pictures or {}) if reviewer else None,
        "breadcrumbs": [_link(p, base) for p in reversed(ancestors)],
        "children": [_link(p, base) for p in page.children],
        "pager": {"prev": _link(siblings[at - 1], base) if at > 0 else None,
                  "next": _link(siblings[at + 1], base) if 0 <= at < len(siblings) - 1 else None},
        "alternates": [{"hreflang": code, "href": absolute(p)} for code, p in sorted(group.items())],
        "x_default": absolute(group[config.default_language]) if config.default_language in group else None,
    })
    ctx["page"]["fallback"] = None
    if page.original is not None:  # a stand-in: another language's page, in this language's chrome, with a notice
        shown = config.language(page.original.lang)
        ctx["page"]["canonical"] = absolute(page.original)
        ctx["page"]["fallback"] = {"lang": shown.code, "dir": shown.dir, "url": page.original.url(base),
                                   "language": lang.name, "original": i18n.language_name(shown.code, lang.cldr, shown.name)}
        ctx["alternates"], ctx["x_default"] = [], None  # it is not a translation into this language
    return ctx


def _ancestors(page: Page) -> list[Page]:
    out, up = [], page.parent
    while up is not None:
        out.append(up)
        up = up.parent
    return out


def _pick(texts: dict[str, str], lang) -> str:
    """A reviewer's text in the page's language, else its fallbacks, else any."""
    for code in (lang.code, *lang.fallback):
        if code in texts:
            return texts[code]
    return next(iter(texts.values()), "")


def reviewer_context(site: Site, reviewer, lang: Language, pictures: dict[str, dict], size: str = "3rem") -> dict:
    """What the reviewer badge and profile show, in LANG: texts, the profile's URL, and the photo (an <img> or
    <picture> SIZE wide on screen, with empty alt: the name is beside it) when reviewers.toml gives one."""
    base = site.config.base_path
    photo = None
    if reviewer.photo:
        url = base + reviewer.photo.strip().lstrip("/")
        info = pictures.get(url)
        if info and "variants" in info:
            photo = images.picture_html(info["variants"], "", base, lazy=True, sizes=size)
        elif info:
            photo = (f'<img src="{html.escape(url, quote=True)}" alt="" width="{info["width"]}" '
                     f'height="{info["height"]}" loading="lazy" decoding="async">')
    return {"id": reviewer.id, "name": _pick(reviewer.name, lang), "credentials": _pick(reviewer.credentials, lang),
            "speciality": _pick(getattr(reviewer, "speciality", {}), lang), "hospital": _pick(reviewer.hospital, lang),
            "url": f"{base}{lang.code}/reviewers/{reviewer.id}/", "photo": photo}


def context_key(ctx: dict) -> str:
    """A hash of a page's context. marshal is exact for plain data and much faster than JSON; the context is built
    in the same order every time, and format 2 writes no back-references, so equal contexts give equal bytes."""
    return hashlib.blake2b(marshal.dumps(ctx, 2), digest_size=16).hexdigest()


def structure_key(site: Site, shared: dict, pictures: dict[str, str]) -> str:
    """A hash of everything page_context reads besides a page's own digest (the program, theme, catalogs,
    site.toml and reviewers.toml are in the build's fingerprint): every page's place and front matter, the shared
    context, and the pictures (URL -> a hash of what an <img> of it needs). While it is unchanged, so is the context
    of every page whose source is."""
    pages = [(p.source, p.lang, p.path, p.is_index, p.original.source if p.original else "",
              p.meta.plain()[:-1])  # not the lines the fields are written on
             for p in site.pages]
    return hashlib.blake2b(marshal.dumps((pages, shared, sorted(pictures.items())), 2), digest_size=16).hexdigest()


def template_for(ctx: dict) -> str:
    return {"home": "home.html", "section": "section.html", "article": "page.html"}[ctx["page"]["kind"]]


def template_problem(exc: TemplateError, site_root: Path) -> Problem:
    """A template error as a Problem naming the template file and line, found in the traceback when Jinja2 has none."""
    name, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    if name is None:  # a runtime error: find the innermost frame of template code
        tb = exc.__traceback__
        while tb is not None:
            template = tb.tb_frame.f_globals.get("__jinja_template__")
            if template is not None:  # compiled code, as when a macro is called from Python
                name, line = template.filename, template.get_corresponding_lineno(tb.tb_lineno)
            elif tb.tb_frame.f_code.co_filename.endswith((".html", ".xml", ".txt")):  # rewritten by Jinja already
                name, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
            tb = tb.tb_next
    return Problem(_relative(name, site_root) if name else "templates", line, f"template error: {exc}",
                   "check the template's syntax, and that every name it uses exists")


def _relative(name: str, site_root: Path) -> str:
    """A template's path as the site's people know it: themes/…, components/…."""
    path = Path(name)
    for root in (site_root, BUILTIN):
        if path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return name


LONG_PAGE = 6000  # characters of body HTML from which a page ends with a "Back to top" link, with or without contents


def render_page(templates: Templates, lang: Language, ctx: dict, body: Rendered, min_headings: int) -> str:
    toc = [entry for entry in body.toc if entry[0] == 2]
    toc = toc if len(toc) >= min_headings else []
    return templates.render(template_for(ctx), ctx, lang, body=Markup(body.html), toc=toc,
                            back_to_top=bool(toc) or len(body.html) >= LONG_PAGE)
