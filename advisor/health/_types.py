"""Result types of the dataset health checks."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Finding", "HealthReport", "SEVERITIES"]

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
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
    details: dict = field(default_factory=dict)
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
        return {"check": self.check, "severity": self.severity, "message": self.message,
                "count": self.count, "files": list(self.files),
                "groups": [list(g) for g in self.groups], "value": self.value,
                "threshold": self.threshold, "details": self.details,
                "classes": list(self.classes)}

    @classmethod
    def from_dict(cls, d: dict) -> "Finding":
        """Inverse of :meth:`to_dict` (``count`` is derived, so it is ignored)."""
        return cls(check=d["check"], severity=d["severity"], message=d["message"],
                   files=tuple(d.get("files", ())),
                   groups=tuple(tuple(g) for g in d.get("groups", ())),
                   value=d.get("value"), threshold=d.get("threshold"),
                   details=dict(d.get("details") or {}),
                   classes=tuple(d.get("classes", ())))


@dataclass(frozen=True)
class HealthReport:
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
        return {"n_files": self.n_files, "n_readable": self.n_readable,
                "summary": self.summary, "skipped": list(self.skipped),
                "findings": [f.to_dict() for f in self.findings]}

    @classmethod
    def from_dict(cls, d: dict) -> "HealthReport":
        """Inverse of :meth:`to_dict` (``summary`` is derived, so it is ignored)."""
        return cls(findings=tuple(Finding.from_dict(f) for f in d.get("findings", ())),
                   n_files=int(d["n_files"]), n_readable=int(d["n_readable"]),
                   skipped=tuple(d.get("skipped", ())))
