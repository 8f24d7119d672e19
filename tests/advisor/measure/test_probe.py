"""Linear probe, pixel-baseline features and the 2-D projection on data of known structure."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from advisor.errors import InputError
from advisor.measure import logme, pixel_features, probe, project_2d
from advisor.measure._types import ProbeResult


def blobs(n: int, d: int, k: int, sep: float, seed: int, sizes=None):
    """Gaussian blobs: class centres ``sep`` apart on average, unit noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % k if sizes is None else np.repeat(np.arange(len(sizes)), sizes)
    centres = rng.normal(size=(labels.max() + 1, d)) * sep / np.sqrt(2 * d)
    return centres[labels] + rng.normal(size=(labels.size, d)), labels


def test_accuracy_increases_with_separation():
    accs = [probe(*blobs(300, 20, 3, sep, seed=1)).accuracy for sep in (0.0, 1.0, 2.0, 4.0, 8.0)]
    assert accs == sorted(accs)
    assert accs[0] < 0.5  # no structure: near chance (1/3)
    assert accs[-1] > 0.95


def test_learning_curve_rises_on_a_hard_problem():
    # many dimensions, modest separation: the probe is data-limited
    x, y = blobs(600, 150, 3, 2.5, seed=2)
    r = probe(x, y, fractions=(0.1, 0.25, 0.5, 1.0))
    accs = [p.accuracy for p in r.learning_curve]
    assert accs == sorted(accs)
    assert accs[-1] - accs[0] > 0.1
    assert r.learning_curve[-1].accuracy == r.accuracy
    assert [p.fraction for p in r.learning_curve] == [0.1, 0.25, 0.5, 1.0]
    assert r.curve_slope > 0


def test_curve_sizes_are_stratified_fractions_of_the_training_folds():
    x, y = blobs(200, 5, 2, 2.0, seed=3)
    r = probe(x, y, folds=5, fractions=(0.25, 0.5))
    assert [p.n_train for p in r.learning_curve] == [40, 80]  # of 160 per fold
    assert r.accuracy > 0.8  # the full-data point is still measured


def test_majority_accuracy_and_unbalanced_classes():
    x, y = blobs(0, 4, 0, 3.0, seed=4, sizes=[60, 30, 10])
    r = probe(x, y)
    assert r.majority == pytest.approx(0.6)
    assert r.accuracy > r.majority


def test_folds_shrink_to_the_smallest_class_and_say_so():
    x, y = blobs(0, 4, 0, 3.0, seed=5, sizes=[20, 20, 3])
    r = probe(x, y, folds=5)
    assert (r.folds, r.folds_requested) == (3, 5)
    assert any("3 folds instead of 5" in n for n in r.notes)
    full = probe(*blobs(0, 4, 0, 3.0, seed=5, sizes=[20, 20, 5]), folds=5)
    assert (full.folds, full.folds_requested) == (5, 5)
    assert not any("folds" in n for n in full.notes)


@pytest.mark.parametrize("labels,match", [
    (np.array([0] * 10 + [1]), "fewer than 2"),  # singleton class
    (np.zeros(11, int), "two classes"),
])
def test_unusable_labels_raise_input_error(labels, match):
    with pytest.raises(InputError, match=match):
        probe(np.random.default_rng(0).normal(size=(11, 3)), labels)


@pytest.mark.parametrize("kw", [{"folds": 1}, {"fractions": (0.5, 0.25)}, {"fractions": (0.0, 1.0)},
                                {"fractions": (1.5,)}, {"fractions": ()}])
def test_bad_arguments_raise_input_error(kw):
    x, y = blobs(40, 3, 2, 2.0, seed=6)
    with pytest.raises(InputError):
        probe(x, y, **kw)


def test_wide_features_are_reduced_by_pca_and_it_is_recorded():
    x, y = blobs(400, 300, 4, 8.0, seed=7)
    reduced = probe(x, y, max_dims=64)
    kept = probe(x, y, max_dims=None)
    assert reduced.dims == 64 and kept.dims == 300
    assert any("PCA" in n for n in reduced.notes) and not any("PCA" in n for n in kept.notes)
    assert reduced.accuracy > 0.9 and kept.accuracy > 0.9


def test_non_convergence_is_counted_not_warned():
    x, y = blobs(120, 30, 3, 1.0, seed=8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = probe(x, y, max_iter=2)
    from sklearn.exceptions import ConvergenceWarning

    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert r.n_unconverged == 5 * 3  # every fold and fraction stopped at max_iter
    assert any("max_iter=2" in n for n in r.notes)
    assert probe(x, y).n_unconverged == 0


def test_same_seed_same_result_and_result_round_trips():
    x, y = blobs(150, 10, 3, 1.0, seed=9)
    a, b = probe(x, y, seed=3), probe(x, y, seed=3)
    assert a == b
    assert ProbeResult.from_dict(a.to_dict()) == a


def test_string_labels_and_constant_features():
    x, y = blobs(90, 6, 3, 3.0, seed=10)
    x[:, 0] = 7.0
    names = np.array(["ant", "bee", "wasp"])[y]
    assert probe(x, names).accuracy == probe(x, y).accuracy


def test_pixel_features_layout_and_histogram():
    thumbs = np.zeros((2, 16, 16, 3), np.uint8)
    thumbs[0] = (255, 0, 100)
    thumbs[1, :8] = (40, 40, 40)  # half dark grey, half black
    f = pixel_features(thumbs)
    assert f.shape == (2, 16 * 16 * 3 + 24)
    assert f[:, :768].min() >= 0 and f[:, :768].max() <= 1
    assert f[0, :3] == pytest.approx([1.0, 0.0, 100 / 255])
    hist = f[:, 768:].reshape(2, 3, 8)
    assert hist.sum(axis=2) == pytest.approx(np.ones((2, 3)))
    assert hist[0, 0, 7] == 1 and hist[0, 1, 0] == 1 and hist[0, 2, 3] == 1  # 100 // 32 = 3
    assert hist[1, 0, 0] == pytest.approx(0.5) and hist[1, 0, 1] == pytest.approx(0.5)


def test_pixel_features_reject_non_rgb_uint8():
    with pytest.raises(InputError):
        pixel_features(np.zeros((2, 16, 16), np.uint8))
    with pytest.raises(InputError):
        pixel_features(np.zeros((2, 16, 16, 3), np.float32))


def test_pixel_probe_learns_colour_but_not_shape_free_noise():
    rng = np.random.default_rng(11)
    y = np.arange(120) % 2
    thumbs = rng.integers(0, 120, size=(120, 16, 16, 3)).astype(np.uint8)
    coloured = thumbs.copy()
    coloured[y == 1, :, :, 0] += 100  # class 1 is redder
    assert probe(pixel_features(coloured), y).accuracy > 0.95
    assert probe(pixel_features(thumbs), y).accuracy < 0.7


def test_project_2d_first_axis_follows_the_largest_spread():
    rng = np.random.default_rng(12)
    y = np.arange(200) % 2
    x = rng.normal(size=(200, 100))
    x[:, 5] += np.where(y == 1, 10.0, -10.0)  # the dominant direction separates the classes
    p = project_2d(x, seed=0)
    assert p.shape == (200, 2)
    assert np.all(np.sign(p[y == 1, 0]) != np.sign(p[y == 0, 0][0]))
    assert p.mean(axis=0) == pytest.approx([0, 0], abs=1e-9)
    assert np.var(p[:, 0]) > np.var(p[:, 1])
    assert np.array_equal(p, project_2d(x, seed=0))


@pytest.mark.parametrize("shape", [(1, 5), (2, 5), (10, 1), (10, 3)])
def test_project_2d_small_inputs(shape):
    x = np.arange(np.prod(shape), dtype=float).reshape(shape) ** 1.5
    p = project_2d(x)
    assert p.shape == (shape[0], 2) and np.all(np.isfinite(p))


def test_project_2d_constant_features_give_zeros():
    assert np.array_equal(project_2d(np.ones((10, 4))), np.zeros((10, 2)))


def _real_features(root, weights: str, n_per_class: int = 100):
    from advisor.backbones import get_backbone, resolve_weights
    from advisor.data import scan_layout
    from advisor.measure._features import extract_features

    index = scan_layout(root / "hymenoptera")
    items = []
    for c in index.classes:
        items += [i for i in index.items if i.split == "train" and i.label == c][:n_per_class]
    spec = get_backbone("mobilenet_v2")
    fp = extract_features(items, spec, resolve_weights(spec, weights), 128)
    labels = np.array([f.item.label for f in fp.files])[fp.ok]
    return fp.features, fp.thumbs, labels


@pytest.mark.shared
@pytest.mark.slow
def test_imagenet_features_beat_pixels_and_random_weights(shared_data, imagenet_weights):
    feats, thumbs, labels = _real_features(shared_data, "imagenet")
    assert feats.shape[0] >= 195  # 200 files, the odd unreadable one aside
    imagenet = probe(feats, labels)
    pixels = probe(pixel_features(thumbs), labels)
    assert imagenet.accuracy > pixels.accuracy + 0.15
    random_feats, _, random_labels = _real_features(shared_data, "none")
    assert np.array_equal(random_labels, labels)
    assert logme(feats, labels) > logme(random_feats, labels)


def test_domain_auc_separates_shifted_groups_and_not_equal_ones() -> None:
    from advisor.measure import domain_auc

    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 16))
    other = np.arange(120) % 3 == 0  # 40 against 80
    auc, sd = domain_auc(x, other)
    assert sd == pytest.approx(np.sqrt(121 / (12 * 40 * 80)))
    assert abs(auc - 0.5) < 3 * sd
    x[other, :4] += 2.0
    assert domain_auc(x, other)[0] > 0.95
    with pytest.raises(InputError, match="Each group needs at least 2"):
        domain_auc(x, np.arange(120) == 0)
