"""On-disk cache of a feature pass, keyed by dataset content, backbone, weights
and input size, so that a second run over the same data skips decoding and the
forward pass (and does not even import TensorFlow)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from advisor.backbones import Boundary
from advisor.data import ImageItem, ScannedFile, default_workers
from advisor.io import atomic_dir, write_json_atomic
from advisor.measure._features import BNStats, FeaturePass

__all__ = ["CACHE_VERSION", "default_cache_dir", "content_fingerprint", "FeatureCache"]

CACHE_VERSION = 2  # bump when the cached arrays change meaning (2: depth features)
_HASH_CHUNK = 1024  # files in flight while hashing (bounds the pending futures)


def default_cache_dir() -> Path:
    """``$TL_CACHE_DIR``, else ``$XDG_CACHE_HOME/tltools``, else ``~/.cache/tltools``."""
    if os.environ.get("TL_CACHE_DIR"):
        return Path(os.environ["TL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tltools"


def _md5(path: Path) -> str:
    h = hashlib.md5()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as e:
        return f"unreadable:{e.errno}"
    return h.hexdigest()


def content_fingerprint(items: Sequence[ImageItem], workers: int | None = None,
                        progress: Callable[[int], None] | None = None) -> str:
    """Hash of every file's bytes, label, split and relative path.

    Files are handed to the threads ``_HASH_CHUNK`` at a time: ``pool.map`` over all
    items would create every future up front (about 2 KB each, held to the end)."""
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        digests = []
        for start in range(0, len(items), _HASH_CHUNK):
            for d in pool.map(lambda it: _md5(it.path), items[start:start + _HASH_CHUNK]):
                digests.append(d)
                if progress:
                    progress(1)
    h = hashlib.sha256()
    for it, d in sorted(zip(items, digests), key=lambda t: t[0].rel):
        h.update(f"{it.rel}\0{it.label}\0{it.split}\0{d}\n".encode())
    return h.hexdigest()


def _boundary(b: Boundary) -> dict:
    return {"name": b.name, "index": b.index, "block": b.block, "n_blocks": b.n_blocks}


class FeatureCache:
    """A folder of feature passes; ``root=None`` disables caching."""

    def __init__(self, root: Path | str | None) -> None:
        self.root = Path(root) if root is not None else None

    @staticmethod
    def key(fingerprint: str, backbone: str, weights_id: str, input_size: int,
            max_pixels: int) -> str:
        raw = f"v{CACHE_VERSION}|{fingerprint}|{backbone}|{weights_id}|{input_size}|{max_pixels}"
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def _dir(self, key: str) -> Path:
        assert self.root is not None
        return self.root / "features" / key

    def load(self, key: str, root: Path) -> FeaturePass | None:
        if self.root is None:
            return None
        d = self._dir(key)
        try:
            meta = json.loads((d / "meta.json").read_text())
            files = tuple(ScannedFile.from_dict(f, root) for f in meta["files"])
            bnz = np.load(d / "bn.npz")
            n = len(meta["bn_names"])
            bn = BNStats(tuple(meta["bn_names"]), tuple(meta["bn_indices"]), meta["n_layers"],
                         tuple(bnz[f"mean{i}"] for i in range(n)),
                         tuple(bnz[f"var{i}"] for i in range(n)),
                         tuple(bnz[f"ref_mean{i}"] for i in range(n)),
                         tuple(bnz[f"ref_var{i}"] for i in range(n)), tuple(meta["bn_eps"]))
            depth_bounds = tuple(Boundary(**b) for b in meta["depth_bounds"])
            depthz = np.load(d / "depth.npz")
            return FeaturePass(files, np.array([f.ok for f in files], dtype=bool),
                               np.load(d / "features.npy"), np.load(d / "thumbs.npy"), bn,
                               tuple(Boundary(**b) for b in meta["boundaries"]),
                               tuple(depthz[f"depth{i}"] for i in range(len(depth_bounds))),
                               depth_bounds)
        except (OSError, KeyError, ValueError, json.JSONDecodeError):
            return None  # missing or partial entry: recompute

    def load_derived(self, key: str, name: str) -> dict | None:
        """A JSON side entry (probe results...) stored beside a feature pass."""
        if self.root is None:
            return None
        try:
            return json.loads((self._dir(key) / f"derived-{name}.json").read_text())
        except (OSError, ValueError):
            return None

    def save_derived(self, key: str, name: str, data: dict) -> None:
        if self.root is None or not self._dir(key).is_dir():
            return
        write_json_atomic(self._dir(key) / f"derived-{name}.json", data, indent=None,
                          fsync=False)

    def save(self, key: str, fp: FeaturePass) -> Path | None:
        if self.root is None:
            return None
        final = self._dir(key)
        with atomic_dir(final) as tmp:
            meta = {"files": [f.to_dict() for f in fp.files], "bn_names": list(fp.bn.names),
                    "bn_indices": list(fp.bn.indices), "n_layers": fp.bn.n_layers,
                    "bn_eps": list(fp.bn.eps),
                    "boundaries": [_boundary(b) for b in fp.boundaries],
                    "depth_bounds": [_boundary(b) for b in fp.depth_bounds]}
            np.save(tmp / "features.npy", fp.features)
            np.save(tmp / "thumbs.npy", fp.thumbs)
            arrays = {}
            for i in range(len(fp.bn.names)):
                arrays.update({f"mean{i}": fp.bn.mean[i], f"var{i}": fp.bn.var[i],
                               f"ref_mean{i}": fp.bn.ref_mean[i], f"ref_var{i}": fp.bn.ref_var[i]})
            np.savez(tmp / "bn.npz", **arrays)
            np.savez(tmp / "depth.npz", **{f"depth{i}": a for i, a in enumerate(fp.depth_features)})
            (tmp / "meta.json").write_text(json.dumps(meta))  # written last: marks completeness
        return final
