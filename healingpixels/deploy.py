"""Deployment: the headers a host should send (caching, CSP, security), as a _headers file and an nginx snippet."""
from __future__ import annotations

from urllib.parse import urlsplit

from .config import Config
from .render import content_security_policy

SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"
YEAR = "public, max-age=31536000, immutable"  # fingerprinted: a new name whenever the bytes change
REVALIDATE = "no-cache"  # the service worker and pages: always ask, so a deploy is seen at once


def security_headers(config: Config) -> dict[str, str]:
    """Sent with every response. The header CSP adds what a <meta> CSP cannot say (frame-ancestors)."""
    headers = {
        "Content-Security-Policy": content_security_policy(config.root, config.theme) + "; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if urlsplit(config.base_url).scheme == "https":
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


def rules(config: Config) -> list[tuple[str, dict[str, str]]]:
    """(path pattern, headers); the first applies to every path. Pages keep the hosts' default of revalidating
    (setting Cache-Control on every path too would be merged into the assets' own by these hosts)."""
    base = config.base_path
    return [
        (f"{base}*", security_headers(config)),
        (f"{base}assets/*", {"Cache-Control": YEAR}),
        (f"{base}sw.js", {"Cache-Control": REVALIDATE}),
        # An SVG opened on its own is a document: it must never run script, whatever it contains. Browsers
        # enforce both policies a response has, so this narrows the site-wide one.
        (f"{base}images/*", {"Content-Security-Policy": SVG_CSP}),
    ]


def netlify_headers(config: Config) -> str:
    """_headers for Netlify and Cloudflare Pages (they merge the headers of every pattern a path matches)."""
    lines = ["# Made by healingpixels build: the headers this site needs. Netlify and Cloudflare Pages read this file."]
    for pattern, headers in rules(config):
        lines.append(pattern)
        lines += [f"  {name}: {value}" for name, value in headers.items()]
    return "\n".join(lines) + "\n"


def nginx_snippet(config: Config) -> str:
    """For a server { } block whose root is the built site. nginx drops outer add_header lines in a location that
    has its own, so every location repeats the security headers."""
    base = config.base_path
    common = security_headers(config)

    def block(headers: dict[str, str], indent: str) -> list[str]:
        return [f'{indent}add_header {name} "{value}" always;' for name, value in headers.items()]

    lines = [
        "# Made by healingpixels build. Include inside your server { } block, with root set to the built site.",
        "gzip_static on;     # serve the .gz files the build wrote",
        "# brotli_static on; # the same for .br, with the ngx_brotli module",
        "charset utf-8;",
        f"error_page 404 {base}404.html;",
        f"location {base}assets/ {{",
        *block(common | {"Cache-Control": YEAR}, "    "),
        "}",
        f"location = {base}sw.js {{",
        *block(common | {"Cache-Control": REVALIDATE}, "    "),
        "}",
        "location ~* \\.svg$ {",
        *block(common | {"Content-Security-Policy": SVG_CSP}, "    "),
        "}",
        f"location {base} {{",
        "    try_files $uri $uri/index.html =404;",
        *block(common | {"Cache-Control": REVALIDATE}, "    "),
        "}",
    ]
    return "\n".join(lines) + "\n"
