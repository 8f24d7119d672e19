"""The complete result of ``advisor.advise``: profile, health, measurements, advice."""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor._verify import VerifyResult
from advisor.health._types import HealthReport
from advisor.measure._types import Measurements
from advisor.recommend._types import Advice

__all__ = ["DatasetProfile", "AdviceResult", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class DatasetProfile:
    """What the dataset is: layout, classes, counts per split, image sizes and modes."""

    root: str
    layout: str
    classes: tuple[str, ...]
    splits: tuple[str, ...]
    counts: dict  # split ("all", "train", ...) -> {class: n readable images}
    n_files: int
    n_readable: int
    sizes: dict  # {"min": [w, h], "median": [w, h], "max": [w, h]}
    modes: dict  # {"RGB": n, ...}
    formats: dict
    images_per_class_min: int
    images_per_class_median: float
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["classes"], d["splits"], d["notes"] = list(self.classes), list(self.splits), list(self.notes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "DatasetProfile":
        """Inverse of :meth:`to_dict`."""
        fields = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        for k in ("classes", "splits", "notes"):
            fields[k] = tuple(d.get(k, ()))
        return cls(**fields)


@dataclass(frozen=True)
class AdviceResult:
    """Returned by :func:`advisor.advise`; every renderer reads only this."""

    profile: DatasetProfile
    health: HealthReport
    measurements: tuple[Measurements, ...]  # one per backbone, best (chosen) first
    advice: Advice
    seconds: float
    command: str = ""
    extras: dict = field(default_factory=dict)  # e.g. thresholds, fallbacks/warnings
    verify: VerifyResult | None = None  # tladvise --verify: the pilot that checked the call

    @property
    def chosen(self) -> Measurements:
        return self.measurements[0]

    def to_dict(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "profile": self.profile.to_dict(),
                "health": self.health.to_dict(),
                "measurements": [m.to_dict() for m in self.measurements],
                "advice": self.advice.to_dict(), "seconds": self.seconds,
                "command": self.command, "extras": self.extras,
                "verify": self.verify.to_dict() if self.verify is not None else None}

    @classmethod
    def from_dict(cls, d: dict) -> "AdviceResult":
        """Inverse of :meth:`to_dict` (what ``tladvise --json`` wrote), e.g. for ``tlreport``."""
        extras = dict(d.get("extras") or {})
        return cls(profile=DatasetProfile.from_dict(d["profile"]),
                   health=HealthReport.from_dict(d["health"]),
                   measurements=tuple(Measurements.from_dict(m) for m in d["measurements"]),
                   advice=Advice.from_dict(d["advice"]), seconds=d["seconds"],
                   command=d.get("command", ""), verify=_verify_of(d, extras), extras=extras)


def _verify_of(d: dict, extras: dict) -> VerifyResult | None:
    """The ``verify`` of a saved result; files written before it was a field kept it in
    ``extras["verify"]`` (moved out of ``extras`` here; one of another shape stays there)."""
    if d.get("verify") is not None:
        return VerifyResult.from_dict(d["verify"])
    if "verify" not in extras:
        return None
    try:
        verify = VerifyResult.from_dict(extras["verify"])
    except (KeyError, TypeError, ValueError):
        return None
    del extras["verify"]
    return verify
