"""LogME against a direct evaluation of the evidence with explicit N x N matrices."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.errors import InputError
from advisor.measure import logme
from advisor.measure._logme import evidence_fit


def direct_log_evidence(f: np.ndarray, y: np.ndarray, alpha: float, beta: float) -> float:
    """log N(y; 0, beta^-1 I + alpha^-1 F F^T): the marginal of y = F w + e, written out."""
    n = f.shape[0]
    cov = np.eye(n) / beta + f @ f.T / alpha
    sign, logdet = np.linalg.slogdet(cov)
    assert sign > 0
    return float(-0.5 * (n * np.log(2 * np.pi) + logdet + y @ np.linalg.solve(cov, y)))


def slow_logme(f: np.ndarray, labels: np.ndarray) -> float:
    """Mean over one-vs-rest targets of the direct evidence at the fitted alpha/beta, / N."""
    vals = []
    for c in np.unique(labels):
        y = (labels == c).astype(np.float64)
        fit = evidence_fit(f, y)
        vals.append(direct_log_evidence(f, y, fit.alpha, fit.beta))
    return float(np.mean(vals)) / f.shape[0]


def blobs(n: int, d: int, k: int, sep: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % k
    centers = rng.normal(size=(k, d)) * sep
    return centers[labels] + rng.normal(size=(n, d)), labels


@pytest.mark.parametrize("n,d,k", [(120, 10, 3), (80, 40, 2), (30, 90, 3)])
def test_matches_direct_evidence(n, d, k):
    f, labels = blobs(n, d, k, sep=1.0, seed=n + d)
    assert logme(f, labels) == pytest.approx(slow_logme(f, labels), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("n,d", [(150, 12), (60, 40)])
def test_fixed_point_is_a_local_maximum(n, d):
    f, labels = blobs(n, d, 2, sep=0.7, seed=3)
    y = (labels == 1).astype(np.float64)
    fit = evidence_fit(f, y)
    assert fit.converged
    best = direct_log_evidence(f, y, fit.alpha, fit.beta)
    assert fit.log_evidence == pytest.approx(best, rel=1e-10)
    for da, db in [(1.1, 1.0), (0.9, 1.0), (1.0, 1.1), (1.0, 0.9), (1.1, 1.1), (0.9, 0.9)]:
        assert direct_log_evidence(f, y, fit.alpha * da, fit.beta * db) < best


def test_more_samples_than_dims_and_fewer_agree_with_direct_formula():
    # N < D: the Gram route has N eigenvalues, the D - N others are zero
    rng = np.random.default_rng(1)
    f = rng.normal(size=(20, 200))
    labels = rng.integers(0, 2, 20)
    labels[:2] = [0, 1]
    assert logme(f, labels) == pytest.approx(slow_logme(f, labels), rel=1e-9)


def test_separating_features_beat_random_features():
    f, labels = blobs(200, 32, 4, sep=2.0, seed=0)
    noise = np.random.default_rng(9).normal(size=f.shape)
    assert logme(f, labels) > logme(noise, labels) + 0.1


def test_score_grows_with_class_separation():
    scores = [logme(*blobs(200, 16, 3, sep=s, seed=4)) for s in (0.0, 0.5, 1.0, 2.0)]
    assert scores == sorted(scores)


def test_invariant_to_sample_order():
    f, labels = blobs(150, 20, 3, sep=1.0, seed=5)
    perm = np.random.default_rng(0).permutation(150)
    assert logme(f[perm], labels[perm]) == pytest.approx(logme(f, labels), rel=1e-10)


def test_invariant_to_feature_scale_and_label_values():
    f, labels = blobs(100, 8, 2, sep=1.0, seed=6)
    base = logme(f, labels)
    assert logme(f * 1000.0, labels) == pytest.approx(base, rel=1e-8)
    assert logme(f, np.where(labels == 1, 7, -3)) == pytest.approx(base, rel=1e-12)


def test_constant_and_zero_features_give_finite_scores():
    labels = np.arange(40) % 2
    f, _ = blobs(40, 6, 2, sep=1.0, seed=7)
    f[:, :3] = 5.0  # constant columns: rank-deficient F
    assert np.isfinite(logme(f, labels))
    assert logme(f, labels) == pytest.approx(slow_logme(f, labels), rel=1e-9)
    assert np.isfinite(logme(np.zeros((40, 6)), labels))
    assert np.isfinite(logme(np.ones((40, 6)), labels))


def test_float32_input_is_computed_in_float64():
    f, labels = blobs(100, 10, 3, sep=1.0, seed=8)
    assert logme(f.astype(np.float32), labels) == pytest.approx(
        logme(f.astype(np.float32).astype(np.float64), labels), rel=1e-12)


@pytest.mark.parametrize("f,labels", [
    (np.zeros((10,)), np.zeros(10, int)),  # 1-D features
    (np.zeros((10, 3)), np.zeros(10, int)),  # one class
    (np.zeros((10, 3)), np.arange(9) % 2),  # length mismatch
    (np.full((10, 3), np.nan), np.arange(10) % 2),  # NaN
])
def test_bad_input_raises_input_error(f, labels):
    with pytest.raises(InputError):
        logme(f, labels)
