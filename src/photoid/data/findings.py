"""What ``photoid data check`` reports: plain findings, each pointing at a CSV row and an image."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

Level = Literal["error", "warning", "info"]
LEVELS: tuple[Level, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One problem (``error``), doubt (``warning``) or fact worth knowing (``info``).

    ``row`` is the CSV line number (header = 1) or None for a finding about the whole file or an
    identity; ``path`` is the image path as written in the CSV (or ``metadata.csv``).
    """

    level: Level
    code: str
    message: str
    row: int | None = None
    path: str | None = None


@dataclass(frozen=True)
class CheckReport:
    """Every finding of one check, in a fixed order: level, then code, then row.

    ``n_rows`` counts data rows of the CSV, ``n_identities`` distinct identities other than
    ``unknown``, ``n_images`` distinct image files opened.
    """

    root: Path
    findings: tuple[Finding, ...]
    n_rows: int
    n_identities: int
    n_images: int

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]

    @property
    def infos(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "info"]

    @property
    def ok(self) -> bool:
        """True when nothing is an error (warnings and infos do not count)."""
        return not self.errors

    def codes(self) -> dict[str, int]:
        """Number of findings per code, in report order."""
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.code] = counts.get(finding.code, 0) + 1
        return counts

    def summary(self) -> str:
        """``"2 errors, 1 warning in 740 rows (94 identities)"``, plus infos when there are any."""
        parts = [_plural(len(self.errors), "error"), _plural(len(self.warnings), "warning")]
        if self.infos:
            parts.append(f"{len(self.infos)} info")
        return (
            f"{', '.join(parts)} in {_plural(self.n_rows, 'row')} "
            f"({_plural(self.n_identities, 'identity', 'identities')})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary holding the counts and every finding."""
        return {
            "root": str(self.root),
            "n_rows": self.n_rows,
            "n_identities": self.n_identities,
            "n_images": self.n_images,
            "n_errors": len(self.errors),
            "n_warnings": len(self.warnings),
            "n_infos": len(self.infos),
            "findings": [asdict(f) for f in self.findings],
        }


def sort_findings(findings: list[Finding]) -> tuple[Finding, ...]:
    """Report order: errors, warnings, infos; within a level by code, then row, then path."""
    return tuple(
        sorted(
            findings,
            key=lambda f: (LEVELS.index(f.level), f.code, f.row or 0, f.path or "", f.message),
        )
    )


def save_json(report: CheckReport, path: Path) -> None:
    """Write :meth:`CheckReport.to_dict` as indented UTF-8 JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", "utf-8")


def _plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"
