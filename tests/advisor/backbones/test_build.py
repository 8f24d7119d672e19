"""The catalog's newer backbones built directly: MobileNetV2 at width 0.35 (with its real
ImageNet weights where ``../shared/weights`` has them), VGG16 and InceptionV3 (random
weights: theirs are not available offline). Each has the expected freeze boundaries,
every one a real cut, and its preprocessing layer equals its ``preprocess_input``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from advisor.backbones import (WeightsSource, block_boundaries, build_backbone, get_backbone,
                               preprocess_fn)
from advisor.backbones._build import _is_cut
from advisor.errors import InputError, WeightsError
from tests.conftest import shared_root

RANDOM = WeightsSource("random", None)
MNV2_BLOCKS = (["expanded_conv_project_BN"]
               + [f"block_{i}_{'add' if i in (2, 4, 5, 7, 8, 9, 11, 12, 14, 15) else 'project_BN'}"
                  for i in range(1, 17)] + ["out_relu"])
EXPECTED = {  # name: (tiny input side, block-end layer names in order)
    "mobilenet_v2_035": (32, MNV2_BLOCKS),
    "vgg16": (32, [f"block{i}_pool" for i in range(1, 6)]),
    "inception_v3": (75, [f"mixed{i}" for i in range(11)]),
}
WEIGHTS_035 = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"
WEIGHTS_100 = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"


def _shared_weights(name: str) -> Path:
    p = shared_root() / "weights" / name
    if not p.is_file():
        pytest.skip(f"real ImageNet weights not available: {p} is absent (set TL_SHARED)")
    return p


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_new_backbone_boundaries_are_its_block_ends_and_real_cuts(name: str) -> None:
    import keras

    spec = get_backbone(name)
    size, names = EXPECTED[name]
    model = build_backbone(spec, size, RANDOM)
    bounds = block_boundaries(model, spec)
    assert [b.name for b in bounds] == ["input", *names]
    assert all(b.n_blocks == len(names) for b in bounds)
    assert bounds[-1].index == len(model.layers) - 1
    pos = {id(layer): i for i, layer in enumerate(model.layers)}
    assert all(_is_cut(model, b.index, pos) for b in bounds[1:])
    if name == "inception_v3":  # concatenations inside the last two blocks: no cut, no match
        inner = [i for i, l in enumerate(model.layers) if l.name in ("mixed9_0", "mixed9_1")]
        assert len(inner) == 2 and not any(_is_cut(model, i, pos) for i in inner)
        assert not any(spec.is_block_end(model.layers[i].name) for i in inner)
    keras.backend.clear_session()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_preprocessing_layer_equals_preprocess_input(name: str) -> None:
    from tuner.training._model import preprocess_layer  # the tuner's exported preprocessing

    spec = get_backbone(name)
    x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype(np.float32)
    want = preprocess_fn(spec)(x.copy())  # vgg16's caffe mode writes into its argument
    got = np.asarray(preprocess_layer(spec)(x))
    np.testing.assert_allclose(got, want, atol=1e-3)


def test_aliases_input_sizes_and_a_too_small_input() -> None:
    for alias in ("mnv2_035", "mobilenet_v2_0.35", "MobileNetV2-035"):
        assert get_backbone(alias).name == "mobilenet_v2_035"
    assert get_backbone("inceptionv3").input_size == 299 and get_backbone("vgg16").input_size == 224
    with pytest.raises(InputError, match="at least 75 px") as e:
        build_backbone(get_backbone("inception_v3"), 64, RANDOM)
    assert not isinstance(e.value, WeightsError) and "--image-size 299" in e.value.message


def test_mobilenet_v2_035_loads_its_real_weights_and_is_narrower() -> None:
    import keras

    p035, p100 = _shared_weights(WEIGHTS_035), _shared_weights(WEIGHTS_100)
    spec, wide = get_backbone("mobilenet_v2_035"), get_backbone("mobilenet_v2")
    thin = build_backbone(spec, 96, WeightsSource("path", p035))
    full = build_backbone(wide, 96, WeightsSource("path", p100))
    assert thin.get_layer("Conv1").filters == 16 and full.get_layer("Conv1").filters == 32
    assert thin.output.shape[-1] == full.output.shape[-1] == 1280  # the last conv stays 1280
    assert thin.count_params() < 0.25 * full.count_params()
    # really loaded: trained BatchNorm statistics, not the initial zeros/ones
    mean, var = thin.get_layer("bn_Conv1").moving_mean, thin.get_layer("bn_Conv1").moving_variance
    assert np.abs(np.asarray(mean)).max() > 0.01 and np.abs(np.asarray(var) - 1).max() > 0.01
    x = np.random.default_rng(1).uniform(-1, 1, (2, 96, 96, 3)).astype(np.float32)
    a, b = thin.predict(x, verbose=0), full.predict(x, verbose=0)
    assert a.shape == b.shape and not np.allclose(a, b, atol=1e-3)
    keras.backend.clear_session()
    with pytest.raises(WeightsError, match="mobilenet_v2_035"):  # the width-1.0 file does not fit
        build_backbone(spec, 96, WeightsSource("path", p100))
    keras.backend.clear_session()
