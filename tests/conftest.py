"""Shared helpers: the fixture site, building it, and reading what a browser would see in the output."""
from __future__ import annotations

import hashlib
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from healingpixels.build import build
from healingpixels.errors import BuildError, Problem

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FIXTURE = TESTS / "fixtures" / "site"
GOLDEN = TESTS / "golden"
BASE_URL = "https://health.example.org/"

# Every page of the fixture: its output file -> (language, kind). ru has no asthma page on purpose.
FIXTURE_PAGES = {
    "en/index.html": ("en", "home"),
    "en/winter-health/index.html": ("en", "section"),
    "en/winter-health/frostbite/index.html": ("en", "article"),
    "en/winter-health/asthma/index.html": ("en", "article"),
    "ru/index.html": ("ru", "home"),
    "ru/winter-health/index.html": ("ru", "section"),
    "ru/winter-health/frostbite/index.html": ("ru", "article"),
}


def copy_fixture(dest: Path) -> Path:
    shutil.copytree(FIXTURE, dest, ignore=shutil.ignore_patterns("public", ".healingpixels-cache", ".public*"))
    return dest


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A private copy of the fixture site that a test may change."""
    return copy_fixture(tmp_path / "site")


def program_state() -> str:
    """A hash of the program, theme, components and catalogs: everything besides the site that every page depends on."""
    h = hashlib.blake2b(digest_size=16)
    for folder in ("healingpixels", "themes", "components", "locales"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(path.as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def skip_if_program_changed(since: str) -> None:
    """Call before asserting how many pages a build rendered: when the program itself changed during the test, every
    page is rightly rendered again. That happens only while someone edits the code as the tests run."""
    if program_state() != since:
        pytest.skip("the program or theme changed while this test ran; run it again")


_BUILT_WITH: dict[Path, str] = {}


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The fixture site after its first build (cold: there was no cache yet). Do not change it."""
    root = copy_fixture(tmp_path_factory.mktemp("built") / "site")
    _BUILT_WITH[root] = program_state()
    result = build(root)
    assert result.output == root / "public" and result.rendered == len(FIXTURE_PAGES)
    return root


@pytest.fixture(scope="session")
def built(built_site) -> Path:
    """The output of the fixture's first build, for tests that only read it."""
    return built_site / "public"


@pytest.fixture
def warm(tmp_path: Path, built_site: Path) -> Path:
    """A private copy of the fixture as it is after one cached build: output and cache included.
    (Copying is much cheaper than building, and the cache must not depend on where the site is.)"""
    root = Path(shutil.copytree(built_site, tmp_path / "site"))
    if program_state() != _BUILT_WITH[built_site]:  # someone changed the program since: warm the copy again
        build(root)
    return root


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {rel}: the fixture changed"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def page(title: str, body: str, **fields: str) -> str:
    """A Markdown page with front matter; the body starts on line 5 when no extra fields are given."""
    extra = "".join(f"{k}: {v}\n" for k, v in fields.items())
    return f"---\ntitle: {title}\n{extra}---\n\n{body}"


def problems_of(root: Path, **kwargs) -> list[Problem]:
    """Build ROOT, which must fail, and return every problem reported."""
    with pytest.raises(BuildError) as info:
        build(root, **kwargs)
    assert info.value.problems, "a BuildError must say what is wrong"
    return info.value.problems


def find(problems: list[Problem], file: str, line: int | None, *words: str) -> Problem:
    """The one problem about FILE:LINE whose message and hint contain every word; fail listing them all if none."""
    for p in problems:
        text = f"{p.message}\n{p.hint}"
        if p.file == file and p.line == line and all(w in text for w in words):
            return p
    listing = "\n".join(map(str, problems)) or "(none)"
    pytest.fail(f"no problem at {file}:{line} mentioning {words!r}; reported:\n{listing}")


def tree(folder: Path) -> dict[str, str]:
    """Every file under FOLDER (hidden ones too) -> sha256 of its bytes."""
    return {f.relative_to(folder).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file()}


def assert_same_tree(actual: Path, expected: Path) -> None:
    a, e = tree(actual), tree(expected)
    assert sorted(a) == sorted(e), "the two outputs hold different files"
    differ = sorted(name for name in a if a[name] != e[name])
    assert not differ, f"these files differ: {differ}"


def html(out: Path, rel: str) -> str:
    return (out / rel).read_text(encoding="utf-8")


class Element:
    def __init__(self, tag: str, attrs: dict[str, str | None]):
        self.tag, self.attrs, self.text = tag, attrs, ""

    def get(self, name: str) -> str | None:
        return self.attrs.get(name)

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"


class Doc(HTMLParser):
    """The elements of an HTML document as a browser's parser sees them: tags, attributes, and each one's text."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        el = Element(tag, dict(attrs))
        self.elements.append(el)
        if tag not in self.VOID:
            self._open.append(el)
        if tag in ("title", "textarea"):  # RCDATA, as browsers parse it: no tags inside, only </title> ends it
            self.set_cdata_mode(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        for el in self._open:
            el.text += data

    def all(self, tag: str, **attrs: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag and all(e.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def one(self, tag: str, **attrs: str) -> Element:
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"expected one <{tag} {attrs}>, found {found}"
        return found[0]


def doc(out: Path, rel: str) -> Doc:
    return Doc(html(out, rel))
