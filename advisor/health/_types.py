"""Result types of the dataset health checks."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Finding", "HealthReport", "SEVERITIES"]

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One health issue found by one check.

    ``files`` lists the files involved (dataset-relative paths); ``groups`` lists
    sets of files that belong together (duplicate groups, leakage pairs).
    ``value``/``threshold`` are the number behind the finding, when there is one.
    """

    check: str
    severity: str
    message: str
    files: tuple[str, ...] = ()
    groups: tuple[tuple[str, ...], ...] = ()
    value: float | None = None
    threshold: float | None = None
    details: dict = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.groups) if self.groups else len(self.files)

    def to_dict(self) -> dict:
        return {"check": self.check, "severity": self.severity, "message": self.message,
                "count": self.count, "files": list(self.files),
                "groups": [list(g) for g in self.groups], "value": self.value,
                "threshold": self.threshold, "details": self.details}


@dataclass(frozen=True)
class HealthReport:
    """All findings plus a summary of counts per check."""

    findings: tuple[Finding, ...]
    n_files: int
    n_readable: int
    skipped: tuple[str, ...] = ()  # files left out of measurement, with reasons in findings

    def by_check(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check]

    @property
    def summary(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.check] = out.get(f.check, 0) + f.count
        return out

    def to_dict(self) -> dict:
        return {"n_files": self.n_files, "n_readable": self.n_readable,
                "summary": self.summary, "skipped": list(self.skipped),
                "findings": [f.to_dict() for f in self.findings]}
