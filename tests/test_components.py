"""Components: every folder is complete and its example renders; each Markdown syntax; each mistake an author can make
is an error at file:line with a suggestion; CSS uses theme tokens only; icons; reviewer profiles and their badge;
overdue reviews warn the site's owner; the style guide shows every component."""
from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
from jinja2 import TemplateRuntimeError
from PIL import Image

from healingpixels import components, render
from healingpixels.build import build
from healingpixels.config import Language
from healingpixels.markdown import PageRenderer, split_args

from conftest import ROOT, Doc, doc, edit, find, html, page, problems_of, tree, write

SPECS = components.discover(ROOT)
MARKDOWN = sorted(name for name, spec in SPECS.items() if spec.markdown)
LAYOUT = sorted(name for name, spec in SPECS.items() if not spec.markdown)
SOURCE = "content/en/winter-health/page.md"
BODY_LINE = 5  # the body starts on this line of SOURCE, as after four lines of front matter


@pytest.fixture(scope="module")
def kit():
    """What the build gives each language: the templates, and a PageRenderer with the component renderer."""
    templates = render.Templates(ROOT, "harbin-ice")
    lang = Language("en", "English", "Winter Health", emergency=("112",))
    renderer = PageRenderer(components.renderer(SPECS, templates, lang), "/", {})
    return templates, lang, renderer


def md(kit, body: str):
    return kit[2].render(SOURCE, body, BODY_LINE)


def ok(kit, body: str) -> Doc:
    out = md(kit, body)
    assert out.problems == [], "\n".join(map(str, out.problems))
    return Doc(out.html)


def classes(el) -> list[str]:
    return (el.get("class") or "").split()


# --- every component: its folder, its example, its README ---------------------------------------------------------


def test_the_library_has_every_component_of_the_issue():
    assert {"care-card", "warning", "inset", "do", "dont", "details", "summary-list", "figure", "video",
            "action-link"} <= set(MARKDOWN)
    assert {"table", "contents-list", "card", "card-group", "pagination", "breadcrumbs", "back-to-top", "skip-link",
            "header", "language-switcher", "footer", "banner", "review", "reviewer-badge"} <= set(LAYOUT)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_component_folder_is_complete(name):
    spec = SPECS[name]
    assert components.missing_files(spec) == []
    assert spec.example.endswith(".md" if spec.markdown else (".md", ".toml"))
    readme = (spec.folder / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# ") and "## Accessibility" in readme
    if spec.markdown:
        assert f"::: {name}" in readme, "the README shows the exact Markdown an author types"
        assert f"::: {name}" in (spec.folder / spec.example).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_example_renders_without_problems(kit, name):
    templates, lang, renderer = kit
    example = components.render_example(SPECS[name], templates, lang, renderer)
    assert example.problems == []
    assert example.html.strip(), "the example shows something"
    d = Doc(example.html)
    assert not d.all("h1"), "a component never adds a page title"
    for svg in d.all("svg"):
        assert svg.get("aria-hidden") == "true" and svg.get("focusable") == "false", "icons are decorative"


@pytest.mark.parametrize("name", MARKDOWN)
def test_the_markdown_in_every_readme_renders_without_problems(kit, name):
    readme = (SPECS[name].folder / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```markdown\n(.*?)```", readme, re.S)
    assert blocks, "the README has a ```markdown example"
    for block in blocks:
        assert md(kit, "## Section\n\n" + block).problems == []


@pytest.mark.parametrize("name", sorted(SPECS))
def test_files_an_example_shows_are_in_its_folder(name):
    spec = SPECS[name]
    text = (spec.folder / spec.example).read_text(encoding="utf-8")
    for url in re.findall(r"/styleguide/([\w-]+)/([\w.-]+)", text):
        assert url[0] == name and (spec.folder / "example-files" / url[1]).is_file(), url


@pytest.mark.parametrize("name", sorted(SPECS))
def test_component_templates_hold_no_text_outside_gettext(name):
    """Every word a component shows goes through _(): strip Jinja and HTML, and no letters may be left."""
    text = (SPECS[name].folder / "macro.html").read_text(encoding="utf-8")
    text = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text)
    assert not re.search(r"[^\W\d_]{2,}", text), f"words outside _(): {text.split()}"


def test_layout_components_render_equally_from_their_macros(kit):
    templates, lang, _ = kit
    crumbs = templates.module("components/breadcrumbs/macro.html", lang).render([{"title": "Home", "url": "/en/"}])
    nav = Doc(str(crumbs)).one("nav")
    assert nav.get("aria-label") == "Breadcrumb" and "hp-breadcrumbs" in classes(nav)
    assert str(templates.module("components/pagination/macro.html", lang).render(None, None)).strip() == ""


# --- each Markdown syntax -----------------------------------------------------------------------------------------


def test_care_card_levels_have_an_icon_and_a_visible_label(kit):
    d = ok(kit, "## Help\n\n" + "\n\n".join(f"::: care-card {level}\n### Call if:\n- x\n:::" for level in
                                            ("non-urgent", "urgent", "emergency")))
    labels = [p.text.strip() for p in d.all("p") if "hp-care-card__label" in classes(p)]
    assert labels == ["Non-urgent advice", "Urgent advice", "Emergency"]
    icons = [classes(s)[1] for s in d.all("svg")]
    assert icons == ["hp-icon--info", "hp-icon--urgent", "hp-icon--emergency"], "never colour alone: an icon each"
    assert [a.get("href") for a in d.all("a")] == ["tel:112"]


def test_summary_list_is_a_description_list(kit):
    d = ok(kit, "## Facts\n\n::: summary-list\n### At a glance\nHigh\n: 140/90 or higher\n\nCheck\n: once a year\n"
                ": more often in winter\n:::")
    box = d.one("div", **{"class": "hp-summary-list"})
    assert box and d.one("h3").text == "At a glance"
    assert [e.text for e in d.all("dt")] == ["High", "Check"]
    assert [e.text for e in d.all("dd")] == ["140/90 or higher", "once a year", "more often in winter"]


def test_figure_puts_the_image_and_its_caption_together(kit):
    d = ok(kit, "::: figure\n![A snowflake](/images/snowflake.svg)\n\nSnow in *Harbin*.\n\nA second line.\n:::")
    figure = d.one("figure")
    assert "hp-figure" in classes(figure)
    img = d.one("img")
    assert img.get("alt") == "A snowflake" and img.get("src") == "/images/snowflake.svg"
    assert d.one("figcaption").text.split() == ["Snow", "in", "Harbin.", "A", "second", "line."]
    assert not [p for p in d.all("p") if p.text.strip() == "" and d.all("img")], "the image is not left in a <p>"


def test_video_has_controls_captions_and_never_plays_by_itself(kit):
    d = ok(kit, '::: video src=/media/flu.mp4 captions=flu.en.vtt poster="/images/flu poster.jpg"\n'
                "How flu spreads (1 minute).\n:::")
    video = d.one("video")
    assert video.get("controls") is not None or "controls" in video.attrs
    assert video.get("preload") == "none" and "autoplay" not in video.attrs
    assert video.get("src") == "/media/flu.mp4" and video.get("poster") == "/images/flu poster.jpg"
    track = d.one("track")
    assert (track.get("kind"), track.get("srclang"), track.get("label")) == ("captions", "en", "English")
    assert "default" in track.attrs
    assert track.get("src") == "/en/winter-health/flu.en.vtt", "a relative path is relative to the page"
    assert d.one("figcaption").text.strip() == "How flu spreads (1 minute)."


def test_video_files_are_checked_and_published_like_links(kit):
    out = md(kit, "::: video src=../../media/flu.mp4 captions=/media/flu.en.vtt\n:::")
    assert out.problems == []
    assert {(link.target, link.kind, link.line) for link in out.links} == {
        ("content/media/flu.mp4", "file", BODY_LINE), ("content/media/flu.en.vtt", "file", BODY_LINE)}
    assert out.locations["src=/media/flu.mp4"] == BODY_LINE


def test_a_site_under_a_path_gets_its_video_under_that_path(kit):
    templates, lang, _ = kit
    renderer = PageRenderer(components.renderer(SPECS, templates, lang), "/health/", {})
    d = Doc(renderer.render(SOURCE, "::: video src=/media/a.webm captions=/media/a.vtt\n:::", 5).html)
    assert d.one("video").get("src") == "/health/media/a.webm" and d.one("track").get("src") == "/health/media/a.vtt"


def test_action_link_is_one_big_link_with_a_decorative_arrow(kit):
    d = ok(kit, "::: action-link\n[Read about *frostbite*](frostbite.md)\n:::")
    (a,) = d.all("a")
    assert a.get("href") == "/en/winter-health/frostbite/" and "hp-action-link__link" in classes(a)
    assert a.text.strip() == "Read about frostbite"
    assert d.one("svg").get("aria-hidden") == "true"
    assert d.one("em").text == "frostbite", "the link's own formatting is kept"


def test_details_warning_inset_do_and_dont(kit):
    d = ok(kit, "## A\n\n::: details What is flu?\nAn infection.\n:::\n\n::: warning\n### Careful\nText.\n:::\n\n"
                "::: inset\nNote.\n:::\n\n::: do\n- Rest.\n:::\n\n::: dont\n- Smoke.\n:::")
    assert d.one("summary").text == "What is flu?"
    assert [p.text for p in d.all("p") if "hp-do-dont__heading" in classes(p)] == ["Do", "Do not"]
    assert d.one("h3").text == "Important: Careful", "a visually hidden whole phrase before the heading"


def test_the_first_image_of_a_page_loads_at_once_even_in_a_figure(kit):
    d = ok(kit, "::: figure\n![A](/images/a.svg)\n\nCaption.\n:::\n\n![B](/images/b.svg)\n")
    assert [(i.get("alt"), i.get("loading")) for i in d.all("img")] == [("A", "eager"), ("B", "lazy")]


# --- where a component starts and ends ------------------------------------------------------------------------------


def test_a_component_line_ends_the_paragraph_or_list_above_it(kit):
    d = ok(kit, "Text\n::: inset\n- one\n- two\n:::\nAfter.\n")
    (inset,) = [e for e in d.elements if "hp-inset" in classes(e)]
    assert [li.text for li in d.all("li")] == ["one", "two"] and "After." not in inset.text
    assert [p.text for p in d.all("p")][0] == "Text" and "After." in d.all("p")[-1].text


def test_components_nest_and_each_takes_its_own_lines(kit):
    d = ok(kit, "::: care-card urgent\n## Ask for help if:\n- it hurts\n\n::: warning\nKeep warm.\n:::\n:::\n\nAfter.\n")
    (card,) = [e for e in d.elements if "hp-care-card" in classes(e)]
    assert "Keep warm." in card.text and "After." not in card.text


def test_colons_in_code_and_raw_html_stay_as_written(kit):
    d = ok(kit, "```\n::: warning\n:::\n```\n\n    ::: inset\n\n<div>\n::: do\n</div>\n")
    assert [c.text for c in d.all("code")] == ["::: warning\n:::\n", "::: inset\n"]
    assert d.one("div").text.strip() == "::: do"
    assert not [e for e in d.elements if "hp-warning" in classes(e) or "hp-inset" in classes(e)]


def test_a_component_never_closed_is_an_error_at_its_line(kit):
    out = md(kit, "Intro.\n\n::: warning\nKeep warm.\n")
    assert [(p.line, p.message) for p in out.problems] == [(BODY_LINE + 2, "::: warning is never closed")]
    assert "Keep warm." in out.html, "what it holds is still shown"


def test_a_closing_line_with_nothing_open_is_an_error(kit):
    out = md(kit, "Text.\n\n:::\n")
    assert [(p.line, p.message) for p in out.problems] == [(BODY_LINE + 2, "this ::: closes no component")]


def test_an_author_cannot_forge_the_marker_a_component_line_becomes(kit):
    d = ok(kit, "<!--\ue0000-->\n\n::: warning\nWarm.\n:::\n\nText \ue000 here.\n")
    assert len([e for e in d.elements if "hp-warning" in classes(e)]) == 1
    assert "\ue000" not in "".join(e.text for e in d.elements)


@pytest.mark.parametrize("written, shown, code", [
    ("See [the `ls command](frostbite.md) now.", ["See the `ls command now."], []),  # the parser's Rust code panicked
    ("A lone [` here, and [``a`` b](frostbite.md).", ["A lone [` here, and a b."], ["a"]),
    ("- [a `x\n- b `y`", ["[a `x", "b y"], ["y"]),
    (">\t[`\n\n`", ["[`", "`"], []),  # after a tab the parser's positions are off: whole lines are paired
    ("Text[^1] [`a.\n\n[^1]: A [`note.\n\nAfter [`b", ["Text[1] [`a.", "After [`b", "A [`note. ↩︎", "A [`note. ↩︎"], []),  # <li>, then its <p>
])
def test_a_backtick_that_opens_no_code_span_is_text(kit, written, shown, code):
    d = ok(kit, written)
    assert [e.text.strip() for e in d.elements if e.tag in ("p", "li")] == shown
    assert [e.text for e in d.all("code")] == code


def test_footnotes_are_numbered_in_the_order_they_are_cited(kit):
    out = md(kit, "B[^b] then A[^a] and B again[^b].\n\n[^a]: Note A.\n[^b]: Note B.\n")
    d = Doc(out.html)
    assert [(a.get("href"), a.get("id"), a.text) for a in d.all("a") if a.get("id")] == [
        ("#fn1", "fnref1", "[1]"), ("#fn2", "fnref2", "[2]"), ("#fn1", "fnref1:1", "[1]")]
    notes = d.all("li")
    assert [(li.get("id"), li.text.split("↩")[0].strip()) for li in notes] == [("fn1", "Note B."), ("fn2", "Note A.")]
    assert [a.get("href") for a in d.all("a") if a.get("class") == "footnote-backref"] == [
        "#fnref1", "#fnref1:1", "#fnref2"]
    assert {"fn1", "fn2", "fnref1", "fnref1:1", "fnref2"} <= out.anchors


def test_quoted_settings_and_bare_words():
    assert split_args('video src=/a.mp4 poster="/b c.jpg" captions=x.vtt') == [
        "video", "src=/a.mp4", "poster=/b c.jpg", "captions=x.vtt"]
    assert split_args("details How do I know?") == ["details", "How", "do", "I", "know?"]


# --- each mistake: an error at its line, with a suggestion ---------------------------------------------------------

MISTAKES = [
    ("::: care-crad urgent\n### Call if:\n- x\n:::", ['unknown component "care-crad"', "did you mean care-card?"]),
    ("::: summary-lsit\nA\n: b\n:::", ['unknown component "summary-lsit"', "did you mean summary-list?"]),
    ("::: care-card\n### Call if:\n- x\n:::", ["care-card needs one of: non-urgent, urgent, emergency",
                                               "::: care-card non-urgent"]),
    ("::: care-card critical\n### Call if:\n- x\n:::", ['care-card has no option "critical"', "choose one of"]),
    ("::: care-card emergncy\n### Call if:\n- x\n:::", ['care-card has no option "emergncy"', "did you mean emergency?"]),
    ("::: care-card urgent\n- no heading\n:::", ["care-card needs a heading as its first line", "### Call 112"]),
    ("::: inset\n### A heading\nText.\n:::", ["inset cannot start with a heading", "remove the ### line"]),
    ("::: figure\n### A heading\n![A](/a.svg)\n\nCaption.\n:::", ["figure cannot start with a heading"]),
    ("::: details\nNo title.\n:::", ["details needs a title", "::: details What is"]),
    ("::: video src=/media/a.mp4\n:::", ["video needs captions (a WebVTT .vtt file): write captions=…",
                                         "WCAG 1.2.2", "::: video src=/media/inhaler.mp4 captions=/media/inhaler.en.vtt"]),
    ("::: video captions=/media/a.vtt\n:::", ["video needs the video file: write src=…"]),
    ("::: video src=/media/a.mp4 caption=/media/a.vtt\n:::", ['video has no setting "caption"', "did you mean captions=…?"]),
    ("::: video src=/media/a.mp4 captions=/media/a.srt\n:::", ["video: captions must be .vtt", '"/media/a.srt"',
                                                               "captions=/media/inhaler.en.vtt"]),
    ("::: video src=https://cdn.example/a.mp4 captions=/media/a.vtt\n:::",
     ["video: src must be a file of this site, not https://cdn.example/a.mp4", "third-party"]),
    ("::: video src= captions=/media/a.vtt\n:::", ["video: src= has no value"]),
    ("::: video src=/a.mp4 src=/b.mp4 captions=/a.vtt\n:::", ["video has src= twice"]),
    ("::: video urgent src=/a.mp4 captions=/a.vtt\n:::", ['video has no option "urgent"']),
    ("::: summary-list\nJust a sentence.\n:::", ["summary-list needs a list of terms and their values",
                                                 "not a paragraph of text", "README"]),
    ("::: figure\n![A](/a.svg)\n:::", ["figure needs a paragraph of text next"]),
    ("::: figure\nCaption first.\n\n![A](/a.svg)\n:::", ["figure needs an image on a line of its own", "first"]),
    ("::: figure\n![A](/a.svg)\n\nCaption.\n\n- a list\n:::", ["figure cannot also hold a list", "below the closing"]),
    ("::: action-link\nGo to [the page](a.md) now.\n:::", ["action-link needs a link on a line of its own"]),
    ("::: action-link\n[One](a.md)\n\n[Two](b.md)\n:::", ["action-link cannot also hold a link"]),
    ("::: header\n:::", ['"header" is part of the page layout', "theme's templates"]),
    ("::: banner\nCold!\n:::", ['"banner" is part of the page layout', "site.toml"]),
    ("::: table\n| a | b |\n|---|---|\n| 1 | 2 |\n:::", ['"table" is part of the page layout', "write a Markdown table"]),
    ("::: reviewer-badge\n:::", ["reviewer: zhang-wei"]),
]


@pytest.mark.parametrize("written, words", MISTAKES, ids=[m[0].split("\n")[0] for m in MISTAKES])
def test_each_mistake_is_an_error_at_its_line_with_a_suggestion(kit, written, words):
    body = "## Help\n\nSome text.\n\n" + written + "\n\nAfter.\n"
    out = md(kit, body)
    at = BODY_LINE + 4  # the ::: line
    find(out.problems, SOURCE, at, *words)
    assert len(out.problems) == 1 and str(out.problems[0]).startswith(f"{SOURCE}:{at}: ")
    assert "After." in out.html, "the rest of the page still renders"


def test_a_mistake_inside_another_component_names_its_own_line(kit):
    out = md(kit, "::: details More\nText.\n\n::: video src=/a.mp4\n:::\n:::")
    find(out.problems, SOURCE, BODY_LINE + 3, "video needs captions")


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory):
    """One build of a site with component mistakes and a video whose files are missing: every problem at once."""
    from conftest import copy_fixture
    root = copy_fixture(tmp_path_factory.mktemp("components") / "site")
    write(root, SOURCE, page("Page", "Intro.\n\n::: care-crad urgent\n### Call if:\n- x\n:::\n\n"
                                     "::: video src=/media/gone.mp4 captions=/media/gone.en.vtt\nNo file.\n:::\n\n"
                                     "::: video src=/media/gone.mp4\n:::\n"))
    return problems_of(root, use_cache=False)


def test_a_build_reports_component_mistakes_and_missing_media_at_their_lines(broken_site):
    find(broken_site, SOURCE, 7, "did you mean care-card?")
    find(broken_site, SOURCE, 12, "the file content/media/gone.mp4 does not exist")
    find(broken_site, SOURCE, 12, "the file content/media/gone.en.vtt does not exist")
    find(broken_site, SOURCE, 16, "video needs captions")


# --- CSS: theme tokens only ----------------------------------------------------------------------------------------

NAMED_COLOURS = set("""aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue blueviolet brown
burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk crimson cyan darkblue darkcyan darkgoldenrod
darkgray darkgreen darkgrey darkkhaki darkmagenta darkolivegreen darkorange darkorchid darkred darksalmon darkseagreen
darkslateblue darkslategray darkslategrey darkturquoise darkviolet deeppink deepskyblue dimgray dimgrey dodgerblue
firebrick floralwhite forestgreen fuchsia gainsboro ghostwhite gold goldenrod gray green greenyellow grey honeydew
hotpink indianred indigo ivory khaki lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan
lightgoldenrodyellow lightgray lightgreen lightgrey lightpink lightsalmon lightseagreen lightskyblue lightslategray
lightslategrey lightsteelblue lightyellow lime limegreen linen magenta maroon mediumaquamarine mediumblue mediumorchid
mediumpurple mediumseagreen mediumslateblue mediumspringgreen mediumturquoise mediumvioletred midnightblue mintcream
mistyrose moccasin navajowhite navy oldlace olive olivedrab orange orangered orchid palegoldenrod palegreen
paleturquoise palevioletred papayawhip peachpuff peru pink plum powderblue purple rebeccapurple red rosybrown royalblue
saddlebrown salmon sandybrown seagreen seashell sienna silver skyblue slateblue slategray slategrey snow springgreen
steelblue tan teal thistle tomato turquoise violet wheat white whitesmoke yellow yellowgreen""".split())
COLOUR_FUNCTION = re.compile(r"(?<![\w-])(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch|color|color-mix)\(", re.I)
HEX = re.compile(r"#[0-9a-f]{3,8}(?![\w-])", re.I)


def _without_var_calls(value: str) -> str:
    """var(--hp-…, fallback) removed whole: a colour may only appear as a token's fallback."""
    out, i = [], 0
    while (j := value.find("var(", i)) >= 0:
        out.append(value[i:j])
        depth, k = 0, j + 3
        while k < len(value):
            depth += {"(": 1, ")": -1}.get(value[k], 0)
            k += 1
            if depth == 0:
                break
        i = k
    return "".join(out) + value[i:]


def colour_literals(css: str) -> list[str]:
    """Every declaration whose value names a colour outside var(--hp-…)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r'"[^"]*"|\'[^\']*\'', '""', css)  # content strings
    found = []
    for block in re.findall(r"\{([^{}]*)\}", css):
        for declaration in block.split(";"):
            prop, colon, value = declaration.partition(":")
            if not colon:
                continue
            bare = _without_var_calls(value)
            words = {w.lower() for w in re.findall(r"(?<![\w-])[a-zA-Z]+(?![\w-])", bare)}
            if HEX.search(bare) or COLOUR_FUNCTION.search(bare) or words & NAMED_COLOURS:
                found.append(f"{prop.strip()}:{value.strip()}")
    return found


def test_the_colour_check_finds_colours_and_allows_token_fallbacks():
    assert colour_literals("a{color:red}b{background:#fff}c{border:1px solid rgb(0 0 0)}") == [
        "color:red", "background:#fff", "border:1px solid rgb(0 0 0)"]
    assert colour_literals("a{color:var(--hp-x,#fff);border:0 solid var(--hp-y, var(--hp-z, white))}"
                           "b{white-space:nowrap;content:\"red\";color:currentColor;background:transparent}"
                           "@media (forced-colors:active){c{color:CanvasText}}") == []


@pytest.mark.parametrize("css", sorted([*(ROOT / "components").glob("*/style.css"),
                                        ROOT / "themes/harbin-ice/static/theme.css"]),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_css_has_no_colour_outside_the_tokens(css):
    assert colour_literals(css.read_text(encoding="utf-8")) == []


def test_component_css_uses_only_tokens_that_exist(built):
    """Every var(--hp-…) a component or the theme uses is defined, by the tokens or by a component itself."""
    sheet = next(built.glob("assets/theme.*.css")).read_text(encoding="utf-8")
    defined = set(re.findall(r"(--hp-[\w-]+)\s*:", sheet))
    used = set(re.findall(r"var\((--hp-[\w-]+)", sheet))
    assert used <= defined, sorted(used - defined)


# --- icons ------------------------------------------------------------------------------------------------------


def test_icons_are_few_small_and_decorative():
    icons = render.icons(ROOT, "harbin-ice")
    assert 0 < len(icons) < 12
    for name, markup in icons.items():
        assert len(markup) < 700, name
        el = Doc(markup).one("svg")
        assert (el.get("aria-hidden"), el.get("focusable")) == ("true", "false")
        assert " id=" not in markup and "<title" not in markup
    used = {m for path in (ROOT / "components").glob("*/macro.html")
            for m in re.findall(r'icon\("([\w-]+)"\)', path.read_text(encoding="utf-8"))}
    used |= {"info", "urgent", "emergency", "warning"}  # chosen by option or level
    assert used <= set(icons)


def test_an_unknown_icon_is_a_template_error_with_a_suggestion(kit):
    with pytest.raises(TemplateRuntimeError, match='no icon "certifcate".*did you mean certificate'):
        kit[0].env.from_string('{{ icon("certifcate") }}').render()


# --- reviewers: profiles, badge, overdue reviews --------------------------------------------------------------------


def card_links(text: str) -> list[str]:
    return re.findall(r'hp-card__title"?><a href="?([^"\s>]+)', text)


@pytest.mark.parametrize("lang, pages", [("en", ["/en/winter-health/asthma/", "/en/winter-health/frostbite/"]),
                                         ("ru", ["/ru/winter-health/frostbite/"])])
def test_each_reviewer_has_a_profile_per_language_listing_their_pages(built, lang, pages):
    text = html(built, f"{lang}/reviewers/zhang-wei/index.html")
    d = Doc(text)
    assert d.one("html").get("lang") == lang
    assert d.one("h1").text == {"en": "Dr Zhang Wei", "ru": "Д-р Чжан Вэй"}[lang]
    assert d.one("p", **{"class": "hp-lede"}).text == {"en": "Respiratory physician", "ru": "Врач-пульмонолог"}[lang]
    assert card_links(text) == pages, "the pages they reviewed in this language, by title"
    assert {e.get("hreflang") for e in d.all("link", rel="alternate")} == {"en", "ru", "x-default"}
    assert [a.get("href") for a in d.all("a") if a.get("lang")][:2] == ["/en/reviewers/zhang-wei/",
                                                                       "/ru/reviewers/zhang-wei/"]


def test_the_reviewers_page_lists_every_reviewer(built):
    d = doc(built, "en/reviewers/index.html")
    assert "/en/reviewers/zhang-wei/" in [a.get("href") for a in d.all("a")]
    assert "/en/reviewers/" in [a.get("href") for a in doc(built, "en/index.html").all("a")], "the footer links it"


def test_the_badge_names_the_reviewer_with_an_icon_and_links_to_the_profile(built):
    en = doc(built, "en/winter-health/frostbite/index.html")
    assert en.one("p", **{"class": "hp-reviewer-badge__by"}).text == "Reviewed by Dr Zhang Wei, Respiratory physician", \
        "without a speciality, the credentials name the reviewer's field"
    d = doc(built, "ru/winter-health/frostbite/index.html")
    (link,) = [a for a in d.all("a") if "hp-reviewer-badge__name" in classes(a)]
    assert link.get("href") == "/ru/reviewers/zhang-wei/" and link.text == "Д-р Чжан Вэй"
    assert (built / "ru/reviewers/zhang-wei/index.html").is_file()
    badge = d.one("div", **{"class": "hp-reviewer-badge"})
    assert badge and [classes(s)[1] for s in d.all("svg") if "hp-icon--certificate" in classes(s)]
    dates = [t.get("datetime") for t in d.all("time")]
    assert dates == ["2026-09-30", "2027-09-30"], "last reviewed, next review due"


def test_reviewer_pages_are_in_the_sitemap(built):
    sitemap = html(built, "sitemap.xml")
    assert "<loc>https://health.example.org/ru/reviewers/zhang-wei/</loc>" in sitemap
    assert 'hreflang="en" href="https://health.example.org/en/reviewers/zhang-wei/"' in sitemap


def test_a_reviewer_photo_goes_through_the_image_pipeline(site):
    photo = Image.new("RGB", (400, 400), (120, 160, 190))  # no real face: a plain square
    (site / "content/images/people").mkdir(parents=True)
    photo.save(site / "content/images/people/zhang-wei.jpg", quality=90)
    edit(site, "reviewers.toml", "[zhang-wei]\n", '[zhang-wei]\nphoto = "images/people/zhang-wei.jpg"\n')
    out = build(site, use_cache=False).output
    article = doc(out, "en/winter-health/frostbite/index.html")
    (photo,) = [i for i in article.all("img") if "alt" in i.attrs and not i.get("alt")]
    assert photo.get("sizes") == "3rem" and photo.get("srcset"), "a small, responsive picture, not the original"
    assert not [s for s in article.all("svg") if "hp-icon--certificate" in classes(s)], "the photo replaces the icon"
    (portrait,) = [i for i in doc(out, "en/reviewers/zhang-wei/index.html").all("img") if "alt" in i.attrs and not i.get("alt")]
    assert portrait.get("sizes") == "8rem" and (out / portrait.get("src").lstrip("/")).is_file()


def test_reviewers_toml_mistakes_are_errors_at_their_line(site):
    edit(site, "reviewers.toml", "[zhang-wei]\n", '[zhang-wei]\nspecialty.en = "lungs"\nphoto = "images/nobody.jpg"\n')
    problems = problems_of(site, use_cache=False)
    find(problems, "reviewers.toml", 2, 'reviewer "zhang-wei" has an unknown key "specialty"', "did you mean speciality?")
    find(problems, "reviewers.toml", None, "the photo content/images/nobody.jpg does not exist")


def test_a_reviewer_photo_must_be_a_picture(site):
    edit(site, "reviewers.toml", "[zhang-wei]\n", '[zhang-wei]\nphoto = "leaflets/cv.pdf"\n')
    find(problems_of(site, use_cache=False), "reviewers.toml", None, "the photo leaflets/cv.pdf is not a picture", ".jpg")


def test_a_page_at_the_reviewers_address_is_an_error(site):
    write(site, "content/en/reviewers/index.md", page("Reviewers", "Text."))
    find(problems_of(site, use_cache=False), "content/en/reviewers/index.md", None, "/en/reviewers/ is kept")


def test_an_overdue_review_warns_the_owner_at_the_line_of_next_review(warm):
    result = build(warm, today=dt.date(2027, 4, 10))
    (warning,) = [w for w in result.warnings if "medical review" in w.message]
    assert str(warning).startswith("content/en/winter-health/asthma.md:5: warning: the medical review was due on "
                                   "2027-04-01 (9 days ago)")
    assert "Dr Zhang Wei" in warning.hint
    assert not [w for w in build(warm, today=dt.date(2027, 3, 31)).warnings if "medical review" in w.message]
    problems = problems_of(warm, strict=True, today=dt.date(2027, 4, 10))
    find(problems, "content/en/winter-health/asthma.md", 5, "was due on 2027-04-01")


def test_an_overdue_review_changes_no_byte_of_the_output(site, tmp_path):
    shutil.copytree(site, tmp_path / "other")
    early = build(site, use_cache=False, today=dt.date(2026, 1, 1)).output
    late = build(tmp_path / "other", use_cache=False, today=dt.date(2030, 1, 1)).output
    assert tree(early) == tree(late)


# --- templates: macros get the page's language; the style guide shows every component -----------------------------

PO = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);\\n"

msgid "Skip to main content"
msgstr "Перейти к основному тексту"

msgid "Medical review"
msgstr "Медицинская проверка"

msgid "Reviewed by %(name)s, %(speciality)s"
msgstr "Проверил(а): %(name)s — %(speciality)s"
"""


def test_component_macros_speak_the_pages_language(site):
    write(site, "locales/ru/LC_MESSAGES/messages.po", PO)
    out = build(site, use_cache=False).output
    d = doc(out, "ru/winter-health/frostbite/index.html")
    assert d.one("a", **{"class": "hp-skip-link"}).text == "Перейти к основному тексту"
    assert d.one("aside").get("aria-label") == "Медицинская проверка", "a macro imported by a partial"
    assert d.one("p", **{"class": "hp-reviewer-badge__by"}).text == "Проверил(а): Д-р Чжан Вэй — Врач-пульмонолог", \
        "a macro imported by a macro imported by a partial"
    assert doc(out, "en/winter-health/frostbite/index.html").one("a", **{"class": "hp-skip-link"}).text == \
        "Skip to main content"


def test_a_long_page_ends_with_back_to_top_and_a_short_one_does_not(built):
    short = doc(built, "en/winter-health/frostbite/index.html")
    assert not [a for a in short.all("a") if a.get("href") == "#top"]
    assert short.one("body").get("id") == "top"


def test_the_style_guide_shows_every_component_in_every_mode(built):
    d = doc(built, "styleguide/index.html")
    shown = {e.get("id")[len("sg-component-"):] for e in d.all("h3") if (e.get("id") or "").startswith("sg-component-")}
    assert shown == set(SPECS)
    modes = [e.get("data-mode") for e in d.all("div") if "hp-sg-mode" in classes(e)]
    assert len(modes) == 3 * len(SPECS) and set(modes) == {"light", "dark", "high-contrast"}
    ids = [e.get("id") for e in d.elements if e.get("id")]
    assert len(ids) == len(set(ids)), "each copy's ids are its own"
    labels = [e.get("aria-label") for e in d.all("nav") if e.get("aria-label")]
    assert len(labels) == len(set(labels)), "each copy's landmarks have their own names"
    assert (built / "styleguide/video/snow.webm").is_file() and (built / "styleguide/figure/thermometer.svg").is_file()
    assert "example.md:" not in html(built, "styleguide/index.html"), "no example reports a problem"


def test_the_site_banner_is_open_without_javascript_and_can_be_hidden(site):
    with (site / "site.toml").open("a", encoding="utf-8") as f:
        f.write('\n[banner]\nlevel = "warning"\ntext.en = "Extreme cold tonight."\n')
    out = build(site, use_cache=False).output
    d = doc(out, "en/winter-health/frostbite/index.html")
    section = d.one("section", **{"class": "hp-banner hp-banner--warning"})
    title = d.one("span", id=section.get("aria-labelledby"))
    assert title.text == "Health alert", "a region landmark named by its visible title"
    details = d.one("details", **{"class": "hp-width hp-banner__details"})
    assert "open" in details.attrs, "open, and readable, with JavaScript off; its <summary> hides it"
    assert d.one("p", **{"class": "hp-banner__text"}).text == "Extreme cold tonight."
    assert not [s for s in d.all("script") if "banner" in (s.get("src") or "")]
    assert not doc(out, "ru/winter-health/frostbite/index.html").all("section", **{"class": "hp-banner hp-banner--warning"}), \
        "no text for ru: no banner"


def test_a_section_page_is_a_stack_of_cards(built):
    text = html(built, "en/winter-health/index.html")
    assert card_links(text) == ["/en/winter-health/frostbite/", "/en/winter-health/asthma/"]
    assert '<ul class=hp-card-group>' in text or 'class="hp-card-group"' in text
