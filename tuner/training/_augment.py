"""Augmentation levels as data, applied to uint8 images with stateless TF ops.

Random parameters are drawn with NumPy from an explicit seed, so the same seed
gives the same augmented views (cached views and per-epoch views alike).

| level    | h-flip | rotation | zoom  | shift | contrast | brightness |
|----------|--------|----------|-------|-------|----------|------------|
| off      | no     | 0        | 0     | 0     | 0        | 0          |
| light    | yes    | +-10 deg | +-10% | 0     | +-10%    | 0          |
| moderate | yes    | +-20 deg | +-20% | +-10% | +-20%    | +-10%      |
| strong   | yes    | +-30 deg | +-30% | +-15% | +-30%    | +-20%      |

``<level>-noflip`` is the same level without flips: the search uses it when the
advice says flips change the meaning (grayscale medical or document images).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from advisor.codec import Record
from advisor.errors import ConfigError

__all__ = ["AugmentSpec", "AUGMENTATIONS", "NO_FLIP", "get_augmentation", "draw_params",
           "apply_params"]


@dataclass(frozen=True)
class AugmentSpec(Record):
    """Strengths of one level: maxima of the uniform random draws."""

    level: str
    flip: bool
    rotation_deg: float
    zoom: float
    shift: float  # fraction of the image side
    contrast: float
    brightness: float  # fraction of 255

    @property
    def enabled(self) -> bool:
        return self.level != "off"


AUGMENTATIONS: dict[str, AugmentSpec] = {
    "off": AugmentSpec("off", False, 0.0, 0.0, 0.0, 0.0, 0.0),
    "light": AugmentSpec("light", True, 10.0, 0.10, 0.0, 0.10, 0.0),
    "moderate": AugmentSpec("moderate", True, 20.0, 0.20, 0.10, 0.20, 0.10),
    "strong": AugmentSpec("strong", True, 30.0, 0.30, 0.15, 0.30, 0.20),
}

N_PARAMS = 7  # flip, angle, zoom, shift x, shift y, contrast, brightness


NO_FLIP = "-noflip"  # level suffix: the same strengths without flips (e.g. "light-noflip")


def get_augmentation(level: str) -> AugmentSpec:
    """The spec of ``level``: a key of :data:`AUGMENTATIONS`, optionally with the
    ``-noflip`` suffix (grayscale medical or document images, where sides matter)."""
    if level.endswith(NO_FLIP) and level[:-len(NO_FLIP)] in AUGMENTATIONS:
        base = AUGMENTATIONS[level[:-len(NO_FLIP)]]
        return replace(base, level=level, flip=False) if base.enabled else base
    if level not in AUGMENTATIONS:
        raise ConfigError(f"Unknown augmentation level {level!r}",
                          expected=f"one of {list(AUGMENTATIONS)}", received=repr(level),
                          fix="pick one of the listed levels")
    return AUGMENTATIONS[level]


def draw_params(spec: AugmentSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, 7)`` float32 random parameters for ``n`` images."""
    u = rng.uniform(-1.0, 1.0, size=(n, N_PARAMS))
    p = np.zeros((n, N_PARAMS), dtype=np.float32)
    p[:, 0] = (u[:, 0] > 0) if spec.flip else 0.0
    p[:, 1] = u[:, 1] * math.radians(spec.rotation_deg)
    p[:, 2] = 1.0 + u[:, 2] * spec.zoom
    p[:, 3] = u[:, 3] * spec.shift
    p[:, 4] = u[:, 4] * spec.shift
    p[:, 5] = 1.0 + u[:, 5] * spec.contrast
    p[:, 6] = u[:, 6] * spec.brightness * 255.0
    return p


def apply_params(images, params):
    """Augment a batch: ``images`` (B, H, W, 3) uint8/float 0..255, ``params`` (B, 7).

    Returns float32 0..255. One projective transform (flip, rotation about the
    centre, zoom, shift; reflect padding) then contrast and brightness.
    """
    import tensorflow as tf

    x = tf.cast(images, tf.float32)
    p = tf.convert_to_tensor(params, tf.float32)
    shape = tf.shape(x)
    h, w = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    flip = 1.0 - 2.0 * p[:, 0]  # -1 flips x
    cos, sin, inv_zoom = tf.cos(p[:, 1]), tf.sin(p[:, 1]), 1.0 / p[:, 2]
    # output pixel (x, y) samples input pixel A @ (x - c) + c + shift
    a00, a01 = inv_zoom * cos * flip, -inv_zoom * sin
    a10, a11 = inv_zoom * sin * flip, inv_zoom * cos
    cx, cy = (w - 1.0) / 2.0, (h - 1.0) / 2.0
    b0 = cx - a00 * cx - a01 * cy + p[:, 3] * w
    b1 = cy - a10 * cx - a11 * cy + p[:, 4] * h
    zeros = tf.zeros_like(a00)
    transforms = tf.stack([a00, a01, b0, a10, a11, b1, zeros, zeros], axis=1)
    x = tf.raw_ops.ImageProjectiveTransformV3(
        images=x, transforms=transforms, output_shape=shape[1:3], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="REFLECT")
    mean = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
    x = (x - mean) * p[:, 5, None, None, None] + mean + p[:, 6, None, None, None]
    return tf.clip_by_value(x, 0.0, 255.0)
