"""The thresholds of every health check, in one frozen dataclass.

``docs/health-checks.md`` explains each default and what to do about a finding.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from advisor.backbones import IMAGENET_INPUT_SIZE
from advisor.errors import ConfigError

__all__ = ["HealthThresholds"]


@dataclass(frozen=True)
class HealthThresholds:
    """Thresholds of the health checks (defaults documented in docs/health-checks.md).

    Attributes:
        tiny_side: images whose shorter side is below this many pixels are "tiny".
        input_size: the backbone input side; used to tell how much images get upsampled.
        upsample_factor: report when ``input_size / median shorter side`` is at least this.
        near_duplicate_distance: phash Hamming distance (of 64 bits) at or below which two
            different files are near duplicates.
        imbalance_ratio: report a split whose largest/smallest class ratio is at least this
            (1.5 is a 60:40 split of two classes).
        min_train_images: a training class with fewer readable images is too small to train.
        min_eval_images: a val/test class with fewer readable images gives a useless estimate.
        grayscale_fraction: at or above this fraction of grayscale-content images the whole
            dataset is reported as grayscale.
        odd_one_out_fraction: a file whose format/mode (or extension) differs from at least
            this fraction of its class is reported as an outlier; so is an image whose
            width x height differs from at least this fraction of the dataset.
        max_listed: at most this many file names are listed in a finding's message
            (``files`` always lists all of them).
        split_shift_auc: report a val/test split when, within a class, a linear probe tells
            its images from the training images with at least this ROC AUC (0.7: the
            conventional lower bound of "acceptable" discrimination, Hosmer & Lemeshow).
    """

    tiny_side: int = 32
    input_size: int = IMAGENET_INPUT_SIZE  # the side images are upsampled to, by default
    upsample_factor: float = 2.0
    near_duplicate_distance: int = 4
    imbalance_ratio: float = 1.5
    min_train_images: int = 10
    min_eval_images: int = 5
    grayscale_fraction: float = 0.5
    odd_one_out_fraction: float = 0.95
    max_listed: int = 3
    split_shift_auc: float = 0.7

    def validate(self) -> "HealthThresholds":
        """Raise :class:`ConfigError` for a threshold outside its range; return self."""
        ranges = {
            "tiny_side": (1, None), "input_size": (1, None), "upsample_factor": (1.0, None),
            "near_duplicate_distance": (0, 63), "imbalance_ratio": (1.0, None),
            "min_train_images": (1, None), "min_eval_images": (1, None),
            "grayscale_fraction": (0.0, 1.0), "odd_one_out_fraction": (0.5, 1.0),
            "max_listed": (0, None), "split_shift_auc": (0.5, 1.0),
        }
        for f in fields(self):
            v = getattr(self, f.name)
            lo, hi = ranges[f.name]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < lo or (
                    hi is not None and v > hi):
                want = f"a number >= {lo}" + (f" and <= {hi}" if hi is not None else "")
                raise ConfigError(f"Health threshold {f.name!r} is out of range",
                                  expected=want, received=repr(v),
                                  fix=f"pass HealthThresholds({f.name}=...) with {want}")
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "HealthThresholds":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError("Unknown health thresholds", expected=f"names from {sorted(known)}",
                              received=str(unknown), fix="remove or correct the unknown names")
        return cls(**d)
