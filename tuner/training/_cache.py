"""Activations of the frozen prefix, computed once and reused by every trial.

An entry holds float16 rows: ``train``, a tuple of K views of every training image
(:class:`~tuner.data.Rows`, one per view), and ``val`` (one per validation image).
It lives in memory, or on disk as ``.npy`` files when a cache folder is given
(read in batches, never loaded or mapped whole), so a resumed run reuses it. The
key covers everything the values depend on; see :class:`CacheKey`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from tuner.data import Rows, RowStore, RowWriter, remove_stale

__all__ = ["CacheKey", "ActivationCache"]

_VERSION = 2  # 2: train.npy holds the views as rows, (views * n, ...)


@dataclass(frozen=True)
class CacheKey:
    """What cached activations depend on. ``boundary`` is a layer name or
    ``"pooled"`` (global-average-pooled last feature map)."""

    fingerprint: str  # PreparedData content
    backbone: str
    weights: str  # WeightsSource fingerprint
    input_size: int
    boundary: str
    augmentation: str
    views: int  # augmented views of each training image (1 when augmentation is off)
    seed: int  # draws the augmented views

    def digest(self) -> str:
        src = json.dumps({"v": _VERSION, **asdict(self)}, sort_keys=True)
        return hashlib.sha1(src.encode()).hexdigest()[:16]

    @property
    def dirname(self) -> str:
        return f"{self.backbone}-{self.input_size}px-{self.boundary}-{self.augmentation}-{self.digest()}"


Entry = dict  # {"train": tuple[Rows, ...] (one per view), "val": Rows}


class ActivationCache:
    """Computed-once store of prefix activations; counts what it computed and loaded."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) / "activations" if root is not None else None
        self.computed = 0  # entries computed by this process
        self.loaded = 0  # entries read from disk
        self._mem: dict[CacheKey, Entry] = {}
        self._pending: dict[CacheKey, Path] = {}  # allocated, not yet committed

    def get(self, key: CacheKey) -> Entry | None:
        if key in self._mem:
            return self._mem[key]
        entry = self._open(key)
        if entry is not None:
            self.loaded += 1
        return entry

    def _open(self, key: CacheKey) -> Entry | None:
        if self.root is None:
            return None
        d = self.root / key.dirname
        if not (d / "meta.json").is_file():
            return None
        views = json.loads((d / "meta.json").read_text())["views"]
        entry = _entry(RowStore.open_npy(d / "train.npy"), RowStore.open_npy(d / "val.npy"), views)
        self._mem[key] = entry
        return entry

    def allocate(self, key: CacheKey, shapes: dict[str, tuple[int, ...]]) -> dict[str, RowWriter]:
        """Writers of a new entry: ``shapes["train"]`` is (views, n, ...), and view v of
        training image i is row ``v * n + i`` of ``"train"``. Write them, then :meth:`commit`."""
        rows = {"train": (shapes["train"][0] * shapes["train"][1],) + tuple(shapes["train"][2:]),
                "val": tuple(shapes["val"])}
        if self.root is None:
            return {s: RowWriter.memory(shape) for s, shape in rows.items()}
        self.root.mkdir(parents=True, exist_ok=True)
        # a folder of its own per writer: a killed one leaves a dot-folder, never an entry
        # (removed here by the next writer of the same entry)
        remove_stale(self.root, key.dirname)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key.dirname}.{os.getpid()}.", dir=self.root))
        self._pending[key] = tmp
        return {s: RowWriter.npy(tmp / f"{s}.npy", shape) for s, shape in rows.items()}

    def commit(self, key: CacheKey, writers: dict[str, RowWriter]) -> Entry:
        self.computed += 1
        train, val = writers["train"].close(), writers["val"].close()
        views = key.views
        if self.root is None:
            self._mem[key] = _entry(train, val, views)
            return self._mem[key]
        tmp = self._pending.pop(key)
        (tmp / "meta.json").write_text(json.dumps(
            {"key": asdict(key), "views": views,
             "shapes": {"train": list(train.shape), "val": list(val.shape)}}, indent=1))
        final = self.root / key.dirname
        try:
            tmp.rename(final)
        except OSError:  # another process committed the same entry first: use theirs
            shutil.rmtree(tmp, ignore_errors=True)
        out = self._open(key)
        assert out is not None
        return out

    def nbytes(self) -> int:
        """Bytes of the entries this cache holds in memory (on-disk entries: none)."""
        return sum(r.store.array.nbytes for e in self._mem.values()
                   for r in (e["train"][0], e["val"]) if not r.store.on_disk)


def _entry(train: RowStore, val: RowStore, views: int) -> Entry:
    n = train.n // views
    return {"train": tuple(Rows.all(train, v * n, (v + 1) * n) for v in range(views)),
            "val": Rows.all(val)}
