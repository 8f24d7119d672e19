"""Open every file of a dataset once, in parallel threads (Pillow releases the GIL
while decoding). Each file becomes a :class:`ScannedFile`; bad files are recorded
with their reason, never dropped."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from advisor.data._images import DEFAULT_MAX_PIXELS, ImageInfo, ImageReadError, decode_image
from advisor.data._layout import IMAGE_EXTENSIONS, DatasetIndex, ImageItem

__all__ = ["ScannedFile", "iter_decoded", "scan_files", "default_workers"]


@dataclass(frozen=True)
class ScannedFile:
    """One file after opening: ``info`` when readable, else ``error_kind``/``error``."""

    item: ImageItem
    info: ImageInfo | None
    error_kind: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.info is not None

    def to_dict(self) -> dict:
        d = self.item.to_dict()
        d.update(info=self.info.to_dict() if self.info else None,
                 error_kind=self.error_kind, error=self.error)
        return d

    @classmethod
    def from_dict(cls, d: dict, root) -> "ScannedFile":
        from pathlib import Path

        item = ImageItem(Path(root) / d["path"], d["path"], d["label"], d["split"])
        info = ImageInfo(**d["info"]) if d.get("info") else None
        return cls(item, info, d.get("error_kind"), d.get("error"))


def default_workers() -> int:
    return max(2, min(8, (os.cpu_count() or 2) * 2))


def _open(item: ImageItem, size: int | None, max_pixels: int, framing: str = "squash"):
    # Files with other extensions are opened too: a mislabelled image is usable.
    try:
        data = item.path.read_bytes()
    except OSError as e:
        return ScannedFile(item, None, "unreadable", f"cannot read the file: {e.strerror or e}"), None, None
    try:
        dec = decode_image(data, size, max_pixels=max_pixels, framing=framing)
    except ImageReadError as e:
        kind = e.kind
        if kind == "not_image" and item.path.suffix.lower() not in IMAGE_EXTENSIONS:
            detail = f"not an image (extension {item.path.suffix or 'none'!r})"
        else:
            detail = e.detail
        return ScannedFile(item, None, kind, detail), None, None
    return ScannedFile(item, dec.info), dec.pixels, dec.thumb


def iter_decoded(items: Sequence[ImageItem], size: int | None, *,
                 max_pixels: int = DEFAULT_MAX_PIXELS, workers: int | None = None,
                 framing: str = "squash",
                 ) -> Iterator[tuple[ScannedFile, np.ndarray | None, np.ndarray | None]]:
    """Yield ``(scanned, pixels, thumb)`` in input order, decoding in a thread pool;
    ``pixels`` framed by ``framing`` (:func:`~advisor.data.frame`)."""
    workers = workers or default_workers()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        window = workers * 4
        futures = []
        it = iter(items)
        for item in it:
            futures.append(pool.submit(_open, item, size, max_pixels, framing))
            if len(futures) >= window:
                break
        for item in it:
            yield futures.pop(0).result()
            futures.append(pool.submit(_open, item, size, max_pixels, framing))
        for f in futures:
            yield f.result()


def scan_files(index: DatasetIndex, *, max_pixels: int = DEFAULT_MAX_PIXELS,
               workers: int | None = None,
               progress: Callable[[int], None] | None = None) -> list[ScannedFile]:
    """Open every file of ``index`` (no model input): health data only."""
    out = []
    for sf, _, _ in iter_decoded(index.items, None, max_pixels=max_pixels, workers=workers):
        out.append(sf)
        if progress:
            progress(1)
    return out
