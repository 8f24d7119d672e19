"""Activations of the frozen prefix, computed once and reused by every trial.

An entry holds float16 arrays ``train`` (views, n_train, ...) and ``val``
(n_val, ...). It lives in memory, and on disk as ``.npy`` files (opened as
memory maps) when a cache folder is given, so a resumed run reuses it. The key
covers everything the values depend on; see :class:`CacheKey`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

__all__ = ["CacheKey", "ActivationCache"]

_VERSION = 1


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


class ActivationCache:
    """Computed-once store of prefix activations; counts what it computed and loaded."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) / "activations" if root is not None else None
        self.computed = 0  # entries computed by this process
        self.loaded = 0  # entries read from disk
        self._mem: dict[CacheKey, dict[str, np.ndarray]] = {}
        self._pending: dict[CacheKey, Path] = {}  # allocated, not yet committed

    def get(self, key: CacheKey) -> dict[str, np.ndarray] | None:
        if key in self._mem:
            return self._mem[key]
        arrays = self._open(key)
        if arrays is not None:
            self.loaded += 1
        return arrays

    def _open(self, key: CacheKey) -> dict[str, np.ndarray] | None:
        if self.root is None:
            return None
        d = self.root / key.dirname
        if not (d / "meta.json").is_file():
            return None
        arrays = {s: np.load(d / f"{s}.npy", mmap_mode="r") for s in ("train", "val")}
        self._mem[key] = arrays
        return arrays

    def allocate(self, key: CacheKey, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
        """Writable float16 arrays for a new entry (memory maps in a temporary
        folder when on disk); fill them, then :meth:`commit`."""
        if self.root is None:
            return {s: np.empty(shape, np.float16) for s, shape in shapes.items()}
        self.root.mkdir(parents=True, exist_ok=True)
        # a folder of its own per writer: a killed one leaves a dot-folder, never an entry
        tmp = Path(tempfile.mkdtemp(prefix=f".{key.dirname}.{os.getpid()}.", dir=self.root))
        self._pending[key] = tmp
        return {s: np.lib.format.open_memmap(tmp / f"{s}.npy", mode="w+", dtype=np.float16,
                                             shape=shape) for s, shape in shapes.items()}

    def commit(self, key: CacheKey, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        self.computed += 1
        if self.root is None:
            self._mem[key] = arrays
            return arrays
        for a in arrays.values():
            a.flush()
        tmp = self._pending.pop(key)
        (tmp / "meta.json").write_text(json.dumps(
            {"key": asdict(key), "shapes": {s: list(a.shape) for s, a in arrays.items()}}, indent=1))
        del arrays
        final = self.root / key.dirname
        try:
            tmp.rename(final)
        except OSError:  # another process committed the same entry first: use theirs
            shutil.rmtree(tmp, ignore_errors=True)
        out = self._open(key)
        assert out is not None
        return out

    def nbytes(self) -> int:
        """Bytes of the entries this cache holds in memory or maps."""
        return sum(a.nbytes for e in self._mem.values() for a in e.values())
