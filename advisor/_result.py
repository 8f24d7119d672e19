"""The complete result of ``advisor.advise``: profile, health, measurements, advice."""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor.codec import Record, from_dict, to_dict
from advisor._verify import VerifyResult
from advisor.health._types import HealthReport
from advisor.measure._types import Measurements
from advisor.recommend._types import Advice

__all__ = ["DatasetProfile", "AdviceResult", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class DatasetProfile(Record):
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


@dataclass(frozen=True)
class AdviceResult(Record):
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
        """The fields, with the ``schema_version`` of the format first."""
        return {"schema_version": SCHEMA_VERSION, **to_dict(self)}

    @classmethod
    def from_dict(cls, d: dict) -> "AdviceResult":
        """Inverse of :meth:`to_dict` (what ``tladvise --json`` wrote), e.g. for ``tlreport``."""
        extras = dict(d.get("extras") or {})
        verify = _verify_of(d, extras)
        return from_dict(cls, {**d, "extras": extras, "verify": verify})


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
