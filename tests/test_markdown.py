"""Markdown: heading ids in every script, links that become pretty URLs or errors at their own line, safe HTML,
and components that tell the author exactly what is wrong."""
from __future__ import annotations

import random
import re
from urllib.parse import unquote

import pytest

from healingpixels.build import build
from healingpixels.markdown import PageRenderer, slugify

from conftest import Doc, copy_fixture, find, html, page, problems_of, write


# --- heading ids ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("heading, slug", [
    ("何时就医？", "何时就医"),
    ("Когда звонить 103", "когда-звонить-103"),
    ("언제 병원에 가야 하나요?", "언제-병원에-가야-하나요"),
    ("Flu: what to do", "flu-what-to-do"),
    ("  Before   you go - out  ", "before-you-go-out"),
    ("ＦＬＵ　１０３", "flu-103"),  # full-width letters, digits and space
    ("Ёлка и ЙОД", "ёлка-и-йод"),
    ("???", "section"),
    ("स्वास्थ्य", "स्वास्थ्य"),  # combining vowel signs stay
    ("ไข้หวัด", "ไข้หวัด"),
])
def test_slug_keeps_every_script(heading, slug):
    assert slugify(heading) == slug


DEMO = """Intro.

## 何时就医？

## 언제 병원에 가야 하나요?

## Когда звонить 103

## Symptoms

## Symptoms

### Symptoms

{#chosen-id}
## Written id

## Links

- [flu symptoms](../infections/seasonal-flu.md#symptoms)
- [this section](index.md)
- [home](../index.md)
- [frostbite](frostbite.md)
- [absolute](/en/winter-health/asthma.md)
- [in Russian](../../ru/winter-health/frostbite.md#когда-звонить-103)
- [same page](#symptoms-2)
- [world](https://www.who.int/)
- [picture file](../../images/snowflake.svg)

![Snowflake](../../images/snowflake.svg)

| Where | Link |
| --- | --- |
| Table | [asthma](asthma.md#before-you-go-out) |

## Help

::: care-card emergency
### Call now if:
- you cannot breathe; read [frostbite](frostbite.md)
:::

::: details Is frostbite <serious> & dangerous?
It can be. Read [asthma](asthma.md).
:::

::: warning
Keep warm.
:::
"""

XSS = {
    "script-block": "<script>alert(1)</script>\n",
    "script-inline": "Text <script>alert(1)</script> text.\n",
    "img-onerror-block": "<img src=x onerror=alert(1)>\n",
    "img-onerror-inline": "Text <img src=x onerror=alert(1)> text.\n",
    "a-javascript-inline": 'Text <a href="javascript:alert(1)">x</a> text.\n',
    "a-javascript-block": '<div><a href="javascript:alert(1)">x</a></div>\n',
    "a-entity-javascript": '<p><a href="&#106;avascript:alert(1)">x</a></p>\n',
    "md-javascript": "[x](javascript:alert(1))\n",
    "md-javascript-case": "[x](JaVaScRiPt:alert(1))\n",
    "md-javascript-entity": "[x](&#106;avascript:alert(1))\n",
    "md-javascript-reference": "[x][r]\n\n[r]: javascript:alert(1)\n",
    "autolink-javascript": "<javascript:alert(1)>\n",
    "attrs-onclick-link": '[x](../winter-health/frostbite.md){onclick="alert(1)"}\n',
    "attrs-onclick-block": '{onclick="alert(1)"}\nA paragraph.\n',
    "attrs-style-block": '{style="position:fixed;inset:0"}\nA paragraph.\n',
    "attrs-style-link": '[x](../winter-health/frostbite.md){style="position:fixed;inset:0"}\n',
    "attrs-href-image": '![x](../../images/snowflake.svg){onerror="alert(1)" src="javascript:alert(1)"}\n',
    "div-onclick-style": '<div onclick="alert(1)" style="position:fixed;inset:0">x</div>\n',
    "bold-onmouseover": '<b onmouseover="alert(1)">bold</b> text\n',
    "svg-onload": "<svg onload=alert(1)><circle r=5 /></svg>\n",
    "iframe": '<iframe src="https://evil.example/"></iframe>\n',
    "object": '<object data="https://evil.example/x.swf"></object>\n',
    "form": '<form action="javascript:alert(1)"><button>Go</button></form>\n',
    "style-element": "<style>body{display:none}</style>\n",
    "details-summary": "::: details <img src=x onerror=alert(1)> <script>alert(1)</script>\nText.\n:::\n",
    "heading-html": "## Help <img src=x onerror=alert(1)>\n",
}


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    root = copy_fixture(tmp_path_factory.mktemp("markdown") / "site")
    write(root, "content/en/infections/index.md", page("Infections", "Flu and colds.\n", order="2"))
    write(root, "content/en/infections/seasonal-flu.md", page("Seasonal flu", "## Symptoms\n\nFever.\n"))
    write(root, "content/en/winter-health/demo.md", page("Demo", DEMO, order="9"))
    write(root, "content/en/winter-health/steps.md", page("Steps", "## Step\n\n## Step\n\n## Step 2\n", order="10"))
    write(root, "content/en/xss/index.md", page("Unsafe input", "Each page here holds one attack.\n", order="3"))
    for name, body in XSS.items():
        write(root, f"content/en/xss/{name}.md", page(name, body))
    write(root, "content/en/xss/title.md", page('"</script><script>alert(1)</script>"', "Text.\n",
                                                   description='"<img src=x onerror=alert(1)>"', reviewed="2026-01-01"))
    return build(root, use_cache=False).output


@pytest.fixture(scope="module")
def demo(out):
    return Doc(html(out, "en/winter-health/demo/index.html"))


def heading_ids(d: Doc) -> list[str]:
    return [e.get("id") for e in d.elements if re.fullmatch(r"h[2-6]", e.tag) and e.get("id")]


@pytest.mark.parametrize("text, slug", [
    ("何时就医？", "何时就医"), ("언제 병원에 가야 하나요?", "언제-병원에-가야-하나요"), ("Когда звонить 103", "когда-звонить-103")])
def test_heading_ids_keep_chinese_korean_and_cyrillic(demo, text, slug):
    assert demo.one("h2", id=slug).text == text


def test_duplicate_headings_get_numbered_ids(demo):
    assert demo.one("h2", id="symptoms").text == "Symptoms"
    assert demo.one("h2", id="symptoms-2").text == "Symptoms"
    assert demo.one("h3", id="symptoms-3").text == "Symptoms"


def test_an_id_written_by_the_author_is_kept(demo):
    assert demo.one("h2", id="chosen-id").text == "Written id"


def test_every_id_on_the_demo_page_is_unique(demo):
    ids = [e.get("id") for e in demo.elements if e.get("id")]
    assert len(ids) == len(set(ids))


def test_numbered_duplicate_does_not_collide_with_a_real_heading(out):
    ids = heading_ids(Doc(html(out, "en/winter-health/steps/index.html")))
    assert len(ids) == 3 and len(set(ids)) == 3, ids


@pytest.mark.parametrize("text, href", [
    ("flu symptoms", "/en/infections/seasonal-flu/#symptoms"),
    ("this section", "/en/winter-health/"),
    ("home", "/en/"),
    ("frostbite", "/en/winter-health/frostbite/"),
    ("absolute", "/en/winter-health/asthma/"),
    ("in Russian", "/ru/winter-health/frostbite/#когда-звонить-103"),
    ("same page", "#symptoms-2"),
    ("world", "https://www.who.int/"),
    ("picture file", "/images/snowflake.svg"),
    ("asthma", "/en/winter-health/asthma/#before-you-go-out"),
])
def test_links_to_markdown_files_become_pretty_urls(demo, text, href):
    hrefs = [unquote(a.get("href")) for a in demo.all("a") if a.text.strip() == text]
    assert hrefs and hrefs[0] == href, f"{text!r} links to {hrefs}"


def test_links_inside_components_are_rewritten_too(demo):
    care = next(e for e in demo.elements if e.tag == "section" and "hp-care-card" in (e.get("class") or ""))
    assert "frostbite" in care.text
    hrefs = {a.get("href") for a in demo.all("a")}
    assert "/en/winter-health/frostbite/" in hrefs and "/en/winter-health/asthma/" in hrefs
    assert not any(h.endswith(".md") or ".md#" in h for h in hrefs if h)


def test_published_files_are_where_links_point(out, demo):
    img = demo.one("img", alt="Snowflake")
    assert img.get("src") == "/images/snowflake.svg"
    published = (out / "images/snowflake.svg").read_text(encoding="utf-8")  # optimised, so not byte for byte
    assert published.startswith("<svg") and "Snowflake" in published


def test_tables_render_with_header_cells(out):
    d = Doc(html(out, "en/winter-health/frostbite/index.html"))
    assert [th.text for th in d.all("th")] == ["Stage", "What you see"]
    assert [td.text for td in d.all("td")][:2] == ["Early", "Cold, white or pale skin"]


def test_emergency_care_card_calls_the_languages_own_numbers(out):
    en = Doc(html(out, "en/winter-health/frostbite/index.html"))
    ru = Doc(html(out, "ru/winter-health/frostbite/index.html"))
    tel = lambda d: [a.get("href") for a in d.all("a") if (a.get("href") or "").startswith("tel:")]  # noqa: E731
    assert tel(en) == ["tel:112"]
    assert tel(ru) == ["tel:103", "tel:112"]


def test_urgent_care_card_has_no_call_button(out):
    d = Doc(html(out, "en/winter-health/asthma/index.html"))
    assert d.all("section") and not [a for a in d.all("a") if (a.get("href") or "").startswith("tel:")]


def test_care_card_is_labelled_by_its_heading(demo):
    card = next(e for e in demo.elements if e.tag == "section" and "hp-care-card--emergency" in (e.get("class") or ""))
    label = card.get("aria-labelledby")
    assert label and demo.one("h3", id=label).text == "Call now if:"


def test_details_takes_its_summary_from_the_colon_line(demo):
    details = demo.one("details")
    summary = next(e for e in demo.elements if e.tag == "summary")
    assert summary.text.strip() == "Is frostbite <serious> & dangerous?", "the title is text, escaped"
    assert "It can be." in details.text and "Is frostbite" not in details.text.split("It can be.")[1]


# --- nothing an author writes reaches the page as live markup --------------------------------------------------


URL_ATTRS = {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "background"}


def live_markup(text: str) -> list[str]:
    """Everything in an HTML document that could run script, load from elsewhere, or cover the page."""
    found = []
    for el in Doc(text).elements:
        if el.tag in ("iframe", "object", "embed", "form", "style", "base"):
            found.append(f"<{el.tag}>")
        if el.tag == "script" and "alert" in el.text and el.get("type") != "application/ld+json":
            found.append(f"<script>{el.text}</script>")  # JSON-LD is data; a break-out makes a new script element
        for name, value in el.attrs.items():
            squeezed = re.sub(r"[\s\x00-\x20]", "", value or "").lower()
            if name.startswith("on"):
                found.append(f"{name}= on <{el.tag}>")
            if name == "style":
                found.append(f"style= on <{el.tag}>")
            if name in URL_ATTRS and squeezed.startswith(("javascript:", "vbscript:", "data:text")):
                found.append(f"{name}={value} on <{el.tag}>")
    return found


@pytest.mark.parametrize("name", list(XSS))
def test_raw_html_and_attributes_never_become_live_markup(out, name):
    text = html(out, f"en/xss/{name}/index.html")
    assert Doc(text).one("h1").text == name, "the page was built from its payload"
    assert live_markup(text) == []
    assert "<script>alert" not in text and "<script >alert" not in text


def test_the_checker_itself_sees_live_markup():
    assert live_markup('<p onclick="x">a</p><a href=" java\tscript:alert(1)">b</a><script>alert(1)</script>') == [
        "onclick= on <p>", "href= java\tscript:alert(1) on <a>", "<script>alert(1)</script>"]
    assert live_markup("<title>x</title><script>alert(1)</script>") == ["<script>alert(1)</script>"]
    assert live_markup("<title>&lt;/title><script>alert(1)</script></title>") == [], "text inside <title> is inert"


def test_harmless_raw_html_is_kept(out):
    text = html(out, "en/xss/bold-onmouseover/index.html")
    assert "bold" in text
    d = Doc(html(out, "en/xss/a-javascript-block/index.html"))
    assert any(e.tag == "div" and e.text == "x" for e in d.elements), "the text of a removed link stays"


def test_front_matter_cannot_break_out_of_json_ld_or_attributes(out):
    import json

    text = html(out, "en/xss/title/index.html")
    assert live_markup(text) == []
    d = Doc(text)
    (ld,) = [e for e in d.all("script") if e.get("type") == "application/ld+json"]
    assert json.loads(ld.text)["name"] == "</script><script>alert(1)</script>"
    assert d.one("h1").text == "</script><script>alert(1)</script>"


# --- mistakes, each at its own line ----------------------------------------------------------------------------

LINKS = """Intro.

See [missing page](no-such-page.md).

See [missing heading](frostbite.md#symptom).

A paragraph that goes on
for a second line
and on the third line has [a bad link](gone.md) in it.

[escape](../../../../etc/passwd)

![tracker](https://tracker.example/p.gif)

[folder](../infections/)

![missing image](../../images/nothing.png)

[config](../../../site.toml)

[Russian heading](../../ru/winter-health/frostbite.md#когда-звонить-112)

| A | B |
| --- | --- |
| one | two |
| three | [in a table](missing-too.md) |

- first
- second [in a list](missing-three.md)

::: inset
Inside a component: [in an inset](missing-four.md).
:::

Same page: [no such heading](#nothing-here).
"""
HEADINGS = """Intro.

# A second title

## Fine

#### Skipped a level

## Back

### Fine too

###### Far too deep
"""
COMPONENTS = """## Help

::: care-crad urgent
### Call if:
- x
:::

::: care-card
### Call if:
- x
:::

::: care-card critical
### Call if:
- x
:::

::: care-card emergncy
### Call if:
- x
:::

::: care-card urgent
- no heading
:::

::: details
Nothing after the name.
:::

::: inset
### A heading where none may be
Text.
:::
"""


@pytest.fixture(scope="module")
def mistakes(tmp_path_factory):
    root = copy_fixture(tmp_path_factory.mktemp("mistakes") / "site")
    for name, body in {"links": LINKS, "headings": HEADINGS, "components": COMPONENTS}.items():
        write(root, f"content/en/winter-health/{name}.md", page(name.title(), body))
    return problems_of(root, use_cache=False)


def line(body: str, needle: str) -> int:
    """The file line of NEEDLE in a body written with page(): the front matter takes four lines."""
    return 4 + next(n for n, text in enumerate(body.splitlines(), 1) if needle in text)


@pytest.mark.parametrize("needle, words", [
    ("no-such-page.md", ["no-such-page.md", "does not exist"]),
    ("frostbite.md#symptom", ["no heading #symptom", "did you mean #symptoms?"]),
    ("gone.md", ["gone.md", "does not exist"]),
    ("etc/passwd", ["points outside the site"]),
    ("tracker.example", ["another website", "content/images/"]),
    ("../infections/", ["not to a .md file"]),
    ("nothing.png", ["content/images/nothing.png", "does not exist"]),
    ("site.toml", ["points outside the site"]),
    ("когда-звонить-112", ["no heading #когда-звонить-112", "did you mean #когда-звонить-103?"]),
    ("missing-too.md", ["missing-too.md"]),
    ("missing-three.md", ["missing-three.md"]),
    ("missing-four.md", ["missing-four.md"]),
    ("#nothing-here", ["no heading #nothing-here"]),
])
def test_link_problems_are_reported_at_the_line_of_the_link(mistakes, needle, words):
    rel = "content/en/winter-health/links.md"
    p = find(mistakes, rel, line(LINKS, needle), *words)
    assert str(p).startswith(f"{rel}:{line(LINKS, needle)}: ")


@pytest.mark.parametrize("needle, words", [
    ("# A second title", ["heading 1", "##"]),
    ("#### Skipped", ["level 4 follows level 2", "###"]),
    ("###### Far too deep", ["level 6 follows level 3", "####"]),
])
def test_heading_structure_problems(mistakes, needle, words):
    find(mistakes, "content/en/winter-health/headings.md", line(HEADINGS, needle), *words)


def test_valid_headings_are_not_reported(mistakes):
    lines = {p.line for p in mistakes if p.file == "content/en/winter-health/headings.md"}
    assert lines == {line(HEADINGS, "# A second"), line(HEADINGS, "####"), line(HEADINGS, "######")}


@pytest.mark.parametrize("needle, words", [
    ("care-crad", ['unknown component "care-crad"', "did you mean care-card?"]),
    ("::: care-card\n", ["care-card needs one of: non-urgent, urgent, emergency", "::: care-card non-urgent"]),
    ("care-card critical", ['care-card has no option "critical"', "non-urgent, urgent, emergency"]),
    ("care-card emergncy", ['care-card has no option "emergncy"', "did you mean emergency?"]),
    ("care-card urgent", ["care-card needs a heading"]),
    ("::: details\n", ["details needs a title", "::: details"]),
    ("::: inset", ["inset cannot start with a heading"]),
])
def test_component_problems(mistakes, needle, words):
    at = 4 + COMPONENTS[:COMPONENTS.index(needle)].count("\n") + 1
    find(mistakes, "content/en/winter-health/components.md", at, *words)


def test_all_mistakes_of_all_pages_come_in_one_run(mistakes):
    by_file = {}
    for p in mistakes:
        by_file.setdefault(p.file, []).append(p)
    assert sorted(by_file) == ["content/en/winter-health/components.md", "content/en/winter-health/headings.md",
                               "content/en/winter-health/links.md"]
    assert len(by_file["content/en/winter-health/links.md"]) == 13
    assert len(by_file["content/en/winter-health/components.md"]) == 7


# --- anything an author types: a page or a problem, never a crash ----------------------------------------------------

PIECES = ["[", "]", "(", ")", "!", "*", "_", "`", "``", "~~", "#", ">", "- ", "1. ", ":", ":::", "::: warning", "|",
          "{", "}", "{#x}", "<", "<b>", "/", "\\", "&", "&amp;", ".", "=", '"', " ", "\t", "\n", "\n\n", "a", "я", "中",
          "\ue000", "\x00", "\r", "[^1]", "[^1]:"]


def test_no_text_an_author_types_crashes_the_markdown_renderer():
    """Random text from Markdown's punctuation (such fuzzing found the parser's panic on "[`")."""
    rng = random.Random(2026)
    renderer = PageRenderer(lambda name, args, heading, body, **_: f"<div>{body}</div>", "/", {})
    for _ in range(3000):
        body = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 60)))
        out = renderer.render("content/en/a.md", body, 5)
        assert "\ue000" not in out.html, body
        assert all(p.line >= 5 and "parser failed" not in p.message for p in out.problems), body
