"""Decode a dataset once into train/val/test arrays for the tuner.

Splits, in this order of precedence:

* test: the ``test/`` folder if present, else the folder named by ``test_split``
  (e.g. ``"val"``), else a stratified ``test_fraction`` of train (seeded);
* val: the ``val/`` folder if present and not used as test, else a stratified
  ``val_fraction`` of what is left of train (seeded).

Every split decision is recorded in :attr:`PreparedData.split_source`; files that
cannot be decoded are reported in :attr:`PreparedData.skipped`, never raised.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from advisor.data import (FRAMINGS, DatasetIndex, ImageItem, SkippedPath, iter_decoded,
                          scan_layout, subsample)
from advisor.errors import ConfigError, DatasetError

__all__ = ["PoolRows", "PreparedData", "prepare_data"]

_DATA_CACHE_VERSION = 2  # 2: framing


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

    ``files_*`` hold the dataset-relative path of each row, for reports.
    ``fingerprint`` identifies the arrays' content (file hashes, labels, split
    assignment, order, input size and framing): caches of derived values key on it.
    """

    root: Path
    classes: tuple[str, ...]
    input_size: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
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
            self, x_train=np.concatenate([self.x_train, self.x_val]),
            y_train=np.concatenate([self.y_train, self.y_val]),
            files_train=self.files_train + self.files_val, split_source=src, pool=None,
            fingerprint=hashlib.sha1(f"{self.fingerprint}+val".encode()).hexdigest()[:16])

    def cv_fold(self, k: int, i: int, seed: int) -> "PreparedData":
        """Fold ``i`` of a stratified, seeded ``k``-fold split of train + val: that
        fold is the validation split, the other folds train; test is unchanged."""
        from sklearn.model_selection import StratifiedKFold

        x = np.concatenate([self.x_train, self.x_val])
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
        return replace(self, x_train=x[tr], y_train=y[tr], x_val=x[va], y_val=y[va],
                       files_train=tuple(files[j] for j in tr),
                       files_val=tuple(files[j] for j in va), split_source=src,
                       pool=PoolRows(hashlib.sha1(f"{self.fingerprint}+pool".encode())
                                     .hexdigest()[:16], train=tr, val=va),
                       fingerprint=hashlib.sha1(
                           f"{self.fingerprint}+cv{k}.{i}.{seed}".encode()).hexdigest()[:16])

    def to_dict(self) -> dict:
        return {
            "root": str(self.root),
            "classes": list(self.classes),
            "input_size": self.input_size,
            "framing": self.framing,
            "counts": {s: self.counts(s) for s in ("train", "val", "test")},
            "split_source": dict(self.split_source),
            "fingerprint": self.fingerprint,
            "skipped": [s.to_dict() for s in self.skipped],
            "notes": list(self.notes),
        }


def _stratified_holdout(labels: np.ndarray, fraction: float, seed: int, salt: str
                        ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Split row indices into (kept, held out): ``round(n_c * fraction)`` per class,
    at least one and never all of a class with two or more images."""
    rng = np.random.default_rng([seed, int.from_bytes(salt.encode(), "little") % (2**31)])
    held: list[int] = []
    notes: list[str] = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) < 2:
            notes.append(f"class index {int(c)} has {len(idx)} image(s): none held out for {salt}")
            continue
        k = min(max(1, int(round(len(idx) * fraction))), len(idx) - 1)
        held += rng.choice(idx, size=k, replace=False).tolist()
    held_arr = np.array(sorted(held), dtype=np.int64)
    kept = np.setdiff1d(np.arange(len(labels)), held_arr)
    return kept, held_arr, notes


def _choose_test_split(index: DatasetIndex, test_split: str | None) -> str | None:
    if test_split is not None and test_split not in ("train", "val", "test"):
        raise ConfigError("Unknown test split", expected="'val' or 'test' (a split folder)",
                          received=repr(test_split), fix="pass --test-split val, or leave it out")
    if test_split == "train":
        raise ConfigError("The train split cannot be the test split", expected="'val' or 'test'",
                          received="'train'", fix="pass --test-split val, or leave it out")
    if "test" in index.splits:
        if test_split not in (None, "test"):
            raise ConfigError(
                f"The dataset has a test/ folder but test_split={test_split!r} was asked",
                expected="no test_split (test/ is used) or test_split='test'",
                received=f"splits {list(index.splits)}",
                fix="leave --test-split out to evaluate on test/")
        return "test"
    if test_split is not None:
        if test_split not in index.splits:
            raise DatasetError(f"No {test_split}/ folder to use as the test split",
                               expected=f"{index.root}/{test_split}/<class>/<image>",
                               received=f"splits {list(index.splits) or ['none (flat layout)']}",
                               fix="leave --test-split out to hold out a fraction of train")
        return test_split
    return None


def _files_key(items: tuple[ImageItem, ...]) -> list:
    out = []
    for it in items:
        try:
            st = it.path.stat()
            out.append((it.rel, it.label, it.split, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((it.rel, it.label, it.split, -1, -1))
    return out


def prepare_data(path: str | Path, *, input_size: int = 160, test_split: str | None = None,
                 val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0,
                 max_images: int | None = None, cache_dir: Path | None = None,
                 progress: Callable[[int], None] | None = None,
                 framing: str = "squash") -> PreparedData:
    """Scan ``path``, decode every image once at ``input_size`` and split it.

    ``framing`` is how an image becomes a square (:func:`advisor.data.frame`): ``"squash"``
    or ``"crop"``.
    With ``cache_dir`` the decoded arrays are stored there, keyed by the file list
    (names, sizes, modification times) and the arguments, and reused by a later call.
    ``progress(n)`` is called as files are decoded.
    """
    if not (0.0 < val_fraction < 1.0 and 0.0 < test_fraction < 1.0):
        raise ConfigError("Split fractions must lie strictly between 0 and 1",
                          expected="0 < val_fraction, test_fraction < 1",
                          received=f"val_fraction={val_fraction}, test_fraction={test_fraction}",
                          fix="pass fractions such as 0.2")
    if input_size < 16:
        raise ConfigError("Input size too small", expected="at least 16 pixels",
                          received=str(input_size), fix="pass --input-size 96 or more")
    if framing not in FRAMINGS:
        raise ConfigError("Unknown framing", expected=f"one of {list(FRAMINGS)}",
                          received=repr(framing), fix="pass --framing squash or --framing crop")
    index = subsample(scan_layout(path), max_images, seed=seed)
    test_from = _choose_test_split(index, test_split)

    key_src = {"v": _DATA_CACHE_VERSION, "root": str(index.root), "files": _files_key(index.items),
               "input_size": input_size, "test_split": test_split, "val_fraction": val_fraction,
               "test_fraction": test_fraction, "seed": seed, "max_images": max_images,
               "framing": framing}
    key = hashlib.sha1(json.dumps(key_src, sort_keys=True).encode()).hexdigest()[:20]
    name = f"decoded-{input_size}px-{framing}-{key}.npz"
    cache_file = Path(cache_dir) / "data" / name if cache_dir else None
    if cache_file is not None and cache_file.is_file():
        return _load(cache_file, index.root)

    data = _decode_and_split(index, input_size, test_from, val_fraction, test_fraction, seed,
                             progress, framing)
    if cache_file is not None:
        _save(cache_file, data)
    return data


def _decode_and_split(index: DatasetIndex, input_size: int, test_from: str | None,
                      val_fraction: float, test_fraction: float, seed: int,
                      progress: Callable[[int], None] | None, framing: str = "squash"
                      ) -> PreparedData:
    classes = index.classes
    cls_id = {c: i for i, c in enumerate(classes)}
    pix: list[np.ndarray] = []
    rows: list[ImageItem] = []
    md5s: list[str] = []
    skipped = list(index.skipped)
    for sf, pixels, _ in iter_decoded(index.items, input_size, framing=framing):
        if progress:
            progress(1)
        if not sf.ok:
            skipped.append(SkippedPath(sf.item.rel, f"{sf.error_kind}: {sf.error}"))
            continue
        pix.append(pixels)
        rows.append(sf.item)
        md5s.append(sf.info.md5)
    if not rows:
        raise DatasetError(f"No readable image in {index.root}",
                           expected="at least one decodable image per class",
                           received=f"{len(skipped)} skipped files",
                           fix="check the files listed as skipped")
    x_all = np.stack(pix)
    y_all = np.array([cls_id[r.label] for r in rows], dtype=np.int32)
    split_of = np.array([r.split or "train" for r in rows])
    notes = list(index.notes)
    source: dict[str, str] = {}

    if index.splits and "train" not in index.splits:
        raise DatasetError(f"{index.root} has no train split",
                           expected="a train/ folder next to val/ or test/",
                           received=f"splits {list(index.splits)}",
                           fix="rename the training folder to train/")
    train_idx = np.flatnonzero(split_of == "train")
    if test_from is not None:
        test_idx = np.flatnonzero(split_of == test_from)
        source["test"] = f"folder {test_from}/"
    else:
        keep, held, n = _stratified_holdout(y_all[train_idx], test_fraction, seed, "test")
        test_idx, train_idx = train_idx[held], train_idx[keep]
        source["test"] = f"stratified {test_fraction:.0%} of train, seed {seed}"
        notes += n
    if "val" in index.splits and test_from != "val":
        val_idx = np.flatnonzero(split_of == "val")
        source["val"] = "folder val/"
    else:
        keep, held, n = _stratified_holdout(y_all[train_idx], val_fraction, seed, "val")
        val_idx, train_idx = train_idx[held], train_idx[keep]
        rest = "train" if source["test"].startswith("folder") else "the rest of train"
        source["val"] = f"stratified {val_fraction:.0%} of {rest}, seed {seed}"
        notes += n
    source["train"] = {"splits": "folder train/", "csv": "manifest rows of split train or none"
                       }.get(index.layout, "all class folders")
    if not source["val"].startswith("folder") or not source["test"].startswith("folder"):
        source["train"] += " minus the held-out images"
    for name, idx in (("train", train_idx), ("val", val_idx), ("test", test_idx)):
        missing = sorted(set(range(len(classes))) - set(y_all[idx].tolist()))
        if missing:
            notes.append(f"{name} split has no image of {[classes[m] for m in missing]}")
    if len(val_idx) == 0 or len(train_idx) == 0:
        raise DatasetError("Too few readable images to make train and validation splits",
                           expected="at least two images per class",
                           received=f"{len(train_idx)} train, {len(val_idx)} val images",
                           fix="add images, or provide a val/ folder")

    h = hashlib.sha1(json.dumps([list(classes), input_size, framing]).encode())
    for name, idx in (("train", train_idx), ("val", val_idx), ("test", test_idx)):
        h.update(name.encode())
        for i in idx:
            h.update(f"{md5s[i]}:{y_all[i]};".encode())

    def files(idx: np.ndarray) -> tuple[str, ...]:
        return tuple(rows[i].rel for i in idx)

    return PreparedData(
        root=index.root, classes=classes, input_size=input_size,
        x_train=x_all[train_idx], y_train=y_all[train_idx],
        x_val=x_all[val_idx], y_val=y_all[val_idx],
        x_test=x_all[test_idx], y_test=y_all[test_idx],
        files_train=files(train_idx), files_val=files(val_idx), files_test=files(test_idx),
        split_source=source, fingerprint=h.hexdigest()[:16], skipped=tuple(skipped),
        notes=tuple(notes), framing=framing)


def _save(path: Path, data: PreparedData) -> None:
    meta = {"classes": list(data.classes), "input_size": data.input_size,
            "framing": data.framing,
            "files": {s: list(getattr(data, f"files_{s}")) for s in ("train", "val", "test")},
            "split_source": data.split_source, "fingerprint": data.fingerprint,
            "skipped": [s.to_dict() for s in data.skipped], "notes": list(data.notes)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, meta=np.array(json.dumps(meta)),
             **{f"{k}_{s}": getattr(data, f"{k}_{s}") for k in ("x", "y")
                for s in ("train", "val", "test")})
    os.replace(tmp, path)


def _load(path: Path, root: Path) -> PreparedData:
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        arrays = {k: z[k] for k in z.files if k != "meta"}
    return PreparedData(
        root=root, classes=tuple(meta["classes"]), input_size=meta["input_size"],
        **arrays,
        **{f"files_{s}": tuple(meta["files"][s]) for s in ("train", "val", "test")},
        split_source=meta["split_source"], fingerprint=meta["fingerprint"],
        skipped=tuple(SkippedPath(d["path"], d["reason"]) for d in meta["skipped"]),
        notes=tuple(meta["notes"]) + (f"decoded arrays reused from {path.name}",),
        framing=meta.get("framing", "squash"))
