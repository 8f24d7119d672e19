"""Linear probe: cross-validated multinomial logistic regression on frozen features,
with a learning curve on the same folds."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from advisor.errors import InputError
from advisor.measure._types import CurvePoint, ProbeResult

__all__ = ["PROBE_C", "domain_auc", "probe", "probe_folds"]

# Inverse L2 strength of the probe, fixed for every dataset (never tuned per dataset).
# sklearn's loss is C * sum(log-loss) + |w|^2 / 2 on standardised features, so the
# penalty weakens relative to the data as N grows, as a prior should. C = 0.01 was
# the best or within one standard error of the best of {0.01, 0.03, 0.1} on
# MobileNetV2 features of four real datasets (photos, X-rays, satellite tiles), and
# it conditions lbfgs better (fewer iterations), most of all on the pixel baseline.
PROBE_C = 0.01


def _standardise(x: np.ndarray) -> np.ndarray:
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    sd[sd <= 1e-12 * max(float(np.abs(mu).max(initial=0.0)), 1.0)] = 1.0  # constant columns -> 0
    return (x - mu) / sd


def _reduce(x: np.ndarray, max_dims: int, seed: int) -> tuple[np.ndarray, float]:
    """Top ``max_dims`` principal components of ``x`` and the variance fraction they keep."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=max_dims, svd_solver="randomized", random_state=seed)
    z = pca.fit_transform(x)
    return z, float(pca.explained_variance_ratio_.sum())


def _validate(features: np.ndarray, labels: np.ndarray, folds: int,
              fractions: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 1:
        raise InputError("The probe needs a 2-D feature matrix",
                         expected="an array of shape (N, D)", received=f"shape {x.shape}",
                         fix="pass one feature row per image")
    labels = np.asarray(labels).ravel()
    if labels.shape[0] != x.shape[0]:
        raise InputError("Features and labels differ in length",
                         expected=f"{x.shape[0]} labels", received=f"{labels.shape[0]} labels",
                         fix="pass one label per feature row")
    if not np.all(np.isfinite(x)):
        raise InputError("The features contain NaN or infinite values",
                         expected="finite features",
                         received=f"{int((~np.isfinite(x)).sum())} non-finite values",
                         fix="check the feature extraction")
    if folds < 2:
        raise InputError("The probe needs at least 2 folds", expected="folds >= 2",
                         received=f"folds={folds}", fix="pass folds=2 or more")
    fr = np.asarray(fractions, dtype=np.float64)
    if fr.size == 0 or np.any(fr <= 0) or np.any(fr > 1) or np.any(np.diff(fr) <= 0):
        raise InputError("Invalid learning-curve fractions",
                         expected="increasing fractions in (0, 1], e.g. (0.25, 0.5, 1.0)",
                         received=f"{tuple(fractions)}", fix="pass increasing values in (0, 1]")
    classes, y, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if classes.size < 2:
        raise InputError("The probe needs at least two classes",
                         expected="labels of two or more classes",
                         received=f"{classes.size} class", fix="add images of another class")
    if counts.min() < 2:
        small = [str(c) for c, n in zip(classes, counts) if n < 2]
        raise InputError("A class has fewer than 2 samples: it cannot be cross-validated",
                         expected="at least 2 samples per class",
                         received=f"1 sample in {', '.join(small[:5])}",
                         fix="add images to that class or remove it")
    return x, y, counts


def _nested_subsets(train: np.ndarray, y: np.ndarray, fractions: np.ndarray,
                    rng: np.random.Generator) -> list[np.ndarray]:
    """Stratified subsets of ``train`` for each fraction; smaller ones nest in larger ones."""
    per_class = [rng.permutation(train[y[train] == c]) for c in np.unique(y[train])]
    out = []
    for f in fractions:
        take = [idx[:max(1, int(round(f * idx.size)))] for idx in per_class]
        out.append(np.sort(np.concatenate(take)))
    return out


def probe(features: np.ndarray, labels: np.ndarray, *, folds: int = 5,
          fractions: Sequence[float] = (0.25, 0.5, 1.0), seed: int = 0,
          max_iter: int = 300, max_dims: int | None = None) -> ProbeResult:
    """Cross-validated linear-probe accuracy of ``features`` (N, D) for ``labels`` (N,).

    Standardised features (rotated onto their top ``max_dims`` principal components
    when wider; the default ``None`` keeps all: PCA to 256 cost up to 4 points of
    accuracy on tf_flowers and saved little time once the fits run in float32),
    multinomial logistic regression with ``C = PROBE_C`` (lbfgs), ``StratifiedKFold``.
    ``folds`` shrinks to the smallest class size when that is smaller (recorded in
    ``folds`` vs ``folds_requested``). The learning curve trains on stratified
    fractions of each fold's training part (at least one sample per class; smaller
    subsets nest in larger ones) and tests on the whole test part. Standardisation
    and PCA see all rows but no labels.
    """
    from threadpoolctl import threadpool_limits

    x, y, counts = _validate(features, labels, folds, fractions)
    fractions = tuple(float(f) for f in fractions)
    notes: list[str] = []
    k = int(min(folds, counts.min()))
    if k < folds:
        notes.append(f"{k} folds instead of {folds}: the smallest class has {counts.min()} samples")
    # Many small products (a few thousand x ~1000 x classes): BLAS threads buy little
    # and, on a busy 2-core machine, their spin-waiting makes each fit 5-15x slower.
    with threadpool_limits(limits=1):
        x = _standardise(x)
        if max_dims is not None and x.shape[1] > max_dims and x.shape[0] > max_dims:
            d0 = x.shape[1]
            x, kept = _reduce(x, max_dims, seed)
            notes.append(f"features reduced from {d0} to {max_dims} dimensions by PCA "
                         f"({kept:.1%} of the variance kept)")
        # float32 halves the cost of every lbfgs step; accuracy is unchanged (measured)
        acc, n_train, fits, unconverged = _cross_validate(x.astype(np.float32), y, k, fractions,
                                                          seed, max_iter)
    if unconverged:
        notes.append(f"logistic regression stopped at max_iter={max_iter} before converging "
                     f"in {unconverged} of {fits} fits")
    curve = tuple(CurvePoint(f, int(round(n_train[:, j].mean())), float(acc[:, j].mean()))
                  for j, f in enumerate(fractions))
    full = acc[:, -1]  # the last column is always the whole training part
    return ProbeResult(
        accuracy=float(full.mean()), std=float(full.std()), folds=k,
        majority=float(counts.max() / counts.sum()), learning_curve=curve,
        folds_requested=int(folds), n_unconverged=unconverged, dims=int(x.shape[1]),
        notes=tuple(notes))


def probe_folds(features: np.ndarray, labels: np.ndarray, *, folds: int = 5, seed: int = 0,
                max_iter: int = 300) -> np.ndarray:
    """The probe's accuracy on each fold (the folds :func:`probe` uses with this ``seed``;
    fewer when the smallest class is smaller), for paired comparisons of two feature
    sets of the same images."""
    from threadpoolctl import threadpool_limits

    x, y, counts = _validate(features, labels, folds, (1.0,))
    with threadpool_limits(limits=1):
        acc, _, _, _ = _cross_validate(_standardise(x).astype(np.float32), y,
                                       int(min(folds, counts.min())), (1.0,), seed, max_iter)
    return acc[:, -1]


def _cross_validate(x: np.ndarray, y: np.ndarray, k: int, fractions: tuple[float, ...],
                    seed: int, max_iter: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Accuracy and training size per (fold, fraction); 1.0 is appended when absent."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    fr = np.asarray(fractions if fractions[-1] == 1.0 else fractions + (1.0,))
    rng = np.random.default_rng(seed)
    split = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    acc = np.zeros((k, fr.size))
    n_train = np.zeros((k, fr.size))
    fits = unconverged = 0
    for i, (train, test) in enumerate(split.split(x, y)):
        for j, subset in enumerate(_nested_subsets(train, y, fr, rng)):
            n_train[i, j] = subset.size
            clf = LogisticRegression(C=PROBE_C, max_iter=max_iter)
            with warnings.catch_warnings():
                # counted from n_iter_ and reported once in the result, not once per fit
                warnings.filterwarnings("ignore", category=ConvergenceWarning)
                clf.fit(x[subset], y[subset])
            fits += 1
            unconverged += int(np.max(clf.n_iter_) >= max_iter)
            acc[i, j] = float(np.mean(clf.predict(x[test]) == y[test]))
    return acc, n_train, fits, unconverged


def domain_auc(features: np.ndarray, other: np.ndarray, *, folds: int = 5, seed: int = 0,
               max_iter: int = 300) -> tuple[float, float]:
    """How well a linear probe tells two groups of images apart: cross-validated ROC AUC
    of ``other`` (bool, N) from ``features`` (N, D), and its standard deviation if the
    groups were drawn from one distribution (``sqrt((n1 + n2 + 1) / (12 n1 n2))``, the
    Mann-Whitney null). 0.5 means indistinguishable, 1.0 fully separable.

    Same model as :func:`probe` (standardised features, ``C = PROBE_C``), with balanced
    class weights because the groups differ in size; out-of-fold probabilities of
    ``StratifiedKFold`` are ranked together.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    g = np.asarray(other, dtype=bool).ravel()
    sizes = [int((~g).sum()), int(g.sum())]
    if min(sizes) < 2:
        raise InputError("Each group needs at least 2 images to cross-validate",
                         expected="2 or more rows with other=False and with other=True",
                         received=f"group sizes {sizes}", fix="pass more rows of each group")
    x, y, counts = _validate(features, g, folds, (1.0,))
    k = int(min(folds, counts.min()))
    score = np.zeros(len(y))
    with threadpool_limits(limits=1):
        x = _standardise(x).astype(np.float32)
        split = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        for train, test in split.split(x, y):
            clf = LogisticRegression(C=PROBE_C, max_iter=max_iter, class_weight="balanced")
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", category=ConvergenceWarning)
                clf.fit(x[train], y[train])
            score[test] = clf.decision_function(x[test])
    n1, n2 = (int(c) for c in counts)
    return float(roc_auc_score(y, score)), float(np.sqrt((n1 + n2 + 1) / (12 * n1 * n2)))
