"""healingpixels new: a site that builds at once, in the languages asked for, written only into an empty folder."""
from __future__ import annotations

import tomllib

import pytest
from click.testing import CliRunner

from healingpixels.build import build
from healingpixels.errors import BuildError
from healingpixels.scaffold import scaffold
from healingpixels.cli import main

from conftest import Doc, tree


def new(*args: str):
    return CliRunner().invoke(main, ["new", *args])


@pytest.fixture(scope="module")
def arabic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scaffold") / "clinic"
    result = new(str(folder), "--languages", "en,ar")
    assert result.exit_code == 0, result.output
    return folder, result


def test_new_site_builds_cleanly(arabic, tmp_path):
    folder, result = arabic
    assert str(folder) in result.output
    built = build(folder, output=tmp_path / "out", use_cache=False)
    assert dict(built.pages) == {"en": 1, "ar": 1}
    # Arabic has no built-in interface catalog: its one warning says so (its buttons and labels show in English).
    assert [(w.file, w.severity) for w in built.warnings] == [("locales/ar/LC_MESSAGES/messages.po", "warning")]
    for rel in ("index.html", "en/index.html", "ar/index.html", "sitemap.xml", "robots.txt", "404.html"):
        assert (tmp_path / "out" / rel).is_file(), rel


def test_arabic_is_written_right_to_left(arabic, tmp_path):
    folder, _ = arabic
    cfg = tomllib.loads((folder / "site.toml").read_text(encoding="utf-8"))
    assert cfg["default_language"] == "en"
    assert cfg["languages"]["ar"]["dir"] == "rtl" and cfg["languages"]["ar"]["name"] == "العربية"
    assert "dir" not in cfg["languages"]["en"] or cfg["languages"]["en"]["dir"] == "ltr"
    out = build(folder, output=tmp_path / "out", use_cache=False).output
    html_ar = Doc((out / "ar/index.html").read_text(encoding="utf-8")).elements[0]
    html_en = Doc((out / "en/index.html").read_text(encoding="utf-8")).elements[0]
    assert (html_ar.get("lang"), html_ar.get("dir")) == ("ar", "rtl")
    assert (html_en.get("lang"), html_en.get("dir")) == ("en", "ltr")
    chooser = Doc((out / "index.html").read_text(encoding="utf-8"))
    (link,) = [a for a in chooser.all("a") if a.get("hreflang") == "ar"]
    assert (link.get("dir"), link.text) == ("rtl", "العربية")


def test_the_first_language_is_the_default_and_others_fall_back_to_it(tmp_path):
    assert new(str(tmp_path / "s"), "--languages", "ru,ko,en").exit_code == 0
    cfg = tomllib.loads((tmp_path / "s/site.toml").read_text(encoding="utf-8"))
    assert cfg["default_language"] == "ru"
    assert list(cfg["languages"]) == ["ru", "ko", "en"]
    assert cfg["languages"]["ko"]["fallback"] == ["ru"] and "fallback" not in cfg["languages"]["ru"]
    assert cfg["languages"]["ru"]["emergency"] == ["103", "112"]
    assert cfg["languages"]["ko"]["name"] == "한국어"


def test_a_non_empty_folder_is_refused_and_left_alone(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    before = tree(folder)
    result = new(str(folder), "--languages", "en,ar")
    assert result.exit_code == 1
    assert "not empty" in result.output and "Traceback" not in result.output
    assert tree(folder) == before


def test_an_empty_existing_folder_is_used(tmp_path):
    (tmp_path / "empty").mkdir()
    assert new(str(tmp_path / "empty"), "--languages", "en").exit_code == 0
    assert (tmp_path / "empty/site.toml").is_file()


@pytest.mark.parametrize("languages, word", [("en,english", '"english"'), ("en,", None), ("", "no languages")])
def test_bad_language_lists(tmp_path, languages, word):
    folder = tmp_path / "s"
    if word is None:  # a trailing comma is forgiven
        assert new(str(folder), "--languages", languages).exit_code == 0
        return
    result = new(str(folder), "--languages", languages)
    assert result.exit_code == 1 and word in result.output and "Traceback" not in result.output
    assert not folder.exists(), "nothing is written when the request is refused"


def test_scaffold_raises_build_error_listing_every_problem(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a").write_text("")
    with pytest.raises(BuildError) as info:
        scaffold(tmp_path / "x", ["en", "EN_us"])
    assert len(info.value.problems) == 2
