"""Split shift: evaluation images that do not look like the training images of their class."""

from __future__ import annotations

import numpy as np

from advisor.health._base import HealthCheck
from advisor.health._data import HealthData, split_key
from advisor.health._types import Finding

__all__ = ["SplitShift"]

MAX_PER_SIDE = 1000  # images per split and class fed to the domain probe (seeded sample)
MIN_Z = 3.0  # the AUC must also stand this many null standard deviations above 0.5


def _cap(rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(rows, MAX_PER_SIDE, replace=False)) if len(rows) > MAX_PER_SIDE \
        else rows


class SplitShift(HealthCheck):
    """A val/test split whose images a linear probe on the backbone's features tells
    apart from the training images of the same class (cross-validated ROC AUC, per
    class, so a different class mix alone does not count).

    Where it fires, accuracy estimated on train/ (its cross-validation, a hold-out of
    it) overstates accuracy on that split, and no choice made on train/ can see it.
    Needs the pooled features of the measuring pass (``HealthData.features``); without
    them it finds nothing. Severity ``warning``; the value is the highest class AUC and
    the threshold :attr:`HealthThresholds.split_shift_auc`.
    """

    produces = ("split_shift",)

    def find_issues(self, data: HealthData) -> list[Finding]:
        from advisor.measure import domain_auc

        if data.features is None or "train" not in data.split_keys:
            return []
        t = self._t()
        split = np.array([split_key(f) for f in data.readable])
        label = np.array([f.item.label for f in data.readable])
        rng = np.random.default_rng(0)
        out = []
        for s in (k for k in data.split_keys if k != "train"):
            auc, sd, n = {}, {}, {}
            for c in data.index.classes:
                a = _cap(np.flatnonzero((split == "train") & (label == c)), rng)
                b = _cap(np.flatnonzero((split == s) & (label == c)), rng)
                if min(len(a), len(b)) < max(t.min_eval_images, 2):  # 2: cross-validation
                    continue
                rows = np.concatenate([a, b])
                auc[c], sd[c] = domain_auc(data.features[rows], np.isin(rows, b), seed=0)
                n[c] = [int(len(a)), int(len(b))]
            flagged = sorted((c for c in auc if auc[c] >= t.split_shift_auc
                              and (auc[c] - 0.5) / sd[c] >= MIN_Z), key=lambda c: -auc[c])
            if not flagged:
                continue
            shown = ", ".join(f"{auc[c]:.2f} in {c!r} ({n[c][0]} train / {n[c][1]} {s} images)"
                              for c in flagged[:t.max_listed])
            more = len(flagged) - t.max_listed
            out.append(Finding(
                check="split_shift", severity="warning",
                message=(f"{s}/ does not look like train/: a linear probe on the backbone's "
                         f"features tells {s}/ images from train/ images of the same class "
                         f"with ROC AUC {shown}" + (f" and {more} more" if more > 0 else "")
                         + f" (0.5 = indistinguishable; reported from {t.split_shift_auc}). "
                         f"Accuracy estimated on train/ (cross-validation, a hold-out) will "
                         f"likely overstate accuracy on {s}/; if {s}/ is what the model will "
                         "meet, move some of its images into train/ (or validate on them)."),
                classes=tuple(flagged), value=round(max(auc[c] for c in flagged), 4),
                threshold=t.split_shift_auc,
                details={"split": s, "auc": {c: round(v, 4) for c, v in auc.items()},
                         "null_sd": {c: round(v, 4) for c, v in sd.items()},
                         "images": n}))
        return out
