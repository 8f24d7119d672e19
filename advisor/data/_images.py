"""Decode one image file robustly: any Pillow mode to RGB, EXIF orientation,
decompression-bomb guard, and the small derived values the health checks need
(MD5, perceptual hash, grayscale-content flag, a tiny thumbnail).

Decoding happens once per file; the model input, the hashes and the thumbnail
all come from that one decode.
"""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from advisor.codec import Record
from advisor.errors import ConfigError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "THUMB_SIZE",
    "ImageInfo",
    "Decoded",
    "ImageReadError",
    "decode_image",
    "AUTO_FRAMING",
    "FRAMINGS",
    "check_framing",
    "CROP_FRACTION",
    "frame",
    "to_rgb",
    "phash",
    "hamming",
]

DEFAULT_MAX_PIXELS = 100_000_000  # above this a file is reported as a decompression bomb
THUMB_SIZE = 16  # side of the RGB thumbnail used for the pixel baseline and near-duplicates

FRAMINGS = ("squash", "crop")
AUTO_FRAMING = "auto"  # decided per dataset by the tuner before its search
# ImageNet evaluation convention (resize to 256, centre 224): the framing the backbones saw.
CROP_FRACTION = 0.875

Image.MAX_IMAGE_PIXELS = None  # we enforce our own limit (with a clear finding) before decoding


@dataclass(frozen=True)
class ImageInfo(Record):
    """What the health checks need to know about one readable image."""

    md5: str
    n_bytes: int
    width: int
    height: int
    mode: str
    format: str
    phash: str  # 64-bit DCT perceptual hash, hex
    grayscale: bool  # content has equal channels, whatever the stored mode
    n_frames: int = 1

@dataclass(frozen=True)
class Decoded:
    info: ImageInfo
    pixels: np.ndarray | None  # (size, size, 3) uint8, or None when no size was asked
    thumb: np.ndarray  # (THUMB_SIZE, THUMB_SIZE, 3) uint8


class ImageReadError(Exception):
    """A file that cannot be used as an image. ``kind`` is one of
    ``empty``, ``not_image``, ``truncated``, ``unreadable``, ``bomb``."""

    def __init__(self, kind: str, detail: str, md5: str | None = None, n_bytes: int = 0):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.md5 = md5
        self.n_bytes = n_bytes


def _scale_to_uint8(a: np.ndarray) -> np.ndarray:
    is_float = a.dtype.kind == "f"  # before the cast: only float images may be 0..1
    a = a.astype(np.float64)
    lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
    if is_float and lo >= 0.0 and hi <= 1.0:
        return np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if lo >= 0 and hi <= 255:
        return a.astype(np.uint8)
    if lo >= 0 and hi <= 65535:
        return np.clip(a / 257.0 + 0.5, 0, 255).astype(np.uint8)
    span = hi - lo if hi > lo else 1.0
    return np.clip((a - lo) / span * 255.0 + 0.5, 0, 255).astype(np.uint8)


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB, compositing transparency on white."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        mode = img.mode
    if mode in ("I", "F") or mode.startswith("I;16"):
        arr = _scale_to_uint8(np.asarray(img))
        return Image.fromarray(arr, "L").convert("RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, rgba).convert("RGB")
    return img.convert("RGB")  # 1, L, CMYK, YCbCr, LAB, HSV, RGBX


def phash(gray32: np.ndarray) -> int:
    """64-bit perceptual hash from a 32x32 grayscale array (low 8x8 DCT vs. median)."""
    from scipy.fft import dctn

    coeffs = dctn(gray32.astype(np.float64), norm="ortho")[:8, :8].ravel()
    med = np.median(coeffs[1:])
    bits = coeffs > med
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def hamming(a: str | int, b: str | int) -> int:
    """Bit distance of two hashes given as ints or hex strings."""
    x = (int(a, 16) if isinstance(a, str) else a) ^ (int(b, 16) if isinstance(b, str) else b)
    return bin(x).count("1")


def check_framing(framing: str, *, allow_auto: bool = False) -> str:
    """``framing`` if it is one of :data:`FRAMINGS` (or ``"auto"`` where the caller
    decides it later), else a :class:`~advisor.errors.ConfigError`."""
    choices = (AUTO_FRAMING, *FRAMINGS) if allow_auto else FRAMINGS
    if framing not in choices:
        raise ConfigError("Unknown framing", expected=f"one of {list(choices)}",
                          received=repr(framing),
                          fix="pass --framing " + ", ".join(choices[:-1]) + f" or {choices[-1]}")
    return framing


def frame(img: Image.Image, size: int, framing: str = "squash") -> np.ndarray:
    """``img`` as a ``size`` x ``size`` uint8 array.

    ``"squash"`` resizes the whole image, ignoring its aspect ratio. ``"crop"`` keeps the
    aspect ratio and takes the central square whose side is :data:`CROP_FRACTION` of the
    shorter side (for a square image, a 12.5 % zoom into the centre)."""
    if framing == "squash":
        return np.asarray(img.resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)
    check_framing(framing)
    w, h = img.size
    side = CROP_FRACTION * min(w, h)
    box = ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)
    return np.asarray(img.resize((size, size), Image.Resampling.BILINEAR, box=box),
                      dtype=np.uint8)


def decode_image(data: bytes, size: int | None = None, *,
                 max_pixels: int = DEFAULT_MAX_PIXELS, framing: str = "squash") -> Decoded:
    """Decode ``data`` (the file's bytes), the model input framed by ``framing`` (see
    :func:`frame`). Raises :class:`ImageReadError`."""
    check_framing(framing)
    md5 = hashlib.md5(data).hexdigest()
    n = len(data)
    if n == 0:
        raise ImageReadError("empty", "the file is empty (0 bytes)", md5, n)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > max_pixels:
                raise ImageReadError(
                    "bomb", f"{w}x{h} = {w * h:,} pixels is above the limit of "
                    f"{max_pixels:,} (possible decompression bomb)", md5, n)
            if w == 0 or h == 0:
                raise ImageReadError("unreadable", f"zero-size image ({w}x{h})", md5, n)
            fmt = img.format or "?"
            mode = img.mode
            n_frames = getattr(img, "n_frames", 1)
            if fmt == "JPEG" and size:
                # DCT-domain downscale (big JPEGs decode fast), never below what framing needs
                need = size if framing == "squash" else int(np.ceil(size / CROP_FRACTION))
                img.draft("RGB", (need, need))
            img.load()
            img = ImageOps.exif_transpose(img)
            rgb = to_rgb(img)
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError("not_image", "not an image Pillow can identify", md5, n) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageReadError("bomb", str(e), md5, n) from None
    except OSError as e:
        msg = str(e)
        low = msg.lower()  # Pillow says both "image file is truncated" and "Truncated File Read"
        kind = "truncated" if ("truncated" in low or "broken data stream" in low) else "unreadable"
        raise ImageReadError(kind, msg or type(e).__name__, md5, n) from None
    except (ValueError, SyntaxError, IndexError, TypeError, struct.error) as e:
        raise ImageReadError("unreadable", f"{type(e).__name__}: {e}", md5, n) from None

    thumb = np.asarray(rgb.resize((THUMB_SIZE, THUMB_SIZE), Image.Resampling.BILINEAR))
    probe = np.asarray(rgb.resize((32, 32), Image.Resampling.BILINEAR)).astype(np.int16)
    spread = (probe.max(axis=2) - probe.min(axis=2)).astype(np.float64)
    grayscale = bool(spread.mean() <= 2.0 and np.percentile(spread, 99) <= 12)
    gray32 = probe.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    pixels = None
    if size:
        pixels = frame(rgb, size, framing)
    info = ImageInfo(md5=md5, n_bytes=n, width=w, height=h, mode=mode, format=fmt,
                     phash=f"{phash(gray32):016x}", grayscale=grayscale, n_frames=n_frames)
    return Decoded(info=info, pixels=pixels, thumb=thumb)

