"""site.toml: every mistake an editor can make is reported with the file, the line, and what to write instead."""
from __future__ import annotations

from pathlib import Path

import pytest

from healingpixels import config
from healingpixels.errors import BuildError, Problem

from conftest import FIXTURE, find

GOOD = (FIXTURE / "site.toml").read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line containing NEEDLE."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def load_problems(site: Path, text: str) -> list[Problem]:
    (site / "site.toml").write_text(text, encoding="utf-8")
    with pytest.raises(BuildError) as info:
        config.load(site)
    return info.value.problems


def mutate(old: str, new: str) -> str:
    assert old in GOOD, f"{old!r} is not in the fixture's site.toml"
    return GOOD.replace(old, new, 1)


def test_the_fixture_config_loads(site):
    cfg = config.load(site)
    assert [lang.code for lang in cfg.languages] == ["en", "ru"]
    assert cfg.default_language == "en"
    assert cfg.base_url == "https://health.example.org/" and cfg.base_path == "/"
    assert cfg.language("ru").name == "Русский"
    assert tuple(cfg.language("ru").emergency) == ("103", "112")
    assert tuple(cfg.language("ru").fallback) == ("en",)
    assert cfg.output == site / "public"


def test_unknown_key_in_a_language_names_it_and_suggests_title(site):
    text = mutate('title = "Winter Health"', 'titel = "Winter Health"')
    problems = load_problems(site, text)
    p = find(problems, "site.toml", line_of(text, "titel"), '"titel"', "did you mean title?")
    assert "[languages.en]" in p.message
    assert str(p).startswith(f"site.toml:{line_of(text, 'titel')}: ")


def test_a_typo_in_a_language_table_does_not_cascade_into_false_errors(site):
    text = mutate('title = "Winter Health"', 'titel = "Winter Health"')
    problems = load_problems(site, text)
    wrong = [str(p) for p in problems if "not one of the languages" in p.message or "not another language" in p.message]
    assert wrong == [], "en is defined in site.toml; only its title is misspelt"


def test_unknown_key_in_theme_suggests_name(site):
    text = mutate('name = "harbin-ice"', 'nme = "harbin-ice"')
    find(load_problems(site, text), "site.toml", line_of(text, "nme"), '"nme"', "[theme]", "did you mean name?")


def test_misspelt_top_level_key_is_suggested_and_the_missing_one_reported(site):
    text = mutate('default_language = "en"', 'default_lang = "en"')
    problems = load_problems(site, text)
    find(problems, "site.toml", line_of(text, "default_lang"), '"default_lang"', "did you mean default_language?")
    find(problems, "site.toml", None, 'missing "default_language"')


@pytest.mark.parametrize("old, new, key, kind", [
    ('default_language = "en"', "default_language = 3", "default_language", "text in quotes"),
    ('output = "public"', 'output = "public"\ncontents_min_headings = "4"', "contents_min_headings", "a whole number"),
    ('output = "public"', "output = \"public\"\ncontents_min_headings = true", "contents_min_headings", "a whole number"),
    ('emergency = ["112"]', "emergency = 112", "emergency", "a list"),
    ('[theme]\nname = "harbin-ice"', 'theme = "harbin-ice"', "theme", "a table"),
])
def test_wrong_type_names_the_key_the_line_and_the_type(site, old, new, key, kind):
    text = mutate(old, new)
    p = find(load_problems(site, text), "site.toml", line_of(text, new.splitlines()[-1]), f'"{key}"', kind)
    assert p.severity == "error"


def test_emergency_numbers_must_be_text(site):
    text = mutate('emergency = ["103", "112"]', 'emergency = [103, "112"]')
    find(load_problems(site, text), "site.toml", line_of(text, "[103,"), '"emergency"', "text in quotes")


@pytest.mark.parametrize("remove, key, where", [
    ('base_url = "https://health.example.org/"\n', "base_url", "the top level"),
    ('default_language = "en"\n', "default_language", "the top level"),
    ('title = "Здоровье зимой"\n', "title", "[languages.ru]"),
    ('name = "Русский"\n', "name", "[languages.ru]"),
])
def test_missing_required_field_is_named_with_an_example(site, remove, key, where):
    problems = load_problems(site, mutate(remove, ""))
    p = find(problems, "site.toml", None, f'missing "{key}"', where)
    assert p.hint, "the hint says what to add"


def test_no_languages_at_all(site):
    text = GOOD.split("[languages.en]")[0] + "[languages]\n"
    find(load_problems(site, text), "site.toml", None, "no languages")


@pytest.mark.parametrize("old, new, bad_line", [
    ('name = "Русский"', "name = Русский", 'name = Русский'),
    ("[languages.ru]", "[languages.ru", "[languages.ru"),
    ('output = "public"', 'output = "public"\noutput = "site"', 'output = "site"'),
    ('title = "Winter Health"', 'title = "Winter Health', 'title = "Winter Health'),
])
def test_invalid_toml_gives_the_line(site, old, new, bad_line):
    text = mutate(old, new)
    problems = load_problems(site, text)
    assert len(problems) == 1
    p = problems[0]
    assert (p.file, p.line) == ("site.toml", line_of(text, bad_line))
    assert str(p).startswith(f"site.toml:{p.line}: not valid TOML")
    assert "(at line" not in p.message, "the line is given once, in file:line form"


def test_default_language_must_be_one_of_the_languages(site):
    text = mutate('default_language = "en"', 'default_language = "fr"')
    p = find(load_problems(site, text), "site.toml", line_of(text, "default_language"), '"fr"')
    for code in ("en", "ru"):
        assert code in p.message


def test_default_language_close_to_a_language_is_suggested(site):
    text = mutate('default_language = "en"', 'default_language = "ru-RU"').replace('[languages.ru]', '[languages.ru-UA]')
    find(load_problems(site, text), "site.toml", line_of(text, "default_language"), '"ru-RU"', "did you mean ru-UA?")


@pytest.mark.parametrize("url", [
    "health.example.org",
    "health.example.org/",
    "https://health.example.org",
    "https://health.example.org/health",
    "ftp://health.example.org/",
    "/health/",
    "https:///",
])
def test_bad_base_url(site, url):
    text = mutate('base_url = "https://health.example.org/"', f'base_url = "{url}"')
    p = find(load_problems(site, text), "site.toml", line_of(text, "base_url"), "base_url", url)
    assert "https://" in p.hint


def test_base_url_under_a_path_is_accepted(site):
    (site / "site.toml").write_text(mutate("https://health.example.org/", "https://example.org/health/"), encoding="utf-8")
    assert config.load(site).base_path == "/health/"


@pytest.mark.parametrize("table, hint", [("[languages.english]", "BCP 47"), ("[languages.EN]", "BCP 47")])
def test_language_code_must_be_bcp47(site, table, hint):
    text = mutate("[languages.en]", table).replace('default_language = "en"', f'default_language = "{table[11:-1]}"')
    find(load_problems(site, text), "site.toml", line_of(text, table), "not a language code", hint)


def test_dir_must_be_ltr_or_rtl(site):
    text = mutate('name = "Русский"', 'name = "Русский"\ndir = "right"')
    find(load_problems(site, text), "site.toml", line_of(text, 'dir = "right"'), '"right"', "rtl")


def test_fallback_must_be_another_language(site):
    text = mutate('fallback = ["en"]', 'fallback = ["de"]')
    find(load_problems(site, text), "site.toml", line_of(text, 'fallback = ["de"]'), '"de"', "ru")


@pytest.mark.parametrize("out", ["../elsewhere", "/tmp/healing-pixels-out", "content", "."])
def test_output_folder_may_not_overwrite_content_or_leave_the_site(site, out):
    text = mutate('output = "public"', f'output = "{out}"')
    find(load_problems(site, text), "site.toml", line_of(text, "output ="), f'"{out}"')


def test_every_problem_in_site_toml_is_reported_in_one_run(site):
    text = (mutate('title = "Здоровье зимой"', 'titel = "Здоровье зимой"')
            .replace('default_language = "en"', "default_language = 3")
            .replace('base_url = "https://health.example.org/"', 'base_url = "health.example.org"')
            .replace('name = "harbin-ice"', 'nmae = "harbin-ice"')
            .replace('emergency = ["112"]', 'emergency = [112]'))
    problems = load_problems(site, text)
    find(problems, "site.toml", line_of(text, "titel"), '"titel"', "did you mean title?")
    find(problems, "site.toml", line_of(text, "default_language"), '"default_language"', "text in quotes")
    find(problems, "site.toml", line_of(text, "base_url"), "base_url")
    find(problems, "site.toml", line_of(text, "nmae"), '"nmae"', "did you mean name?")
    find(problems, "site.toml", line_of(text, "[112]"), '"emergency"')
    assert all(p.file == "site.toml" for p in problems)


def test_missing_site_toml(tmp_path):
    with pytest.raises(BuildError) as info:
        config.load(tmp_path)
    (p,) = info.value.problems
    assert p.file == "site.toml" and "no site.toml" in p.message and "healingpixels new" in p.hint


def test_site_toml_that_is_not_utf8(site):
    (site / "site.toml").write_bytes(GOOD.encode("utf-8").replace("Русский".encode(), "Русский".encode("cp1251")))
    with pytest.raises(BuildError) as info:
        config.load(site)
    assert [p.file for p in info.value.problems] == ["site.toml"]
    assert "UTF-8" in str(info.value)


def test_precompress_names_the_three_choices(site):
    text = GOOD.replace('output = "public"', 'output = "public"\nprecompress = "al"', 1)
    find(load_problems(site, text), "site.toml", line_of(text, "precompress"), '"al"', '"all"')
    (site / "site.toml").write_text(GOOD, encoding="utf-8")
    assert config.load(site).precompress == "assets"  # the default
