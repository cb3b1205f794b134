"""Offline: the service worker, manifests, icons and offline pages that a build writes (fast; no browser)."""
from __future__ import annotations

import io
import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from PIL import Image

from conftest import FIXTURE, ROOT, Doc, assert_same_tree, copy_fixture, edit
from healingpixels import build as build_mod, config as config_mod, content, offline, render
from healingpixels.build import build
from healingpixels.errors import BuildError

THEME = ROOT / "themes" / "harbin-ice"
# The fixture's languages and site titles (it has had en, ru and ko; it has en and ru at least).
LANGUAGES = {code: lang["title"] for code, lang in tomllib.loads((FIXTURE / "site.toml").read_text("utf-8"))["languages"].items()}
LEAFLET = "leaflets/cold-air.pdf"
PHOTO = "images/scarf.png"
OFFLINE_RU = "Нет подключения к интернету"  # "You are offline" in locales/ru
# The smallest PDF readers open: one empty page.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")




def make_site(dest: Path, mode: str = "on", budget_kb: int | None = None) -> Path:
    """The fixture site, with a leaflet, the asthma page marked offline: true and linking it, and [offline]."""
    root = copy_fixture(dest)
    (root / "content" / LEAFLET).parent.mkdir(parents=True, exist_ok=True)
    (root / "content" / LEAFLET).write_bytes(PDF)
    edit(root, "content/en/winter-health/asthma.md", "order: 2\n", "order: 2\noffline: true\n")
    edit(root, "content/en/winter-health/asthma.md", "See also", "Print the [leaflet](../../leaflets/cold-air.pdf). See also")
    photo = Image.new("RGB", (900, 600), (40, 90, 160))  # a raster image: the build makes widths and formats of it
    for x in range(0, 900, 30):
        photo.paste((250, 250, 250), (x, 0, x + 4, 600))
    photo.save(root / "content" / PHOTO)
    edit(root, "content/en/winter-health/asthma.md", "Cover your nose",
         "![A scarf over the nose and mouth](../../images/scarf.png)\n\nCover your nose")
    table = {"on": "enabled = true", "off": "enabled = false", "kill": "enabled = true\nkill_switch = true"}[mode]
    if budget_kb is not None:
        table += f"\nprecache_budget_kb = {budget_kb}"
    with (root / "site.toml").open("a", encoding="utf-8") as f:
        f.write(f"\n[offline]\n{table}\n")
    return root


def build_site(root: Path):
    return build(root, use_cache=False)


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    """The site built once with offline reading on. Do not change it."""
    return build_site(make_site(tmp_path_factory.mktemp("offline") / "site")).output


def settings_of(out: Path) -> dict:
    text = (out / "sw.js").read_text(encoding="utf-8")
    match = re.search(r"^const HP = (\{.*\});$", text, re.M)
    assert match, "sw.js does not start with its settings"
    return json.loads(match.group(1))


# ------------------------------------------------------------------------------------------------ the worker

def test_worker_lists_the_shell_and_the_pages_marked_offline(out):
    hp = settings_of(out)
    urls = [url for url, _ in hp["precache"]]
    assert urls == sorted(urls)
    css = next(f"/assets/{p.name}" for p in (out / "assets").glob("theme.*.css"))
    script = next(f"/assets/{p.name}" for p in (out / "assets").glob("offline.*.js"))
    homes = [f"/{code}/{page}" for code in LANGUAGES for page in ("", "offline.html")]
    for url in ["/", *homes, css, script, "/en/winter-health/asthma/", "/" + LEAFLET]:
        assert url in urls, f"{url} is not precached"
    assert "/en/winter-health/frostbite/" not in urls, "only pages marked offline: true are precached"
    photos = [url for url in urls if url.startswith("/images/scarf.")]
    assert len(photos) <= 1, "of an image's widths and formats, only the one in <img src>"
    assert not any("icon" in url for url in urls), "the app icons are not needed offline"
    for url, rev in hp["precache"]:
        assert re.fullmatch(r"[0-9a-f]{10}", rev), url
    assert hp["base"] == "/" and hp["defaultLanguage"] == "en" and hp["languages"] == list(LANGUAGES)
    assert hp["offline"]["ru"] == "/ru/offline.html"
    assert hp["timeout"] == 3000 and hp["pageLimit"] == 200
    assert re.fullmatch(r"[0-9a-f]{16}", hp["version"]) and re.fullmatch(r"[0-9a-f]{16}", hp["build"])
    text = (out / "sw.js").read_text(encoding="utf-8")
    assert hp["version"] in text and "skipWaiting()" not in text


def test_every_precached_file_exists_and_its_revision_is_its_hash(out):
    import hashlib
    for url, rev in settings_of(out)["precache"]:
        rel = url[1:] + ("index.html" if url.endswith("/") else "")
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest()[:10] == rev, url  # what the worker checks


def test_same_input_gives_the_same_bytes(out, tmp_path):
    again = build_site(make_site(tmp_path / "site")).output
    names = ["sw.js", "en/manifest.webmanifest", "ru/manifest.webmanifest", "ru/offline.html"]
    names += [f"assets/{p.name}" for p in (out / "assets").glob("icon-*.png")]
    for name in names:
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_a_content_change_gives_a_new_version(out, tmp_path):
    root = make_site(tmp_path / "site")
    edit(root, "content/en/winter-health/frostbite.md", "caused by freezing", "caused by cold")
    changed = settings_of(build_site(root).output)
    before = settings_of(out)
    assert changed["build"] != before["build"] and changed["version"] != before["version"]
    assert changed["precache"] == before["precache"], "frostbite is not precached: the list stays"


def test_a_change_to_a_precached_file_changes_its_revision(out, tmp_path):
    root = make_site(tmp_path / "site")
    edit(root, "content/en/winter-health/asthma.md", "Sit up straight.", "Sit up.")
    changed = dict(settings_of(build_site(root).output)["precache"])
    before = dict(settings_of(out)["precache"])
    assert changed["/en/winter-health/asthma/"] != before["/en/winter-health/asthma/"]
    assert changed["/" + LEAFLET] == before["/" + LEAFLET]


def test_a_site_under_a_base_path(tmp_path):
    root = make_site(tmp_path / "site")
    edit(root, "site.toml", 'base_url = "https://health.example.org/"', 'base_url = "https://example.org/health/"')
    out = build_site(root).output
    hp = settings_of(out)
    urls = [url for url, _ in hp["precache"]]
    assert hp["base"] == "/health/" and hp["offline"]["en"] == "/health/en/offline.html"
    assert all(url.startswith("/health/") for url in urls)
    for url in ["/health/", "/health/en/", "/health/en/offline.html", "/health/en/winter-health/asthma/",
                "/health/" + LEAFLET]:
        assert url in urls
    data = json.loads((out / "en" / "manifest.webmanifest").read_text(encoding="utf-8"))
    assert data["scope"] == "/health/" and data["start_url"] == "/health/en/"
    assert all(icon["src"].startswith("/health/assets/icon-") for icon in data["icons"])


def test_the_version_mixes_in_the_precache():
    entries = [("/en/", "aaaaaaaaaa", 1)]
    assert offline.cache_version("v", entries) != offline.cache_version("v", [("/en/", "bbbbbbbbbb", 1)])
    assert offline.cache_version("v", entries) == offline.cache_version("v", list(entries))


# ------------------------------------------------------------------------------------------------ manifests and icons

def test_each_language_has_a_manifest(out):
    for code, name in LANGUAGES.items():
        data = json.loads((out / code / "manifest.webmanifest").read_text(encoding="utf-8"))
        assert data["lang"] == code and data["dir"] == "ltr" and data["name"] == name
        assert data["start_url"] == f"/{code}/" and data["id"] == f"/{code}/" and data["scope"] == "/"
        assert data["display"] == "standalone" and len(data["short_name"]) <= 12
        assert data["theme_color"] == "#7aa6c2" and data["background_color"] == "#f3f9fd"
        kinds = {(i["sizes"], i["purpose"]) for i in data["icons"]}
        assert kinds == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
        for icon in data["icons"]:
            assert re.fullmatch(r"/assets/icon-[a-z0-9-]+\.[0-9a-f]{10}\.png", icon["src"]) and icon["type"] == "image/png"
            with Image.open(out / icon["src"][1:]) as im:
                assert im.format == "PNG" and f"{im.width}x{im.height}" == icon["sizes"]
                assert "icc_profile" not in im.info and "exif" not in im.info


def test_the_maskable_icon_is_opaque_to_its_edges(out):
    icon = next((out / "assets").glob("icon-maskable-512.*.png"))
    with Image.open(icon) as im:
        rgba = im.convert("RGBA")
    assert all(rgba.getpixel(xy)[3] == 255 for xy in [(0, 0), (511, 0), (0, 511), (511, 511), (256, 10)])


def test_the_theme_ships_its_source_icon():
    with Image.open(THEME / "static" / "icon.png") as im:
        assert im.size == (1024, 1024) and im.format == "PNG"


@pytest.mark.parametrize("title, short", [
    ("Winter Health", "Winter"),
    ("Health", "Health"),
    ("Harbin Winter Health", "Harbin"),
    ("Здоровье зимой в Харбине", "Здоровье"),
    ("哈尔滨冬季健康指南", "哈尔滨冬季健康指南"),
    ("하얼빈 겨울 건강 안내", "하얼빈 겨울 건강 안내"),
    ("Pneumonoultramicroscopic", "Pneumonoult…"),
    ("Care in a cold town", "Care"),
])
def test_short_names_fit_twelve_characters(title, short):
    assert offline.short_name(title) == short and len(short) <= 12


def test_a_theme_without_an_icon_gets_the_default_one():
    data = offline.draw_default_icon(256)
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (256, 256) and im.format == "PNG"
    assert offline.draw_default_icon(256) == data


# ------------------------------------------------------------------------------------------------ pages

def test_the_offline_page_speaks_the_language_of_its_folder(out):
    ru = Doc((out / "ru" / "offline.html").read_text(encoding="utf-8"))
    assert ru.one("html").get("lang") == "ru"
    assert ru.one("h1").text == OFFLINE_RU
    assert ru.one("meta", name="robots").get("content") == "noindex"
    assert [a.get("href") for a in ru.all("a") if (a.get("href") or "").startswith("tel:")][:2] == ["tel:103", "tel:112"]
    saved = [e for e in ru.elements if "data-hp-saved-pages" in e.attrs]
    assert len(saved) == 1 and "hidden" in saved[0].attrs and saved[0].tag == "section"
    en = Doc((out / "en" / "offline.html").read_text(encoding="utf-8"))
    assert en.one("h1").text == "You are offline" and en.one("html").get("lang") == "en"
    scripts = [s for s in en.all("script") if not s.get("src")]
    assert all(s.text.strip() in render.inline_scripts(ROOT, "harbin-ice").values() for s in scripts), \
        "no inline script but the theme's hashed ones"


def test_pages_load_the_script_and_their_manifest(out):
    page = Doc((out / "en/winter-health/frostbite/index.html").read_text(encoding="utf-8"))
    script = page.one("script", data_offline="on")
    assert re.fullmatch(r"/assets/offline\.[0-9a-f]{10}\.js", script.get("src")) and "defer" in script.attrs
    assert page.one("link", rel="manifest").get("href") == "/en/manifest.webmanifest"
    assert page.one("meta", name="theme-color", media="(prefers-color-scheme: light)").get("content") == "#7aa6c2"
    box = [e for e in page.elements if "data-hp-save" in e.attrs]
    assert len(box) == 1 and "hidden" in box[0].attrs and box[0].get("data-saved")
    status = page.one("p", role="status")
    assert status.get("aria-live") == "polite"
    assert page.one("button", type="button").text == "Save for offline"


@pytest.mark.skipif(not shutil.which("node"), reason="needs node to parse JavaScript")
def test_the_scripts_parse(out, tmp_path):
    import subprocess
    kill = tmp_path / "kill.js"
    kill.write_text(offline.kill_worker("/"), encoding="utf-8")
    for script in (out / "sw.js", kill, THEME / "static" / "offline.js"):
        found = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True)
        assert found.returncode == 0, f"{script.name}: {found.stderr}"


def test_the_script_has_no_settings_baked_in():
    text = (THEME / "static" / "offline.js").read_text(encoding="utf-8")
    assert "currentScript" in text and 'sw.register(base + "sw.js"' in text
    assert '"hp|" + base + "|"' in text and '"hp|" + HP.base + "|"' in offline.WORKER_JS, "the two agree on cache names"


# ------------------------------------------------------------------------------------------------ switches

def test_the_kill_switch_ships_a_worker_that_removes_itself(tmp_path):
    out = build_site(make_site(tmp_path / "site", mode="kill")).output
    text = (out / "sw.js").read_text(encoding="utf-8")
    assert "HP =" not in text and 'addEventListener("fetch"' not in text
    for needed in ("skipWaiting()", "clients.claim()", "caches.delete", "registration.unregister()"):
        assert needed in text
    assert not (out / "en" / "manifest.webmanifest").exists() and not (out / "en" / "offline.html").exists()
    page = Doc((out / "en/winter-health/frostbite/index.html").read_text(encoding="utf-8"))
    assert page.one("script", data_offline="kill")
    assert not page.all("link", rel="manifest") and not [e for e in page.elements if "data-hp-save" in e.attrs]


def test_switched_off_nothing_is_written(tmp_path):
    out = build_site(make_site(tmp_path / "site", mode="off")).output
    assert not (out / "sw.js").exists() and not list(out.rglob("*.webmanifest")) and not list(out.rglob("offline.html"))
    page = (out / "en/winter-health/frostbite/index.html").read_text(encoding="utf-8")
    assert "offline." not in page and 'rel="manifest"' not in page


def test_over_budget_is_a_warning(tmp_path):
    result = build_site(make_site(tmp_path / "site", budget_kb=1))
    warning = next(p for p in result.warnings if "precache_budget_kb" in p.message)
    assert warning.severity == "warning" and warning.file == "site.toml" and "KB" in warning.hint


def test_a_content_file_in_the_workers_place_is_an_error(tmp_path):
    root = make_site(tmp_path / "site")
    (root / "content" / "sw.js").write_text("// mine\n")
    with pytest.raises(BuildError) as info:
        build_site(root)
    assert any(p.file == "content/sw.js" for p in info.value.problems)


def test_offline_settings_come_from_site_toml(tmp_path):
    root = make_site(tmp_path / "site")
    (root / "art").mkdir()
    Image.new("RGB", (512, 512), "#7aa6c2").save(root / "art" / "icon.png")
    toml = (root / "site.toml").read_text(encoding="utf-8").replace("[offline]\nenabled = true", "[offline]\nenabled = true\n"
            'kill_switch = true\nicon = "art/icon.png"\nprecache_budget_kb = 300')
    (root / "site.toml").write_text(toml, encoding="utf-8")
    opts = config_mod.load(root).offline
    assert opts.mode == "kill" and opts.icon == root / "art/icon.png" and opts.precache_budget_kb == 300
    assert config_mod.Offline().mode == "on" and config_mod.Offline(enabled=False).mode == "off"


def test_a_new_icon_in_the_same_file_reaches_the_manifests_on_a_rebuild(tmp_path):
    root = make_site(tmp_path / "site")
    (root / "art").mkdir()
    Image.new("RGB", (512, 512), "#7aa6c2").save(root / "art" / "icon.png")
    with (root / "site.toml").open("a", encoding="utf-8") as f:
        f.write('icon = "art/icon.png"\n')
    build(root)
    Image.new("RGB", (512, 512), "#1b4f72").save(root / "art" / "icon.png")  # same name and size, new picture
    build(root)
    assert_same_tree(root / "public", build(root, tmp_path / "cold", use_cache=False).output)
