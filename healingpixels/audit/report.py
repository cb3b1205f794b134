"""An audit's results and the four ways to show them: a terminal summary, JSON, JUnit XML and a self-contained HTML page."""
from __future__ import annotations

import base64
import html as html_mod
import json
import mimetypes
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .findings import Finding, PageResult

FORMATS = ("text", "json", "junit", "html")
WORST = 5

# WCAG 2.2 success criteria: number -> (Understanding slug, name)
WCAG = {
    "1.1.1": ("non-text-content", "Non-text Content"),
    "1.2.1": ("audio-only-and-video-only-prerecorded", "Audio-only and Video-only (Prerecorded)"),
    "1.2.2": ("captions-prerecorded", "Captions (Prerecorded)"),
    "1.2.3": ("audio-description-or-media-alternative-prerecorded", "Audio Description or Media Alternative (Prerecorded)"),
    "1.2.4": ("captions-live", "Captions (Live)"),
    "1.2.5": ("audio-description-prerecorded", "Audio Description (Prerecorded)"),
    "1.2.6": ("sign-language-prerecorded", "Sign Language (Prerecorded)"),
    "1.2.7": ("extended-audio-description-prerecorded", "Extended Audio Description (Prerecorded)"),
    "1.2.8": ("media-alternative-prerecorded", "Media Alternative (Prerecorded)"),
    "1.2.9": ("audio-only-live", "Audio-only (Live)"),
    "1.3.1": ("info-and-relationships", "Info and Relationships"),
    "1.3.2": ("meaningful-sequence", "Meaningful Sequence"),
    "1.3.3": ("sensory-characteristics", "Sensory Characteristics"),
    "1.3.4": ("orientation", "Orientation"),
    "1.3.5": ("identify-input-purpose", "Identify Input Purpose"),
    "1.3.6": ("identify-purpose", "Identify Purpose"),
    "1.4.1": ("use-of-color", "Use of Color"),
    "1.4.2": ("audio-control", "Audio Control"),
    "1.4.3": ("contrast-minimum", "Contrast (Minimum)"),
    "1.4.4": ("resize-text", "Resize Text"),
    "1.4.5": ("images-of-text", "Images of Text"),
    "1.4.6": ("contrast-enhanced", "Contrast (Enhanced)"),
    "1.4.7": ("low-or-no-background-audio", "Low or No Background Audio"),
    "1.4.8": ("visual-presentation", "Visual Presentation"),
    "1.4.9": ("images-of-text-no-exception", "Images of Text (No Exception)"),
    "1.4.10": ("reflow", "Reflow"),
    "1.4.11": ("non-text-contrast", "Non-text Contrast"),
    "1.4.12": ("text-spacing", "Text Spacing"),
    "1.4.13": ("content-on-hover-or-focus", "Content on Hover or Focus"),
    "2.1.1": ("keyboard", "Keyboard"),
    "2.1.2": ("no-keyboard-trap", "No Keyboard Trap"),
    "2.1.3": ("keyboard-no-exception", "Keyboard (No Exception)"),
    "2.1.4": ("character-key-shortcuts", "Character Key Shortcuts"),
    "2.2.1": ("timing-adjustable", "Timing Adjustable"),
    "2.2.2": ("pause-stop-hide", "Pause, Stop, Hide"),
    "2.2.3": ("no-timing", "No Timing"),
    "2.2.4": ("interruptions", "Interruptions"),
    "2.2.5": ("re-authenticating", "Re-authenticating"),
    "2.2.6": ("timeouts", "Timeouts"),
    "2.3.1": ("three-flashes-or-below-threshold", "Three Flashes or Below Threshold"),
    "2.3.2": ("three-flashes", "Three Flashes"),
    "2.3.3": ("animation-from-interactions", "Animation from Interactions"),
    "2.4.1": ("bypass-blocks", "Bypass Blocks"),
    "2.4.2": ("page-titled", "Page Titled"),
    "2.4.3": ("focus-order", "Focus Order"),
    "2.4.4": ("link-purpose-in-context", "Link Purpose (In Context)"),
    "2.4.5": ("multiple-ways", "Multiple Ways"),
    "2.4.6": ("headings-and-labels", "Headings and Labels"),
    "2.4.7": ("focus-visible", "Focus Visible"),
    "2.4.8": ("location", "Location"),
    "2.4.9": ("link-purpose-link-only", "Link Purpose (Link Only)"),
    "2.4.10": ("section-headings", "Section Headings"),
    "2.4.11": ("focus-not-obscured-minimum", "Focus Not Obscured (Minimum)"),
    "2.4.12": ("focus-not-obscured-enhanced", "Focus Not Obscured (Enhanced)"),
    "2.4.13": ("focus-appearance", "Focus Appearance"),
    "2.5.1": ("pointer-gestures", "Pointer Gestures"),
    "2.5.2": ("pointer-cancellation", "Pointer Cancellation"),
    "2.5.3": ("label-in-name", "Label in Name"),
    "2.5.4": ("motion-actuation", "Motion Actuation"),
    "2.5.5": ("target-size-enhanced", "Target Size (Enhanced)"),
    "2.5.6": ("concurrent-input-mechanisms", "Concurrent Input Mechanisms"),
    "2.5.7": ("dragging-movements", "Dragging Movements"),
    "2.5.8": ("target-size-minimum", "Target Size (Minimum)"),
    "3.1.1": ("language-of-page", "Language of Page"),
    "3.1.2": ("language-of-parts", "Language of Parts"),
    "3.1.3": ("unusual-words", "Unusual Words"),
    "3.1.4": ("abbreviations", "Abbreviations"),
    "3.1.5": ("reading-level", "Reading Level"),
    "3.1.6": ("pronunciation", "Pronunciation"),
    "3.2.1": ("on-focus", "On Focus"),
    "3.2.2": ("on-input", "On Input"),
    "3.2.3": ("consistent-navigation", "Consistent Navigation"),
    "3.2.4": ("consistent-identification", "Consistent Identification"),
    "3.2.5": ("change-on-request", "Change on Request"),
    "3.2.6": ("consistent-help", "Consistent Help"),
    "3.3.1": ("error-identification", "Error Identification"),
    "3.3.2": ("labels-or-instructions", "Labels or Instructions"),
    "3.3.3": ("error-suggestion", "Error Suggestion"),
    "3.3.4": ("error-prevention-legal-financial-data", "Error Prevention (Legal, Financial, Data)"),
    "3.3.5": ("help", "Help"),
    "3.3.6": ("error-prevention-all", "Error Prevention (All)"),
    "3.3.7": ("redundant-entry", "Redundant Entry"),
    "3.3.8": ("accessible-authentication-minimum", "Accessible Authentication (Minimum)"),
    "3.3.9": ("accessible-authentication-enhanced", "Accessible Authentication (Enhanced)"),
    "4.1.1": ("parsing", "Parsing (obsolete)"),
    "4.1.2": ("name-role-value", "Name, Role, Value"),
    "4.1.3": ("status-messages", "Status Messages"),
}
UNDERSTANDING = "https://www.w3.org/WAI/WCAG22/Understanding/"


def understanding_url(criterion: str) -> str:
    slug = WCAG.get(criterion, ("",))[0]
    return f"{UNDERSTANDING}{slug}.html" if slug else UNDERSTANDING


def criterion_label(criterion: str) -> str:
    name = WCAG.get(criterion, ("", ""))[1]
    return f"{criterion} {name}" if name else criterion


@dataclass
class AuditReport:
    pages: list[PageResult]  # one per page, every audit's findings merged, in path order
    summary: dict
    timings: dict[str, float]  # audit kind -> seconds
    kinds: dict[str, list[PageResult]] = field(default_factory=dict)  # audit kind -> its own results (for JUnit)
    page_types: dict[str, str] = field(default_factory=dict)  # page -> article, section, root, 404, page
    checklist: dict = field(default_factory=dict)  # page type -> {"title": …, "items": […]} (audits/checklist.toml)
    folder: str = ""
    level: str = "static"

    @property
    def failed(self) -> bool:
        return any(page.failed for page in self.pages)


def merge(kinds: dict[str, list[PageResult]]) -> list[PageResult]:
    """Each audit's results -> one result per page with all its findings; errors keep the name of their audit."""
    pages: dict[str, PageResult] = {}
    for kind, results in kinds.items():
        for result in results:
            page = pages.setdefault(result.path, PageResult(result.path))
            page.findings.extend(result.findings)
            page.warnings.extend(result.warnings)
            page.metrics.update(result.metrics)
            if result.error:
                error = f"{kind}: {result.error}" if len(kinds) > 1 else result.error
                page.error = f"{page.error}; {error}" if page.error else error
    return [pages[path] for path in sorted(pages)]


def make_report(kinds: dict[str, list[PageResult]], timings: dict[str, float], level: str = "static",
                folder: str = "", page_types: dict | None = None, checklist: dict | None = None) -> AuditReport:
    pages = merge(kinds)
    return AuditReport(pages, summarize(pages, timings, level), timings, kinds, page_types or {}, checklist or {},
                       folder, level)


def summarize(pages: list[PageResult], timings: dict[str, float], level: str) -> dict:
    rules = Counter(f.rule for page in pages for f in page.findings)
    warnings = Counter(f.rule for page in pages for f in page.warnings)
    failed = [page for page in pages if page.failed]
    worst = sorted(failed, key=lambda p: (-len(p.findings) - (1 if p.error else 0), p.path))[:WORST]
    return {
        "level": level,
        "pages": len(pages),
        "failed": len(failed),
        "passed": len(pages) - len(failed),
        "findings": sum(rules.values()),
        "warnings": sum(warnings.values()),
        "errors": sum(1 for page in pages if page.error),
        "rules": dict(sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))),
        "warning_rules": dict(sorted(warnings.items(), key=lambda kv: (-kv[1], kv[0]))),
        "worst": [{"path": p.path, "findings": len(p.findings), "error": p.error} for p in worst],
        "seconds": {kind: round(seconds, 3) for kind, seconds in timings.items()},
    }


# --- text ------------------------------------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _grouped(pages: list[PageResult], attr: str) -> list[tuple[Finding, str, int]]:
    """(finding, where, how many pages) with the same template finding on many pages shown once."""
    groups: dict[tuple, list] = {}
    for page in pages:
        for finding in getattr(page, attr):
            key = (finding.rule, finding.message, finding.selector, finding.source or "", finding.mode,
                   finding.viewport) if not finding.source or not finding.source.startswith("content/") \
                else (page.path, id(finding))
            if key in groups:
                groups[key][2] += 1
            else:
                groups[key] = [finding, finding.source or page.path, 1]
    return [tuple(group) for group in groups.values()]


def _line(finding: Finding, where: str, count: int) -> str:
    context = ", ".join(x for x in (finding.mode, finding.viewport) if x)
    more = f" (and {_plural(count - 1, 'more page')})" if count > 1 else ""
    return f"{where}: {finding.rule}: {finding.message}{f' [{context}]' if context else ''}{more}"


def to_text(report: AuditReport, checklist: bool = True) -> str:
    s = report.summary
    seconds = sum(report.timings.values())
    out = [f"Accessibility audit ({report.level}) of {report.folder or 'the site'}: {_plural(s['pages'], 'page')}, "
           f"{s['failed']} failed, {_plural(s['findings'], 'problem')}, {_plural(s['warnings'], 'warning')} "
           f"in {seconds:.2f} s"]
    helps = {}
    for page in report.pages:
        for f in page.findings + page.warnings:
            helps.setdefault(f.rule, (f.help, f.wcag))
    if s["rules"]:
        out += ["", "Problems by rule:"]
        pages_by_rule = Counter(rule for page in report.pages for rule in {f.rule for f in page.findings})
        for rule, count in s["rules"].items():
            wcag = " ".join(helps.get(rule, ("", ()))[1])
            out.append(f"  {count:5}  {rule:<24} {_plural(pages_by_rule[rule], 'page'):>10}  {wcag}".rstrip())
    if s["warning_rules"]:
        out += ["", "Warnings by rule (they do not fail the audit):"]
        for rule, count in s["warning_rules"].items():
            out.append(f"  {count:5}  {rule}")
    if s["worst"]:
        out += ["", "Worst pages:"]
        for worst in s["worst"]:
            note = " + could not be audited" if worst["error"] else ""
            out.append(f"  {worst['findings']:5}  {worst['path']}{note}")
    errors = [page for page in report.pages if page.error]
    if errors:
        out += ["", "Pages that could not be audited (they fail):"]
        for page in errors:
            out.append(f"{page.path}: error: {page.error}")
    if s["findings"]:
        out += ["", "Problems:"]
        out += [_line(*group) for group in _grouped(report.pages, "findings")]
    if s["warnings"]:
        out += ["", "Warnings:"]
        out += [_line(*group) for group in _grouped(report.pages, "warnings")]
    if helps:
        out += ["", "How to fix:"]
        for rule in list(s["rules"]) + [r for r in s["warning_rules"] if r not in s["rules"]]:
            if helps.get(rule, ("",))[0]:
                out.append(f"  {rule}: {helps[rule][0]}")
    if not report.failed:
        out += ["", "No problems found." if not s["warnings"] else "No problems found (only warnings)."]
    if checklist:
        out += _checklist_text(report)
    return "\n".join(out) + "\n"


def _types_in_order(report: AuditReport) -> list[tuple[str, list[str]]]:
    by_type: dict[str, list[str]] = {}
    for path in sorted(report.page_types):
        by_type.setdefault(report.page_types[path], []).append(path)
    order = [key for key in report.checklist if key != "all"]
    return sorted(by_type.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0]))


def _checklist_text(report: AuditReport) -> list[str]:
    if not report.checklist:
        return []
    out = ["", "Check by hand (automated checks cannot cover these):"]
    every = report.checklist.get("all")
    if every:
        out.append(f"  {every.get('title', 'Every page')}:")
        out += [f"    - {item}" for item in every.get("items", [])]
    for kind, paths in _types_in_order(report):
        section = report.checklist.get(kind)
        if not section or not section.get("items"):
            continue
        out.append(f"  {section.get('title', kind)} ({_plural(len(paths), 'page')}, e.g. {paths[0]}):")
        out += [f"    - {item}" for item in section["items"]]
    return out


# --- JSON ------------------------------------------------------------------------------------------------------------

JSON_FIELDS = ("rule", "wcag", "impact", "selector", "message", "mode", "viewport", "source")


def _finding_json(finding: Finding) -> dict:
    return {"rule": finding.rule, "wcag": list(finding.wcag), "impact": finding.impact, "selector": finding.selector,
            "message": finding.message, "mode": finding.mode, "viewport": finding.viewport, "source": finding.source}


def _page_json(page: PageResult) -> dict:
    data = {"path": page.path, "findings": [_finding_json(f) for f in page.findings],
            "warnings": [_finding_json(f) for f in page.warnings], "error": page.error}
    if page.metrics:  # Lighthouse's medians, on the pages it sampled
        data["metrics"] = page.metrics
    return data


def to_dict(report: AuditReport) -> dict:
    return {"pages": [_page_json(page) for page in report.pages], "summary": report.summary}


def to_json(report: AuditReport) -> str:
    return json.dumps(to_dict(report), ensure_ascii=False, indent=2) + "\n"


# --- JUnit -----------------------------------------------------------------------------------------------------------

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _x(text: str) -> str:
    return _XML_BAD.sub("\ufffd", text)


def to_junit(report: AuditReport) -> str:
    """One test suite per audit kind (static, browser, lighthouse), one test case per page."""
    suites = ET.Element("testsuites", name="healingpixels audit")
    total = failures = errors = 0
    for kind, results in report.kinds.items():
        suite = ET.SubElement(suites, "testsuite", name=kind, time=f"{report.timings.get(kind, 0):.3f}")
        s_fail = s_err = 0
        for result in sorted(results, key=lambda r: r.path):
            case = ET.SubElement(suite, "testcase", classname=f"audit.{kind}", name=_x(result.path))
            if result.error:
                s_err += 1
                ET.SubElement(case, "error", message=_x(result.error[:500]), type="AuditError").text = _x(result.error)
            if result.findings:
                s_fail += 1
                rules = ", ".join(sorted({f.rule for f in result.findings}))
                failure = ET.SubElement(case, "failure", message=_x(f"{_plural(len(result.findings), 'problem')}: {rules}"),
                                        type="accessibility")
                failure.text = _x("\n".join(_junit_line(f) for f in result.findings))
            if result.warnings:
                ET.SubElement(case, "system-out").text = _x("\n".join("warning: " + _junit_line(f)
                                                                      for f in result.warnings))
        suite.set("tests", str(len(results)))
        suite.set("failures", str(s_fail))
        suite.set("errors", str(s_err))
        total, failures, errors = total + len(results), failures + s_fail, errors + s_err
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    suites.set("errors", str(errors))
    suites.set("time", f"{sum(report.timings.values()):.3f}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _junit_line(f: Finding) -> str:
    wcag = f" (WCAG {', '.join(f.wcag)})" if f.wcag else ""
    where = f" at {f.selector}" if f.selector else ""
    source = f" [{f.source}]" if f.source else ""
    context = ", ".join(x for x in (f.mode, f.viewport) if x)
    return f"{f.rule}{wcag}: {f.message}{where}{source}{f' [{context}]' if context else ''}"


# --- HTML ------------------------------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light dark; --fg: #1a1a1a; --bg: #fff; --muted: #4a4a4a; --line: #c8c8c8; --bad: #a4121b;
  --bad-bg: #fdecec; --warn: #6b4a00; --warn-bg: #fff4d6; --ok: #1d5e20; --ok-bg: #e8f5e6; --code: #f3f3f3;
  --link: #0b55a3; }
@media (prefers-color-scheme: dark) { :root { --fg: #eee; --bg: #141414; --muted: #c4c4c4; --line: #555;
  --bad: #ffb4b0; --bad-bg: #3a1414; --warn: #ffd98a; --warn-bg: #332600; --ok: #a6e3a1; --ok-bg: #14301a;
  --code: #242424; --link: #9ecbff; } }
body { font: 1.0625rem/1.55 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", sans-serif;
  color: var(--fg); background: var(--bg); margin: 0; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem 1.25rem 4rem; }
a { color: var(--link); }
a:focus-visible, summary:focus-visible { outline: 3px solid currentColor; outline-offset: 2px; }
h1 { font-size: 1.9rem; margin-bottom: .25rem; }
h2 { font-size: 1.4rem; margin-top: 2.5rem; border-top: 2px solid var(--line); padding-top: 1rem; word-break: break-all; }
h3 { font-size: 1.1rem; margin: 0 0 .5rem; }
.status { display: inline-block; font-weight: 700; padding: .2rem .7rem; border-radius: .3rem; border: 2px solid; }
.status--fail { color: var(--bad); background: var(--bad-bg); }
.status--pass { color: var(--ok); background: var(--ok-bg); }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
caption { text-align: left; font-weight: 700; padding-bottom: .4rem; }
th, td { text-align: left; vertical-align: top; padding: .4rem .6rem; border-bottom: 1px solid var(--line); }
td.num, th.num { text-align: right; }
ol.findings { padding: 0; list-style: none; }
ol.findings > li { border: 1px solid var(--line); border-left: 6px solid var(--bad); border-radius: .3rem;
  padding: .8rem 1rem; margin: 1rem 0; }
ol.findings.warnings > li { border-left-color: var(--warn); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; }
dt { font-weight: 700; }
dd { margin: 0; min-width: 0; }
code { background: var(--code); padding: .1rem .3rem; border-radius: .2rem; font-size: .92em; word-break: break-all;
  white-space: pre-wrap; }
.error { color: var(--bad); background: var(--bad-bg); padding: .6rem .8rem; border-radius: .3rem; }
.muted { color: var(--muted); }
img.shot { max-width: 100%; border: 1px solid var(--line); margin-top: .6rem; }
ul.passed { columns: 2 18rem; }
th code { white-space: nowrap; word-break: normal; }
"""


def _e(text: object) -> str:
    return html_mod.escape(str(text), quote=True)


# Quoted text in another script gets a lang, so that screen readers switch voice (the report is in English).
_SCRIPT_LANG = {"Cyrillic": "ru", "Greek": "el", "Han": "zh", "Kana": "ja", "Hangul": "ko", "Arabic": "ar",
                "Hebrew": "he", "Thai": "th", "Devanagari": "hi"}


def _t(text: object) -> str:
    """Escaped text for element content, runs of non-Latin scripts wrapped in <span lang>."""
    from .static import _RUNS

    def wrap(m: re.Match) -> str:
        lang = _SCRIPT_LANG.get(m.lastgroup or "", "und")
        direction = ' dir="rtl"' if lang in ("ar", "he") else ""
        return f'<span lang="{lang}"{direction}>{m.group()}</span>'

    return _RUNS.sub(wrap, _e(text))


def _screenshot(path: str, base: Path | None) -> str:
    """An <img> for a finding's screenshot, embedded as data: so the report stays one file (linked when large)."""
    if not path:
        return ""
    alt = "Screenshot of the page with the element outlined"
    file = (base / path) if base is not None else Path(path)
    try:
        if file.is_file() and file.stat().st_size <= 2_000_000:
            mime = mimetypes.guess_type(file.name)[0] or "image/png"
            data = base64.b64encode(file.read_bytes()).decode()
            return f'<img class="shot" src="data:{mime};base64,{data}" alt="{alt}">'
    except OSError:
        pass
    return f'<p><a href="{_e(path)}">{alt} ({_e(path)})</a></p>'


def _finding_html(f: Finding, base: Path | None) -> str:
    rows = [("Rule", f"<code>{_e(f.rule)}</code> — impact: {_e(f.impact)}")]
    if f.wcag:
        links = ", ".join(f'<a href="{_e(understanding_url(c))}">WCAG {_e(criterion_label(c))}</a>' for c in f.wcag)
        rows.append(("WCAG", links))
    if f.source:
        rows.append(("Written in", f"<code>{_t(f.source)}</code>"))
    if f.selector:
        rows.append(("Element", f"<code>{_t(f.selector)}</code>"))
    if f.html:
        rows.append(("HTML", f"<code>{_t(f.html)}</code>"))
    context = ", ".join(x for x in (f.mode and f"{f.mode} mode", f.viewport and f"{f.viewport} screen") if x)
    if context:
        rows.append(("Seen in", _e(context)))
    if f.help:
        rows.append(("How to fix", _t(f.help)))
    body = "".join(f"<dt>{title}</dt><dd>{value}</dd>" for title, value in rows)
    return f"<li><h4>{_t(f.message)}</h4><dl>{body}</dl>{_screenshot(f.screenshot, base)}</li>"


def to_html(report: AuditReport, base: Path | None = None) -> str:
    """A self-contained page a non-programmer can read. base: the report's folder, for screenshots' relative paths."""
    s = report.summary
    failed = report.failed
    status = ('<p><span class="status status--fail">Failed</span></p>' if failed
              else '<p><span class="status status--pass">Passed</span></p>')
    out = ['<!doctype html>', '<html lang="en" dir="ltr">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
           "img-src data:\">",
           '<meta name="referrer" content="no-referrer">',
           f"<title>{'Failed' if failed else 'Passed'}: accessibility audit of {_e(report.folder or 'the site')}</title>",
           f"<style>{_CSS}</style>", "</head>", "<body>", "<main>",
           "<h1>Accessibility audit</h1>", status,
           f"<p>{_t(report.folder or 'The site')}: {_e(_plural(s['pages'], 'page'))} checked "
           f"({_e(report.level)} audit), {s['failed']} with problems, {_e(_plural(s['findings'], 'problem'))} "
           f"and {_e(_plural(s['warnings'], 'warning'))} in all. Problems fail the audit; warnings are advice.</p>"]
    if s["rules"] or s["warning_rules"]:
        helps = {}
        for page in report.pages:
            for f in page.findings + page.warnings:
                helps.setdefault(f.rule, f)
        out.append('<table><caption>What was found</caption><thead><tr><th scope="col">Rule</th>'
                   '<th scope="col">What it means</th><th scope="col" class="num">Count</th></tr></thead><tbody>')
        for rules, kind in ((s["rules"], ""), (s["warning_rules"], " (warning)")):
            for rule, count in rules.items():
                f = helps.get(rule)
                wcag = (" — WCAG " + ", ".join(f.wcag)) if f and f.wcag else ""
                out.append(f'<tr><th scope="row"><code>{_e(rule)}</code>{_e(kind)}</th>'
                           f"<td>{_t(f.help if f else '')}{_e(wcag)}</td><td class=\"num\">{count}</td></tr>")
        out.append("</tbody></table>")
    problem_pages = [p for p in report.pages if p.failed or p.warnings]
    for page in problem_pages:
        kind = PAGE_TYPE_WORDS.get(report.page_types.get(page.path, ""), "")
        out.append(f"<section aria-labelledby=\"{_e(_anchor(page.path))}\">")
        out.append(f"<h2 id=\"{_e(_anchor(page.path))}\">{_t(page.path)}</h2>")
        summary = [_plural(len(page.findings), "problem"), _plural(len(page.warnings), "warning")]
        out.append(f"<p class=\"muted\">{_e(', '.join(summary))}{_e(f' — {kind}' if kind else '')}</p>")
        if page.error:
            out.append(f'<p class="error"><strong>This page could not be audited, so it fails:</strong> '
                       f"{_t(page.error)}</p>")
        if page.findings:
            out.append("<h3>Problems</h3><ol class=\"findings\">")
            out += [_finding_html(f, base) for f in page.findings]
            out.append("</ol>")
        if page.warnings:
            out.append("<h3>Warnings</h3><ol class=\"findings warnings\">")
            out += [_finding_html(f, base) for f in page.warnings]
            out.append("</ol>")
        out.append("</section>")
    clean = [p.path for p in report.pages if not p.failed and not p.warnings]
    if clean:
        out.append(f"<h2>Pages without problems ({len(clean)})</h2><ul class=\"passed\">")
        out += [f"<li>{_t(path)}</li>" for path in clean]
        out.append("</ul>")
    if report.checklist:
        out.append("<h2>Check by hand</h2><p>Automated checks cannot tell whether a page makes sense, reads well or "
                   "works with a keyboard and a screen reader. Before publishing, a person checks:</p>")
        every = report.checklist.get("all")
        sections = ([("all", every, [])] if every else []) + \
            [(kind, report.checklist.get(kind), paths) for kind, paths in _types_in_order(report)]
        for kind, section, paths in sections:
            if not section or not section.get("items"):
                continue
            example = f" ({_plural(len(paths), 'page')}, for example {paths[0]})" if paths else ""
            out.append(f"<h3>{_t(section.get('title', kind))}{_t(example)}</h3><ul>")
            out += [f"<li>{_t(item)}</li>" for item in section["items"]]
            out.append("</ul>")
    out += ["</main>", "</body>", "</html>", ""]
    return "\n".join(line for line in out if line != "")


PAGE_TYPE_WORDS = {"article": "a health article", "section": "a home or section page", "root": "the language chooser",
                   "404": "a not-found page"}


def _anchor(path: str) -> str:
    return "page-" + re.sub(r"[^A-Za-z0-9_-]+", "-", path).strip("-")


def render(report: AuditReport, fmt: str, base: Path | None = None) -> str:
    if fmt == "text":
        return to_text(report)
    if fmt == "json":
        return to_json(report)
    if fmt == "junit":
        return to_junit(report)
    if fmt == "html":
        return to_html(report, base)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
