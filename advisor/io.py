"""Atomic writes: a reader (or a killed writer) never sees a partial file.

Every file the tools write for later reads (results, configs, caches) goes through
:func:`atomic_path` or :func:`atomic_dir`: the content is written beside the target
under a temporary name that holds the writer's pid, then renamed over it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_path", "atomic_dir", "write_text_atomic", "write_json_atomic"]


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp", *, fsync: bool = False
                ) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    ``suffix`` ends the temporary name (``".tmp.npz"`` where a writer insists on an
    extension). ``fsync`` flushes the file to disk before the rename. On an
    exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}{suffix}")
    try:
        yield tmp
        if fsync:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | Path, *, replace: bool = True) -> Iterator[Path]:
    """Yield a new temporary folder beside ``path``; on success it becomes ``path``.

    With ``replace`` an existing ``path`` is removed first; without it, a ``path``
    that another process committed in the meantime wins and the new folder is
    dropped (both held the same content). The temporary folder never survives.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", dir=path.parent))
    try:
        yield tmp
        if replace and path.exists():
            shutil.rmtree(path)
        try:
            os.replace(tmp, path)
        except OSError:
            if replace or not path.is_dir():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_text_atomic(path: str | Path, text: str, *, fsync: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path, fsync=fsync) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | Path, obj: Any, *, indent: int | None = 1,
                      fsync: bool = True) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (``default=str`` for paths and
    other plain values)."""
    write_text_atomic(path, json.dumps(obj, indent=indent, default=str), fsync=fsync)
