"""Medical reviewers: a profile page per reviewer and language, a list of them, and the build's overdue-review warnings.

/<lang>/reviewers/ lists the site's reviewers; /<lang>/reviewers/<id>/ shows one: credentials, speciality, hospital,
their photo when reviewers.toml has one (through the same image pipeline as every picture), and every page of that
language they reviewed. The reviewer badge on a reviewed page links to it. Reviewers are declared once, in
reviewers.toml (content.load_reviewers); a page can only name one declared there.
"""
from __future__ import annotations

import datetime as dt
import html
import posixpath

from . import assets, images, render
from .content import CONTENT, REVIEWERS, Page, Site
from .errors import Problem
from .output import Staging

FOLDER = "reviewers"
PAGE_BROTLI_QUALITY = 5
PHOTO_TYPES = frozenset({*images.FORMATS, ".svg"})


def index_url(base: str, lang: str) -> str:
    return f"{base}{lang}/{FOLDER}/"


def profile_url(base: str, lang: str, rid: str) -> str:
    return f"{base}{lang}/{FOLDER}/{rid}/"


def reviewed_pages(site: Site) -> dict[str, dict[str, list[Page]]]:
    """reviewer id -> language -> the pages of that language they reviewed, by title. A page shown in place of a
    missing translation is its original's, not a reviewed page of that language."""
    out: dict[str, dict[str, list[Page]]] = {rid: {} for rid in site.reviewers}
    for page in site.pages:
        rid = page.meta.reviewer
        if rid in out and not getattr(page, "is_stand_in", False):
            out[rid].setdefault(page.lang, []).append(page)
    for by_lang in out.values():
        for pages in by_lang.values():
            pages.sort(key=lambda p: (p.meta.title.casefold(), p.path))
    return out


def url_groups(site: Site) -> list[dict[str, str]]:
    """The reviewers' pages as groups of translations (language -> URL): the list, then each reviewer."""
    if not site.reviewers:
        return []
    base, codes = site.config.base_path, [lang.code for lang in site.config.languages]
    groups = [{code: index_url(base, code) for code in codes}]
    groups += [{code: profile_url(base, code, rid) for code in codes} for rid in sorted(site.reviewers)]
    return groups


def all_urls(site: Site) -> set[str]:
    return {url for group in url_groups(site) for url in group.values()}


def check(site: Site) -> list[Problem]:
    """Content pages at the reviewers' addresses, and reviewer photos that are not images of the site."""
    problems = []
    if site.reviewers:
        for page in site.pages:
            if page.path == FOLDER or page.path.startswith(FOLDER + "/"):
                problems.append(Problem(page.source, None, f"/{page.lang}/{FOLDER}/ is kept for the pages about the "
                                        f"medical reviewers in {REVIEWERS}",
                                        f"rename the page or its folder (not {FOLDER})"))
    files = set(site.files)
    for rid, reviewer in sorted(site.reviewers.items()):
        photo = reviewer.photo.strip().lstrip("/")
        if photo and posixpath.splitext(photo)[1].lower() not in PHOTO_TYPES:
            problems.append(Problem(REVIEWERS, None, f'reviewer "{rid}": the photo {photo} is not a picture',
                                    f"use a {', '.join(sorted(PHOTO_TYPES))} file"))
        elif photo and photo not in files:
            close = [f for f in files if posixpath.basename(f) == posixpath.basename(photo)]
            problems.append(Problem(REVIEWERS, None, f'reviewer "{rid}": the photo {CONTENT}/{photo} does not exist',
                                    f'did you mean photo = "{close[0]}"?' if close else
                                    f'give its path inside {CONTENT}/, like photo = "images/reviewers/{rid}.jpg"'))
    return problems


def overdue(site: Site, today: dt.date) -> list[Problem]:
    """A warning for the site's owner (not a message on the page) for each page whose next review date has passed,
    at the line of its next_review. It changes nothing in the output."""
    problems = []
    for page in site.pages:
        due = page.meta.next_review
        if due is None or due >= today or getattr(page, "is_stand_in", False):
            continue
        days = (today - due).days
        reviewer = site.reviewers.get(page.meta.reviewer or "")
        who = render._pick(reviewer.name, site.config.language(site.config.default_language)) if reviewer else "the reviewer"
        problems.append(Problem(page.source, page.meta.lines.get("next_review"),
                                f"the medical review was due on {due.isoformat()} ({days} day{'s' if days != 1 else ''} ago)",
                                f"ask {who} to check the page, then update reviewed and next_review", "warning"))
    return problems


def write_pages(site: Site, staging: Staging, shared: dict, templates: render.Templates,
                pictures: dict[str, dict]) -> None:
    """/<lang>/reviewers/ and /<lang>/reviewers/<id>/ for every language of the site."""
    if not site.reviewers:
        return
    config = site.config
    base = config.base_path
    reviewed = reviewed_pages(site)
    for lang in config.languages:
        code = lang.code
        people = [render.reviewer_context(site, r, lang, pictures) for _, r in sorted(site.reviewers.items())]
        ctx = _context(site, code, shared, index_url(base, code), {c: index_url(base, c) for c in _codes(site)})
        ctx["reviewers"] = people
        _write(site, staging, templates, lang, "reviewers.html", ctx)
        for rid, reviewer in sorted(site.reviewers.items()):
            person = render.reviewer_context(site, reviewer, lang, pictures, size="8rem")
            ctx = _context(site, code, shared, person["url"], {c: profile_url(base, c, rid) for c in _codes(site)})
            ctx["page"].update(title=person["name"], description=person["credentials"])
            ctx["reviewer"] = person
            ctx["reviewed"] = [{"title": p.meta.title, "url": p.url(base), "description": p.meta.description,
                                "reviewed": p.meta.reviewed.isoformat() if p.meta.reviewed else None}
                               for p in reviewed[rid].get(code, [])]
            _write(site, staging, templates, lang, "reviewer.html", ctx)


def _codes(site: Site) -> list[str]:
    return [lang.code for lang in site.config.languages]


def _context(site: Site, code: str, shared: dict, url: str, group: dict[str, str]) -> dict:
    config = site.config
    base = config.base_path
    absolute = lambda u: config.base_url + u[len(base):]  # noqa: E731
    ctx = render.common_context(site, code, shared)
    home = site.home(code)
    ctx["page"] = {"title": "", "description": "", "url": url, "canonical": absolute(url), "kind": "reviewer",
                   "fallback": None}
    ctx["breadcrumbs"] = [{"title": home.meta.title if home else ctx["site"]["title"], "url": f"{base}{code}/"}]
    for t in ctx["translations"]:
        t["url"] = group.get(t["code"])
    ctx["alternates"] = [{"hreflang": c, "href": absolute(u)} for c, u in sorted(group.items())]
    ctx["x_default"] = absolute(group[config.default_language]) if config.default_language in group else None
    return ctx


def _write(site: Site, staging: Staging, templates: render.Templates, lang, template: str, ctx: dict) -> None:
    base = site.config.base_path
    rel = ctx["page"]["url"][len(base):] + "index.html"
    html = templates.render(template, ctx, lang)
    assets.write(staging, rel, html.encode(), site.config.precompress_pages, PAGE_BROTLI_QUALITY)


def sitemap_lines(site: Site) -> list[str]:
    """The reviewers' pages for sitemap.xml, each with its translations as alternates."""
    config = site.config
    base = config.base_path
    lines = []
    for group in url_groups(site):
        for _, url in sorted(group.items()):
            lines.append(f"<url><loc>{html.escape(config.base_url + url[len(base):])}</loc>")
            for code, other in sorted(group.items()):
                lines.append(f'<xhtml:link rel="alternate" hreflang="{html.escape(code)}" '
                             f'href="{html.escape(config.base_url + other[len(base):])}"/>')
            lines.append("</url>")
    return lines


__all__ = ["FOLDER", "index_url", "profile_url", "reviewed_pages", "url_groups", "all_urls", "check",
           "overdue", "write_pages", "sitemap_lines"]
