"""Small JPEG thumbnails of dataset files, decoded with :func:`advisor.data.decode_image`.

A file that cannot be shown (missing, unreadable, not an image) gives a
:class:`Thumb` with ``data=None`` and the reason, which the report shows in place
of the picture: those files are often exactly what a health finding is about.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from advisor.data import ImageReadError, decode_image

__all__ = ["Thumb", "ThumbMaker", "MAX_SIDE", "QUALITY"]

MAX_SIDE = 96
QUALITY = 70
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class Thumb:
    data: bytes | None  # JPEG bytes
    problem: str = ""  # why there is no picture


def _swapped(data: bytes) -> bool:
    """True when EXIF orientation turns the image by 90 degrees (width and height swap)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.getexif().get(_EXIF_ORIENTATION, 1) in (5, 6, 7, 8)
    except (OSError, ValueError, SyntaxError):
        return False


class ThumbMaker:
    """Makes thumbnails, at most once per file (one instance per report)."""

    def __init__(self, max_side: int = MAX_SIDE, quality: int = QUALITY) -> None:
        self.max_side = max_side
        self.quality = quality
        self._cache: dict[Path, Thumb] = {}

    def __call__(self, path: str | Path) -> Thumb:
        path = Path(path)
        if path not in self._cache:
            self._cache[path] = self._make(path)
        return self._cache[path]

    def _make(self, path: Path) -> Thumb:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return Thumb(None, "file not found")
        except OSError as e:
            return Thumb(None, f"cannot read: {e.strerror or type(e).__name__}")
        try:
            # decode_image gives a square; decoding at twice the side and resizing back to
            # the true aspect ratio keeps the thumbnail sharp and undistorted.
            dec = decode_image(data, size=2 * self.max_side)
        except ImageReadError as e:
            return Thumb(None, f"not shown: {e.kind}")
        w, h = dec.info.width, dec.info.height
        if _swapped(data):
            w, h = h, w
        scale = self.max_side / max(w, h, 1)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        img = Image.fromarray(dec.pixels).resize(size, Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=self.quality, optimize=True)
        return Thumb(buf.getvalue())
