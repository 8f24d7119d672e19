"""Augmentation levels: the table, seeded parameter draws, and what the transform does."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.errors import ConfigError
from tuner.training._augment import AUGMENTATIONS, apply_params, draw_params
from tuner.training import get_augmentation
from tuner.trial import AUGMENTATION_LEVELS


def test_levels_match_the_shared_names_and_grow_in_strength() -> None:
    assert tuple(AUGMENTATIONS) == AUGMENTATION_LEVELS
    specs = [AUGMENTATIONS[k] for k in AUGMENTATION_LEVELS]
    for field in ("rotation_deg", "zoom", "shift", "contrast", "brightness"):
        values = [getattr(s, field) for s in specs]
        assert values == sorted(values) and values[0] == 0
    assert not specs[0].enabled and all(s.enabled for s in specs[1:])
    with pytest.raises(ConfigError):
        get_augmentation("extreme")


def test_draws_are_seeded_and_within_the_level() -> None:
    spec = AUGMENTATIONS["moderate"]
    a = draw_params(spec, 500, np.random.default_rng(1))
    assert np.array_equal(a, draw_params(spec, 500, np.random.default_rng(1)))
    assert not np.array_equal(a, draw_params(spec, 500, np.random.default_rng(2)))
    assert set(np.unique(a[:, 0])) == {0.0, 1.0}
    assert np.abs(np.degrees(a[:, 1])).max() <= spec.rotation_deg + 1e-4
    assert np.abs(a[:, 2] - 1).max() <= spec.zoom + 1e-6
    assert np.abs(a[:, 3:5]).max() <= spec.shift + 1e-6
    off = draw_params(AUGMENTATIONS["off"], 10, np.random.default_rng(0))
    assert np.array_equal(off[:, [0, 1, 3, 4, 6]], np.zeros((10, 5)))
    assert np.array_equal(off[:, [2, 5]], np.ones((10, 2)))


def test_noflip_levels_keep_the_strengths_without_flips() -> None:
    spec = get_augmentation("moderate-noflip")
    base = AUGMENTATIONS["moderate"]
    assert spec.level == "moderate-noflip" and not spec.flip and spec.enabled
    assert (spec.rotation_deg, spec.zoom, spec.contrast) == (base.rotation_deg, base.zoom,
                                                             base.contrast)
    a = draw_params(spec, 200, np.random.default_rng(0))
    assert not a[:, 0].any() and np.abs(a[:, 1]).max() > 0  # no flip, still rotated
    assert get_augmentation("off-noflip").level == "off"
    with pytest.raises(ConfigError):
        get_augmentation("extreme-noflip")


def test_identity_parameters_keep_the_image_and_flip_mirrors_it() -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(2, 16, 20, 3), dtype=np.uint8)
    ident = np.tile(np.array([0, 0, 1, 0, 0, 1, 0], np.float32), (2, 1))
    out = np.asarray(apply_params(img, ident))
    assert out.dtype == np.float32 and np.allclose(out, img, atol=1e-3)
    flip = ident.copy()
    flip[:, 0] = 1.0
    assert np.allclose(np.asarray(apply_params(img, flip)), img[:, :, ::-1], atol=1e-3)


def test_contrast_and_brightness_stay_in_range() -> None:
    img = np.random.default_rng(0).integers(0, 256, size=(3, 8, 8, 3), dtype=np.uint8)
    p = draw_params(AUGMENTATIONS["strong"], 3, np.random.default_rng(0))
    p[:, 5] = 3.0  # extreme contrast
    out = np.asarray(apply_params(img, p))
    assert out.shape == img.shape and out.min() >= 0.0 and out.max() <= 255.0
