"""What an audit reports: findings per page, in one shape for every audit (static, axe, Lighthouse)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Finding:
    rule: str  # e.g. "image-alt", "heading-order", "target-size-44", "lighthouse:performance"
    message: str  # what is wrong, in plain words
    wcag: tuple[str, ...] = ()  # success criteria, e.g. ("1.1.1",)
    impact: str = "serious"  # axe's scale: minor, moderate, serious, critical
    selector: str = ""  # CSS selector of the element, when there is one
    html: str = ""  # a short snippet of the element
    help: str = ""  # how to fix it
    mode: str = ""  # "light", "dark", "high-contrast", "forced-colors" or "" when it does not depend on it
    viewport: str = ""  # "phone", "desktop" or ""
    source: str | None = None  # "content/en/asthma.md:12" when the finding maps to the Markdown
    screenshot: str = ""  # path of a screenshot with the element outlined, relative to the report

    def as_json(self) -> dict:
        data = asdict(self)
        data["wcag"] = list(self.wcag)
        return data


@dataclass
class PageResult:
    path: str  # relative to the audited folder, e.g. "en/asthma/index.html"
    findings: list[Finding] = field(default_factory=list)
    error: str = ""  # the page failed to load, timed out or crashed the browser: a failure, never a pass
    metrics: dict[str, float] = field(default_factory=dict)  # measured values, e.g. Lighthouse's median scores
    warnings: list[Finding] = field(default_factory=list)  # best practice: reported, but the page still passes

    @property
    def failed(self) -> bool:
        return bool(self.findings or self.error)
