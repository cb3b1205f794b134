"""Assets: the theme's CSS (tokens, theme and components in one file), its static files, and the site's own files."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import images, minify, svg, tokens, webfont
from .config import Config
from .content import CONTENT, Site, digest
from .errors import Problem
from .output import Staging
from .render import component_dirs, theme_dirs

# What may be published from content/: pictures, documents, captions and media. Anything else (HTML, scripts,
# styles) could carry code past the Markdown sanitiser, so it is refused.
RASTER = frozenset(images.FORMATS)
PUBLISHED = RASTER | {".svg", ".pdf", ".vtt", ".mp4", ".webm", ".mp3", ".m4a", ".txt", ".csv", ".ico"}


@dataclass
class Published:
    urls: dict[str, str] = field(default_factory=dict)  # theme asset name ("theme.css") -> URL
    pictures: dict[str, dict] = field(default_factory=dict)  # URL of a content image -> what its <img> needs
    problems: list[Problem] = field(default_factory=list)
    bytes_saved: int = 0
    fonts: list[tuple[str, int, int]] = field(default_factory=list)  # web font: (file as named, bytes, WOFF2 bytes)
    svgs: dict[tuple[str, str], svg.CleanResult] = field(default_factory=dict)  # (source, digest) -> cleaned


def fingerprinted(name: str, data: bytes) -> str:
    """theme.css -> theme.3f9c2b1a7e.css: a new name whenever the bytes change, so browsers may cache it for ever."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{hashlib.blake2b(data, digest_size=5).hexdigest()}{dot}{ext}"


def stylesheet(config: Config, token_set: tokens.TokenSet, font_faces: list[str] | tuple = ()) -> bytes:
    parts = [*font_faces, tokens.to_css(token_set)]
    theme_css = next((d / "static" / "theme.css" for d in theme_dirs(config.root, config.theme)
                      if (d / "static" / "theme.css").is_file()), None)
    if theme_css:
        parts.append(theme_css.read_text(encoding="utf-8"))
    seen = set()
    for root in component_dirs(config.root):
        for css in sorted(root.glob("*/style.css")):
            if css.parent.name not in seen:
                seen.add(css.parent.name)
                parts.append(css.read_text(encoding="utf-8"))
    return minify.css("\n".join(parts)).encode()


def load_tokens(config: Config) -> tuple[tokens.TokenSet, list[Problem]]:
    """The theme's tokens (from the site's copy of the theme when it has its own tokens.json), with overrides."""
    themes = theme_dirs(config.root, config.theme)
    theme = next((d for d in themes if (d / "tokens.json").is_file()), themes[0])
    return (token_set := tokens.load(theme, config.tokens, config.root)), tokens.check(token_set)


def write(staging: Staging, rel: str, data: bytes, precompress: bool, brotli_quality: int = 11) -> None:
    """A file and, where it pays, its .gz and .br siblings for servers that send precompressed files."""
    staging.write(rel, data)
    if precompress:
        for name, blob in minify.siblings(rel, data, brotli_quality).items():
            staging.write(name, blob)


def reuse(staging: Staging, rel: str, precompress: bool) -> bool:
    """Keep a file of the previous build, with its precompressed siblings when it has them; False when it has none."""
    if not staging.reuse(rel):
        return False
    if precompress:
        for ext in (".gz", ".br"):
            staging.reuse(rel + ext)
    return True


def _fingerprinted(staging: Staging, rel: str, data: bytes, precompress: bool) -> None:
    """A file named by a hash of its bytes: an update keeps the one it has (its brotli copy took long to make)."""
    if not reuse(staging, rel, precompress):
        write(staging, rel, data, precompress)


def publish(site: Site, staging: Staging, token_set: tokens.TokenSet, cache_dir: Path,
            svgs: dict | None = None) -> Published:
    """Write the theme's assets under assets/ with fingerprinted names and the site's files, optimised.
    SVGS: the previous build's Published.svgs, so that an unchanged SVG is not cleaned again."""
    config = site.config
    out = Published()
    css = stylesheet(config, token_set, _webfont(site, staging, token_set, cache_dir, out))
    name = fingerprinted("theme.css", css)
    _fingerprinted(staging, f"assets/{name}", css, config.precompress_assets)
    out.urls["theme.css"] = f"{config.base_path}assets/{name}"
    static_dirs = [d / "static" for d in reversed(theme_dirs(config.root, config.theme)) if (d / "static").is_dir()]
    files: dict[str, Path] = {}
    for folder in static_dirs:  # the site's copy of the theme overrides the built-in one, file by file
        for path in folder.rglob("*"):
            if path.is_file() and path.name != "theme.css" and not path.name.startswith("."):
                files[path.relative_to(folder).as_posix()] = path
    for rel, path in sorted(files.items()):
        data = path.read_bytes()
        if rel.endswith(".js"):
            data = minify.js(data.decode("utf-8")).encode()
        name = fingerprinted(rel, data)
        _fingerprinted(staging, f"assets/{name}", data, config.precompress_assets)
        out.urls[rel] = f"{config.base_path}assets/{name}"
    for rel in site.files:
        _content_file(site, staging, rel, cache_dir, out, svgs or {})
    return out


def _webfont(site: Site, staging: Staging, token_set: tokens.TokenSet, cache_dir: Path, out: Published) -> list[str]:
    """The site's web font, when its tokens name one: each face subset and written under assets/; its @font-face rules."""
    if token_set.webfont is None:
        return []
    made, problems = webfont.subsets(site, token_set.webfont, cache_dir)
    out.problems += problems
    rules = []
    for sub in made:
        name = fingerprinted(sub.name, sub.data)
        write(staging, f"assets/{name}", sub.data, site.config.precompress_assets)  # WOFF2 is compressed: no siblings
        out.urls[f"fonts/{sub.name}"] = f"{site.config.base_path}assets/{name}"
        out.fonts.append((sub.face.name, sub.before, len(sub.data)))
        rules.append(webfont.font_face(token_set.webfont, sub, name))
    return rules


def _content_file(site: Site, staging: Staging, rel: str, cache_dir: Path, out: Published, svgs: dict) -> None:
    config = site.config
    source = f"{CONTENT}/{rel}"
    ext = PurePosixPath(rel).suffix.lower()
    url = config.base_path + rel
    if ext not in PUBLISHED:
        out.problems.append(Problem(source, None, f'"{ext or rel}" files are not published',
                                    "publish pictures, PDFs, captions (.vtt) or media; pages are written in Markdown"))
        return
    data = (config.root / source).read_bytes()
    if ext == ".svg":
        key = (source, digest(data))
        result = out.svgs[key] = svgs.get(key) or svg.clean(data, source)
        out.problems += result.problems
        if result.ok:
            write(staging, rel, result.data, config.precompress_assets)
            out.bytes_saved += result.saved
            if result.size:
                out.pictures[url] = {"width": round(result.size[0]), "height": round(result.size[1])}
    elif ext in RASTER:
        variants = images.process(data, rel, cache_dir / "images", budget_kb=config.image_budget_kb, source=source)
        out.problems += variants.problems
        if variants.ok:
            for name, blob in sorted(variants.files.items()):
                staging.write(name, blob) if isinstance(blob, bytes) else staging.copy(blob, name)
            if PurePosixPath(variants.fallback).suffix == ext:  # the plain name still works, without metadata
                blob = variants.files[variants.fallback]
                staging.write(rel, blob) if isinstance(blob, bytes) else staging.copy(blob, rel)
            out.bytes_saved += max(0, variants.bytes_before - variants.bytes_after)
            out.pictures[url] = {"variants": variants}
    else:
        staging.copy(config.root / source, rel)
