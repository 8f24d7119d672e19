"""Result types of the dataset health checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor.codec import Record, to_dict

__all__ = ["Finding", "HealthReport", "SEVERITIES"]

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding(Record):
    """One health issue found by one check.

    ``files`` lists the files involved (dataset-relative paths); ``groups`` lists
    sets of files that belong together (duplicate groups, leakage pairs);
    ``classes`` lists the classes a class-level finding is about (imbalance, too small).
    ``value``/``threshold`` are the number behind the finding, when there is one.
    """

    check: str
    severity: str
    message: str
    files: tuple[str, ...] = ()
    groups: tuple[tuple[str, ...], ...] = ()
    value: float | None = None
    threshold: float | None = None
    details: dict = field(default_factory=dict)  # check-specific numbers, JSON-ready
    classes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            from advisor.errors import InternalError

            raise InternalError(f"Finding {self.check!r} has an unknown severity",
                                expected=f"one of {SEVERITIES}", received=repr(self.severity))

    @property
    def count(self) -> int:
        """Groups, else files, else classes involved; a dataset-level finding counts 1."""
        return len(self.groups) or len(self.files) or len(self.classes) or 1

    def to_dict(self) -> dict:
        """The fields, plus the derived ``count`` (ignored by ``from_dict``)."""
        return {**to_dict(self), "count": self.count}


@dataclass(frozen=True)
class HealthReport(Record):
    """All findings plus a summary of counts per check."""

    findings: tuple[Finding, ...]
    n_files: int
    n_readable: int
    skipped: tuple[str, ...] = ()  # files left out of measurement, with reasons in findings

    def by_check(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check]

    def by_severity(self, severity: str) -> list[Finding]:
        return [f for f in self.findings if f.severity == severity]

    @property
    def summary(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.check] = out.get(f.check, 0) + f.count
        return out

    def to_dict(self) -> dict:
        """The fields, plus the derived ``summary`` (ignored by ``from_dict``)."""
        return {**to_dict(self), "summary": self.summary}
