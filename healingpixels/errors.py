"""Problems found in a site's input, collected as values and reported once at the edge."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input: where it is, what is wrong, and how to fix it."""

    file: str  # relative to the site root, e.g. "content/ru/asthma.md"
    line: int | None
    message: str
    hint: str = ""
    severity: str = "error"  # "error" stops the build; "warning" does so only with --strict

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.severity + ': ' if self.severity == 'warning' else ''}{self.message}"
        return text + (f"\n    hint: {self.hint}" if self.hint else "")


class BuildError(Exception):
    """Raised with every problem found, so that one run reports them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.message))
        super().__init__("\n".join(map(str, self.problems)))
