"""LogME against a direct evaluation of the evidence with explicit N x N matrices."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.errors import InputError
from advisor.measure import logme
from advisor.measure._logme import _ALPHA_RANGE, _BETA_MAX, EVIDENCE_TOL, evidence_fit


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


def score_tolerance(f: np.ndarray, labels: np.ndarray) -> float:
    """How far two correct LogME scores of ``f`` may differ, from the stated ``EVIDENCE_TOL``.

    Each class's evidence is within ``EVIDENCE_TOL * max(1, |E_c|)`` of its maximum, so two
    evaluations (other rounding, another route) differ by at most twice that per class; the
    score is their mean over classes divided by N. Rounding of the evidence itself (~1e-13
    here) is far below it.
    """
    evs = [evidence_fit(f, (labels == c).astype(np.float64)).log_evidence
           for c in np.unique(labels)]
    return 2 * EVIDENCE_TOL * float(np.mean(np.maximum(1.0, np.abs(evs)))) / f.shape[0]


def direct_maximum(f: np.ndarray, y: np.ndarray, start: tuple[float, float]) -> float:
    """The direct evidence maximised by Nelder-Mead over (log alpha, log beta), in LogME's box."""
    from scipy.optimize import minimize
    from threadpoolctl import threadpool_limits

    s2max = float(np.linalg.svd(f, compute_uv=False)[0] ** 2)
    bounds = [(np.log(s2max / _ALPHA_RANGE), np.log(s2max * _ALPHA_RANGE)), (-50.0, np.log(_BETA_MAX))]
    best = -np.inf
    with threadpool_limits(limits=1):  # small matrices: BLAS threads only spin
        for scale in (1.0, 1.5, 1 / 1.5):  # from the fit and from two points off it
            x0 = np.clip(np.log([start[0] * scale, start[1] / scale]), *np.transpose(bounds))
            res = minimize(lambda x: -direct_log_evidence(f, y, *np.exp(x)), x0,
                           method="Nelder-Mead", bounds=bounds,
                           options=dict(xatol=1e-7, fatol=1e-13, maxiter=5000))
            best = max(best, -float(res.fun))
    return best


def blobs(n: int, d: int, k: int, sep: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % k
    centers = rng.normal(size=(k, d)) * sep
    return centers[labels] + rng.normal(size=(n, d)), labels


@pytest.mark.parametrize("n,d,k", [(120, 10, 3), (80, 40, 2), (30, 90, 3)])
def test_matches_direct_evidence(n, d, k):
    f, labels = blobs(n, d, k, sep=1.0, seed=n + d)
    assert abs(logme(f, labels) - slow_logme(f, labels)) <= score_tolerance(f, labels)


@pytest.mark.parametrize("n,d,k", [(30, 90, 3), (20, 200, 2), (80, 40, 2)])
def test_column_order_does_not_move_the_score(n, d, k):
    # the same score, summed in another order: as on another machine's BLAS. With N <= D the
    # features fit each target exactly, beta reaches its cap (1e10) and multiplies the residual
    # |y|^2 - |U^T y|^2, which was rounding noise (this moved the score by up to 1e-5 relative).
    f, labels = blobs(n, d, k, sep=1.0, seed=n + d)
    base, tol = logme(f, labels), score_tolerance(f, labels)
    for seed in range(10):
        perm = np.random.default_rng(seed).permutation(d)
        assert abs(logme(f[:, perm], labels) - base) <= tol


@pytest.mark.parametrize("n,d,sep,scale", [
    (30, 90, 1.0, 1.0),  # class 0: a flat ridge, where the fixed point alone stopped 4e-10 short
    (40, 12, 1.0, 1.0), (40, 30, 0.7, 1000.0),
    (28, 60, 0.0, 1e-4),  # useless features: the maximum is at alpha's bound, approached slowly
])
def test_evidence_is_maximised_to_the_stated_tolerance(n, d, sep, scale):
    f, labels = blobs(n, d, 3, sep=sep, seed=n + d)
    f = f * scale
    for c in range(3):
        y = (labels == c).astype(np.float64)
        fit = evidence_fit(f, y)
        assert fit.converged
        best = direct_maximum(f, y, (fit.alpha, fit.beta))
        assert fit.log_evidence >= best - EVIDENCE_TOL * max(1.0, abs(best))


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
    assert abs(logme(f, labels) - slow_logme(f, labels)) <= score_tolerance(f, labels)


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
    assert abs(logme(f[perm], labels[perm]) - logme(f, labels)) <= score_tolerance(f, labels)


def test_invariant_to_feature_scale_and_label_values():
    f, labels = blobs(100, 8, 2, sep=1.0, seed=6)
    base = logme(f, labels)
    assert abs(logme(f * 1000.0, labels) - base) <= score_tolerance(f, labels)
    assert logme(f, np.where(labels == 1, 7, -3)) == pytest.approx(base, rel=1e-12)


def test_constant_and_zero_features_give_finite_scores():
    labels = np.arange(40) % 2
    f, _ = blobs(40, 6, 2, sep=1.0, seed=7)
    f[:, :3] = 5.0  # constant columns: rank-deficient F
    assert np.isfinite(logme(f, labels))
    assert abs(logme(f, labels) - slow_logme(f, labels)) <= score_tolerance(f, labels)
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
