"""Rows of one shape and dtype, on disk or in memory, and ordered selections of them.

A :class:`RowStore` is a raw file of fixed-size rows (optionally after a header, as
in a ``.npy`` file) or an in-memory array. On disk it is read with ``pread``, never
memory-mapped: pages read stay in the page cache, not in the process, so a run's
resident memory does not grow with the store (a map's touched pages would count).
:class:`Rows` is an ordered selection of a store's rows (a split, a fold, train +
val): taking, concatenating and reading it never copies more than what is read.
``tuner.training`` streams a :class:`Rows` into ``tf.data`` without Python per batch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["RowStore", "Rows", "RowWriter"]

_READ_CHUNK = 1024  # rows per read when a whole selection is read in chunks


@dataclass(frozen=True, eq=False)
class RowStore:
    """``shape[0]`` rows of ``shape[1:]`` and ``dtype``: in ``array``, or in the file
    ``path`` from byte ``offset`` on."""

    shape: tuple[int, ...]
    dtype: np.dtype
    path: Path | None = None
    offset: int = 0
    array: np.ndarray | None = None

    @classmethod
    def of_array(cls, a: np.ndarray) -> "RowStore":
        a = np.asarray(a)
        return cls(tuple(a.shape), a.dtype, array=a)

    @classmethod
    def open_npy(cls, path: Path) -> "RowStore":
        """The rows of a C-ordered ``.npy`` file, read in place."""
        m = np.load(path, mmap_mode="r")  # reads the header only; no page is touched
        shape, dtype, offset, fortran = m.shape, m.dtype, m.offset, m.flags.f_contiguous and m.ndim > 1
        del m
        if fortran:
            raise ValueError(f"{path} is Fortran-ordered; rows need C order")
        return cls(tuple(shape), np.dtype(dtype), path=Path(path), offset=offset)

    @property
    def n(self) -> int:
        return self.shape[0]

    @property
    def row_shape(self) -> tuple[int, ...]:
        return self.shape[1:]

    @property
    def row_bytes(self) -> int:
        return int(np.prod(self.row_shape, dtype=np.int64)) * self.dtype.itemsize

    @property
    def on_disk(self) -> bool:
        return self.array is None

    def read(self, rows: np.ndarray) -> np.ndarray:
        """A new array of the rows ``rows`` (store row numbers), in that order."""
        rows = np.asarray(rows, np.int64)
        if self.array is not None:
            return self.array[rows]
        out = np.empty((len(rows),) + self.row_shape, self.dtype)
        if not len(rows):
            return out
        order = np.argsort(rows, kind="stable")
        srt = rows[order]
        cuts = np.flatnonzero(np.diff(srt) != 1) + 1  # runs of consecutive rows: one read each
        rb = self.row_bytes
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for run in np.split(np.arange(len(srt)), cuts):
                first, count = int(srt[run[0]]), len(run)
                buf = os.pread(fd, rb * count, self.offset + first * rb)
                if len(buf) != rb * count:
                    raise OSError(f"{self.path}: short read (truncated store?)")
                out[order[run]] = np.frombuffer(buf, self.dtype).reshape((count,) + self.row_shape)
        finally:
            os.close(fd)
        return out


class RowWriter:
    """Writes rows of a new store: a raw file (``pwrite``, no map) or an array."""

    def __init__(self, store: RowStore) -> None:
        self.store = store
        self._fd = None if store.array is not None else os.open(store.path, os.O_WRONLY)

    @classmethod
    def npy(cls, path: Path, shape: tuple[int, ...], dtype=np.float16) -> "RowWriter":
        """A ``.npy`` file of ``shape``, its rows written later by :meth:`write`."""
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                  "fortran_order": False, "shape": tuple(shape)}
        with open(path, "wb") as f:
            np.lib.format.write_array_header_1_0(f, header)
            offset = f.tell()
            f.truncate(offset + int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize)
        return cls(RowStore(tuple(shape), np.dtype(dtype), path=Path(path), offset=offset))

    @classmethod
    def memory(cls, shape: tuple[int, ...], dtype=np.float16) -> "RowWriter":
        return cls(RowStore.of_array(np.empty(shape, dtype)))

    def write(self, start: int, rows: np.ndarray) -> None:
        """Rows ``start .. start + len(rows)`` of the store."""
        s = self.store
        rows = np.ascontiguousarray(rows, s.dtype)
        if s.array is not None:
            s.array[start:start + len(rows)] = rows
            return
        data = rows.tobytes()
        done = os.pwrite(self._fd, data, s.offset + start * s.row_bytes)
        if done != len(data):
            raise OSError(f"{s.path}: short write")

    def close(self) -> RowStore:
        """Flush to disk and return the store (for reading)."""
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
        return self.store


@dataclass(frozen=True, eq=False)
class Rows:
    """Rows ``index`` of ``store``, in that order: reads like an array (``len``,
    ``shape``, ``rows[i]``, ``np.asarray(rows)``) without holding one."""

    store: RowStore
    index: np.ndarray  # int64 store row of each row

    @classmethod
    def of(cls, a: "np.ndarray | Rows") -> "Rows":
        """``a`` itself, or a whole in-memory array as rows."""
        if isinstance(a, Rows):
            return a
        store = RowStore.of_array(a)
        return cls(store, np.arange(store.n, dtype=np.int64))

    @classmethod
    def all(cls, store: RowStore, start: int = 0, stop: int | None = None) -> "Rows":
        return cls(store, np.arange(start, store.n if stop is None else stop, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.index)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.index),) + self.store.row_shape

    @property
    def dtype(self) -> np.dtype:
        return self.store.dtype

    @property
    def nbytes(self) -> int:
        return len(self.index) * self.store.row_bytes

    def take(self, positions) -> "Rows":
        """The rows at ``positions`` of this selection (an index array or a slice)."""
        return Rows(self.store, np.asarray(self.index[positions], np.int64).reshape(-1))

    def __add__(self, other: "Rows") -> "Rows":
        if len(other) == 0:
            return self
        if len(self) == 0:
            return other
        if other.store is not self.store:
            if self.store.on_disk or other.store.on_disk:  # would load a store into memory
                raise ValueError("rows of different on-disk stores cannot be joined")
            return Rows.of(np.concatenate([self.read(), other.read()]))  # arrays already in memory
        return Rows(self.store, np.concatenate([self.index, other.index]))

    def read(self, positions=None) -> np.ndarray:
        """The rows (at ``positions`` of this selection, default all) as a new array."""
        idx = self.index if positions is None else self.index[positions]
        return self.store.read(np.asarray(idx, np.int64).reshape(-1))

    def __getitem__(self, positions) -> np.ndarray:
        if positions is Ellipsis or (isinstance(positions, tuple) and positions[0] is Ellipsis):
            return self.read()[positions]
        if isinstance(positions, tuple):  # rows first, then within each row
            first, rest = positions[0], positions[1:]
            if isinstance(first, (int, np.integer)):
                return self[first][rest]
            return self.read(first)[(slice(None),) + rest]
        if isinstance(positions, (int, np.integer)):
            return self.store.read(self.index[[positions]])[0]
        return self.read(positions)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        a = self.read()
        return a if dtype is None else a.astype(dtype)

    def chunks(self, size: int = _READ_CHUNK) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, rows[start:start + size])`` over the whole selection."""
        for s in range(0, len(self), size):
            yield s, self.read(slice(s, s + size))
