"""Content: find pages and files under content/, read front matter, and model the site's tree and translations."""
from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import os
import re
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .config import Config
from .errors import Problem

CONTENT = "content"
REVIEWERS = "reviewers.toml"
FRONT_MATTER = re.compile(rb"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(\r?\n|\Z)", re.S)
SLUG = re.compile(r"^[\w.-]+$")



_FAST = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is several times faster
TOP_KEY = re.compile(r"^[^\s#\-][^:\n]*:", re.M)  # a line that starts a top-level key


class _Loader(_FAST):
    """Safe YAML that refuses a key written twice (plain YAML keeps the last one, silently). Its check runs in
    Python, so front matter is read with the plain loader first, and with this one only when it has fewer keys
    than lines that start one."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f'"{key}" is written twice (first on line {seen[key] + 1})', key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_mapping)

# Front matter fields: (check, what to write, required on topic pages)
FIELDS = {
    "title": ("text", "a title in quotes if it has a colon, like title: \"Flu: symptoms\""),
    "description": ("text", "one sentence that says what the page is for"),
    "reviewed": ("date", "a date like 2026-11-01"),
    "next_review": ("date", "a date like 2027-05-01"),
    "reviewer": ("text", f"the id of a reviewer in {REVIEWERS}, like zhang-wei"),
    "translation_key": ("text", "a name shared by the translations of one page"),
    "tags": ("list", "a list like [winter, breathing]"),
    "draft": ("bool", "true or false"),
    "order": ("int", "a whole number: 1 comes first"),
    "lang": ("text", "the language code of the folder the page is in"),
    "offline": ("bool", "true keeps this page, and the files it links to, on visitors' devices for offline reading"),
}


@dataclass
class Meta:
    title: str = ""
    description: str = ""
    reviewed: dt.date | None = None
    next_review: dt.date | None = None
    reviewer: str | None = None
    translation_key: str | None = None
    tags: tuple[str, ...] = ()
    draft: bool = False
    order: int | None = None
    offline: bool = False  # precached by the service worker, with the images and documents it links to
    lines: dict[str, int] = field(default_factory=dict)  # field -> line in the source, for later messages

    def plain(self) -> tuple:
        """The fields as plain data (dates as day numbers), which the build cache stores much faster than objects;
        `lines` comes last."""
        return (self.title, self.description, self.reviewed and self.reviewed.toordinal(),
                self.next_review and self.next_review.toordinal(), self.reviewer, self.translation_key, self.tags,
                self.draft, self.order, self.offline, self.lines)

    @classmethod
    def from_plain(cls, fields: tuple) -> "Meta":
        title, description, reviewed, next_review, *rest = fields
        return cls(title, description, reviewed and dt.date.fromordinal(reviewed),
                   next_review and dt.date.fromordinal(next_review), *rest)


@dataclass(eq=False)  # pages are compared by identity: comparing fields would walk the whole tree
class Page:
    source: str  # relative to the site root, posix: "content/en/infections/seasonal-flu.md"
    lang: str
    path: str  # within the language, no suffix: "infections/seasonal-flu"; an index is its folder: "infections"; home: ""
    is_index: bool
    meta: Meta
    body_text: str | None  # None until needed: a rebuild reads only the pages it renders
    body_line: int  # the line of the source file the body starts on
    digest: str  # of the source bytes
    children: list["Page"] = field(default_factory=list, repr=False)
    parent: "Page | None" = field(default=None, repr=False)
    position: int = -1  # among its parent's children, once sorted
    original: "Page | None" = field(default=None, repr=False)  # a stand-in: the other language's page it shows
    file: str = field(default="", repr=False)  # its absolute path, to read the body from when it is needed

    @property
    def body(self) -> str:
        """The Markdown after the front matter."""
        if self.original is not None:
            return self.original.body
        if self.body_text is None:
            with open(self.file, encoding="utf-8", errors="replace", newline="") as f:  # not UTF-8: an error already
                text = f.read()
            self.body_text = text.split("\n", self.body_line - 1)[-1] if self.body_line > 1 else text
        return self.body_text

    @property
    def is_stand_in(self) -> bool:
        return self.original is not None

    @property
    def key(self) -> str:
        return self.meta.translation_key or self.path

    def url(self, base: str) -> str:
        return f"{base}{self.lang}/{self.path}/" if self.path else f"{base}{self.lang}/"

    @property
    def output(self) -> str:
        return f"{self.lang}/{self.path}/index.html" if self.path else f"{self.lang}/index.html"


@dataclass
class Reviewer:
    id: str
    name: dict[str, str]
    credentials: dict[str, str]
    hospital: dict[str, str]
    photo: str = ""  # relative to content/, processed like every image; "" for none
    speciality: dict[str, str] = field(default_factory=dict)  # "cardiologist": how the badge names their field


# What a reviewer's table in reviewers.toml may hold: texts (one per language) and a photo.
REVIEWER_TEXTS = ("name", "credentials", "speciality", "hospital")
REVIEWER_KEYS = (*REVIEWER_TEXTS, "photo")


@dataclass
class Site:
    config: Config
    pages: list[Page]  # sorted by source path
    files: list[str]  # other files under content/, relative to content/ (published at that path)
    reviewers: dict[str, Reviewer]
    by_source: dict[str, Page] = field(default_factory=dict)
    translations: dict[tuple[str, str], dict[str, Page]] = field(default_factory=dict)  # (key) -> lang -> page
    stand_ins: dict[str, dict[str, Page]] = field(default_factory=dict)  # key -> lang -> stand-in (not translations)
    menus: dict[str, list[Page]] = field(default_factory=dict)

    def home(self, lang: str) -> Page | None:
        return self.by_source.get(f"{CONTENT}/{lang}/index.md")

    def menu(self, lang: str) -> list[Page]:
        """The header menu: the home page's sections, and its single pages only when they have an `order`. Every
        page carries the menu, so it must not grow with the site (a flat site of 1,000 pages would put 1,000 links
        on each of them)."""
        if lang not in self.menus:
            home = self.home(lang)
            self.menus[lang] = [p for p in (home.children if home else []) if p.is_index or p.meta.order is not None]
        return self.menus[lang]


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def walk(content: Path) -> list[tuple[str, os.DirEntry]]:
    """Every file under content/ as (path relative to it, its directory entry), sorted; hidden and _private names
    are skipped, and folders are not followed through links (so only a linked file can lead outside)."""
    found = []

    def visit(folder: str, prefix: str) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith((".", "_")):
                    continue
                if entry.is_dir():
                    if not entry.is_symlink():
                        visit(entry.path, f"{prefix}{entry.name}/")
                else:
                    found.append((prefix + entry.name, entry))

    visit(str(content), "")
    return sorted(found, key=lambda item: item[0])


def _signature(entry: os.DirEntry) -> tuple[int, int, int, int] | None:
    """What changes whenever a file's bytes do (ctime too, which no tool can set back), so its hash can be reused;
    None for a file changed in the last two seconds, which a second write could change again within the same clock
    tick without changing this (git's "racy" files): it is read again next time."""
    st = entry.stat()
    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) < 2_000_000_000:
        return None
    return st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino


def parse_front_matter(source: str, data: bytes) -> tuple[dict, str, int, list[Problem]]:
    """Split YAML front matter from the body. Returns (fields, body, body_line, problems)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return {}, "", 1, [Problem(source, line, "the file is not UTF-8 text", "save it as UTF-8")]
    match = FRONT_MATTER.match(data)
    if not match:
        return {}, text, 1, [Problem(source, 1, "no front matter", "start the file with ---, then title: …, then ---")]
    raw = (match.group(1) or b"").decode("utf-8")
    body_line = text[: len(match.group(0).decode("utf-8"))].count("\n") + 1
    body = text[len(match.group(0).decode("utf-8")):]
    try:
        fields = yaml.load(raw, Loader=_FAST) or {}
        if isinstance(fields, dict) and len(fields) != len(TOP_KEY.findall(raw)):
            fields = yaml.load(raw, Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        return {}, body, body_line, [_yaml_problem(source, exc)]
    if not isinstance(fields, dict):
        return {}, body, body_line, [Problem(source, 2, "front matter must be key: value lines", "like title: Seasonal flu")]
    return fields, body, body_line, []


def _yaml_problem(source: str, exc: yaml.YAMLError) -> Problem:
    """YAML's error at the line a writer should look at: where an unclosed quote opened, not where YAML gave up."""
    what = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    hint = "a value with a colon needs quotes, like title: \"Flu: what to do\""
    if context is not None and "end of stream" in what:
        mark, what, hint = context, f"{getattr(exc, 'context', '')}: it is never closed".strip(": "), "close the quote on the same line"
    elif "written twice" in what:
        hint = "keep one of them"
    line = mark.line + 2 if mark else 1  # +1 for the opening ---, +1 as YAML counts from 0
    return Problem(source, line, f"front matter: {what}", hint)


KEY_LINE = re.compile(rb"^([^\s#:\-][^:\n]*?)\s*:", re.M)


def _key_lines(data: bytes) -> dict[str, int]:
    """The line each key of the front matter is written on (the first time), found in one pass."""
    match = FRONT_MATTER.match(data)
    lines: dict[str, int] = {}
    if match and match.group(1):
        start = match.start(1)
        for key in KEY_LINE.finditer(match.group(1)):
            name = key.group(1).decode("utf-8", "replace").strip("'\"")
            lines.setdefault(name, data.count(b"\n", 0, start + key.start()) + 1)
    return lines


def check_meta(source: str, data: bytes, fields: dict, lang: str, is_index: bool) -> tuple[Meta, list[Problem]]:
    """Validate front matter fields by type; each problem names the line of its key."""
    problems = []
    where = _key_lines(data)

    def bad(key, message, hint=""):
        problems.append(Problem(source, where.get(key, 2), f"front matter: {message}", hint or FIELDS[key][1]))

    meta = Meta()
    for key, value in fields.items():
        if key not in FIELDS:
            close = difflib.get_close_matches(str(key), FIELDS, n=1)
            bad_key_hint = f"did you mean {close[0]}?" if close else "known keys: " + ", ".join(FIELDS)
            problems.append(Problem(source, where.get(str(key), 2), f'front matter: unknown key "{key}"', bad_key_hint))
            continue
        kind = FIELDS[key][0]
        if kind == "date":
            if isinstance(value, dt.datetime):
                value = value.date()
            if not isinstance(value, dt.date):
                bad(key, f"{key} must be a date like 2027-05-01")
                continue
        elif kind == "text":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str) or not value.strip():
                bad(key, f"{key} must be text")
                continue
            value = value.strip()
        elif kind == "list":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                bad(key, f"{key} must be a list of words")
                continue
            value = tuple(value)
        elif kind == "bool" and not isinstance(value, bool):
            bad(key, f"{key} must be true or false")
            continue
        elif kind == "int" and (not isinstance(value, int) or isinstance(value, bool)):
            bad(key, f"{key} must be a whole number")
            continue
        if key == "lang":
            if value != lang:
                bad(key, f'lang is "{value}" but the page is in the {lang} folder', f"write lang: {lang}, or leave it out")
            continue
        setattr(meta, key, value)
        meta.lines[key] = where.get(key, 2)
    if not meta.title and "title" not in fields:
        problems.append(Problem(source, 1, "front matter: title is missing", "add a line like title: Seasonal flu"))
    if meta.reviewed and meta.next_review and meta.next_review <= meta.reviewed:
        bad("next_review", "next_review must be after reviewed", "usually 6 to 12 months after the review date")
    if meta.next_review and not meta.reviewed:
        bad("next_review", "next_review is set but reviewed is not", "add reviewed: the date the page was last reviewed")
    return meta, problems


def load_reviewers(config: Config) -> tuple[dict[str, Reviewer], list[Problem]]:
    path = config.root / REVIEWERS
    if not path.exists():
        return {}, []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return {}, [Problem(REVIEWERS, None, f"not valid TOML: {exc}", "each reviewer is a table like [zhang-wei]")]
    reviewers, problems = {}, []
    for rid, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), dict) or config.default_language not in entry["name"]:
            problems.append(Problem(REVIEWERS, None, f'reviewer "{rid}" needs a name table with at least "{config.default_language}"',
                                    f'add [{rid}.name] with {config.default_language} = "Dr …"'))
            continue
        for key in entry:
            if key not in REVIEWER_KEYS:
                close = difflib.get_close_matches(key, REVIEWER_KEYS, n=1)
                problems.append(Problem(REVIEWERS, _toml_line(path, f"{rid}.{key}"), f'reviewer "{rid}" has an unknown key "{key}"',
                                        f"did you mean {close[0]}?" if close else "known keys: " + ", ".join(REVIEWER_KEYS)))
            elif key != "photo" and not isinstance(entry[key], dict):
                problems.append(Problem(REVIEWERS, _toml_line(path, f"{rid}.{key}"), f'reviewer "{rid}": {key} must be a table of languages',
                                        f'like [{rid}.{key}] with {config.default_language} = "…"'))
        texts = {k: entry.get(k, {}) if isinstance(entry.get(k, {}), dict) else {} for k in REVIEWER_TEXTS}
        reviewers[rid] = Reviewer(rid, texts["name"], texts["credentials"], texts["hospital"], str(entry.get("photo", "")),
                                  texts["speciality"])
    return reviewers, problems


def _toml_line(path: Path, dotted: str) -> int | None:
    """The line of [a.b] or of b = … inside [a], for messages about reviewers.toml; None when not found."""
    table, _, key = dotted.rpartition(".")
    current = None
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if text.startswith("["):
            current = text.strip("[] ")
            if current == dotted:
                return n
        elif current == table and re.match(re.escape(key) + r"\s*[=.]", text):
            return n
    return None


def load(config: Config, cached_meta: dict | None = None, known: dict | None = None) -> tuple[Site, list[Problem]]:
    """Read every page's front matter and build the site tree. Both dicts are updated for the next build:
    `cached_meta` maps (source, digest) -> (meta, body_line, problems) (checks depend on the file's place too);
    `known` maps source -> (file signature, digest): a page whose signature is unchanged is not read at all."""
    content = config.root / CONTENT
    problems: list[Problem] = []
    if not content.is_dir():
        return Site(config, [], [], {}), [Problem(CONTENT, None, "there is no content folder",
                                                  "create content/<language>/index.md for each language")]
    codes = {lang.code for lang in config.languages}
    cached_meta = cached_meta if cached_meta is not None else {}
    known = known if known is not None else {}
    pages, files, entries = [], [], []  # entries: the pages to be, with their digest when it is known
    for rel, entry in walk(content):
        source = f"{CONTENT}/{rel}"
        if entry.is_symlink() and not Path(entry.path).resolve().is_relative_to(content.resolve()):
            problems.append(Problem(source, None, "this file links to a place outside the content folder", "copy the file in instead"))
            continue
        top, _, rest = rel.partition("/")
        if not rel.endswith(".md"):
            files.append(rel)
            continue
        if not rest or top not in codes:
            close = difflib.get_close_matches(top, codes, n=1)
            problems.append(Problem(source, None, "a page must be inside a language folder such as content/en/",
                                    f"did you mean content/{close[0]}/?" if close and rest else "move it into content/<language>/"))
            continue
        stem = rest[:-3]
        is_index = stem == "index" or stem.endswith("/index")
        path = stem[: -len("index")].rstrip("/") if is_index else stem
        if not all(SLUG.match(part) for part in path.split("/") if path):
            problems.append(Problem(source, None, "file and folder names may only use letters, digits, - and _ and .",
                                    "rename it, e.g. seasonal-flu.md (spaces and # break links)"))
            continue
        signature = _signature(entry)
        if signature is not None and known.get(source, (None,))[0] == signature and (source, known[source][1]) in cached_meta:
            entries.append((source, top, path, is_index, entry.path, signature, known[source][1]))
        else:
            entries.append((source, top, path, is_index, entry.path, signature, None))
    read = _read_pages([(source, top, is_index, file) for source, top, _, is_index, file, _, digest in entries
                        if digest is None], cached_meta)
    known.clear()
    for source, top, path, is_index, file, signature, page_digest in entries:
        page_digest, body = (page_digest, None) if page_digest else read[source]
        known[source] = (signature, page_digest)
        meta, body_line, found = cached_meta[(source, page_digest)]
        problems.extend(found)
        if not meta.draft:
            pages.append(Page(source, top, path, is_index, meta, body, body_line, page_digest, file=file))

    pages = sorted(pages + stand_ins(config, pages), key=lambda p: p.source)
    reviewers, found = load_reviewers(config)
    problems.extend(found)
    site = Site(config, pages, files, reviewers)
    problems.extend(_link_tree(site))
    return site, problems


PARALLEL_FROM = 1000  # pages to read: from here, reading them in a process per core saves more than it costs


def _read_pages(unread: list[tuple[str, str, bool, str]], cached_meta: dict) -> dict[str, tuple[str, str | None]]:
    """Read, hash and check the front matter of each (source, language, is_index, file), putting what was parsed in
    CACHED_META; returns source -> (digest, body or None). Parsing front matter is most of the serial start of a
    cold build (PyYAML builds its objects in Python), so many pages are read in a process per core; their bodies
    are then read again when they are rendered, rather than sent back."""
    workers = min(os.cpu_count() or 1, 8)
    if len(unread) < PARALLEL_FROM or workers == 1:
        done = [_read_page(item, True) for item in unread]
    else:
        import gc
        import multiprocessing

        gc.freeze()  # as for the render workers: their collector leaves what they inherit alone
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                done = pool.starmap(_read_page, [(item, False) for item in unread], chunksize=64)
        finally:
            gc.unfreeze()
    out = {}
    for source, page_digest, meta, body_line, found, body in done:
        key = (source, page_digest)
        if key not in cached_meta:
            cached_meta[key] = (Meta.from_plain(meta), body_line, [Problem(*p) for p in found])
        out[source] = (page_digest, body)
    return out


def _read_page(item: tuple[str, str, bool, str], keep_body: bool) -> tuple:
    """One page read and checked, as plain data (it may cross between processes)."""
    source, lang, is_index, file = item
    with open(file, "rb") as f:
        data = f.read()
    fields, body, body_line, found = parse_front_matter(source, data)
    meta, more = check_meta(source, data, fields, lang, is_index) if not found else (Meta(), [])
    return (source, digest(data), meta.plain(), body_line, [(p.file, p.line, p.message, p.hint, p.severity)
                                                              for p in found + more], body if keep_body else None)


def page_fallbacks(config: Config, code: str) -> tuple[str, ...]:
    """Where a page missing in language CODE is shown from: its fallback languages in order, then the default one."""
    lang = config.language(code)
    return tuple(c for c in dict.fromkeys((*lang.fallback, config.default_language)) if c != code)


def stand_ins(config: Config, pages: list[Page]) -> list[Page]:
    """For each language with fallback_pages = true, a stand-in for every page it lacks: the page of the first of its
    fallback languages that has it, at the address the translation would have. Parents come before children, so a
    stand-in is made only where its section exists (as a page or a stand-in) in that language."""
    groups: dict[str, dict[str, Page]] = {}
    for page in pages:
        groups.setdefault(page.key, {}).setdefault(page.lang, page)
    out = []
    for lang in config.languages:
        if not lang.fallback_pages:
            continue
        chain = page_fallbacks(config, lang.code)
        taken = {p.path for p in pages if p.lang == lang.code}
        candidates = []
        for key, group in groups.items():
            original = next((group[c] for c in chain if c in group), None)
            if lang.code not in group and original is not None:
                candidates.append((original.path.count("/"), original.path, key, original))
        for *_, original in sorted(candidates, key=lambda item: item[:3]):
            parent = original.path.rpartition("/")[0]
            if original.path in taken or (original.path and parent not in taken):
                continue
            taken.add(original.path)
            rest = original.source.split("/", 2)[2]
            out.append(Page(f"{CONTENT}/{lang.code}/{rest}", lang.code, original.path, original.is_index, original.meta,
                            None, original.body_line, original.digest, original=original))
    return out


def _link_tree(site: Site) -> list[Problem]:
    """Parents, children, translations; and the checks that need the whole tree."""
    problems = []
    site.by_source = {p.source: p for p in site.pages}
    by_lang_path = {(p.lang, p.path): p for p in site.pages}
    for page in site.pages:
        if page.meta.reviewer and page.meta.reviewer not in site.reviewers and not page.is_stand_in:
            close = difflib.get_close_matches(page.meta.reviewer, site.reviewers, n=1)
            problems.append(Problem(page.source, page.meta.lines.get("reviewer"),
                                    f'reviewer "{page.meta.reviewer}" is not in {REVIEWERS}',
                                    f"did you mean {close[0]}?" if close else f"add [{page.meta.reviewer}] to {REVIEWERS}"))
        if page.path:
            parent_path = page.path.rpartition("/")[0]
            parent = by_lang_path.get((page.lang, parent_path))
            if parent is None:
                folder = f"{CONTENT}/{page.lang}/{parent_path + '/' if parent_path else ''}index.md"
                problems.append(Problem(page.source, None, f"its section has no index page ({folder})",
                                        "add an index.md with a title for the section"))
            else:
                page.parent = parent
                parent.children.append(page)
    for page in site.pages:
        page.children.sort(key=lambda p: (p.meta.order is None, p.meta.order or 0, p.meta.title.casefold(), p.path))
        for position, child in enumerate(page.children):
            child.position = position
    groups: dict[str, dict[str, Page]] = {}
    for page in site.pages:
        if page.is_stand_in:
            site.stand_ins.setdefault(page.key, {})[page.lang] = page
            continue
        group = groups.setdefault(page.key, {})
        if page.lang in group:
            other = group[page.lang]
            problems.append(Problem(page.source, None, f'translation_key "{page.key}" is also used by {other.source}',
                                    "each page of a language needs its own translation_key"))
            continue
        group[page.lang] = page
    site.translations = groups
    for lang in site.config.languages:
        if site.home(lang.code) is None:
            problems.append(Problem(f"{CONTENT}/{lang.code}/index.md", None, f"the {lang.name} home page is missing",
                                    f"create {CONTENT}/{lang.code}/index.md, or remove [languages.{lang.code}] from site.toml"))
    return problems
