"""Split shift: evaluation images that do not look like the training images of their class."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from advisor.health._base import HealthCheck
from advisor.health._data import HealthData
from advisor.health._types import Finding

__all__ = ["ClassShift", "SplitShift", "split_shift_aucs"]

MAX_PER_SIDE = 1000  # images per split and class fed to the domain probe (seeded sample)
MIN_Z = 3.0  # the AUC must also stand this many null standard deviations above 0.5


def _cap(rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(rows, MAX_PER_SIDE, replace=False)) if len(rows) > MAX_PER_SIDE \
        else rows


@dataclass(frozen=True)
class ClassShift:
    """The domain probe of one class between train and one other split."""

    auc: float  # cross-validated ROC AUC of "other split" against "train" (0.5: alike)
    null_sd: float  # its standard deviation were both drawn alike (Mann-Whitney)
    n_train: int
    n_other: int


def split_shift_aucs(data: HealthData, min_images: int = 2) -> dict[str, dict[str, ClassShift]]:
    """Per non-training split and class, the domain probe of that split's images against
    the training images of the class (classes with fewer than ``min_images`` on either
    side, or fewer than 2, are left out). Empty without features or without a training
    split; manifest rows without a split are training images, as for the measurement."""
    split = np.array([f.item.split or "train" for f in data.readable])
    others = sorted(set(split.tolist()) - {"train"})
    if data.features is None or "train" not in split or not others:
        return {}
    from advisor.measure import domain_auc

    label = np.array([f.item.label for f in data.readable])
    rng = np.random.default_rng(0)
    out: dict[str, dict[str, ClassShift]] = {}
    for s in others:
        out[s] = {}
        for c in data.index.classes:
            a = _cap(np.flatnonzero((split == "train") & (label == c)), rng)
            b = _cap(np.flatnonzero((split == s) & (label == c)), rng)
            if min(len(a), len(b)) < max(min_images, 2):  # 2: cross-validation
                continue
            rows = np.concatenate([a, b])
            auc, sd = domain_auc(data.features[rows], np.isin(rows, b), seed=0)
            out[s][c] = ClassShift(auc=auc, null_sd=sd, n_train=int(len(a)), n_other=int(len(b)))
    return out


class SplitShift(HealthCheck):
    """A val/test split whose images a linear probe on the backbone's features tells
    apart from the training images of the same class (cross-validated ROC AUC, per
    class, so a different class mix alone does not count; :func:`split_shift_aucs`).

    Where it fires, accuracy estimated on train/ (its cross-validation, a hold-out of
    it) overstates accuracy on that split, and no choice made on train/ can see it.
    Needs the pooled features of the measuring pass (``HealthData.features``) and a
    training split; without them it finds nothing. Severity ``warning``; the value is
    the highest class AUC and the threshold :attr:`HealthThresholds.split_shift_auc`.
    """

    produces = ("split_shift",)

    def find_issues(self, data: HealthData) -> list[Finding]:
        t = self._t()
        folders = data.index.layout == "splits"
        train_name = "train/" if folders else "the train split"
        out = []
        for s, per_class in split_shift_aucs(data, t.min_eval_images).items():
            name = f"{s}/" if folders else f"the {s} split"
            flagged = sorted((c for c, r in per_class.items() if r.auc >= t.split_shift_auc
                              and (r.auc - 0.5) / r.null_sd >= MIN_Z),
                             key=lambda c: -per_class[c].auc)
            if not flagged:
                continue
            listed = max(t.max_listed, 1)  # the message names at least the worst class
            shown = ", ".join(f"{per_class[c].auc:.2f} in {c!r} ({per_class[c].n_train} train "
                              f"/ {per_class[c].n_other} {s} images)" for c in flagged[:listed])
            more = len(flagged) - listed
            out.append(Finding(
                check="split_shift", severity="warning",
                message=(f"{name[0].upper()}{name[1:]} does not look like {train_name}: a "
                         f"linear probe on the backbone's features tells its images from "
                         f"{train_name} images of the same class with ROC AUC {shown}"
                         + (f" and {more} more" if more > 0 else "")
                         + f" (0.5 = indistinguishable; reported from {t.split_shift_auc}). "
                         f"Accuracy estimated on {train_name} (cross-validation, a hold-out) "
                         f"will likely overstate accuracy on {name}; if {name} is what the "
                         f"model will meet, move some of its images into {train_name} (or "
                         "validate on them)."),
                classes=tuple(flagged), value=round(per_class[flagged[0]].auc, 4),
                threshold=t.split_shift_auc,
                details={"split": s,
                         "auc": {c: round(r.auc, 4) for c, r in per_class.items()},
                         "null_sd": {c: round(r.null_sd, 4) for c, r in per_class.items()},
                         "images": {c: [r.n_train, r.n_other] for c, r in per_class.items()}}))
        return out
