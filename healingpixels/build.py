"""Build a site: config -> content -> render -> assets -> output, reusing every page whose inputs did not change."""
from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import gc
import hashlib
import json
import marshal
import os
import pickle
import posixpath
import time
from collections import Counter
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import NamedTuple

from . import assets, components, config as config_mod, content, i18n, images, offline, render, reviewers, translation_status
from jinja2 import TemplateError

from .content import Site
from .errors import BuildError, Problem
from .markdown import PageRenderer
from .output import Staging
from .render import theme_dirs, component_dirs, locales_dirs
from .special_pages import sitemap_key, write_sitemap, write_special_pages

CACHE_DIR = ".healingpixels-cache"
SOURCE_MAP = "sourcemap.json"
CACHE_VERSION = 4
PAGE_BROTLI_QUALITY = 5  # pages are many and each is read by few: 11 would triple a cold build for 6 % fewer bytes
PARALLEL_FROM = 48  # below this many pages to render, a process pool costs more than it saves


@dataclass
class Result:
    output: Path
    pages: Counter  # language -> pages written
    rendered: int  # pages rendered this time (the rest were unchanged)
    warnings: list[Problem]
    seconds: float
    bytes_saved: int = 0  # by optimising the site's SVGs and images
    fonts: list[tuple[str, int, int]] = field(default_factory=list)  # web font: (file as named, bytes, WOFF2 bytes)


class PageResult(NamedTuple):  # a tuple of plain data: the cache stores thousands with marshal, not pickle
    key: str  # hash of everything the page's HTML depends on
    digest: str  # of the source it was rendered from
    anchors: tuple[str, ...]
    links: list[tuple]  # markdown.Link's fields
    locations: dict[str, int]
    problems: list[Problem]  # not in marshal's part of the cache: stored apart, and rarely any


@dataclass
class Cache:
    """What a build leaves for the next one, all keyed by content so that nothing stale is ever reused."""
    fingerprint: str = ""
    output: str = ""  # the folder the pages below were written to
    files: dict = field(default_factory=dict)  # source -> (file signature, digest): unchanged files are not read
    meta: dict = field(default_factory=dict)  # (source, digest) -> (content.Meta, body line, problems)
    structure: str = ""  # render.structure_key of the last build, with its fingerprint
    pictures: dict[str, str] = field(default_factory=dict)  # URL of a site image -> hash of what its <img> needs
    pages: dict[str, PageResult] = field(default_factory=dict)  # source -> what its last good render produced
    extras: dict = field(default_factory=dict)  # name -> (key, files, problems) of what _write_extras wrote
    written: set[str] = field(default_factory=set)  # every file of the output
    refs: dict = field(default_factory=dict)  # offline: hash of an HTML file -> the URLs it needs and links to
    catalogs: list[Problem] | None = None  # what i18n.catalog_problems found (catalogs are in the fingerprint)
    svgs: dict = field(default_factory=dict)  # the site's SVGs, cleaned: assets.Published.svgs
    icons: dict[str, str] = field(default_factory=dict)  # render.icons (the theme is in the fingerprint)
    compiled: dict[str, bytes] = field(default_factory=dict)  # i18n.COMPILED (so are the catalogs)

    @staticmethod
    def load(root: Path) -> "Cache":
        try:
            with (root / CACHE_DIR / "build.pickle").open("rb") as f:
                version, data = pickle.load(f)
            if version != CACHE_VERSION:
                return Cache()
            # The two large parts are plain data in marshal's format: several times faster than pickled objects
            problems = data.pop("problems")
            data["pages"] = {source: PageResult(*result, problems.get(source, []))
                             for source, result in marshal.loads(data["pages"]).items()}
            data["meta"] = {key: (content.Meta.from_plain(meta), line, [Problem(*p) for p in found])
                            for key, (meta, line, found) in marshal.loads(data["meta"]).items()}
            return Cache(**data)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, AttributeError, TypeError, KeyError):
            return Cache()

    def save(self, root: Path) -> None:
        folder = root / CACHE_DIR
        folder.mkdir(exist_ok=True)
        (folder / ".gitignore").write_text("*\n")
        data = dict(vars(self),
                    pages=marshal.dumps({source: result[:5] for source, result in self.pages.items()}),
                    problems={source: result.problems for source, result in self.pages.items() if result.problems},
                    meta=marshal.dumps({key: (meta.plain(), line, [astuple(p) for p in found])
                                        for key, (meta, line, found) in self.meta.items()}))
        tmp = folder / f"build.pickle.{os.getpid()}"
        with tmp.open("wb") as f:
            pickle.dump((CACHE_VERSION, data), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / "build.pickle")


def fingerprint(config: config_mod.Config) -> str:
    """A hash of everything every page depends on: this program, the theme, components, catalogs and site.toml."""
    h = hashlib.blake2b(digest_size=16)
    roots = [Path(__file__).parent, *theme_dirs(config.root, config.theme), *component_dirs(config.root),
             *locales_dirs(config.root)]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(".mo"):
                h.update(path.as_posix().encode() + b"\0" + path.read_bytes())
    h.update((config.root / config_mod.CONFIG_FILE).read_bytes())
    for extra in (config.tokens, config.root / content.REVIEWERS, config.offline.icon):  # files site.toml names
        if extra and extra.is_file():
            h.update(extra.read_bytes())
    return h.hexdigest()


def build(root: Path, output: Path | None = None, use_cache: bool = True, strict: bool = False,
          progress=None, today: dt.date | None = None) -> Result:
    """Build the site at ROOT. Raises BuildError listing every problem; the previous output is then untouched.
    TODAY (default: the date today) only decides which medical reviews are overdue: a warning, never in the output."""
    started = time.perf_counter()
    root = root.resolve()
    render.forget_cached_files()  # a long-running caller (serve, tests) must see edited scripts and catalogs
    config = config_mod.load(root, output)
    if not theme_dirs(root, config.theme):
        known = sorted(d.name for d in (render.BUILTIN / "themes", root / "themes") if d.is_dir() for d in d.iterdir())
        close = difflib.get_close_matches(config.theme, known, n=1)
        raise BuildError([Problem(config_mod.CONFIG_FILE, None, f'there is no theme "{config.theme}"',
                                  f"did you mean {close[0]}?" if close else "themes: " + ", ".join(known))])
    cache = Cache.load(root) if use_cache else Cache()
    print_ = fingerprint(config)
    # The output folder as the site names it, so a site copied elsewhere keeps its cache
    out_name = config.output.relative_to(root).as_posix() if config.output.is_relative_to(root) else str(config.output)
    if cache.fingerprint != print_ or cache.output != out_name:
        cache.pages, cache.structure, cache.extras, cache.written, cache.svgs = {}, "", {}, set(), {}
        cache.icons, cache.compiled = {}, {}
    if cache.icons:  # cleaned once, with the theme that is in the fingerprint
        render.ICONS[config.root, config.theme] = cache.icons
    i18n.COMPILED.update(cache.compiled)
    site, problems = content.load(config, cache.meta, cache.files)
    problems += reviewers.check(site)  # pages at the reviewers' addresses, reviewer photos that do not exist
    problems += reviewers.overdue(site, today or dt.date.today())  # warnings for the site's owner
    problems += translation_status.build_problems(site)  # pages missing in a language, translations out of date
    if cache.catalogs is None or cache.fingerprint != print_:
        cache.catalogs = i18n.catalog_problems(config, root / CACHE_DIR if use_cache else None)
    problems += cache.catalogs  # untranslated interface texts
    token_set, found = assets.load_tokens(config)
    problems += found

    # With nothing to reuse, a whole new tree; else only what changed is written
    staging = Staging(config.output, update=bool(cache.pages), previous_files=cache.written or None)
    templates = render.Templates(config.root, config.theme, root / CACHE_DIR if use_cache else None)
    try:
        published = assets.publish(site, staging, token_set, root / CACHE_DIR, cache.svgs)
        problems += published.problems
        urls = published.urls
        shared = render.shared_context(config, urls, token_set)
        pictures = _picture_keys(published.pictures, config.base_path)
        structure = hashlib.blake2b(f"{print_}{render.structure_key(site, shared, pictures)}".encode()).hexdigest()
        same = structure == cache.structure  # then a page's context changed only if its source did
        resized = {url for url in pictures.keys() | cache.pictures.keys() if pictures.get(url) != cache.pictures.get(url)}
        jobs, results, refs = [], {}, {}
        for index, page in enumerate(site.pages):
            old = cache.pages.get(page.source)
            if old is None:  # nothing to compare with: the worker that renders it works out its context
                jobs.append((index, None, None))
                continue
            fresh = not (resized and any(f"src={url}" in old.locations for url in resized))
            if fresh and same and old.digest == page.digest and assets.reuse(staging, page.output, config.precompress_pages):
                results[page.source] = old
                continue
            ctx = render.page_context(site, page, shared, published.pictures)
            key = render.context_key(ctx)
            if fresh and old.key == key and assets.reuse(staging, page.output, config.precompress_pages):
                results[page.source] = old
            else:
                jobs.append((index, ctx, key))  # an index: a Page would pickle its whole tree to the workers
        with _rendering(site, jobs, staging, templates, shared, published.pictures, progress) as rendered:
            extras = _write_extras(site, staging, cache.extras, structure, shared, token_set, templates,
                                   published.pictures)  # while they render
            for source, result, page_refs in rendered:
                results[source] = result
                refs.update(page_refs)
        problems += [p for _, _, found in extras.values() for p in found]
        for result in results.values():
            problems += result.problems
        problems += check_links(site, results)
        cache.refs.update(refs)
        problems += offline.write(site, staging, _version(print_, site, results, urls), cache.refs)

        errors = [p for p in problems if p.severity == "error" or strict]
        kept = ((p.source, p.digest) for p in site.pages if not p.is_stand_in)  # stand-ins share their original's
        cache.meta = {k: cache.meta[k] for k in kept if k in cache.meta}  # forget old versions (drafts are re-read)
        if errors:
            raise BuildError(errors)
        staging.commit()
    except TemplateError as exc:
        staging.discard()
        raise BuildError([render.template_problem(exc, root)]) from None
    except BaseException:
        staging.discard()
        if use_cache:
            cache.save(root)  # front matter parsed so far stays valid: it is keyed by content
        raise
    if jobs or not same or not (root / CACHE_DIR / SOURCE_MAP).is_file():
        write_source_map(root, site, results)
    cache.fingerprint, cache.output, cache.structure, cache.pictures = print_, out_name, structure, pictures
    cache.pages, cache.extras, cache.written, cache.svgs = results, extras, staging.files(), published.svgs
    cache.icons = render.ICONS.get((config.root, config.theme), {})
    catalogs = tuple(f"{d}{os.sep}" for d in locales_dirs(config.root))
    cache.compiled = {path: mo for path, mo in i18n.COMPILED.items() if path.startswith(catalogs)}
    if use_cache:
        cache.save(root)
    return Result(config.output, Counter(p.lang for p in site.pages), len(jobs),
                  sorted((p for p in problems if p.severity == "warning"), key=lambda p: (p.file, p.line or 0, p.message)),
                  time.perf_counter() - started, published.bytes_saved, published.fonts)


def _picture_keys(pictures: dict[str, dict], base: str) -> dict[str, str]:
    """URL of a site image -> a hash of what a page shows of it (its size, or its <picture>'s sources)."""
    keys = {}
    for url, info in pictures.items():
        shown = images.picture_html(info["variants"], "", base, False) if "variants" in info else \
            f"{info['width']}x{info['height']}"
        keys[url] = hashlib.blake2b(shown.encode(), digest_size=8).hexdigest()
    return keys


def _write_extras(site: Site, staging: Staging, previous: dict, structure: str, shared: dict, token_set,
                  templates: render.Templates, pictures: dict) -> dict:
    """The files that depend on no page's body, in groups, each kept from the last build while its inputs are the
    same: the reviewers' pages, which list pages by title (the site's structure); the sitemap, which lists their
    addresses; and the chrome (root, 404s, style guide, offline shell), which only the header and footer change.
    Editing a page's title rewrites the first only. Returns name -> (key, files, problems)."""
    chrome = [render.common_context(site, lang.code, shared) for lang in site.config.languages]
    groups = {
        "reviewers": (structure, lambda: [reviewers.write_pages(site, staging, shared, templates, pictures)]),
        "sitemap": (sitemap_key(site), lambda: [write_sitemap(site, staging)]),
        "chrome": (hashlib.blake2b(marshal.dumps((shared, chrome, site.files), 2)).hexdigest(),  # files: collisions
                   lambda: (write_special_pages(site, staging, shared, token_set, templates),
                            offline.write_shell(site, staging, shared, token_set, templates))),
    }
    out = {}
    for name, (key, write) in groups.items():
        old = previous.get(name)
        if old and old[0] == key and staging.reuse_all(old[1]):
            out[name] = old
            continue
        before = staging.files()
        problems = [p for found in write() if found for p in found]
        out[name] = (key, sorted(staging.files() - before), problems)
    return out


# Render workers: forked after the site is loaded, so they share it instead of receiving it pickled.
_worker: dict = {}


def _setup(site: Site, staging: Staging, templates: render.Templates, shared: dict, pictures: dict) -> None:
    config = site.config
    specs = components.discover(config.root)
    for name in ("home.html", "section.html", "page.html"):  # compiled before the workers fork, once for all
        templates.env.get_template(name)
    renderers = {lang.code: PageRenderer(components.renderer(specs, templates, lang), config.base_path, pictures)
                 for lang in config.languages}
    _worker.update(site=site, staging=staging, templates=templates, renderers=renderers, shared=shared,
                   pictures=pictures)


def _render_one(job: tuple[int, dict | None, str | None]) -> tuple[str, PageResult, dict]:
    """Render one page: (source, result, the offline refs of a page the service worker precaches, by hash)."""
    index, ctx, key = job
    site, staging = _worker["site"], _worker["staging"]
    page = site.pages[index]
    if ctx is None:
        ctx = render.page_context(site, page, _worker["shared"], _worker["pictures"])
        key = render.context_key(ctx)
    shown = page.original or page  # a stand-in shows another language's page: rendered as that page is
    body = _worker["renderers"][shown.lang].render(shown.source, shown.body, shown.body_line)
    html = render.render_page(_worker["templates"], site.config.language(page.lang), ctx, body,
                              site.config.contents_min_headings).encode()
    assets.write(staging, page.output, html, site.config.precompress_pages, PAGE_BROTLI_QUALITY)
    # The home pages may list thousands of pages: reading their links here saves the build's last step doing it
    refs = offline.page_refs(html) if not page.path or page.meta.offline else {}
    if page.is_stand_in:  # its links and problems are its original's, checked and reported there
        return page.source, PageResult(key, page.digest, tuple(sorted(body.anchors)), [], body.locations, []), refs
    return page.source, PageResult(key, page.digest, tuple(sorted(body.anchors)), [tuple(link) for link in body.links],
                                   body.locations, body.problems), refs


def _render_chunk(jobs: list) -> tuple[list, set[str]]:
    """In a worker: render JOBS, and say which files were written (the parent's staging must know them)."""
    return [_render_one(job) for job in jobs], _worker["staging"].take_written()


@contextlib.contextmanager
def _rendering(site: Site, jobs: list, staging: Staging, templates: render.Templates, shared: dict, pictures: dict,
               progress):
    """Start rendering JOBS, in a process per core when there are many; gives an iterator of _render_one's results.
    The workers start at once, so the caller can do other work while they render."""
    if not jobs:
        yield iter(())
        return
    _setup(site, staging, templates, shared, pictures)
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < PARALLEL_FROM or workers == 1:
        yield _serially(jobs, progress)
        return
    # Send pages without their bodies' text twice: the forked workers already hold the site.
    size = max(8, min(32, len(jobs) // (workers * 8)))  # small chunks: no worker idles long while the other finishes
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    import multiprocessing  # only here: a small rebuild does not pay for importing it

    # The workers' garbage collector would walk the whole site they inherit, again and again, and copy the memory
    # it touches: frozen, it never looks at it (measured: collecting went from 7 % of a page's time to 2 %).
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield _gathered(pool.imap_unordered(_render_chunk, chunks), staging, progress)
    finally:
        gc.unfreeze()


def _serially(jobs: list, progress):
    for job in jobs:
        yield _render_one(job)
        if progress:
            progress(1)


def _gathered(chunks, staging: Staging, progress):
    for chunk, written in chunks:
        staging.record(written)
        yield from chunk
        if progress:
            progress(len(chunk))


def _version(fingerprint: str, site: Site, results: dict[str, PageResult], urls: dict[str, str]) -> str:
    """A hash of everything this build wrote, from what decided it (no file is read again): the service worker's
    cache version, so a deploy that changes anything replaces the visitors' cached copies."""
    h = hashlib.blake2b(fingerprint.encode(), digest_size=8)
    for source, result in sorted(results.items()):
        h.update(f"{source}\0{result.key}\0".encode())
    for name, url in sorted(urls.items()):
        h.update(f"{name}\0{url}\0".encode())
    for rel in site.files:
        h.update(rel.encode() + b"\0" + content.digest((site.config.root / content.CONTENT / rel).read_bytes()).encode())
    return h.hexdigest()


def write_source_map(root: Path, site: Site, results: dict[str, PageResult]) -> None:
    """output page -> its Markdown file and where its headings, images and links are, so audits can name lines."""
    data = {page.output: {"source": (page.original or page).source, "line": page.body_line,
                          "locations": results[page.source].locations}
            for page in site.pages}
    folder = root / CACHE_DIR
    folder.mkdir(exist_ok=True)
    (folder / ".gitignore").write_text("*\n")
    (folder / SOURCE_MAP).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def check_links(site: Site, results: dict[str, PageResult]) -> list[Problem]:
    """Every .md link must name a page that exists, and every #anchor a heading on it."""
    problems = []
    files = {f"{content.CONTENT}/{rel}" for rel in site.files}
    urls = {page.url(site.config.base_path): page.source for page in site.pages}
    generated = reviewers.all_urls(site)
    base = site.config.base_path
    for source, result in sorted(results.items()):
        for written, anchor, line, kind in result.links:  # Link's fields
            target = written
            if kind == "path":
                url = posixpath.join(base, written.lstrip("/")).rstrip("/") + "/"
                if url in generated and not anchor:  # a reviewer's page
                    continue
                target = urls.get(url)
                if target is None:
                    problems.append(Problem(source, line, f"the link {written} is not a page of this site",
                                            "link to the page's .md file instead, like ../infections/seasonal-flu.md"))
                    continue
            if kind == "file":
                if target not in files:
                    problems.append(Problem(source, line, f"the file {target} does not exist", _near(target, files)))
                continue
            if target not in site.by_source:
                problems.append(Problem(source, line, f"the link to {target} goes to a page that does not exist",
                                        _near(target, site.by_source)))
            elif anchor and anchor not in results[target].anchors:
                problems.append(Problem(source, line, f"{target} has no heading #{anchor}",
                                        _near(anchor, results[target].anchors, "#")))
    return problems


def _near(name: str, choices, prefix: str = "") -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f"did you mean {prefix}{close[0]}?" if close else "check the spelling and the folder"
