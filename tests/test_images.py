"""Responsive images: no metadata leaves, nothing is upscaled, output is deterministic and cached, bad files refused."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from unittest import mock

import pytest
from PIL import Image, ImageCms, ImageDraw, ImageFilter

from healingpixels import images
from healingpixels.errors import BuildError

WIDTHS = (160, 320, 1280)  # small, so the tests stay fast
SECRETS = (b"HP-SECRET-CAMERA", b"HP-SECRET-XMP", b"HP-SECRET-COMMENT", b"Exif", b"GPS", b"http://ns.adobe.com")


def photo(width: int, height: int) -> Image.Image:
    """Smooth gradients, like a photo of sky and snow (compresses like one, unlike noise)."""
    radial = Image.radial_gradient("L").resize((width, height))
    linear = Image.linear_gradient("L").resize((width, height))
    return Image.merge("RGB", (radial, linear, radial.transpose(Image.Transpose.FLIP_LEFT_RIGHT))).filter(
        ImageFilter.GaussianBlur(2))


@pytest.fixture(scope="module")
def phone_jpeg() -> bytes:
    """A 480 × 360 JPEG as a phone saves it: GPS position, camera make, XMP, a comment, an sRGB profile, and
    rotated by an EXIF flag (6: turn 90° clockwise to view) rather than in its pixels."""
    exif = Image.Exif()
    exif[0x010F] = "HP-SECRET-CAMERA"  # Make
    exif[0x0112] = 6  # Orientation
    exif[0x8825] = {1: "N", 2: (59.0, 56.0, 12.5), 3: "E", 4: (30.0, 18.0, 55.1)}  # GPSInfo: where the patient lives
    out = io.BytesIO()
    photo(480, 360).save(out, "JPEG", quality=95, exif=exif.tobytes(), comment=b"HP-SECRET-COMMENT",
                         icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    xmp = b'http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x="adobe:ns:meta/">HP-SECRET-XMP</x:xmpmeta>'
    data = out.getvalue()[:2] + b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp + out.getvalue()[2:]
    with Image.open(io.BytesIO(data)) as check:  # the fixture really carries what we claim it does
        assert check.getexif().get_ifd(0x8825)[2] == (59.0, 56.0, 12.5)
        assert b"HP-SECRET-XMP" in data and b"Exif" in data and check.info.get("icc_profile")
    return data


@pytest.fixture(scope="module")
def processed(phone_jpeg, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return images.process(phone_jpeg, "images/winter walk, 1.jpg", cache, widths=WIDTHS), cache


def read(stored) -> bytes:
    return stored.read_bytes() if isinstance(stored, Path) else stored


def test_no_metadata_survives(processed):
    variants, _ = processed
    assert variants.ok and variants.files
    for name, stored in variants.files.items():
        data = read(stored)
        for secret in SECRETS:
            assert secret not in data, (name, secret)
        with Image.open(io.BytesIO(data)) as im:
            assert not im.getexif(), name
            assert "icc_profile" not in im.info and "exif" not in im.info and "xmp" not in im.info, name
            assert "comment" not in im.info, name


def test_upright_never_upscaled_and_sized(processed):
    variants, _ = processed
    assert (variants.width, variants.height) == (360, 480)  # the EXIF rotation was applied, then dropped
    widths = []
    for name, stored in variants.files.items():
        with Image.open(io.BytesIO(read(stored))) as im:
            assert im.width <= 360
            assert f".{im.width}w." in name
            assert abs(im.height - im.width * 480 / 360) <= 1
            widths.append(im.width)
    assert sorted(set(widths)) == [160, 320, 360]
    assert variants.fallback.startswith("images/winter walk, 1.360w.") and variants.fallback.endswith(".jpg")
    with Image.open(io.BytesIO(read(variants.files[variants.fallback]))) as im:
        assert im.format == "JPEG" and im.size == (360, 480) and im.info.get("progressive")


def test_sources_webp_and_avif_first(processed):
    variants, _ = processed
    mimes = [mime for mime, _ in variants.sources]
    assert "image/webp" in mimes
    if images.AVIF and "image/avif" in mimes:
        assert mimes.index("image/avif") < mimes.index("image/webp")
    webp = dict(variants.sources)["image/webp"]
    assert webp.startswith("images/winter%20walk%2C%201.160w.") and webp.endswith(".webp 360w")
    for name in variants.files:
        assert name.rsplit(".", 2)[-2].isalnum() and len(name.rsplit(".", 2)[-2]) == 8  # content hash in the name
    assert variants.bytes_before > variants.bytes_after > 0


def test_output_is_deterministic(phone_jpeg, processed, tmp_path):
    first, _ = processed
    again = images.process(phone_jpeg, "images/winter walk, 1.jpg", tmp_path, widths=WIDTHS)
    assert list(again.files) == list(first.files)
    for name in first.files:
        assert read(again.files[name]) == read(first.files[name]), name


def test_second_build_uses_the_cache(phone_jpeg, processed):
    first, cache = processed
    with mock.patch.object(images.Image, "open", side_effect=AssertionError("decoded again")) as opened:
        again = images.process(phone_jpeg, "images/winter walk, 1.jpg", cache, widths=WIDTHS)
    assert opened.call_count == 0
    assert again.files == first.files and all(isinstance(p, Path) for p in again.files.values())
    renamed = images.process(phone_jpeg, "photos/snow.jpg", cache, widths=WIDTHS)  # same bytes, new name: no work
    assert renamed.fallback.startswith("photos/snow.360w.") and renamed.ok


def test_over_budget_is_a_warning(phone_jpeg, processed):
    _, cache = processed
    variants = images.process(phone_jpeg, "images/big.jpg", cache, widths=WIDTHS, budget_kb=1)
    (problem,) = variants.problems
    assert problem.severity == "warning" and problem.file == "content/images/big.jpg"
    assert "KB, over the 1 KB budget" in problem.message and "images/big.360w." in problem.message
    assert variants.ok  # a warning: --strict makes it an error


def test_picture_html_is_escaped(processed):
    variants, _ = processed
    markup = images.picture_html(variants, 'Snow "drift" <b>', "/base/", lazy=True)
    assert markup.startswith("<picture><source type=") and markup.endswith("></picture>")
    assert 'alt="Snow &quot;drift&quot; &lt;b&gt;"' in markup and "<b>" not in markup
    assert 'width="360" height="480" loading="lazy" decoding="async"' in markup
    assert 'src="/base/images/winter%20walk%2C%201.360w.' in markup
    assert 'sizes="(min-width: 48rem) 46rem, 100vw"' in markup
    assert 'loading="eager"' in images.picture_html(variants, "", "/", lazy=False)


def png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(9_000, 9_000), (12_000, 12_000), (100_000, 100_000)],
                         ids=["over our limit", "over Pillow's warning", "over Pillow's error"])
def test_decompression_bomb_is_refused(size, tmp_path):
    variants = images.process(png_header(*size), "images/bomb.png", tmp_path)
    assert not variants.ok and not variants.files
    (problem,) = variants.problems
    assert problem.severity == "error" and problem.file == "content/images/bomb.png"
    assert "pixels" in problem.message


def test_wrong_extension_is_refused(tmp_path):
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    cases = {"images/photo.jpg": (png.getvalue(), "a PNG image"),
             "images/chart.png": (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "an SVG"),
             "images/page.webp": (b"<!doctype html><p>hi", "a web page"),
             "images/notes.gif": (b"hello", "not an image"),
             "images/script.js": (b"alert(1)", "not an image type")}
    for rel, (data, words) in cases.items():
        (problem,) = images.process(data, rel, tmp_path).problems
        assert problem.severity == "error" and words in problem.message, (rel, problem)
    (problem,) = images.process(png.getvalue(), "../../etc/x.png", tmp_path).problems
    assert "leaves the site" in problem.message


def test_animation_is_refused(tmp_path):
    gif = io.BytesIO()
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "green", "blue")]
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    (problem,) = images.process(gif.getvalue(), "images/spin.gif", tmp_path).problems
    assert "animated" in problem.message


def test_graphics_stay_lossless_with_alpha(tmp_path):
    chart = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    ImageDraw.Draw(chart).rectangle((50, 50, 350, 250), fill=(26, 82, 118, 255))
    data = io.BytesIO()
    chart.save(data, "PNG")
    variants = images.process(data.getvalue(), "chart.png", tmp_path, widths=WIDTHS)
    assert variants.ok and variants.fallback.startswith("chart.400w.") and variants.fallback.endswith(".png")
    assert [m for m, _ in variants.sources] in (["image/webp"], [])  # no AVIF for lossless pictures
    with Image.open(io.BytesIO(read(variants.files[variants.fallback]))) as im:
        assert im.mode == "RGBA" and im.getpixel((0, 0))[3] == 0 and im.getpixel((200, 150)) == (26, 82, 118, 255)
    for mime, entries in variants.candidates.items():  # no narrower file bigger than a wider one of its format
        sizes = [len(read(variants.files[name])) for name, _ in entries]
        assert sizes == sorted(sizes), mime


def test_pwa_icons(tmp_path):
    logo = Image.new("RGBA", (600, 600), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((0, 0, 599, 599), fill=(200, 30, 30, 255))
    source = io.BytesIO()
    logo.save(source, "PNG")
    made = images.icons(source.getvalue(), tmp_path, "#1a5276")
    assert set(made) == {"icon-192.png", "icon-512.png", "icon-maskable-512.png"}
    sizes = {name: Image.open(io.BytesIO(data)).size for name, data in made.items()}
    assert sizes == {"icon-192.png": (192, 192), "icon-512.png": (512, 512), "icon-maskable-512.png": (512, 512)}
    maskable = Image.open(io.BytesIO(made["icon-maskable-512.png"])).convert("RGB")
    assert maskable.getpixel((0, 0)) == (26, 82, 118)  # solid background where masks may cut
    assert maskable.getpixel((256, 256)) == (200, 30, 30)
    assert maskable.getpixel((256, 256 - 196)) == (200, 30, 30)  # a round logo fills the 80% safe circle...
    assert maskable.getpixel((256, 256 - 210)) == (26, 82, 118)  # ...and no more
    assert Image.open(io.BytesIO(made["icon-512.png"])).getpixel((0, 0))[3] == 0
    with mock.patch.object(images, "_make_icons", side_effect=AssertionError("made again")):
        assert images.icons(source.getvalue(), tmp_path, "#1a5276") == made  # cached, and the same bytes
    assert images.icons(source.getvalue(), tmp_path / "other", "#1a5276") == made  # deterministic

    for bad, words in [(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "is an SVG"), (b"GIF89a....", "PNG or JPEG")]:
        with pytest.raises(BuildError, match=words):
            images.icons(bad, tmp_path, name="content/icon.svg")
    small = io.BytesIO()
    Image.new("RGB", (100, 100)).save(small, "PNG")
    with pytest.raises(BuildError, match="at least 512"):
        images.icons(small.getvalue(), tmp_path)


def rgb_profile(description: bytes, columns: list[tuple[float, float, float]], gamma: float = 2.2) -> bytes:
    """A minimal ICC v2 display profile (matrix + gamma), like the Display P3 one iPhones put in every photo."""
    def s15(*values: float) -> bytes:
        return b"".join(struct.pack(">i", round(v * 65536)) for v in values)

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    text = b"desc\0\0\0\0" + struct.pack(">I", len(description) + 1) + description + b"\0" + b"\0" * 8 + b"\0" * 70
    tags = [(b"desc", text), (b"wtpt", b"XYZ \0\0\0\0" + s15(0.9642, 1.0, 0.8249)),
            (b"rXYZ", b"XYZ \0\0\0\0" + s15(*columns[0])), (b"gXYZ", b"XYZ \0\0\0\0" + s15(*columns[1])),
            (b"bXYZ", b"XYZ \0\0\0\0" + s15(*columns[2])),
            (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve), (b"cprt", b"text\0\0\0\0none\0\0\0\0")]
    offset, table, body = 128 + 4 + 12 * len(tags), b"", b""
    for signature, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"\0" * 4 + b"\x02\x10\0\0" + b"mntrRGB XYZ " + b"\0" * 12 + b"acsp"
              + b"\0" * 24 + b"\0\0\0\0" + s15(0.9642, 1.0, 0.8249) + b"\0" * 48)
    return header + struct.pack(">I", len(tags)) + table + body


DISPLAY_P3 = rgb_profile(b"Display P3 (test)", [(0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419),
                                                (0.1571, 0.0666, 0.7841)])


def test_wide_gamut_photos_are_converted_to_srgb(tmp_path):
    source = io.BytesIO()
    Image.new("RGB", (64, 48), (60, 170, 90)).save(source, "JPEG", quality=100, subsampling=0,
                                                     icc_profile=DISPLAY_P3)
    variants = images.process(source.getvalue(), "p3.jpg", tmp_path, widths=WIDTHS)
    assert variants.ok and variants.problems == []
    with Image.open(io.BytesIO(read(variants.files[variants.fallback]))) as im:
        assert "icc_profile" not in im.info
        red, green, blue = im.getpixel((32, 24))
    # P3 (60, 170, 90) is a green sRGB can only just say, as (0, 174, 79): browsers show the converted one
    assert red < 20 and abs(green - 174) <= 4 and abs(blue - 79) <= 4


@pytest.mark.parametrize("mode, fmt, ext, want", [
    ("CMYK", "JPEG", ".jpg", "RGB"), ("I;16", "PNG", ".png", "L"), ("P", "PNG", ".png", "RGBA"),
    ("LA", "PNG", ".png", "LA"), ("RGBA", "PNG", ".png", "RGB"),
])
def test_unusual_modes_become_web_modes(mode, fmt, ext, want, tmp_path):
    if mode == "P":
        im = Image.new("P", (40, 30), 1)
        im.putpalette([0, 0, 0, 200, 30, 30])
        im.info["transparency"] = 0
        ImageDraw.Draw(im).rectangle((0, 0, 9, 9), fill=0)
    elif mode == "LA":
        im = Image.new("LA", (40, 30), (128, 255))
        ImageDraw.Draw(im).rectangle((0, 0, 9, 9), fill=(0, 0))
    elif mode == "I;16":
        im = Image.new("I;16", (40, 30), 65535)
    else:
        im = Image.new(mode, (40, 30), (10, 20, 30, 255) if mode != "CMYK" else (0, 100, 200, 0))
    data = io.BytesIO()
    im.save(data, fmt)
    variants = images.process(data.getvalue(), "odd" + ext, tmp_path, widths=WIDTHS)
    assert variants.ok, variants.problems
    with Image.open(io.BytesIO(read(variants.files[variants.fallback]))) as out:
        assert out.mode == want
        if mode == "I;16":
            assert out.getpixel((5, 5)) == 255  # scaled to 8 bits, not clipped to black or wrapped
