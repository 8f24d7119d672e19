"""The decoded store on disk: a folder with ``pixels.npy`` (train, val, test rows in
that order) and ``meta.json`` (labels, files, splits), complete once renamed into place."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from advisor.data import SkippedPath
from tuner.data._prepared import PreparedData
from tuner.data._store import Rows, RowStore

__all__ = ["load_decoded", "save_meta", "remove_stale"]


def remove_stale(parent: Path, name: str) -> list[Path]:
    """Remove the temporary folders ``.NAME.PID.*`` of writers that no longer run (a
    killed decode leaves one, never a store); returns what was removed."""
    gone = []
    for p in parent.glob(f".{name}.*"):
        try:
            pid = int(p.name[len(name) + 2:].split(".", 1)[0])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(p, ignore_errors=True)
            gone.append(p)
    return gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def save_meta(folder: Path, data: PreparedData) -> None:
    """Write ``meta.json`` for ``data``, whose rows are ``folder/pixels.npy``."""
    meta = {"classes": list(data.classes), "input_size": data.input_size,
            "framing": data.framing,
            "files": {s: list(getattr(data, f"files_{s}")) for s in ("train", "val", "test")},
            "labels": {s: getattr(data, f"y_{s}").tolist() for s in ("train", "val", "test")},
            "split_source": data.split_source, "fingerprint": data.fingerprint,
            "skipped": [s.to_dict() for s in data.skipped], "notes": list(data.notes)}
    (folder / "meta.json").write_text(json.dumps(meta))


def load_decoded(folder: Path, root: Path, reused: bool = True) -> PreparedData:
    """The data stored in ``folder``; its rows stay on disk (read as needed)."""
    meta = json.loads((folder / "meta.json").read_text())
    store = RowStore.open_npy(folder / "pixels.npy")
    n = {s: len(meta["labels"][s]) for s in ("train", "val", "test")}
    a, b = n["train"], n["train"] + n["val"]
    notes = tuple(meta["notes"]) + ((f"decoded images reused from {folder.name}",) if reused else ())
    return PreparedData(
        root=root, classes=tuple(meta["classes"]), input_size=meta["input_size"],
        x_train=Rows.all(store, 0, a), x_val=Rows.all(store, a, b), x_test=Rows.all(store, b),
        **{f"y_{s}": np.asarray(meta["labels"][s], np.int32) for s in ("train", "val", "test")},
        **{f"files_{s}": tuple(meta["files"][s]) for s in ("train", "val", "test")},
        split_source=meta["split_source"], fingerprint=meta["fingerprint"],
        skipped=tuple(SkippedPath(d["path"], d["reason"]) for d in meta["skipped"]),
        notes=notes, framing=meta.get("framing", "squash"))
