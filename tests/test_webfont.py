"""Web fonts (opt-in): none by default; a font the site names in its tokens is subset to the characters of its Latin-
and Cyrillic-script pages, served as WOFF2 from the site itself with font-display: swap, the same bytes every build."""
from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont

from healingpixels import i18n, tokens, webfont
from healingpixels.build import CACHE_DIR, build
from healingpixels.errors import BuildError

from conftest import ROOT, edit, find, page, problems_of, write

THEME = ROOT / "themes" / "harbin-ice"
USED = "Дэ"  # in the fixture's Russian pages and reviewer ("Добро пожаловать", "Д-р Чжан Вэй")
UNUSED = "Ѣẞ"  # Cyrillic and Latin letters the font has but no page uses
CJK = "健"  # on the Chinese page only: Chinese keeps its system fonts
CHARS = "".join(map(chr, range(0x20, 0x7F))) + USED + UNUSED + CJK
CREATED = 3_600_000_000  # head.created of the test font (2018): the subset keeps it as its modified time too


def make_font(path: Path, family: str = "Test Sans", weights: tuple[int, int] | None = None) -> Path:
    """A tiny TrueType font with a box for each of CHARS; WEIGHTS (low, high): a variable font with a wght axis."""
    names = [".notdef"] + [f"uni{ord(c):04X}" for c in CHARS]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({ord(c): f"uni{ord(c):04X}" for c in CHARS})
    glyphs = {}
    for name in names:
        pen = TTGlyphPen(None)
        pen.moveTo((100, 0)), pen.lineTo((100, 700)), pen.lineTo((500, 700)), pen.lineTo((500, 0)), pen.closePath()
        glyphs[name] = pen.glyph()
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics({name: (600, 100) for name in names})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": family, "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=800, usWinAscent=800, usWinDescent=200)
    fb.setupPost()
    if weights:
        fb.setupFvar(axes=[("wght", weights[0], 400, weights[1], "Weight")], instances=[])
        fb.setupGvar({name: [] for name in names})
    fb.font["head"].created = fb.font["head"].modified = CREATED
    path.parent.mkdir(parents=True, exist_ok=True)
    fb.save(str(path))
    return path


def tokens_json(files: dict[str, str], family: str = "Test Sans") -> str:
    return json.dumps({"font": {"webfont": {"$type": "fontFamily", "$value": family,
                                            "$extensions": {"org.healingpixels": {"files": files}}}}}, indent=2) + "\n"


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def with_webfont(site: Path, files: dict[str, str] | None = None) -> Path:
    """The fixture (en, ru) plus a Chinese home page, with a tokens override naming a test font."""
    make_font(site / "fonts" / "TestSans-Regular.ttf")
    write(site, "my-tokens.json", tokens_json(files or {"400": "fonts/TestSans-Regular.ttf"}))
    edit(site, "site.toml", 'name = "harbin-ice"', 'name = "harbin-ice"\ntokens = "my-tokens.json"')
    with (site / "site.toml").open("a", encoding="utf-8") as f:
        f.write('\n[languages.zh-Hans]\nname = "中文（简体）"\ntitle = "冬季健康"\n')
    write(site, "content/zh-Hans/index.md", page("冬季健康", "冬天保持健康。\n"))
    return site


def stylesheet(out: Path) -> str:
    [css] = (out / "assets").glob("theme.*.css")
    return css.read_text(encoding="utf-8")


def fonts(out: Path) -> list[Path]:
    return sorted((out / "assets").glob("*.woff2"))


def stack(css: str, name: str) -> list[str]:
    value = re.search(rf"--hp-font-family-{name}:([^;}}]*)", css)[1]
    return [part.strip() for part in value.split(",")]


# ---------------------------------------------------------------- the default

def test_by_default_there_is_no_web_font(built):
    css = stylesheet(built)
    assert fonts(built) == [] and "@font-face" not in css and "woff" not in css
    assert stack(css, "latin")[0] == "system-ui" and stack(css, "cyrillic")[0] == "system-ui"


# ---------------------------------------------------------------- a site that names one

def test_the_named_font_is_subset_to_the_latin_and_cyrillic_pages_and_served_from_the_site(site):
    result = build(with_webfont(site))
    out = result.output
    [woff2] = fonts(out)
    data = woff2.read_bytes()
    assert data[:4] == b"wOF2" and woff2.name.startswith("test-sans-400.")
    css = stylesheet(out)
    [rule] = re.findall(r"@font-face\s*\{[^}]*\}", css)
    assert re.search(r"font-display:\s*swap", rule) and re.search(r'font-family:\s*"Test Sans"', rule)
    assert re.search(r"font-weight:\s*400", rule) and re.search(r"font-style:\s*normal", rule)
    url = re.search(r'url\("?([^")]+)"?\)\s*format\("woff2"\)', rule)[1]
    assert "//" not in url and ":" not in url, "a same-origin URL, relative to the stylesheet in assets/"
    assert (out / "assets" / url).read_bytes() == data
    assert "http" not in css.split(":root", 1)[0], "nothing from another site"
    assert stack(css, "latin")[:2] == ['"Test Sans"', "system-ui"]
    assert stack(css, "cyrillic")[0] == '"Test Sans"'
    assert '"Test Sans"' not in stack(css, "zh-hans") + stack(css, "ko")

    kept = TTFont(io.BytesIO(data)).getBestCmap()
    assert {ord(c) for c in "Winter Health 112" + USED} <= kept.keys()
    assert not {ord(c) for c in UNUSED + CJK} & kept.keys(), "only what the en and ru pages use; Chinese is not"
    assert re.search(r"unicode-range:\s*([^;}]*)", rule)[1].strip() == webfont.unicode_range(kept)
    assert "U+5065" not in rule
    [(name, before, after)] = result.fonts
    assert name == "fonts/TestSans-Regular.ttf" and after == len(data) < before


def test_two_builds_give_the_same_bytes_and_a_rebuild_reuses_the_subset(site, monkeypatch):
    with_webfont(site)
    first = {p.name: p.read_bytes() for p in fonts(build(site).output)}
    cached = sorted(p.suffix for p in (site / CACHE_DIR / webfont.CACHE).iterdir())
    assert cached == [".range", ".woff2"]
    shutil.rmtree(site / CACHE_DIR)
    again = build(site, output=site / "again", use_cache=False).output  # subset afresh
    assert {p.name: p.read_bytes() for p in fonts(again)} == first
    assert TTFont(io.BytesIO(next(iter(first.values()))))["head"].modified == CREATED, "no build time in the bytes"

    def fail(*args):
        raise AssertionError("a rebuild must not subset again")

    monkeypatch.setattr(webfont, "_subset", fail)
    assert {p.name: p.read_bytes() for p in fonts(build(site).output)} == first


def test_a_variable_font_gives_one_static_face_per_weight(site):
    with_webfont(site, {"400": "fonts/Test-VF.ttf", "700": "fonts/Test-VF.ttf"})
    make_font(site / "fonts" / "Test-VF.ttf", weights=(300, 800))
    out = build(site).output
    made = {p.name.split(".")[0]: TTFont(p) for p in fonts(out)}
    assert sorted(made) == ["test-sans-400", "test-sans-700"]
    assert all("fvar" not in font for font in made.values())
    assert made["test-sans-700"]["OS/2"].usWeightClass == 700
    rules = re.findall(r"@font-face\s*\{[^}]*\}", stylesheet(out))
    assert [re.search(r"font-weight:\s*(\d+)", rule)[1] for rule in rules] == ["400", "700"]


def test_a_weight_outside_a_variable_font_is_a_problem(site):
    with_webfont(site, {"900": "fonts/Test-VF.ttf"})
    make_font(site / "fonts" / "Test-VF.ttf", weights=(300, 800))
    line = line_of((site / "my-tokens.json").read_text(encoding="utf-8"), '"900"')
    find(problems_of(site), "my-tokens.json", line, "Test-VF.ttf", "300 to 800")


def test_a_missing_font_file_is_a_problem_at_its_line(site):
    with_webfont(site, {"400": "fonts/TestSans-Regular.ttf", "700": "fonts/TestSans-Bold.ttf"})
    line = line_of((site / "my-tokens.json").read_text(encoding="utf-8"), '"700"')
    problem = find(problems_of(site), "my-tokens.json", line, '"fonts/TestSans-Bold.ttf" does not exist')
    assert "did you mean fonts/TestSans-Regular.ttf?" in problem.hint
    assert not (site / "public").exists(), "nothing is written"


# ---------------------------------------------------------------- what the tokens check

def load_problems(tmp_path: Path, files: dict, family: object = "Test Sans", type_: str = "fontFamily") -> list:
    make_font(tmp_path / "fonts" / "TestSans-Regular.ttf")
    write(tmp_path, "fonts/notes.txt", "not a font\n")
    data = json.loads(tokens_json(files))
    data["font"]["webfont"].update({"$value": family, "$type": type_})
    text = json.dumps(data, indent=2) + "\n"
    write(tmp_path, "my-tokens.json", text)
    with pytest.raises(BuildError) as caught:
        tokens.load(THEME, tmp_path / "my-tokens.json", tmp_path)
    return [(p.line and text.splitlines()[p.line - 1].strip(), p.message, p.hint) for p in caught.value.problems]


@pytest.mark.parametrize("files, line, words", [
    ({"bold": "fonts/TestSans-Regular.ttf"}, '"bold": "fonts/TestSans-Regular.ttf"', ('unknown weight "bold"', '"400italic"')),
    ({"450": "fonts/TestSans-Regular.ttf"}, '"450": "fonts/TestSans-Regular.ttf"', ('unknown weight "450"',)),
    ({"400": "fonts/notes.txt"}, '"400": "fonts/notes.txt"', ('"fonts/notes.txt" is not a font file', ".otf")),
    ({"400": "fonts"}, '"400": "fonts"', ('"fonts" is a folder',)),
    ({}, '"$extensions": {', ("names no font files", '"400"')),
])
def test_bad_font_files_are_named_with_their_line_and_a_fix(tmp_path, files, line, words):
    [(at, message, hint)] = load_problems(tmp_path, files)
    assert at == line and all(w in message + hint for w in words)


@pytest.mark.parametrize("family, type_, line, words", [
    ("Test Sans, Arial", "fontFamily", '"$value": "Test Sans, Arial",', ("one font family",)),
    ({"family": "Test Sans"}, "fontFamily", '"$value": {', ("one font family", "$extensions")),
    ("Test Sans", "fontFace", '"$type": "fontFace",', ('"$type": "fontFace"', "fontFamily")),
])
def test_the_family_must_be_one_name_in_a_font_family_token(tmp_path, family, type_, line, words):
    [(at, message, hint)] = load_problems(tmp_path, {"400": "fonts/TestSans-Regular.ttf"}, family, type_)
    assert at == line and all(w in message + hint for w in words)


def test_tokens_put_the_family_first_in_the_latin_and_cyrillic_stacks_once(tmp_path):
    make_font(tmp_path / "fonts" / "A.ttf")
    override = write(tmp_path, "my-tokens.json", json.dumps({"font": {
        "webfont": json.loads(tokens_json({"400": "fonts/A.ttf", "400italic": "fonts/A.ttf"}, "Source Sans 3"))
        ["font"]["webfont"],
        "family": {"latin": {"$value": ["{font.webfont}", "system-ui", "sans-serif"]}}}}))
    ts = tokens.load(THEME, override, tmp_path)
    assert ts.shared["font.webfont"] == '"Source Sans 3"'
    assert ts.shared["font.family.latin"] == '"Source Sans 3", system-ui, sans-serif'  # named by the site: not twice
    assert ts.shared["font.family.cyrillic"] == '"Source Sans 3", system-ui, sans-serif'  # an alias of latin
    assert [(f.weight, f.style) for f in ts.webfont.faces] == [(400, "normal"), (400, "italic")]
    assert "Source Sans" not in tokens.load(THEME, None, tmp_path).shared["font.family.latin"]


@pytest.mark.parametrize("code, script", [("en", "Latn"), ("en-GB", "Latn"), ("ru", "Cyrl"), ("uk", "Cyrl"),
                                          ("sr-Latn", "Latn"), ("zh-Hans", "Hans"), ("ko", "Kore"), ("xx", None)])
def test_a_languages_script_comes_from_cldr(code, script):
    assert i18n.script(code) == script
