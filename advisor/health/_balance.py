"""Class-count checks, per split, on readable images: imbalance, classes too small to
train or evaluate, classes missing from a split."""

from __future__ import annotations

from advisor.health._base import HealthCheck
from advisor.health._data import UNSPLIT, HealthData
from advisor.health._types import Finding

__all__ = ["ClassImbalance", "SmallClasses", "MissingClasses"]


def _is_training(data: HealthData, split: str) -> bool:
    """Training data: the train split, unsplit data, or every split when there is no train."""
    return split in ("train", UNSPLIT) or "train" not in data.index.splits


class ClassImbalance(HealthCheck):
    """Largest over smallest class (among classes present) in a split at or above
    ``imbalance_ratio``. Severity ``warning``; the value is the ratio."""

    produces = ("class_imbalance",)

    def find_issues(self, data: HealthData) -> list[Finding]:
        t = self._t()
        out = []
        for split, counts in data.counts.items():
            present = {c: n for c, n in counts.items() if n > 0}
            if len(present) < 2:
                continue
            big = max(present, key=lambda c: (present[c], c))
            small = min(present, key=lambda c: (present[c], c))
            ratio = present[big] / present[small]
            if ratio < t.imbalance_ratio:
                continue
            out.append(Finding(
                check="class_imbalance", severity="warning",
                message=(f"{split}: classes are unbalanced, {big!r} has {present[big]} images "
                         f"and {small!r} {present[small]} (ratio {ratio:.2f} >= "
                         f"{t.imbalance_ratio:g}). Plain accuracy favours the large class: "
                         "use class weights or a balanced metric."),
                value=round(ratio, 4), threshold=t.imbalance_ratio,
                details={"split": split, "counts": dict(counts), "largest": big,
                         "smallest": small}))
        return out


class SmallClasses(HealthCheck):
    """Classes with some but too few readable images in a split: fewer than
    ``min_train_images`` in training data, fewer than ``min_eval_images`` in val/test.
    Severity ``warning``; one finding per split."""

    produces = ("small_classes",)

    def find_issues(self, data: HealthData) -> list[Finding]:
        t = self._t()
        out = []
        for split, counts in data.counts.items():
            train = _is_training(data, split)
            limit = t.min_train_images if train else t.min_eval_images
            small = {c: n for c, n in counts.items() if 0 < n < limit}
            if not small:
                continue
            names = sorted(small, key=lambda c: (small[c], c))
            shown = ", ".join(f"{c!r} ({small[c]})" for c in names)
            why = ("too few to learn from" if train
                   else "too few for a meaningful per-class score")
            out.append(Finding(
                check="small_classes", severity="warning",
                message=(f"{split}: {len(small)} classes have fewer than {limit} images "
                         f"({why}): {shown}. Add images to these classes."),
                classes=tuple(names), value=float(min(small.values())), threshold=float(limit),
                details={"split": split, "counts": small}))
        return out


class MissingClasses(HealthCheck):
    """A class with readable images in some split but none in another split.
    Severity ``warning``; one finding per split."""

    produces = ("class_missing",)

    def find_issues(self, data: HealthData) -> list[Finding]:
        out = []
        counts = data.counts
        for split, per in counts.items():
            missing = sorted(c for c, n in per.items() if n == 0)
            if not missing:
                continue
            where = sorted(s for s in counts if s != split and any(counts[s][c] for c in missing))
            consequence = ("the model cannot learn it" if _is_training(data, split)
                           else "it is never evaluated")
            out.append(Finding(
                check="class_missing", severity="warning",
                message=(f"{split}: {len(missing)} classes have no readable image "
                         f"({', '.join(repr(c) for c in missing)}) although "
                         f"{' and '.join(where) or 'the dataset'} has them: {consequence}."),
                classes=tuple(missing), value=float(len(missing)),
                details={"split": split, "present_in": where}))
        return out
