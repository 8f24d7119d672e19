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
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from advisor.data import (DatasetIndex, check_framing, ImageItem, SkippedPath, iter_decoded,
                          scan_layout, subsample)
from advisor.errors import ConfigError, DatasetError
from tuner.data._decoded import load_decoded, remove_stale, save_meta
from tuner.data._prepared import PreparedData
from tuner.data._store import Rows, RowWriter
from tuner.data._split import choose_test_split, stratified_holdout

__all__ = ["prepare_data", "DEFAULT_INPUT_SIZE"]

DEFAULT_INPUT_SIZE = 160  # the tuner's input side without advice (CPU-friendly)
_DATA_CACHE_VERSION = 3  # 2: framing; 3: a folder with one row file, train rows shuffled once
_REORDER_CHUNK = 256  # rows per read while the decoded rows are put in split order


def _files_key(items: tuple[ImageItem, ...]) -> list:
    out = []
    for it in items:
        try:
            st = it.path.stat()
            out.append((it.rel, it.label, it.split, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((it.rel, it.label, it.split, -1, -1))
    return out


def prepare_data(path: str | Path, *, input_size: int = DEFAULT_INPUT_SIZE, test_split: str | None = None,
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
    check_framing(framing)
    index = subsample(scan_layout(path), max_images, seed=seed)
    test_from = choose_test_split(index, test_split)

    key_src = {"v": _DATA_CACHE_VERSION, "root": str(index.root), "files": _files_key(index.items),
               "input_size": input_size, "test_split": test_split, "val_fraction": val_fraction,
               "test_fraction": test_fraction, "seed": seed, "max_images": max_images,
               "framing": framing}
    key = hashlib.sha1(json.dumps(key_src, sort_keys=True).encode()).hexdigest()[:20]
    name = f"decoded-{input_size}px-{framing}-{key}"
    if cache_dir is None:
        return _decode_and_split(index, input_size, test_from, val_fraction, test_fraction, seed,
                                 progress, framing, None)
    final = Path(cache_dir) / "data" / name
    if (final / "meta.json").is_file():
        return load_decoded(final, index.root)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(final.parent, name)
    # a folder of its own per writer, renamed into place when complete: a killed run
    # leaves a dot-folder, never a torn store
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.{os.getpid()}.", dir=final.parent))
    try:
        data = _decode_and_split(index, input_size, test_from, val_fraction, test_fraction,
                                 seed, progress, framing, tmp)
        save_meta(tmp, data)
        try:
            tmp.rename(final)
        except OSError:  # another process stored the same data first: use theirs
            pass
        return load_decoded(final, index.root, reused=False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _decode_and_split(index: DatasetIndex, input_size: int, test_from: str | None,
                      val_fraction: float, test_fraction: float, seed: int,
                      progress: Callable[[int], None] | None, framing: str,
                      folder: Path | None) -> PreparedData:
    """Decode every image into a row store (``folder/pixels.npy``, or memory without a
    folder) with the rows in split order: train (in a seeded shuffled order, so that
    a stream's blocks of consecutive rows mix the classes), val, test."""
    classes = index.classes
    cls_id = {c: i for i, c in enumerate(classes)}
    shape = (input_size, input_size, 3)
    n_items = len(index.items)
    decoded = (RowWriter.npy(folder / "decode.npy", (n_items,) + shape, np.uint8) if folder
               else RowWriter.memory((n_items,) + shape, np.uint8))
    rows: list[ImageItem] = []
    md5s: list[str] = []
    skipped = list(index.skipped)
    for sf, pixels, _ in iter_decoded(index.items, input_size, framing=framing):
        if progress:
            progress(1)
        if not sf.ok:
            skipped.append(SkippedPath(sf.item.rel, f"{sf.error_kind}: {sf.error}"))
            continue
        decoded.write(len(rows), pixels[None])
        rows.append(sf.item)
        md5s.append(sf.info.md5)
    if not rows:
        raise DatasetError(f"No readable image in {index.root}",
                           expected="at least one decodable image per class",
                           received=f"{len(skipped)} skipped files",
                           fix="check the files listed as skipped")
    x_all = Rows(decoded.close(), np.arange(len(rows), dtype=np.int64))
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
        keep, held, n = stratified_holdout(y_all[train_idx], test_fraction, seed, "test")
        test_idx, train_idx = train_idx[held], train_idx[keep]
        source["test"] = f"stratified {test_fraction:.0%} of train, seed {seed}"
        notes += n
    if "val" in index.splits and test_from != "val":
        val_idx = np.flatnonzero(split_of == "val")
        source["val"] = "folder val/"
    else:
        keep, held, n = stratified_holdout(y_all[train_idx], val_fraction, seed, "val")
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

    train_idx = train_idx[np.random.default_rng([seed, 29]).permutation(len(train_idx))]
    order = np.concatenate([train_idx, val_idx, test_idx])
    out = (RowWriter.npy(folder / "pixels.npy", (len(order),) + shape, np.uint8) if folder
           else RowWriter.memory((len(order),) + shape, np.uint8))
    for s in range(0, len(order), _REORDER_CHUNK):
        out.write(s, x_all.read(order[s:s + _REORDER_CHUNK]))
    store = out.close()
    del x_all, decoded
    if folder:
        (folder / "decode.npy").unlink()
    a, b = len(train_idx), len(train_idx) + len(val_idx)

    h = hashlib.sha1(json.dumps([list(classes), input_size, framing]).encode())
    for name, idx in (("train", train_idx), ("val", val_idx), ("test", test_idx)):
        h.update(name.encode())
        for i in idx:
            h.update(f"{md5s[i]}:{y_all[i]};".encode())

    def files(idx: np.ndarray) -> tuple[str, ...]:
        return tuple(rows[i].rel for i in idx)

    return PreparedData(
        root=index.root, classes=classes, input_size=input_size,
        x_train=Rows.all(store, 0, a), y_train=y_all[train_idx],
        x_val=Rows.all(store, a, b), y_val=y_all[val_idx],
        x_test=Rows.all(store, b), y_test=y_all[test_idx],
        files_train=files(train_idx), files_val=files(val_idx), files_test=files(test_idx),
        split_source=source, fingerprint=h.hexdigest()[:16], skipped=tuple(skipped),
        notes=tuple(notes), framing=framing)
