"""Render: the data each template sees, and the Jinja2 environments (one per language) that turn it into HTML."""
from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from jinja2 import (ChoiceLoader, Environment, FileSystemBytecodeCache, FileSystemLoader, PrefixLoader, StrictUndefined,
                    TemplateError, pass_context)
from markupsafe import Markup

from . import i18n
from .config import Language
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
    """A site's own catalogs replace the built-in ones."""
    return site_root / "locales" if (site_root / "locales").is_dir() else BUILTIN / "locales"


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
        self._names: dict[str, dict] = {}

    def names(self, lang: Language) -> dict:
        """What a render in this language adds to the context: gettext with its fallbacks, and the CLDR locale."""
        if lang.code not in self._names:
            catalog = i18n.translations(locales_dir(self.site_root), lang.code, lang.fallback)
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
    """For a long-running preview: read inline scripts and catalogs again on the next build."""
    _SCRIPTS.clear()
    i18n.translations.cache_clear()


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


def content_security_policy(site_root: Path, theme: str) -> str:
    hashes = " ".join(csp_hash(s) for _, s in sorted(inline_scripts(site_root, theme).items()))
    return (f"default-src 'self'; script-src 'self' {hashes}; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'")


def _link(page: Page, base: str) -> dict:
    return {"title": page.meta.title, "url": page.url(base), "description": page.meta.description}


def common_context(site: Site, code: str, assets: dict[str, str]) -> dict:
    """What every page of a language sees: the site, its languages, the header and footer."""
    config = site.config
    base = config.base_path
    lang = config.language(code)
    home = site.home(code)
    return {
        "lang": code,
        "dir": lang.dir,
        "base": base,
        "assets": assets,
        "csp": content_security_policy(config.root, config.theme),
        "site": {"title": lang.title, "base_url": config.base_url, "default_language": config.default_language,
                 "home": f"{base}{code}/"},
        "nav": [dict(_link(p, base), current=False) for p in (home.children if home else [])],
        "translations": [{"code": other.code, "name": other.name, "dir": other.dir, "title": other.title,
                          "url": None, "home": f"{base}{other.code}/"} for other in config.languages],
        "alternates": [],
        "x_default": None,
        "breadcrumbs": [],
        "emergency": list(lang.emergency),
        "banner": {"text": config.banner.text[code], "level": config.banner.level}
        if config.banner and code in config.banner.text else None,
    }


def page_context(site: Site, page: Page, assets: dict[str, str]) -> dict:
    """Everything a page's template sees except its body: plain data, so its hash says when to render again."""
    config = site.config
    base = config.base_path
    ctx = common_context(site, page.lang, assets)
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
    for t in ctx["translations"]:
        t["url"] = group[t["code"]].url(base) if t["code"] in group else None
    ctx.update({
        "page": {"title": meta.title, "description": meta.description, "url": page.url(base), "canonical": absolute(page),
                 "kind": "home" if not page.path else "section" if page.is_index else "article",
                 "source": page.source, "reviewed": meta.reviewed.isoformat() if meta.reviewed else None,
                 "next_review": meta.next_review.isoformat() if meta.next_review else None, "tags": list(meta.tags),
                 "body_digest": page.digest},
        "reviewer": {"id": reviewer.id, "name": _pick(reviewer.name, lang), "credentials": _pick(reviewer.credentials, lang),
                     "hospital": _pick(reviewer.hospital, lang)} if reviewer else None,
        "breadcrumbs": [_link(p, base) for p in reversed(ancestors)],
        "children": [_link(p, base) for p in page.children],
        "pager": {"prev": _link(siblings[at - 1], base) if at > 0 else None,
                  "next": _link(siblings[at + 1], base) if 0 <= at < len(siblings) - 1 else None},
        "alternates": [{"hreflang": code, "href": absolute(p)} for code, p in sorted(group.items())],
        "x_default": absolute(group[config.default_language]) if config.default_language in group else None,
    })
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


def context_key(ctx: dict) -> str:
    return hashlib.blake2b(json.dumps(ctx, sort_keys=True, ensure_ascii=False).encode(), digest_size=16).hexdigest()


def template_for(ctx: dict) -> str:
    return {"home": "home.html", "section": "section.html", "article": "page.html"}[ctx["page"]["kind"]]


def template_problem(exc: TemplateError) -> Problem:
    """A template error as a Problem naming the template file and line, found in the traceback when Jinja2 has none."""
    name, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None and name is None:
        frame = tb.tb_frame
        if frame.f_globals.get("__jinja_template__") is not None or frame.f_code.co_filename.endswith(".html"):
            name, line = frame.f_code.co_filename, tb.tb_lineno
        tb = tb.tb_next
    return Problem(str(name or "templates"), line, f"template error: {exc}",
                   "check the template's syntax, and that every name it uses exists")


def render_page(templates: Templates, lang: Language, ctx: dict, body: Rendered, min_headings: int) -> str:
    toc = [entry for entry in body.toc if entry[0] == 2]
    return templates.render(template_for(ctx), ctx, lang, body=Markup(body.html),
                            toc=toc if len(toc) >= min_headings else [])
