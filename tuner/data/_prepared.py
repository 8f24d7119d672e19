"""Decoded data of a sweep: arrays per split, and the summary its results keep."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from advisor.codec import Record
from advisor.data import SkippedPath
from advisor.errors import ConfigError
from tuner.data._store import Rows

__all__ = ["PoolRows", "PreparedData", "DataSummary", "SkippedFile"]


@dataclass(frozen=True)
class SkippedFile(Record):
    """A file left out of the data, with the reason."""

    path: str
    reason: str


@dataclass(frozen=True)
class DataSummary(Record):
    """The splits of a sweep as its results record them: where train, val and test
    come from (``split_source``), images per class and split, and skipped files."""

    root: str
    classes: tuple[str, ...]
    input_size: int
    counts: dict[str, dict[str, int]]
    split_source: dict[str, str]
    fingerprint: str
    framing: str = "squash"  # results written before framing existed were squashed
    skipped: tuple[SkippedFile, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class PoolRows:
    """Where a cross-validation fold's images sit in its pool (the train + val images
    of the data the fold was cut from, in that order), so that every fold can share
    activations computed once over the pool."""

    fingerprint: str  # identifies the pool's content and order
    train: np.ndarray  # pool row of each training image of the fold
    val: np.ndarray  # pool row of each validation image of the fold

    @property
    def size(self) -> int:
        return len(self.train) + len(self.val)


@dataclass(frozen=True, eq=False)
class PreparedData:
    """Decoded images (uint8, ``input_size`` square, framed by ``framing``) and integer
    labels per split.

    ``x_*`` are :class:`~tuner.data.Rows`: on disk when the data came from a cache
    folder (read in batches, never held whole), else in memory; an array passed in
    is wrapped.

    ``files_*`` hold the dataset-relative path of each row, for reports.
    ``fingerprint`` identifies the arrays' content (file hashes, labels, split
    assignment, order, input size and framing): caches of derived values key on it.
    """

    root: Path
    classes: tuple[str, ...]
    input_size: int
    x_train: Rows
    y_train: np.ndarray
    x_val: Rows
    y_val: np.ndarray
    x_test: Rows
    y_test: np.ndarray
    files_train: tuple[str, ...]
    files_val: tuple[str, ...]
    files_test: tuple[str, ...]
    split_source: dict
    fingerprint: str
    skipped: tuple[SkippedPath, ...] = ()
    notes: tuple[str, ...] = field(default=())
    pool: PoolRows | None = None  # set on the folds of :meth:`cv_fold`
    framing: str = "squash"  # how each image became a square: advisor.data.frame

    def __post_init__(self) -> None:
        for s in ("train", "val", "test"):
            x, y = Rows.of(getattr(self, f"x_{s}")), getattr(self, f"y_{s}")
            if len(x) != len(y):
                raise ValueError(f"{s}: {len(x)} images but {len(y)} labels")
            object.__setattr__(self, f"x_{s}", x)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def counts(self, split: str) -> dict[str, int]:
        """Images per class in ``split`` (``train``, ``val`` or ``test``)."""
        y = getattr(self, f"y_{split}")
        c = np.bincount(y, minlength=self.n_classes)
        return {name: int(c[i]) for i, name in enumerate(self.classes)}

    def with_val_in_train(self) -> "PreparedData":
        """The same data with the validation images appended to training (the final
        refit, after the search has used them to choose). ``x_val`` stays as it was,
        now seen in training."""
        if not len(self.y_val):
            return self
        src = dict(self.split_source)
        src["train"] = f"{src.get('train', 'train')} + the {len(self.y_val)} validation images"
        return replace(
            self, x_train=self.x_train + self.x_val,
            y_train=np.concatenate([self.y_train, self.y_val]),
            files_train=self.files_train + self.files_val, split_source=src, pool=None,
            fingerprint=hashlib.sha1(f"{self.fingerprint}+val".encode()).hexdigest()[:16])

    def cv_fold(self, k: int, i: int, seed: int) -> "PreparedData":
        """Fold ``i`` of a stratified, seeded ``k``-fold split of train + val: that
        fold is the validation split, the other folds train; test is unchanged."""
        from sklearn.model_selection import StratifiedKFold

        x = self.x_train + self.x_val
        y = np.concatenate([self.y_train, self.y_val])
        files = self.files_train + self.files_val
        if not (2 <= k <= np.bincount(y).min() and 0 <= i < k):
            raise ConfigError("Cannot cut these images into cross-validation folds",
                              expected=f"2 <= k <= the smallest class ({np.bincount(y).min()} "
                                       "images) and 0 <= i < k",
                              received=f"k={k}, i={i}", fix="use fewer folds")
        tr, va = list(StratifiedKFold(k, shuffle=True, random_state=seed).split(y, y))[i]
        src = dict(self.split_source)
        src["train"] = f"train + val, {k - 1} of {k} stratified folds (seed {seed})"
        src["val"] = f"train + val, fold {i + 1} of {k}"
        return replace(self, x_train=x.take(tr), y_train=y[tr], x_val=x.take(va), y_val=y[va],
                       files_train=tuple(files[j] for j in tr),
                       files_val=tuple(files[j] for j in va), split_source=src,
                       pool=PoolRows(hashlib.sha1(f"{self.fingerprint}+pool".encode())
                                     .hexdigest()[:16], train=tr, val=va),
                       fingerprint=hashlib.sha1(
                           f"{self.fingerprint}+cv{k}.{i}.{seed}".encode()).hexdigest()[:16])

    def summary(self) -> DataSummary:
        """What the sweep's results say about these data (no arrays)."""
        return DataSummary(
            root=str(self.root), classes=self.classes, input_size=self.input_size,
            framing=self.framing, counts={s: self.counts(s) for s in ("train", "val", "test")},
            split_source=dict(self.split_source), fingerprint=self.fingerprint,
            skipped=tuple(SkippedFile(s.rel, s.reason) for s in self.skipped),
            notes=self.notes)
