"""Networks directly (random weights, tiny inputs): the prefix's outputs are the
backbone's activations, the suffix continues from them, the head is seeded alone."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.backbones import WeightsSource, block_boundaries, build_backbone, get_backbone
from tuner.training._kept import KeptBackbone
from tuner.training._model import build_network, build_prefix

SIZE = 32
RANDOM = WeightsSource("random", None)


@pytest.fixture(scope="module")
def spec_and_boundaries():
    import keras

    spec = get_backbone("mobilenet_v2")
    bounds = block_boundaries(build_backbone(spec, SIZE, RANDOM), spec)
    keras.backend.clear_session()
    return spec, bounds


def test_prefix_then_suffix_equals_the_whole_model(spec_and_boundaries) -> None:
    spec, bounds = spec_and_boundaries
    b = bounds[len(bounds) // 2]
    net = build_network(spec, SIZE, RANDOM, n_classes=3, dropout=0.0, boundary=b, seed=0)
    prefix = build_prefix(spec, SIZE, RANDOM, [b.name], seed=0)
    x = np.random.default_rng(0).integers(0, 256, (4, SIZE, SIZE, 3)).astype(np.float32)
    act, pooled = prefix.predict(x, verbose=0)
    whole = net.model.predict(x, verbose=0)
    assert act.shape[1:] == tuple(net.suffix.input.shape[1:])
    np.testing.assert_allclose(net.suffix.predict(act, verbose=0), whole, atol=1e-5)
    np.testing.assert_allclose(net.head.predict(pooled, verbose=0), whole, atol=1e-5)
    assert np.allclose(whole.sum(axis=1), 1.0)


def test_freeze_through_freezes_the_prefix_and_every_batchnorm(spec_and_boundaries) -> None:
    import keras

    spec, bounds = spec_and_boundaries
    b = bounds[3]
    net = build_network(spec, SIZE, RANDOM, n_classes=2, dropout=0.1, boundary=b, seed=0)
    net.freeze_through(b.index)
    for i, layer in enumerate(net.backbone.layers):
        bn = isinstance(layer, keras.layers.BatchNormalization)
        assert layer.trainable == (i > b.index and not bn), layer.name


def test_the_head_depends_only_on_the_seed(spec_and_boundaries) -> None:
    spec, bounds = spec_and_boundaries
    full = build_network(spec, SIZE, RANDOM, 3, 0.2, None, seed=5)
    alone = build_network(spec, SIZE, RANDOM, 3, 0.2, None, seed=5, head_only=True,
                          n_features=int(full.head.input.shape[-1]))
    other = build_network(spec, SIZE, RANDOM, 3, 0.2, None, seed=6, head_only=True,
                          n_features=int(full.head.input.shape[-1]))
    w, w_alone, w_other = (n.head.get_weights()[0] for n in (full, alone, other))
    assert alone.backbone is None and np.array_equal(w, w_alone) and not np.array_equal(w, w_other)


def test_kept_backbone_is_reset_and_rebuilt_for_another_input_size() -> None:
    import keras

    spec = get_backbone("mobilenet_v2")
    kept = KeptBackbone()
    a = kept.get(spec, SIZE, RANDOM, 0)
    initial = [w.copy() for w in a.get_weights()]
    a.set_weights([w * 0.5 for w in initial])
    assert kept.get(spec, SIZE, RANDOM, 0) is a
    assert all(np.array_equal(x, y) for x, y in zip(a.get_weights(), initial))
    b = kept.get(spec, 48, RANDOM, 0)
    assert b is not a and b.input_shape[1] == 48
    keras.backend.clear_session()
