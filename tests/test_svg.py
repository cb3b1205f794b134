"""SVG cleaning: hostile files lose everything that runs or reaches out; clean icons keep their accessibility."""
from __future__ import annotations

import re

import pytest

from healingpixels import svg
from healingpixels.errors import Problem

NS = 'xmlns="http://www.w3.org/2000/svg"'
XLINK = 'xmlns:xlink="http://www.w3.org/1999/xlink"'

ICON = f"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!-- Created with Inkscape (http://www.inkscape.org/) -->
<svg {NS} {XLINK} xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
   xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
   xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
   width="48" height="48" viewBox="0 0 48 48" version="1.1" role="img" aria-labelledby="t">
  <title id="t">Thermometer</title>
  <desc>A thermometer showing a low temperature</desc>
  <sodipodi:namedview pagecolor="#ffffff" inkscape:zoom="7.9"/>
  <metadata><rdf:RDF><rdf:Description about=""/></rdf:RDF></metadata>
  <defs><linearGradient id="cold"><stop offset="0" style="stop-color:#1a5276;stop-opacity:1"/>
  <stop offset="1.000000" stop-color="#2e86c1"/></linearGradient></defs>
  <g inkscape:label="Layer 1" inkscape:groupmode="layer">
    <path style="fill:url(#cold);fill-opacity:1;stroke:none"
       d="M 20.000000,4.000000 C 20.000000,1.790861 21.790861,0.000000 24.000000,0.000000 L 28.000000,4.000000 Z"/>
    <circle cx="24.000000" cy="40.000000" r="6.000000" fill="#1a5276" aria-hidden="true"/>
  </g>
</svg>
""".encode()

# name -> (file, strings that must not survive anywhere in the output)
HOSTILE = {
    "script": (f'<svg {NS} viewBox="0 0 10 10"><script>alert(1)</script>'
               f'<script type="text/ecmascript"><![CDATA[fetch("//evil.example")]]></script>'
               '<rect width="1" height="1"/>'
               "</svg>", ["<script", "alert", "fetch"]),
    "onload": (f'<svg {NS} onload="alert(1)" viewBox="0 0 10 10"><rect ONCLICK="steal()" onmouseover="x()" '
               'width="1" height="1"/></svg>', ["onload", "onclick", "onmouseover", "alert", "steal"]),
    "javascript link": (f'<svg {NS} {XLINK} viewBox="0 0 10 10"><a xlink:href="javascript:alert(1)">'
                        '<rect width="1" height="1"/></a><a href=" jav&#x09;ascript:alert(2)"><circle r="1"/></a>'
                        '</svg>',
                        ["javascript", "alert", "<a"]),
    "external use": (f'<svg {NS} viewBox="0 0 10 10"><use href="https://evil.example/x.svg#a"/>'
                     '<use href="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"/>'
                     '<rect width="1" height="1"/></svg>',
                     ["evil.example", "<use", "data:"]),
    "external image": (f'<svg {NS} {XLINK} viewBox="0 0 10 10"><image href="http://evil.example/track.png"/>'
                       '<image xlink:href="/etc/passwd.png"/><feImage href="https://evil.example/f.png"/>'
                       '<image href="data:image/svg+xml;utf8,&lt;svg onload=alert(1)&gt;"/></svg>',
                       ["evil.example", "passwd", "<image", "<feimage", "svg+xml", "onload"]),
    "foreignObject": (f'<svg {NS} viewBox="0 0 10 10"><foreignObject width="10" height="10">'
                      '<iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil.example/"/></foreignObject>'
                      '<embed src="https://evil.example/e"/><object data="https://evil.example/o"/>'
                      '<iframe src="https://evil.example/i"/></svg>',
                      ["foreignobject", "iframe", "embed", "object", "evil.example"]),
    "style import": (f'<svg {NS} viewBox="0 0 10 10"><style>@import url(https://evil.example/x.css);</style>'
                     '<style>@\\69mport "https://evil.example/y.css";</style>'
                     '<style>rect{{fill:url( "https://evil.example/z" )}}</style>'
                     '<rect width="1" height="1" style="fill:url(http://evil.example/s)" '
                     'fill="url(https://evil.example/f#g)"/></svg>',
                     ["evil.example", "@import", "mport"]),
    "animate href": (f'<svg {NS} {XLINK} viewBox="0 0 10 10"><a href="#r"><rect id="r" width="1" height="1"/>'
                     '<animate attributeName="href" to="javascript:alert(1)"/>'
                     '<set attributeName="xlink:href" to="https://evil.example/"/>'
                     '<animate attributeName="onclick" values="alert(1)"/></a></svg>',
                     ["javascript", "evil.example", "onclick", "alert", "<animate", "<set"]),
    "handler": (f'<svg {NS} xmlns:ev="http://www.w3.org/2001/xml-events" viewBox="0 0 10 10">'
                '<handler type="application/ecmascript" ev:event="load">alert(1)</handler>'
                '<ev:listener event="click" handler="#h"/></svg>', ["handler", "listener", "alert"]),
    "stylesheet instruction": (f'<?xml-stylesheet href="https://evil.example/x.css"?><svg {NS} viewBox="0 0 1 1" '
                               'xml:base="javascript:alert(1)"/>', ["evil.example", "stylesheet", "javascript"]),
    "no namespace": ('<svg viewBox="0 0 1 1"><script>alert(1)</script><rect width="1" height="1"/></svg>',
                     ["<script", "alert"]),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_parts_never_survive(name):
    text, forbidden = HOSTILE[name]
    result = svg.clean(text.encode(), f"content/images/{name}.svg")
    assert result.ok, result.problems
    out = result.data.decode().lower()
    for bad in forbidden:
        assert bad.lower() not in out, (bad, out)
    assert out.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in out
    warnings = [p for p in result.problems if p.severity == "warning"]
    assert warnings and all(p.file == f"content/images/{name}.svg" for p in warnings)
    assert all(p.message.startswith("removed") for p in warnings)


def test_removals_are_named_with_their_line():
    data = f'<svg {NS} viewBox="0 0 1 1">\n<rect width="1" height="1"/>\n\n<script>alert(1)</script>\n</svg>'.encode()
    (problem,) = svg.clean(data, "content/images/a.svg").problems
    assert problem.line == 4 and "<script>" in problem.message and problem.severity == "warning"


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&lol3;</text></svg>"""
W3C_DOCTYPE = b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
OTHER_DOCTYPES = [
    b'<!DOCTYPE svg SYSTEM "file:///etc/passwd">',
    b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "https://evil.example/svg11.dtd">',
    W3C_DOCTYPE[:-1] + b' [<!ENTITY a "b">]>',  # the usual one, but with declarations of its own
    b"<!DOCTYPE html>",
]


@pytest.mark.parametrize("data", [XXE, LAUGHS] + [d + b'<svg xmlns="http://www.w3.org/2000/svg"/>'
                                                  for d in OTHER_DOCTYPES],
                         ids=["xxe", "billion laughs", "system file", "public elsewhere", "internal subset", "html"])
def test_doctype_and_entities_are_refused(data):
    result = svg.clean(data, "content/images/evil.svg")
    assert result.data == b"" and not result.ok
    (problem,) = result.problems
    assert problem == Problem("content/images/evil.svg", None, svg.REFUSED_DTD)
    assert "DOCTYPE" in str(problem) and "content/images/evil.svg" in str(problem)
    problems = result.problems
    assert problems == [problem]


def test_the_w3c_svg_doctype_that_illustrator_and_graphviz_write_is_dropped():
    data = (b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + W3C_DOCTYPE
            + b'\n<!-- Generated by graphviz -->\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect '
              b'width="8" height="8"/></svg>')
    result = svg.clean(data, "content/images/graph.svg")
    assert result.ok and result.problems == []
    assert result.data == (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8">'
                           b'<rect width="8" height="8"/></svg>')


def test_drawio_labels_fall_back_to_their_text():
    data = (f'<svg {NS} {XLINK} viewBox="0 0 100 100"><switch><foreignObject requiredFeatures="http://www.w3.org/'
            'TR/SVG11/feature#Extensibility" width="1" height="1"><div xmlns="http://www.w3.org/1999/xhtml">Warm</div>'
            '</foreignObject><text x="5" y="5">Warm</text></switch><switch><g requiredFeatures="http://www.w3.org/TR/'
            'SVG11/feature#Extensibility"/><a xlink:href="https://www.diagrams.net/doc/faq/svg-export-text-problems">'
            '<text>Viewer does not support full SVG 1.1</text></a></switch></svg>').encode()
    result = svg.clean(data, "content/images/drawio.svg")
    out = result.data.decode()
    assert '<text x="5" y="5">Warm</text>' in out and "Viewer" not in out and "diagrams.net" not in out
    assert any("Convert labels to SVG" in p.hint for p in result.problems)


@pytest.mark.parametrize("data, words", [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><rect>", "well-formed"),
    (b"<html><body>hello</body></html>", "not an SVG"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'>" + b"<g>" * 500 + b"</g>" * 500 + b"</svg>", "deep"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><g id='a'><use href='#b'/></g><g id='b'><use href='#a'/></g></svg>",
     "loop"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><defs><g id='a0'><rect/></g>" + b"".join(
        b"<g id='a%d'>" % i + b"<use href='#a%d'/>" % (i - 1) * 10 + b"</g>" for i in range(1, 7))
     + b"</defs><use href='#a6'/></svg>", "shapes"),
], ids=["broken", "not svg", "deep", "use loop", "use bomb"])
def test_other_dangerous_files_are_refused(data, words):
    result = svg.clean(data, "x.svg")
    assert not result.ok and result.data == b""
    assert words in result.problems[0].message and result.problems[0].severity == "error"


def test_clean_icon_keeps_accessibility_and_gets_smaller():
    result = svg.clean(ICON, "content/images/thermometer.svg")
    out = result.data.decode()
    assert result.ok and result.problems == []
    assert '<title id="t">Thermometer</title>' in out and "<desc>A thermometer" in out
    assert 'viewBox="0 0 48 48"' in out and 'role="img"' in out and 'aria-labelledby="t"' in out
    assert 'aria-hidden="true"' in out
    for gone in ("inkscape", "sodipodi", "metadata", "rdf", "<?xml", "<!--", "style="):
        assert gone not in out
    assert 'fill="url(#cold)"' in out and 'id="cold"' in out  # the referenced gradient and its id stay
    assert result.before == len(ICON) and result.after == len(result.data)
    assert result.saved > len(ICON) // 2, f"saved {result.saved} of {result.before} bytes"
    assert result.size == (48.0, 48.0)
    assert svg.clean(ICON, "content/images/thermometer.svg").data == result.data  # deterministic
    assert svg.clean(result.data, "x.svg").data == result.data  # and stable


def test_safe_references_stay():
    data = (f'<svg {NS} {XLINK} viewBox="0 0 10 10"><defs><path id="p" d="M0 0h5"/></defs>'
            '<use xlink:href="#p"/><a href="#p"><rect width="1" height="1"/></a>'
            '<image width="1" height="1" href="data:image/png;base64,iVBORw0KGgo="/>'
            '<text xml:space="preserve">Снежинка  雪</text></svg>').encode()
    result = svg.clean(data, "x.svg")
    out = result.data.decode()
    assert result.problems == []
    assert '<use href="#p"/>' in out and '<a href="#p">' in out and "xlink" not in out
    assert 'href="data:image/png;base64,iVBORw0KGgo="' in out
    assert "Снежинка  雪" in out


def test_sprite_subset_and_use():
    cleaned = svg.clean(ICON, "content/icons/thermometer.svg").data
    styled = f'<svg {NS} viewBox="0 0 24 24" fill="none" stroke="currentColor"><style>path{{stroke-width:2}}</style>' \
             '<path d="M4 12h16"/></svg>'
    problems: list[Problem] = []
    data = svg.sprite({"thermometer": cleaned, "minus": styled.encode(), "bad name!": cleaned,
                       "evil": XXE}, problems)
    text = data.decode()
    assert text.startswith(f"<svg {NS}>") and text.count("<symbol") == 2
    assert '<symbol id="icon-minus" viewBox="0 0 24 24" fill="none" stroke="currentColor">' in text
    assert '<symbol id="icon-thermometer" viewBox="0 0 48 48">' in text
    assert 'id="icon-thermometer-cold"' in text and "url(#icon-thermometer-cold)" in text  # no id clashes
    assert "<title" not in text and "<style" not in text and "role=" not in text
    assert {p.file for p in problems} == {"bad name!", "evil", "minus"}
    assert svg.symbol_names(data) == {"minus", "thermometer"}

    block = svg.subset(data, ["minus", "unknown"])
    assert block.startswith('<svg class="hp-sprite" width="0" height="0" aria-hidden="true" focusable="false">')
    assert "icon-minus" in block and "icon-thermometer" not in block and "xmlns" not in block
    assert svg.subset(data, []) == ""

    assert svg.inline_use("minus") == ('<svg class="hp-icon" aria-hidden="true" focusable="false">'
                                       '<use href="#icon-minus"/></svg>')
    labelled = svg.inline_use("minus", 'Less <b>"cold"</b>')
    assert 'role="img"' in labelled and "aria-hidden" not in labelled
    assert "<title>Less &lt;b&gt;&quot;cold&quot;&lt;/b&gt;</title>" in labelled
    assert not re.search(r"<b>", labelled)
