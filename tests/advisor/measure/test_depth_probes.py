"""Linear probes at a few block ends, from the same forward pass as the pooled features
(tiny generated images; random weights unless a test needs the real ones)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from advisor.backbones import Boundary, get_backbone, resolve_weights
from advisor.data import iter_decoded, scan_layout
from advisor.measure import (DepthProbe, FeatureCache, Measurements, depth_boundaries,
                             extract_features, measure, probe)
from tests.conftest import write_image_folder

# MobileNetV2 block ends nearest 1/6 .. 5/6 of its 18 blocks, then the output
MNV2_LAYERS = ["block_2_add", "block_5_add", "block_8_add", "block_11_add", "block_14_add",
               "out_relu"]
MNV2_DIMS = [24, 32, 64, 96, 160, 1280]


@pytest.fixture(scope="module")
def colour_dataset(tmp_path_factory):
    """Three classes of 10 noise images that differ only in one colour channel's level."""
    return write_image_folder(tmp_path_factory.mktemp("depth") / "ds",
                              {"blue": 10, "green": 10, "red": 10}, size=32)


@pytest.fixture(scope="module")
def measured(colour_dataset, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    fp, m = measure(scan_layout(colour_dataset), weights="none", input_size=64, cache_dir=cache)
    return fp, m, cache


def test_depth_probes_are_ordered_and_named_by_block(measured):
    fp, m, _ = measured
    d = m.depth_probes
    assert [p.layer for p in d] == MNV2_LAYERS
    assert [p.dims for p in d] == MNV2_DIMS
    assert [p.block for p in d] == [3, 6, 9, 12, 15, 18] and {p.n_blocks for p in d} == {18}
    assert all(np.diff([p.depth for p in d]) > 0) and 0 < d[0].depth and d[-1].depth == 1.0
    assert all(p.fraction == pytest.approx(p.block / p.n_blocks, abs=1e-4) for p in d)
    assert all(0.0 <= p.accuracy <= 1.0 and p.std >= 0.0 for p in d)
    # the pass holds one (n_ok, C) float32 array per intermediate depth
    assert [b.name for b in fp.depth_bounds] == MNV2_LAYERS[:-1]
    assert [a.shape for a in fp.depth_features] == [(30, c) for c in MNV2_DIMS[:-1]]
    assert all(a.dtype == np.float32 and np.isfinite(a).all() for a in fp.depth_features)
    # the last depth is the main probe itself
    assert (d[-1].accuracy, d[-1].std, d[-1].dims) == (m.probe.accuracy, m.probe.std, m.probe.dims)


def test_colour_classes_are_readable_early_and_not_from_the_labels_alone(measured):
    fp, m, _ = measured
    labels = np.repeat([0, 1, 2], 10)  # scan order: classes sorted, files sorted
    early = m.depth_probes[0]
    assert early.accuracy >= 0.9 > 1 / 3  # classes differ in a colour: readable at block 3
    # the probe at that depth reproduces from the stored array, on the same rows and folds
    assert probe(fp.depth_features[0], labels, seed=0).accuracy == early.accuracy
    shuffled = np.random.default_rng(0).permutation(labels)
    assert probe(fp.depth_features[0], shuffled, seed=0).accuracy <= 0.75


def test_depth_features_are_the_pooled_activations_of_that_layer(colour_dataset, imagenet_weights):
    import keras

    from advisor.backbones import build_backbone, preprocess_fn

    spec = get_backbone("mobilenet_v2")
    source = resolve_weights(spec, imagenet_weights)
    items = scan_layout(colour_dataset).items[::5]  # 6 images
    fp = extract_features(items, spec, source, 64, batch_size=8)
    pixels = np.stack([px for _, px, _ in iter_decoded(items, 64)]).astype(np.float32)
    backbone = build_backbone(spec, 64, source)
    layer = backbone.get_layer("block_5_add").output
    sub = keras.Model(backbone.input, keras.ops.mean(layer, axis=(1, 2)))
    want = np.asarray(sub(preprocess_fn(spec)(pixels), training=False))
    k = [b.name for b in fp.depth_bounds].index("block_5_add")
    np.testing.assert_allclose(fp.depth_features[k], want, rtol=1e-4, atol=1e-4)
    keras.backend.clear_session()


def test_depth_probes_come_back_from_the_cache(measured, colour_dataset):
    fp1, m1, cache = measured
    fp2, m2 = measure(scan_layout(colour_dataset), weights="none", input_size=64, cache_dir=cache)
    assert m2.cache_hit and m2.depth_probes == m1.depth_probes
    assert fp2.depth_bounds == fp1.depth_bounds
    assert all(np.array_equal(a, b) for a, b in zip(fp1.depth_features, fp2.depth_features))
    # an entry without the depth arrays (as written before them) is recomputed, not misread
    entry = next((cache / "features").iterdir())
    (entry / "depth.npz").unlink()
    assert FeatureCache(cache).load(entry.name, colour_dataset) is None


def test_depth_boundaries_pick_the_nearest_block_ends_once():
    def bounds(n):
        return [Boundary("input", -1, 0, n)] + [Boundary(f"b{k}", k, k, n) for k in range(1, n + 1)]

    assert [b.block for b in depth_boundaries(bounds(18))] == [3, 6, 9, 12, 15]
    assert [b.block for b in depth_boundaries(bounds(17))] == [3, 6, 8, 11, 14]  # 8.5: shallower
    assert [b.block for b in depth_boundaries(bounds(3))] == [1, 2]  # no repeats, never the output
    assert depth_boundaries(bounds(1)) == ()


def _measurements(**kw) -> Measurements:
    from advisor.measure import CurvePoint, LayerShift, ProbeResult, ShiftProfile

    pr = ProbeResult(0.8, 0.02, 5, 0.4, (CurvePoint(1.0, 40, 0.8),))
    shift = ShiftProfile((LayerShift("bn", 3, 0.1, 0.2, 0.1, 0.1),), 0.2, 0.2, 0.2, 0.2)
    return Measurements("mobilenet_v2", 224, "cache", 50, shift, pr, pr, -0.3, 0.7, 0.0, 1.0,
                        False, **kw)


def test_measurements_round_trip_with_and_without_depth_probes():
    probes = (DepthProbe(3, 18, 0.1667, "block_2_add", 26, 0.17, 0.61, 0.05, 24,
                         ("logistic regression stopped at max_iter=300",)),
              DepthProbe(18, 18, 1.0, "out_relu", 153, 1.0, 0.8, 0.02, 1280))
    m = _measurements(depth_probes=probes)
    back = Measurements.from_dict(json.loads(json.dumps(m.to_dict())))
    assert back == m and isinstance(back.depth_probes[0], DepthProbe)
    assert back.depth_probes[0].notes == probes[0].notes
    # a result written before the depth probes existed still loads
    old = {k: v for k, v in m.to_dict().items() if k != "depth_probes"}
    assert Measurements.from_dict(old) == dataclasses.replace(m, depth_probes=())
    assert m.depth_probe_at(3) is probes[0] and m.depth_probe_at(11) is probes[1]
    assert m.depth_probe_at(10) is probes[0]  # the nearest measured block end
    assert _measurements().depth_probe_at(5) is None


def test_the_full_fraction_alone_gives_the_probe_accuracy():
    """The depth probes skip the learning curve: same folds, same full fits, same result."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 300)
    x = rng.normal(size=(300, 50))
    x[:, 0] += 0.8 * y
    a, b = probe(x, y, seed=3), probe(x, y, seed=3, fractions=(1.0,))
    assert 0.3 < a.accuracy < 0.9  # neither chance nor separable: the check means something
    assert (a.accuracy, a.std, a.dims) == (b.accuracy, b.std, b.dims)
