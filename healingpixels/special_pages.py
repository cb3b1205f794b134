"""Pages every site has besides its content: the language chooser at /, a 404 page per language, sitemap and robots."""
from __future__ import annotations

import hashlib
import html
import marshal

from . import deploy, render, reviewers
from .content import Site
from .output import Staging
from .styleguide import write_styleguide
from .tokens import TokenSet


def write_special_pages(site: Site, staging: Staging, shared: dict, token_set: TokenSet,
                        templates: render.Templates) -> None:
    """The language chooser at /, a 404 page per language, the style guide, robots.txt and _headers."""
    config = site.config
    default = config.default_language
    for lang in config.languages:
        ctx = render.common_context(site, lang.code, shared)
        ctx["page"] = {"title": "", "description": "", "url": f"{config.base_path}{lang.code}/404.html",
                       "canonical": config.base_url, "kind": "404"}
        html = templates.render("404.html", ctx, lang).encode()
        staging.write(f"{lang.code}/404.html", html)
        if lang.code == default:
            staging.write("404.html", html)  # what most hosts serve for an unknown address
            root = render.common_context(site, default, shared)
            root["alternates"] = [{"hreflang": t["code"], "href": config.base_url + t["home"][len(config.base_path):]}
                                  for t in root["translations"]]
            staging.write("index.html", templates.render("root.html", root, lang).encode())
    write_styleguide(site, staging, shared, token_set, templates)  # /styleguide/: noindex, linked from nowhere
    staging.write("_headers", deploy.netlify_headers(config).encode())
    staging.write("robots.txt", f"User-agent: *\nAllow: /\n\nSitemap: {config.base_url}sitemap.xml\n".encode())


def write_sitemap(site: Site, staging: Staging) -> None:
    staging.write("sitemap.xml", sitemap(site).encode())


def sitemap_key(site: Site) -> str:
    """A hash of what sitemap() reads besides site.toml and reviewers.toml (in the build's fingerprint): each page's
    address, translation group and review date. Titles are not in it, so renaming a page keeps the sitemap."""
    pages = [(p.source, p.lang, p.path, p.key, p.is_stand_in, p.meta.reviewed and p.meta.reviewed.toordinal())
             for p in site.pages]
    return hashlib.blake2b(marshal.dumps(pages), digest_size=16).hexdigest()


def sitemap(site: Site) -> str:
    """Every page with its translations as xhtml:link alternates, as search engines read them."""
    config = site.config
    base = config.base_path
    absolute = {page.source: html.escape(config.base_url + page.url(base)[len(base):]) for page in site.pages}
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">']
    for page in site.pages:
        if page.is_stand_in:  # another language's page shown until a translation exists: its canonical is that page
            continue
        lines.append(f"<url><loc>{absolute[page.source]}</loc>")
        if page.meta.reviewed:
            lines.append(f"<lastmod>{page.meta.reviewed.isoformat()}</lastmod>")
        group = site.translations.get(page.key, {})
        if len(group) > 1:
            for code, other in sorted(group.items()):
                lines.append(f'<xhtml:link rel="alternate" hreflang="{html.escape(code)}" href="{absolute[other.source]}"/>')
        lines.append("</url>")
    lines += reviewers.sitemap_lines(site)
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"
