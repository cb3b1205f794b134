"""Images: responsive variants with Pillow, metadata stripped, cached by content hash.

Photos come from comms teams' phones: they carry GPS positions, camera serial numbers and editing history, they
are often 4000 pixels wide, rotated only by an EXIF flag, and sometimes not what their name says. `process`
opens them with only the decoder their extension promises, refuses decompression bombs, turns them upright,
converts them to sRGB, and writes small WebP/AVIF variants plus a JPEG or PNG fallback with no metadata at all.
"""
from __future__ import annotations

import hashlib
import html
import io
import json
import math
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import PIL
from PIL import Image, ImageCms, ImageColor, ImageOps, UnidentifiedImageError, features

from .errors import BuildError, Problem

VERSION = 1  # bump when the output of this module changes, so caches are redone
MAX_PIXELS = 64_000_000  # 8000 × 8000; Pillow's own guard (Image.MAX_IMAGE_PIXELS) stays as a second line
MAX_BYTES = 60 * 1024 * 1024
AVIF = features.check("avif")

# extension -> the one Pillow decoder allowed to read it (no guessing: a file is what its name says, or refused)
FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".gif": "GIF"}
if AVIF:
    FORMATS[".avif"] = "AVIF"
LOSSY = {"JPEG", "WEBP", "AVIF"}  # sources that are photographs: lossy variants are fine (and AVIF is worth it)
MIME = {"avif": "image/avif", "webp": "image/webp", "jpg": "image/jpeg", "png": "image/png"}
ENCODE = {  # format -> Pillow save options; every option that affects bytes goes into the cache key
    "jpg": ("JPEG", {"quality": 82, "optimize": True, "progressive": True}),
    "png": ("PNG", {"optimize": True}),
    "webp": ("WEBP", {"quality": 80, "method": 6}),
    "webp-lossless": ("WEBP", {"lossless": True, "quality": 80, "method": 4}),
    # AVIF's scale is not JPEG's: 60 looks like JPEG 80-85. One thread, so output never depends on the machine.
    "avif": ("AVIF", {"quality": 60, "speed": 6, "max_threads": 1}),
}
_SNIFF = ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "ICO"] + (["AVIF"] if AVIF else [])
_SETTINGS = json.dumps({"version": VERSION, "pillow": PIL.__version__, "avif": AVIF, "encode": ENCODE,
                        "max_pixels": MAX_PIXELS}, sort_keys=True).encode()


@dataclass
class Variants:
    """The files made from one image, and what a <picture> needs to offer them."""

    width: int = 0  # of the largest fallback
    height: int = 0
    sources: list[tuple[str, str]] = field(default_factory=list)  # (mime, srcset of names), AVIF first, then WebP
    fallback: str = ""  # the largest fallback file's name
    files: dict[str, bytes | Path] = field(default_factory=dict)  # name -> bytes, or a path in the cache to copy
    problems: list[Problem] = field(default_factory=list)
    bytes_before: int = 0  # the source file
    bytes_after: int = 0  # the largest file most browsers download (largest WebP, or fallback if no WebP)
    candidates: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # mime -> [(name, width)], fallback last

    @property
    def ok(self) -> bool:
        return bool(self.fallback) and not any(p.severity == "error" for p in self.problems)


class _Refused(Exception):
    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint


def plan_widths(original: int, widths=(320, 640, 960, 1280)) -> list[int]:  # noqa: ANN001 - any iterable of ints
    """The widths to make: every breakpoint narrower than the image, and the image's own width capped at the
    largest breakpoint; a breakpoint within 10% of that top width would be a near-copy, so it is skipped."""
    top = min(original, max(widths))
    return sorted({w for w in widths if 0 < w < top * 0.9} | {top})


def _sniff(data: bytes) -> str:
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        return "an SVG drawing"
    if head.startswith((b"<!doctype html", b"<html")):
        return "a web page"
    try:
        with Image.open(io.BytesIO(data), formats=_SNIFF) as im:
            return f"a {im.format} image"
    except Exception:  # noqa: BLE001 - anything unreadable is simply "not an image"
        return "not an image"


def _open(data: bytes, fmt: str, ext: str) -> Image.Image:
    """Decode with only the decoder the extension promises; refuse bombs, animations and broken files."""
    if len(data) > MAX_BYTES:
        raise _Refused(f"is {len(data) // (1024 * 1024)} MB, too big to publish", "save a smaller copy")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _Refused(f"is too many pixels to open safely ({error})",
                       "resize it to at most 8000 pixels wide") from None
    except UnidentifiedImageError:
        raise _Refused(f'is named "{ext}" but is {_sniff(data)}',
                       "save it again in the format its name says, or rename it to match") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise _Refused(f"could not be read as {fmt} ({error})", "open it and save it again") from None
    width, height = im.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise _Refused(f"is {width:,} × {height:,} pixels, more than the {MAX_PIXELS:,} that may be opened "
                       "(a decompression bomb, or a photo far bigger than a web page needs)",
                       "resize it to at most 4000 pixels wide before adding it")
    if getattr(im, "n_frames", 1) > 1:
        raise _Refused("is animated, and animations are not published as images",
                       "use a still image, or a short video with captions")
    try:
        im.load()
    except Image.DecompressionBombError as error:
        raise _Refused(f"is too many pixels to open safely ({error})", "resize it") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise _Refused(f"is damaged or cut short ({error})", "export it again") from None
    return im


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(im: Image.Image, problems: list[Problem], source: str) -> Image.Image:
    """Upright, in sRGB, in L/LA/RGB/RGBA, with no metadata left in .info."""
    im = ImageOps.exif_transpose(im)
    icc = im.info.get("icc_profile")
    if im.mode in ("P", "PA"):
        im = im.convert("RGBA" if im.has_transparency_data else "RGB")
    elif im.mode.startswith("I"):  # 16-bit greyscale: scale to 8 bits rather than clip
        sixteen = im.mode != "I" or im.getextrema()[1] > 255
        im = im.convert("I")
        im = (im.point(lambda v: v * (1 / 257)) if sixteen else im).convert("L")
    elif im.mode == "1":
        im = im.convert("L")
    if icc and im.mode not in ("L", "LA"):
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if "srgb" not in (ImageCms.getProfileDescription(profile) or "").lower():
                mode = "RGBA" if im.mode in ("RGBA", "LA", "PA") else "RGB"
                im = ImageCms.profileToProfile(im, profile, _SRGB, outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError) as error:
            problems.append(Problem(source, None, f"has a colour profile that could not be read ({error}); "
                                    "its colours may look a little different", "export it again in sRGB", "warning"))
    if im.mode not in ("L", "LA", "RGB", "RGBA"):  # CMYK, YCbCr, LAB, HSV, F...
        im = im.convert("RGBA" if im.has_transparency_data else "RGB")
    if im.mode in ("RGBA", "LA") and im.getchannel("A").getextrema() == (255, 255):
        im = im.convert(im.mode[:-1])  # an alpha channel that hides nothing only costs bytes
    im = im.copy() if im.info else im
    im.info = {}
    return im


def _encode(im: Image.Image, kind: str) -> bytes:
    fmt, options = ENCODE[kind]
    if fmt == "JPEG" and im.mode not in ("L", "RGB"):
        im = im.convert("RGB")
    im.info = {}  # nothing from the source may ride along (PNG and AVIF fall back to .info for the ICC profile)
    out = io.BytesIO()
    im.save(out, fmt, **options)
    return out.getvalue()


def _cache_key(data: bytes, widths: list[int]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(_SETTINGS)
    digest.update(json.dumps(widths).encode())
    digest.update(data)
    return digest.hexdigest()


def _manifest(data: bytes, rel: str, source: str, widths) -> dict:  # noqa: ANN001
    """Decode and encode everything: {"width", "height", "fallback": ext, "problems": [...],
    "formats": {ext: [[width, hash, bytes], ...]}} (the cache stores each file, and its size in place of bytes)."""
    ext = PurePosixPath(rel).suffix.lower()
    fmt = FORMATS[ext]
    problems: list[Problem] = []
    im = _to_srgb(_open(data, fmt, ext), problems, source)
    alpha = im.mode in ("LA", "RGBA")
    fallback = "jpg" if fmt == "JPEG" or (fmt in LOSSY and not alpha) else "png"
    kinds = {"fallback": fallback, "webp": "webp" if fmt in LOSSY else "webp-lossless"}
    if AVIF and fmt in LOSSY:
        kinds["avif"] = "avif"
    width, height = im.size
    encoded: dict[str, list[tuple[int, bytes]]] = {k: [] for k in kinds}
    for w in plan_widths(width, widths):
        h = max(1, round(height * w / width))
        resized = im if w == width else im.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=3.0)
        for name, kind in kinds.items():
            encoded[name].append((w, _encode(resized, kind)))
    # A narrower file that is no smaller than a wider one (lossless graphics: scaling adds colours) is worse than
    # letting the browser scale the wider one down: leave it out of that format's srcset.
    for name, files in encoded.items():
        kept = [files[-1]]
        for w, blob in reversed(files[:-1]):
            if len(blob) < len(kept[-1][1]):
                kept.append((w, blob))
        encoded[name] = kept[::-1]
    # A format no smaller than the one a browser would otherwise get only costs bytes: leave it out.
    largest = {name: len(files[-1][1]) for name, files in encoded.items()}
    if largest["webp"] >= largest["fallback"]:
        del encoded["webp"]
    if "avif" in encoded and largest["avif"] >= min(largest[n] for n in ("webp", "fallback") if n in encoded):
        del encoded["avif"]
    top = plan_widths(width, widths)[-1]
    return {
        "width": top, "height": max(1, round(height * top / width)),
        "formats": {(fallback if name == "fallback" else name): [
            [w, hashlib.blake2b(blob, digest_size=4).hexdigest(), blob] for w, blob in files]
            for name, files in encoded.items()},
        "fallback": fallback, "problems": problems,
    }


def _write_cache(entry: Path, manifest: dict) -> dict | None:
    """Store the files under cache_dir/KEY/, atomically (a half-written entry is never seen); None if we can't."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
        try:
            stored = {"width": manifest["width"], "height": manifest["height"], "fallback": manifest["fallback"],
                      "formats": {}, "problems": [vars(p) for p in manifest["problems"]]}
            for ext, files in manifest["formats"].items():
                stored["formats"][ext] = []
                for w, digest, blob in files:
                    (tmp / f"{w}w.{digest}.{ext}").write_bytes(blob)
                    stored["formats"][ext].append([w, digest, len(blob)])
            (tmp / "manifest.json").write_text(json.dumps(stored, sort_keys=True), encoding="utf-8")
            if entry.exists():  # damaged (we only write when reading it failed)
                shutil.rmtree(entry, ignore_errors=True)
            try:
                os.rename(tmp, entry)
            except OSError:  # another build stored it first: theirs is the same
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    except OSError:
        return None
    return _read_cache(entry)


def _read_cache(entry: Path) -> dict | None:
    try:
        stored = json.loads((entry / "manifest.json").read_text(encoding="utf-8"))
        for ext, files in stored["formats"].items():
            if ext not in MIME:
                return None
            for i, (w, digest, size) in enumerate(files):
                path = entry / f"{int(w)}w.{digest}.{ext}"
                if not digest.isalnum() or path.stat().st_size != size:
                    return None
                files[i] = [int(w), digest, path]
        stored["problems"] = [Problem(**p) for p in stored["problems"]]
        return stored
    except (OSError, ValueError, KeyError, TypeError):
        return None


def process(data: bytes, rel: str, cache_dir: Path, widths=(320, 640, 960, 1280),  # noqa: ANN001
            budget_kb: int = 300, *, source: str | None = None) -> Variants:
    """Make the responsive variants of one image. `rel` is its path in the output (e.g. "images/photo.jpg"):
    variants go beside it, named like images/photo.640w.3f9c2b1a.webp. `source` names it in problems
    (default "content/" + rel). Refused images give a Variants with an error Problem and no files."""
    source = source or f"content/{rel}"
    path = PurePosixPath(rel)
    variants = Variants(bytes_before=len(data))
    if path.is_absolute() or ".." in path.parts or not path.name or "\\" in rel:
        variants.problems.append(Problem(source, None, "has a path that leaves the site", "move it under content/"))
        return variants
    if path.suffix.lower() not in FORMATS:
        variants.problems.append(Problem(source, None, f'is not an image type the site publishes ("{path.suffix}")',
                                         "use " + ", ".join(sorted(FORMATS))))
        return variants
    entry = Path(cache_dir) / _cache_key(data, sorted(set(widths)))
    manifest = _read_cache(entry)
    if manifest is None:
        try:
            made = _manifest(data, rel, source, widths)
        except _Refused as refused:
            variants.problems.append(Problem(source, None, refused.message, refused.hint))
            return variants
        manifest = _write_cache(entry, made) or made
    return _variants(manifest, path, source, budget_kb, variants)


def _variants(manifest: dict, path: PurePosixPath, source: str, budget_kb: int, v: Variants) -> Variants:
    folder = "" if str(path.parent) == "." else f"{path.parent}/"
    formats = manifest["formats"]
    sizes: dict[str, int] = {}
    for ext in ("avif", "webp", manifest["fallback"]):
        if ext not in formats:
            continue
        entries = []
        for w, digest, stored in formats[ext]:
            name = f"{folder}{path.stem}.{w}w.{digest}.{ext}"
            v.files[name] = stored
            sizes[name] = stored.stat().st_size if isinstance(stored, Path) else len(stored)
            entries.append((name, w))
        v.candidates[MIME[ext]] = entries
        if ext != manifest["fallback"]:
            v.sources.append((MIME[ext], ", ".join(f"{quote(n)} {w}w" for n, w in entries)))
    v.fallback = v.candidates[MIME[manifest["fallback"]]][-1][0]
    v.width, v.height = manifest["width"], manifest["height"]
    v.problems += [Problem(source, p.line, p.message, p.hint, p.severity) for p in manifest["problems"]]
    baseline = v.candidates.get("image/webp") or v.candidates[MIME[manifest["fallback"]]]
    biggest = baseline[-1][0]
    v.bytes_after = sizes[biggest]
    if v.bytes_after > budget_kb * 1024:
        v.problems.append(Problem(
            source, None, f"{biggest} is {v.bytes_after / 1024:.0f} KB, over the {budget_kb} KB budget for one image",
            "crop it to what matters, or use a simpler picture: patients on slow connections wait for every KB",
            "warning"))
    return v


def picture_html(v: Variants, alt: str, url_prefix: str, lazy: bool,
                 sizes: str = "(min-width: 48rem) 46rem, 100vw") -> str:
    """<picture> offering AVIF, then WebP, then the fallback, at every width; `url_prefix` + a file's name is its
    URL (e.g. "/" + "images/photo.640w.3f9c2b1a.webp"). Everything is escaped; names are percent-encoded."""
    def url(name: str) -> str:
        return url_prefix + quote(name)

    def attr(value: str) -> str:
        return html.escape(value, quote=True)

    def srcset(entries: list[tuple[str, int]]) -> str:
        return attr(", ".join(f"{url(n)} {w}w" for n, w in entries))

    if not v.fallback:
        raise ValueError("picture_html needs variants that were made (check Variants.ok first)")
    parts = ["<picture>"]
    fallback_mime = next(m for m in v.candidates if m in ("image/jpeg", "image/png"))
    for mime, entries in v.candidates.items():
        if mime != fallback_mime:
            parts.append(f'<source type="{mime}" srcset="{srcset(entries)}" sizes="{attr(sizes)}">')
    parts.append(f'<img src="{attr(url(v.fallback))}" srcset="{srcset(v.candidates[fallback_mime])}" '
                 f'sizes="{attr(sizes)}" alt="{attr(alt)}" width="{int(v.width)}" height="{int(v.height)}" '
                 f'loading="{"lazy" if lazy else "eager"}" decoding="async">')
    parts.append("</picture>")
    return "".join(parts)


# PWA icons ------------------------------------------------------------------------------------------------------

ICON_SIZES = {"icon-192.png": (192, False), "icon-512.png": (512, False), "icon-maskable-512.png": (512, True)}


def icons(source: bytes, cache_dir: Path, background: str = "#ffffff", *,
          name: str = "the app icon") -> dict[str, bytes]:
    """PWA icons from one PNG or JPEG at least 512 × 512: 192 and 512 ("purpose": "any", the picture centred on a
    transparent square) and a maskable 512 (on `background`, inside the 80% circle that every mask keeps).
    Raises BuildError naming `name` for anything else (SVG included: Pillow cannot draw SVG)."""
    try:
        colour = ImageColor.getrgb(background)[:3]
    except ValueError:
        raise BuildError([Problem(name, None, f'has a background colour Pillow does not understand: "{background}"',
                                  'use a colour like "#1a5276"')]) from None
    key = hashlib.blake2b(_SETTINGS + repr(colour).encode() + source, digest_size=16).hexdigest()
    entry = Path(cache_dir) / f"icons-{key}"
    try:
        return {n: (entry / n).read_bytes() for n in ICON_SIZES}
    except OSError:
        pass
    made = _make_icons(source, colour, name)
    try:
        entry.mkdir(parents=True, exist_ok=True)
        for n, blob in made.items():
            tmp = entry / f".{n}.{os.getpid()}"
            tmp.write_bytes(blob)
            os.replace(tmp, entry / n)
    except OSError:
        pass
    return made


def _make_icons(source: bytes, colour: tuple[int, int, int], name: str) -> dict[str, bytes]:
    def refuse(message: str, hint: str) -> BuildError:
        return BuildError([Problem(name, None, message, hint)])

    head = source[:1024].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        raise refuse("is an SVG, and app icons are made from a PNG or JPEG (Pillow cannot draw SVG)",
                     "export the icon from your drawing program as a PNG of 512 × 512 pixels or more")
    try:
        with Image.open(io.BytesIO(source), formats=["PNG", "JPEG"]) as probe:
            fmt = probe.format
    except Exception:  # noqa: BLE001 - whatever it is, it is not a PNG or JPEG
        raise refuse(f"is {_sniff(source)}, and app icons are made from a PNG or JPEG",
                     "use a PNG or JPEG of 512 × 512 pixels or more") from None
    try:
        im = _open(source, fmt, "." + fmt.lower())
    except _Refused as refused:
        raise refuse(refused.message, refused.hint) from None
    im = _to_srgb(im, [], name).convert("RGBA")
    if min(im.size) < 512:
        raise refuse(f"is {im.width} × {im.height} pixels; app icons need at least 512 × 512",
                     "export it bigger: a small picture scaled up looks blurred")
    content = im.crop(im.getchannel("A").getbbox() or (0, 0, *im.size))
    out = {}
    for filename, (size, maskable) in ICON_SIZES.items():
        canvas = Image.new("RGBA", (size, size), (*colour, 255) if maskable else (0, 0, 0, 0))
        scale = min(size / content.width, size / content.height)
        if maskable:
            scale *= _safe_zone_scale(content)
        w, h = max(1, round(content.width * scale)), max(1, round(content.height * scale))
        picture = content.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=3.0)
        canvas.alpha_composite(picture, ((size - w) // 2, (size - h) // 2))
        if maskable:
            canvas = canvas.convert("RGB")
        canvas.info = {}
        buf = io.BytesIO()
        canvas.save(buf, "PNG", optimize=True)
        out[filename] = buf.getvalue()
    return out


def _safe_zone_scale(content: Image.Image) -> float:
    """How much to shrink content that fills the icon so every visible pixel lies within the maskable safe zone
    (a circle of radius 40% of the icon): a round logo stays big, a square one is shrunk to fit its corners."""
    grid = 128
    alpha = content.getchannel("A").resize((grid, grid), Image.Resampling.BOX).tobytes()
    fit = min(1.0 / content.width, 1.0 / content.height)  # content scaled to fit a unit square
    half_w, half_h = content.width * fit / 2, content.height * fit / 2
    # distance from the centre to a cell's far edge, per column and per row, in unit-square terms
    far = [max(abs(i / grid * 2 - 1), abs((i + 1) / grid * 2 - 1)) for i in range(grid)]
    visible = re.compile(rb"[\x09-\xff]")  # alpha > 8
    reach = 0.0
    for y in range(grid):
        row = alpha[y * grid:(y + 1) * grid]
        if first := visible.search(row):
            last = grid - 1 - visible.search(row[::-1]).start()  # the widest cells are the outermost ones
            dx = max(far[first.start()], far[last]) * half_w
            reach = max(reach, math.hypot(dx, far[y] * half_h))
    return min(1.0, 0.4 / reach) if reach else 1.0
