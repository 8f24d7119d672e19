"""A bounded, stratified, seeded sample of the training images for the stages whose
cost grows with the dataset faster than a few bytes per image.

The linear probes (feature and pixel baseline) and LogME each copy the rows they see
into several N x D float64 arrays and fit on them; on a large dataset they dominate
the peak memory and the time. Above :data:`MAX_PROBE_IMAGES` training images they run
on a stratified sample of that size (every class kept in proportion, with at least
:data:`MIN_PER_CLASS` images where it has them), drawn with the measurement's seed,
and the measurement says so in a note. Up to the cap every image is used, exactly as
without sampling. What needs every file (exact duplicates by MD5, the near-duplicate
search, class counts, BN statistics) is never sampled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MAX_PROBE_IMAGES", "MIN_PER_CLASS", "RowSample", "stratified_rows"]

#: Training images above which the probes and LogME run on a stratified sample. At
#: 5 000 rows x 1280 features the probe's float64 copies take about 50 MiB each (its
#: peak is about 130 MiB over the features, 250 MiB at 8 000 rows), and its accuracy has
#: a standard error below 0.8 points; every real dataset the project is tested on has
#: fewer than 3 000 training images (tf_flowers, the largest, 2 569), so none is sampled.
MAX_PROBE_IMAGES = 5_000
#: Images kept per class (or all of a smaller class): the probe's 5 folds need 5.
MIN_PER_CLASS = 5


@dataclass(frozen=True)
class RowSample:
    """The rows (sorted indices into the ``n_total`` candidates) a stage runs on."""

    rows: np.ndarray
    n_total: int
    seed: int

    @property
    def sampled(self) -> bool:
        """True when some candidates were left out."""
        return int(self.rows.size) < self.n_total

    def note(self, what: str) -> str:
        """``"<what> on a stratified sample of 5,000 of 50,000 training images (seed 0; ...)"``."""
        return (f"{what} on a stratified sample of {self.rows.size:,} of {self.n_total:,} "
                f"training images (seed {self.seed}; more than {MAX_PROBE_IMAGES:,}, "
                "advisor.measure.MAX_PROBE_IMAGES)")


def stratified_rows(labels: np.ndarray, cap: int = MAX_PROBE_IMAGES, seed: int = 0
                    ) -> RowSample:
    """At most about ``cap`` rows of ``labels`` (N,), stratified by label and seeded.

    Every row when ``N <= cap``. Otherwise each class keeps ``round(n_c * cap / N)``
    rows but at least ``min(n_c, MIN_PER_CLASS)``, so the total can exceed ``cap`` by
    a few rows when classes are tiny.
    """
    labels = np.asarray(labels).ravel()
    n = int(labels.size)
    if n <= cap:
        return RowSample(np.arange(n), n, seed)
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = min(idx.size, max(MIN_PER_CLASS, int(round(idx.size * cap / n))))
        keep.append(rng.choice(idx, k, replace=False))
    return RowSample(np.sort(np.concatenate(keep)), n, seed)
