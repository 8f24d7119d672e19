"""Build the :class:`DatasetProfile` from the index and the scanned files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from advisor._result import DatasetProfile
from advisor.data import DatasetIndex, ScannedFile

__all__ = ["build_profile", "training_split"]


def training_split(index: DatasetIndex) -> str | None:
    """The split whose size decides the scenario: ``train`` when present, else all."""
    return "train" if "train" in index.splits else None


def build_profile(index: DatasetIndex, files: Sequence[ScannedFile]) -> DatasetProfile:
    ok = [f for f in files if f.ok]
    counts: dict[str, dict[str, int]] = {}
    for split in ("all",) + index.splits:
        c = Counter(f.item.label for f in ok if split == "all" or f.item.split == split)
        counts[split] = {k: int(c.get(k, 0)) for k in index.classes}
    train = training_split(index) or "all"
    per_class = np.array(list(counts[train].values()), dtype=float)
    if ok:
        w = np.array([f.info.width for f in ok])
        h = np.array([f.info.height for f in ok])
        sizes = {"min": [int(w.min()), int(h.min())],
                 "median": [int(np.median(w)), int(np.median(h))],
                 "max": [int(w.max()), int(h.max())]}
    else:
        sizes = {"min": [0, 0], "median": [0, 0], "max": [0, 0]}
    return DatasetProfile(
        root=str(index.root), layout=index.layout, classes=index.classes, splits=index.splits,
        counts=counts, n_files=len(files), n_readable=len(ok), sizes=sizes,
        modes=dict(Counter(f.info.mode for f in ok)),
        formats=dict(Counter(f.info.format for f in ok)),
        images_per_class_min=int(per_class.min()) if per_class.size else 0,
        images_per_class_median=float(np.median(per_class)) if per_class.size else 0.0,
        notes=index.notes)
