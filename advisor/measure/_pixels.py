"""Features of the pixel baseline: what a linear probe can learn from raw tiny
thumbnails, with no ImageNet knowledge."""

from __future__ import annotations

import numpy as np

from advisor.errors import InputError

__all__ = ["HIST_BINS", "pixel_features"]

HIST_BINS = 8  # per channel


def pixel_features(thumbs: np.ndarray) -> np.ndarray:
    """``thumbs`` (N, H, W, 3) uint8 -> (N, H*W*3 + 3*HIST_BINS) float32.

    The flattened thumbnail scaled to [0, 1], then per channel the fraction of
    pixels in each of ``HIST_BINS`` equal-width intensity bins.
    """
    t = np.asarray(thumbs)
    if t.ndim != 4 or t.shape[-1] != 3 or t.dtype != np.uint8:
        raise InputError("Pixel features need RGB uint8 thumbnails",
                         expected="a uint8 array of shape (N, H, W, 3)",
                         received=f"{t.dtype} array of shape {t.shape}",
                         fix="pass the 16x16 thumbnails of the decoded images")
    n = t.shape[0]
    flat = t.reshape(n, -1).astype(np.float32) / 255.0
    bins = (t.reshape(n, -1, 3) // (256 // HIST_BINS)).astype(np.intp)  # (N, P, 3)
    # one bincount over (sample, channel, bin) codes
    codes = (np.arange(n)[:, None, None] * 3 + np.arange(3)) * HIST_BINS + bins
    hist = np.bincount(codes.ravel(), minlength=n * 3 * HIST_BINS).reshape(n, 3 * HIST_BINS)
    hist = hist.astype(np.float32) / max(t.shape[1] * t.shape[2], 1)
    return np.concatenate([flat, hist], axis=1)
