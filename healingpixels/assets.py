"""Assets: the theme's CSS (tokens, theme and components in one file), its static files, and the site's own files."""
from __future__ import annotations

import hashlib
from pathlib import Path

from . import tokens
from .config import Config
from .content import CONTENT, Site
from .errors import Problem
from .output import Staging
from .render import component_dirs, theme_dirs


def fingerprinted(name: str, data: bytes) -> str:
    """theme.css -> theme.3f9c2b1a7e.css: a new name whenever the bytes change, so browsers may cache it for ever."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{hashlib.blake2b(data, digest_size=5).hexdigest()}{dot}{ext}"


def stylesheet(config: Config, token_set: tokens.TokenSet) -> bytes:
    parts = [tokens.to_css(token_set)]
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
    return "\n".join(p.strip() for p in parts).encode() + b"\n"


def load_tokens(config: Config) -> tuple[tokens.TokenSet, list[Problem]]:
    theme = theme_dirs(config.root, config.theme)
    return (token_set := tokens.load(theme[0], config.tokens, config.root)), tokens.check(token_set)


def publish(site: Site, staging: Staging, token_set: tokens.TokenSet) -> dict[str, str]:
    """Write the theme's assets under assets/ with fingerprinted names and copy the site's files; return name -> URL."""
    config = site.config
    urls = {}
    css = stylesheet(config, token_set)
    name = fingerprinted("theme.css", css)
    staging.write(f"assets/{name}", css)
    urls["theme.css"] = f"{config.base_path}assets/{name}"
    static_dirs = [d / "static" for d in reversed(theme_dirs(config.root, config.theme)) if (d / "static").is_dir()]
    files: dict[str, Path] = {}
    for folder in static_dirs:  # the site's copy of the theme overrides the built-in one, file by file
        for path in folder.rglob("*"):
            if path.is_file() and path.name != "theme.css" and not path.name.startswith("."):
                files[path.relative_to(folder).as_posix()] = path
    for rel, path in sorted(files.items()):
        data = path.read_bytes()
        name = fingerprinted(rel, data)
        staging.write(f"assets/{name}", data)
        urls[rel] = f"{config.base_path}assets/{name}"
    for rel in site.files:
        staging.copy(config.root / CONTENT / rel, rel)
    return urls
