"""Design tokens: the shipped theme passes, and every way a designer can get it wrong is reported well."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from healingpixels import tokens
from healingpixels.errors import BuildError

ROOT = Path(__file__).resolve().parents[1]
THEME = ROOT / "themes" / "harbin-ice"
BRAND = {"calm-blue": "#7aa6c2", "calm-green": "#a9d6a4", "accent": "#4a90e2"}
MESSAGE = re.compile(r"(?P<mode>[\w-]+): (?P<fg>color\.[\w.-]+) (?P<fgv>#[0-9a-f]{6}) on (?P<bg>color\.[\w.-]+) "
                     r"(?P<bgv>#[0-9a-f]{6}) is (?P<ratio>\d+\.\d):1, needs (?P<need>[\d.]+):1 "
                     r"\(WCAG (?P<crit>[\d.]+)\); nearest passing: (?P<near>#[0-9a-f]{6})")


def hue(colour: str) -> float:
    return tokens._oklch(tokens._parse(colour))[2]


def hue_gap(a: str, b: str) -> float:
    gap = abs(hue(a) - hue(b)) % 360
    return min(gap, 360 - gap)


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def mini_theme(tmp_path: Path) -> Path:
    """A small theme with fixed colours, so messages can be compared byte for byte."""
    theme = tmp_path / "theme"
    theme.mkdir()
    mode = lambda page, text: {"color": {"surface": {"page": {"$value": page}},  # noqa: E731
                                         "text": {"default": {"$value": text}, "muted": {"$value": "{color.text.default}"}}}}
    write(theme / "tokens.json", {
        "palette": {"$type": "color", "ink": {"$value": "#222222"}, "paper": {"$value": "#FFF"}},
        "space": {"$type": "dimension", "3": {"$value": "0.75rem"}},
        "mode": {"$type": "color", "light": mode("{palette.paper}", "{palette.ink}"),
                 "dark": mode("#121212", "#eeeeee"), "high-contrast": mode("#000000", "#ffffff")},
        "$extensions": {"org.healingpixels": {"contrast-pairs": [
            {"foreground": "color.text.default", "background": "color.surface.page", "kind": "text", "criterion": "1.4.3"},
            {"foreground": "color.text.muted", "background": "color.surface.page", "kind": "text", "criterion": "1.4.3"}]}},
    })
    return theme


def problems_of(theme: Path, override: Path | None, root: Path) -> list:
    with pytest.raises(BuildError) as caught:
        tokens.load(theme, override, root)
    return caught.value.problems


# ---------------------------------------------------------------- the shipped theme

@pytest.fixture(scope="module")
def shipped() -> tokens.TokenSet:
    return tokens.load(THEME, root=ROOT)


def test_shipped_tokens_pass_in_every_mode(shipped):
    assert set(shipped.modes) == {"light", "dark", "high-contrast"}
    assert len(shipped.pairs) >= 20
    assert tokens.check(shipped) == []


def test_every_mode_defines_the_semantic_tokens(shipped):
    required = {"color.surface.page", "color.surface.raised", "color.text.default", "color.text.muted",
                "color.link.default", "color.link.visited", "color.link.hover", "color.focus.ring",
                "color.focus.text-on-focus", "color.focus.bg-on-focus", "color.border.control", "color.border.subtle",
                "color.header.bg", "color.header.text", "color.footer.bg", "color.footer.text", "color.button.bg",
                "color.button.text", "color.do", "color.dont", "color.banner.bg", "color.banner.text"}
    required |= {f"color.callout.{c}.{p}" for c in ("info", "warning", "non-urgent", "urgent", "emergency")
                 for p in ("bg", "text", "border")}
    for mode, values in shipped.modes.items():
        assert required <= values.keys(), mode


def test_light_text_is_derived_from_the_brand_not_the_brand_itself(shipped):
    light = shipped.modes["light"]
    for path in ("color.text.default", "color.text.muted", "color.link.default", "color.link.hover"):
        assert light[path] not in BRAND.values(), path
    assert hue_gap(light["color.link.default"], BRAND["accent"]) < 2
    assert hue_gap(light["color.text.muted"], BRAND["calm-blue"]) < 2
    for name, value in BRAND.items():
        assert shipped.shared[f"palette.brand.{name}"] == value
        assert tokens.contrast(value, "#ffffff") < 4.5  # why they are not text colours
    used = {v for m in shipped.modes.values() for v in m.values()}
    assert set(BRAND.values()) <= used  # still part of the look: surfaces, borders, dark mode


def test_shared_tokens_meet_the_reading_needs(shipped):
    s = shipped.shared
    assert s["font.size.body"] == "1.125rem" and s["font.line-height.body"] == "1.5"
    assert s["font.line-height.cjk"] == "1.7" and s["focus.ring-width"] == "3px" and s["target.min-size"] == "44px"
    assert '"PingFang SC"' in s["font.family.zh-hans"] and '"Malgun Gothic"' in s["font.family.ko"]
    assert s["font.family.cyrillic"] == s["font.family.latin"]


def test_sources_point_at_the_line_that_defines_each_token(shipped):
    lines = (THEME / "tokens.json").read_text(encoding="utf-8").splitlines()
    for path, (file, line) in shipped.sources.items():
        if path.startswith("mode.") and "$" not in path:
            assert file == "themes/harbin-ice/tokens.json"
            assert f'"{path.rsplit(".", 1)[1]}"' in lines[line - 1], path


# ---------------------------------------------------------------- contrast checking

def test_failing_pair_from_a_site_override(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    override = site / "my-tokens.json"
    override.write_text('{\n  "mode": {\n    "dark": {\n      "color": {\n        "text": {\n'
                        '          "muted": {"$value": "#555555"}\n        }\n      }\n    }\n  }\n}\n')
    ts = tokens.load(THEME, override, root=site)
    problems = tokens.check(ts)
    assert problems and all(p.file == "my-tokens.json" and p.line == 6 for p in problems)
    page = ts.modes["dark"]["color.surface.page"]
    first = next(p for p in problems if "color.surface.page" in p.message)
    m = MESSAGE.fullmatch(first.message)
    assert m, first.message
    assert (m["mode"], m["fg"], m["fgv"], m["bgv"], m["need"], m["crit"]) == \
        ("dark", "color.text.muted", "#555555", page, "4.5", "1.4.3")
    assert tokens.contrast(m["near"], page) >= 4.5


def test_failing_pair_exact_message(tmp_path):
    theme = mini_theme(tmp_path)
    override = write(tmp_path / "site.json", {"mode": {"dark": {"color": {"text": {"default": {"$value": "#555"}}}}}})
    problems = tokens.check(tokens.load(theme, override, root=tmp_path))
    lines = (theme / "tokens.json").read_text().splitlines()
    dark = next(i for i, line in enumerate(lines) if '"dark"' in line)
    muted_line = next(i for i, line in enumerate(lines[dark:], dark + 1) if '"muted"' in line)
    assert [(p.file, p.line) for p in problems] == [("site.json", 6), ("theme/tokens.json", muted_line)]
    assert problems[0].message == ("dark: color.text.default #555555 on color.surface.page #121212 is 2.5:1, needs "
                                   "4.5:1 (WCAG 1.4.3); nearest passing: #7d7d7d")
    # muted aliases {color.text.default} of its own mode, so it fails too, and points at its own line
    assert problems[1].message.startswith("dark: color.text.muted #555555 on")


def test_high_contrast_text_needs_7_to_1(tmp_path):
    theme = mini_theme(tmp_path)
    override = write(tmp_path / "o.json", {"mode": {"high-contrast": {"color": {"text": {"default": {"$value": "#8a8a8a"}}}}}})
    ts = tokens.load(theme, override, root=tmp_path)
    assert 4.5 < tokens.contrast("#8a8a8a", "#000000") < 7
    message = tokens.check(ts)[0].message
    assert "needs 7:1 (WCAG 1.4.6)" in message and message.startswith("high-contrast: color.text.default #8a8a8a")


def test_ratio_is_rounded_down_in_messages(tmp_path):
    theme = mini_theme(tmp_path)
    override = write(tmp_path / "o.json", {"mode": {"light": {"color": {"text": {"default": {"$value": "#777777"}}}}}})
    message = tokens.check(tokens.load(theme, override, root=tmp_path))[0].message
    assert "is 4.4:1, needs 4.5:1" in message and message.endswith("nearest passing: #767676")


def test_contrast_known_values():
    assert 4.47 <= tokens.contrast("#777", "#fff") <= 4.48
    assert tokens.contrast("#000000", "#FFFFFF") == pytest.approx(21)
    assert tokens.contrast("#fff", "#000") == tokens.contrast("#000", "#fff")
    assert tokens.contrast("rgb(119, 119, 119)", "rgb(255 255 255)") == tokens.contrast("#777777", "#ffffff")
    # a translucent foreground is what it looks like over its background
    assert tokens.contrast("#00000080", "#ffffff") == pytest.approx(tokens.contrast("#7f7f7f", "#ffffff"), rel=0.02)
    assert tokens.contrast("rgba(0, 0, 0, 0.5)", "#fff") == pytest.approx(tokens.contrast("#00000080", "#fff"), rel=0.02)


@pytest.mark.parametrize("fg,bg,ratio", [(BRAND["calm-blue"], "#ffffff", 4.5), (BRAND["calm-green"], "#ffffff", 4.5),
                                         (BRAND["accent"], "#ffffff", 7), (BRAND["accent"], "#0e1f29", 7),
                                         ("#c22826", "#142c3a", 4.5)])
def test_nearest_passing_keeps_hue_and_passes(fg, bg, ratio):
    near = tokens.nearest_passing(fg, bg, ratio)
    assert re.fullmatch(r"#[0-9a-f]{6}", near)
    assert tokens.contrast(near, bg) >= ratio
    assert hue_gap(near, fg) < 2
    # nearest: a shade a little closer to the original lightness fails
    start, (lightness, chroma, h) = tokens._oklch(tokens._parse(fg))[0], tokens._oklch(tokens._parse(near))
    closer = tokens._hex(tokens._from_oklch(lightness + 0.01 * (1 if start > lightness else -1), chroma, h))
    assert tokens.contrast(closer, bg) < ratio


def test_nearest_passing_of_a_passing_colour_is_itself():
    assert tokens.nearest_passing("#000000", "#ffffff", 4.5) == "#000000"


# ---------------------------------------------------------------- aliases and errors

def test_aliases_resolve_across_theme_and_override(tmp_path):
    theme = mini_theme(tmp_path)
    override = write(tmp_path / "site.json", {
        "palette": {"ink": {"$value": "#1a2b3c"}, "site": {"$type": "color", "sea": {"$value": "#0b4f6c"}}},
        "mode": {"dark": {"color": {"surface": {"page": {"$value": "{palette.site.sea}"}}}}},
    })
    ts = tokens.load(theme, override, root=tmp_path)
    assert ts.modes["light"]["color.text.default"] == "#1a2b3c"  # the theme's alias sees the site's value
    assert ts.modes["light"]["color.text.muted"] == "#1a2b3c"  # {color.text.default} inside the mode
    assert ts.modes["dark"]["color.surface.page"] == "#0b4f6c"  # the site's alias to the site's token
    assert ts.modes["light"]["color.surface.page"] == "#ffffff"  # #FFF normalised
    assert ts.sources["palette.ink"] == ("site.json", 3)
    assert ts.sources["palette.paper"][0] == "theme/tokens.json"


def test_unknown_alias_suggests_the_close_name(tmp_path):
    theme = mini_theme(tmp_path)
    override = write(tmp_path / "site.json", {"mode": {"light": {"color": {"text": {"default": {"$value": "{palette.inc}"}}}}}})
    [problem] = problems_of(theme, override, tmp_path)
    assert (problem.file, problem.line) == ("site.json", 6)
    assert problem.message == "mode.light.color.text.default refers to {palette.inc}, which is not defined"
    assert "{palette.ink}" in problem.hint


def test_alias_cycle_names_both_tokens(tmp_path):
    theme = mini_theme(tmp_path)
    override = write(tmp_path / "site.json", {"palette": {"ink": {"$value": "{palette.paper}"},
                                                          "paper": {"$value": "{palette.ink}"}}})
    problems = problems_of(theme, override, tmp_path)
    cycles = [p for p in problems if "alias cycle" in p.message]
    assert len(cycles) == 1
    assert re.search(r"palette\.(ink|paper) -> palette\.(ink|paper) -> palette\.\1", cycles[0].message)
    assert cycles[0].file == "site.json"


def test_invalid_json_gives_file_and_line(tmp_path):
    theme = mini_theme(tmp_path)
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "mode": {\n    "light": {,\n  }\n}\n')
    [problem] = problems_of(theme, broken, tmp_path)
    assert (problem.file, problem.line) == ("broken.json", 3)
    assert str(problem).startswith("broken.json:3: invalid JSON")


@pytest.mark.parametrize("token,expected", [
    ({"$value": "#12345g"}, 'has "#12345g", which is not a colour'),
    ({"$value": "rgb(300, 0, 0)"}, "which is not a colour"),
    ({"$description": "forgot it"}, "has no $value"),
    ("#123456", "has no $value"),
])
def test_bad_tokens_are_reported_at_their_line(tmp_path, token, expected):
    theme = mini_theme(tmp_path)
    override = write(tmp_path / "site.json", {"palette": {"ink": token}})
    [problem] = problems_of(theme, override, tmp_path)
    assert (problem.file, problem.line) == ("site.json", 3)
    assert problem.message.startswith("palette.ink ") and expected in problem.message


def test_missing_override_file_and_duplicate_keys(tmp_path):
    theme = mini_theme(tmp_path)
    [missing] = problems_of(theme, tmp_path / "nope.json", tmp_path)
    assert missing.file == "nope.json" and "not found" in missing.message
    twice = tmp_path / "twice.json"
    twice.write_text('{\n  "palette": {\n    "ink": {"$value": "#000"},\n    "ink": {"$value": "#111"}\n  }\n}\n')
    [duplicate] = problems_of(theme, twice, tmp_path)
    assert (duplicate.file, duplicate.line) == ("twice.json", 4) and "defined twice" in duplicate.message


def test_pair_naming_an_unknown_token(tmp_path):
    theme = mini_theme(tmp_path)
    override = write(tmp_path / "site.json", {"$extensions": {"org.healingpixels": {"contrast-pairs": [
        {"foreground": "color.text.defualt", "background": "color.surface.page", "kind": "text"}]}}})
    [problem] = problems_of(theme, override, tmp_path)
    assert problem.line == 5 and "color.text.defualt" in problem.message and "color.text.default" in problem.hint


# ---------------------------------------------------------------- output

def test_css_has_every_mode_and_preference(shipped):
    css = tokens.to_css(shipped)
    assert css.startswith("/* Generated from themes/harbin-ice/tokens.json")
    for needle in (":root {", "--hp-color-text-default: #", "--hp-space-3: 0.75rem;", "--hp-font-size-body: 1.125rem;",
                   "@media (prefers-color-scheme: dark) {\n  :root:not([data-mode]) {", ':root[data-mode="dark"] {',
                   "@media (prefers-contrast: more) {\n  :root:not([data-mode]) {", ':root[data-mode="high-contrast"] {',
                   "@media (forced-colors: active)", "--hp-color-focus-ring: Highlight;",
                   "--hp-color-border-control: CanvasText;", "@media (prefers-reduced-motion: reduce)",
                   "--hp-motion-duration-short: 0s;", "color-scheme: dark;"):
        assert needle in css, needle
    assert "mode-" not in css and "{" not in css.split("}")[-2].split("{")[-1]  # prefixes dropped, aliases resolved
    dark = css.split(':root[data-mode="dark"] {')[1].split("}")[0]
    assert f'--hp-color-surface-page: {shipped.modes["dark"]["color.surface.page"]};' in dark


def test_css_and_json_are_deterministic(shipped):
    again = tokens.load(THEME, root=ROOT)
    assert tokens.to_css(shipped) == tokens.to_css(again)
    assert tokens.to_json(shipped) == tokens.to_json(again)
    flat = json.loads(tokens.to_json(shipped))
    assert list(flat) == sorted(flat)
    assert flat["mode.dark.color.text.default"] == shipped.modes["dark"]["color.text.default"]
    assert flat["space.3"] == "0.75rem"
