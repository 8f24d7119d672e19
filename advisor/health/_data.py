"""The read-only views of one scan that several checks share (computed once).

Health never opens a file: everything comes from the :class:`ScannedFile` records of
the one decoding pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from advisor.data import DatasetIndex, ScannedFile

__all__ = ["HealthData", "NearPair", "split_key", "listing", "pairwise_within"]

UNSPLIT = "all"  # split key of files in a layout without splits

# Hash pairs compared at once by ``pairwise_within`` (an XOR block of this many uint64
# cells is 32 MiB): the search stays exact and complete, its memory bounded at any size.
MAX_PAIR_CELLS = 1 << 22
# popcount of every byte value, for numpy versions without np.bitwise_count
_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def split_key(sf: ScannedFile) -> str:
    return sf.item.split or UNSPLIT


def listing(names: Sequence[str], max_listed: int) -> str:
    """``a, b, c and 4 more`` (names quoted with repr, so odd characters stay visible)."""
    shown = ", ".join(repr(n) for n in names[:max_listed])
    rest = len(names) - max_listed
    if rest > 0:
        return f"{shown} and {rest} more" if shown else f"{rest} files"
    return shown


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(x)
    return _BYTE_POPCOUNT[x.view(np.uint8)].reshape(*x.shape, 8).sum(axis=-1, dtype=np.uint8)


def pairwise_within(hashes: np.ndarray, max_distance: int, block: int = 1024
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs ``i < j`` of 64-bit hashes with Hamming distance <= ``max_distance``.

    Vectorised over blocks of at most ``block`` rows (XOR + popcount), so 3000 hashes
    take a few milliseconds; the rows per block shrink as ``n`` grows so that a block
    holds at most :data:`MAX_PAIR_CELLS` cells (memory bounded, result unchanged).
    """
    h = np.ascontiguousarray(hashes, dtype=np.uint64)
    n = len(h)
    block = max(1, min(block, MAX_PAIR_CELLS // max(n, 1)))
    rows, cols, dists = [], [], []
    for s in range(0, n, block):
        e = min(n, s + block)
        d = _popcount(h[s:e, None] ^ h[None, s:])
        i, j = np.nonzero(d <= max_distance)
        keep = j > i  # columns start at s: j > i means column index > row index
        i, j = i[keep], j[keep]
        rows.append(i + s)
        cols.append(j + s)
        dists.append(d[i, j])
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return (np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64),
            np.concatenate(dists).astype(np.int64))


@dataclass(frozen=True)
class NearPair:
    """Two readable files with different bytes but phashes ``distance`` bits apart."""

    a: ScannedFile
    b: ScannedFile
    distance: int


class HealthData:
    """One scan's files plus the groupings the checks share.

    Built once per :func:`advisor.health.find_issues` call; its cached views are
    computed on first use and never change afterwards.
    """

    def __init__(self, index: DatasetIndex, files: Sequence[ScannedFile],
                 features: np.ndarray | None = None) -> None:
        self.index = index
        self.files = tuple(files)
        self.readable = tuple(f for f in self.files if f.ok)
        if features is not None and len(features) != len(self.readable):
            from advisor.errors import InputError

            raise InputError("Features do not match the readable files",
                             expected=f"{len(self.readable)} feature rows",
                             received=f"{len(features)} rows",
                             fix="pass the features of the same decoding pass")
        # pooled backbone features, one row per readable file (None: scan without a model)
        self.features = features
        self._near: dict[int, tuple[NearPair, ...]] = {}

    @property
    def split_keys(self) -> tuple[str, ...]:
        return self.index.splits or (UNSPLIT,)

    @cached_property
    def counts(self) -> dict[str, dict[str, int]]:
        """Readable images per split key and class (every class of the index, zeros kept)."""
        out = {s: {c: 0 for c in self.index.classes} for s in self.split_keys}
        for f in self.readable:
            per = out.setdefault(split_key(f), {c: 0 for c in self.index.classes})
            per[f.item.label] = per.get(f.item.label, 0) + 1
        return out

    @cached_property
    def md5_groups(self) -> tuple[tuple[ScannedFile, ...], ...]:
        """Groups of two or more readable files with identical bytes, in scan order."""
        by_md5: dict[str, list[ScannedFile]] = defaultdict(list)
        for f in self.readable:
            by_md5[f.info.md5].append(f)
        return tuple(tuple(g) for g in by_md5.values() if len(g) > 1)

    def near_pairs(self, max_distance: int) -> tuple[NearPair, ...]:
        """Pairs of readable files with phash distance <= ``max_distance`` and different MD5,
        sorted by distance then path."""
        if max_distance not in self._near:
            hashes = np.array([int(f.info.phash, 16) for f in self.readable], dtype=np.uint64)
            i, j, d = pairwise_within(hashes, max_distance)
            pairs = [NearPair(self.readable[a], self.readable[b], int(k))
                     for a, b, k in zip(i.tolist(), j.tolist(), d.tolist())
                     if self.readable[a].info.md5 != self.readable[b].info.md5]
            pairs.sort(key=lambda p: (p.distance, p.a.item.rel, p.b.item.rel))
            self._near[max_distance] = tuple(pairs)
        return self._near[max_distance]
