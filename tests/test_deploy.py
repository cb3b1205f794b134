"""The headers a host should send: the _headers file the build writes, and the nginx snippet."""
import re

from click.testing import CliRunner

from healingpixels import config as config_mod, deploy
from healingpixels.cli import main


def test_the_build_writes_headers_with_the_pages_csp_and_long_caching_for_assets(built):
    headers = (built / "_headers").read_text(encoding="utf-8")
    blocks = dict(re.findall(r"^(/\S*)\n((?:  .+\n)+)", headers, re.M))
    everywhere = dict(line.strip().split(": ", 1) for line in blocks["/*"].splitlines())
    page = (built / "en" / "index.html").read_text(encoding="utf-8")
    csp = everywhere["Content-Security-Policy"]
    assert csp.endswith("; frame-ancestors 'none'")
    assert csp.removesuffix("; frame-ancestors 'none'") in page.replace("&#39;", "'")  # the same policy as the page's
    assert everywhere["X-Content-Type-Options"] == "nosniff" and everywhere["Referrer-Policy"] == "no-referrer"
    assert "Cache-Control: public, max-age=31536000, immutable" in blocks["/assets/*"]
    assert "Cache-Control" not in blocks["/*"], "hosts merge headers: pages keep their default of revalidating"
    assert "default-src 'none'" in blocks["/images/*"]


def test_nginx_repeats_the_security_headers_in_every_location(site):
    snippet = deploy.nginx_snippet(config_mod.load(site))
    locations = re.findall(r"^location [^{]+\{\n(.*?)^\}", snippet, re.M | re.S)
    assert len(locations) == 4
    for body in locations:  # nginx drops outer add_header lines in a location with its own
        assert "X-Content-Type-Options" in body and "Referrer-Policy" in body and "Content-Security-Policy" in body
    assert 'max-age=31536000, immutable' in snippet and "gzip_static on;" in snippet


def test_cli_prints_either_format(site):
    for fmt, marker in (("nginx", "location "), ("headers", "/assets/*")):
        result = CliRunner().invoke(main, ["deploy", "--root", str(site), "--format", fmt])
        assert result.exit_code == 0 and marker in result.output
