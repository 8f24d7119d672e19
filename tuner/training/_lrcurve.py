"""What an LR finder measured (:class:`LRCurve`, :class:`LRFinding`) and how it reads a
loss curve: the smoothing, the stop rule and the "valley" suggestion (Smith 2017,
fastai's ``lr_find``). NumPy only; :mod:`._lrfind` runs the sweeps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from advisor.codec import Record
from advisor.errors import ConfigError

__all__ = ["LRCurve", "LRFinding", "sweep_lrs", "smoothing_beta", "smooth", "diverged",
           "valley", "curve_from_losses", "BETA", "DIVERGE_FACTOR", "VALLEY_POINT"]

BETA = 0.98  # fastai's smoothing of a 100-step sweep
DIVERGE_FACTOR = 4.0  # the sweep stops once the smoothed loss exceeds this times its minimum
VALLEY_POINT = 2 / 3  # the suggestion lies this far into the valley
_SKIP_FIRST = 0.1  # share of the first points the suggestion ignores (EMA warm-up)


def sweep_lrs(lr_range: tuple[float, float], steps: int) -> np.ndarray:
    """``steps`` learning rates, evenly spaced on a log axis from ``lr_range[0]`` to
    ``lr_range[1]`` (both included)."""
    lo, hi = (float(v) for v in lr_range)
    if not (0 < lo < hi and math.isfinite(hi)):
        raise ConfigError("Invalid learning-rate range of the LR finder",
                          expected="0 < low < high, e.g. (1e-7, 1.0)", received=str(lr_range),
                          fix="pass lr_range=(low, high) with positive, increasing rates")
    if steps < 5:
        raise ConfigError("Too few steps for an LR finder sweep", expected="steps >= 5",
                          received=str(steps), fix="pass 30 or more steps")
    return lo * (hi / lo) ** (np.arange(steps) / (steps - 1))


def smoothing_beta(steps: int) -> float:
    """The EMA factor of a ``steps``-step sweep: fastai's 0.98 at 100 steps, scaled so that
    the smoothing spans the same share of the sweep (and of the LR decades) at any length."""
    return BETA ** (100 / steps)


def smooth(raw: Sequence[float], beta: float) -> np.ndarray:
    """Debiased exponential moving average of ``raw`` (fastai's smoothed loss)."""
    out = np.empty(len(raw))
    avg = 0.0
    for i, v in enumerate(raw):
        avg = beta * avg + (1 - beta) * float(v)
        out[i] = avg / (1 - beta ** (i + 1))
    return out


def diverged(smoothed: np.ndarray) -> bool:
    """Whether the last smoothed loss exceeds :data:`DIVERGE_FACTOR` times the lowest."""
    return len(smoothed) > 1 and smoothed[-1] > DIVERGE_FACTOR * smoothed.min()


def valley(losses: Sequence[float]) -> tuple[int, int]:
    """``(first, last)`` indices of the longest stretch over which ``losses`` decreases,
    read as its longest strictly decreasing subsequence (a small bump does not end a
    stretch; fastai's ``valley`` reads it the same way). Ties: the stretch that ends
    first; within it, the latest possible start (where the descent begins)."""
    y = np.asarray(losses, dtype=float)
    n = len(y)
    if n == 0:
        raise ValueError("valley of an empty curve")
    length = np.ones(n, int)
    prev = np.full(n, -1)
    for i in range(1, n):
        for j in range(i):
            if y[j] > y[i] and length[j] + 1 >= length[i]:  # ">=": the latest predecessor
                length[i], prev[i] = length[j] + 1, j
    end = int(np.argmax(length))
    start = end
    while prev[start] >= 0:
        start = int(prev[start])
    return start, end


@dataclass(frozen=True)
class LRCurve(Record):
    """One sweep: the loss of each step's mini-batch at its learning rate (``raw_losses``)
    and smoothed (``losses``), up to where it stopped. ``suggestion``: the point
    :data:`VALLEY_POINT` into the :func:`valley` of the smoothed losses (past the first
    tenth of the points); ``min_div10``: the rate of the lowest smoothed loss over ten
    (the older rule, for comparison); ``valley``: the stretch's first and last index;
    ``steps``: steps run of ``planned``; ``diverged``: stopped by the loss exceeding
    :data:`DIVERGE_FACTOR` times its minimum; ``seconds``: the sweep's wall time."""

    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    raw_losses: tuple[float, ...]
    suggestion: float
    min_div10: float
    valley: tuple[int, int]
    steps: int
    planned: int
    diverged: bool
    lr_range: tuple[float, float]
    beta: float
    seconds: float

    def centred(self, width_decades: float = 1.0) -> tuple[float, float]:
        """A search range ``width_decades`` wide (on a log axis) centred on the suggestion,
        clipped to the swept range: ``(s / 10**(w/2), s * 10**(w/2))``."""
        if not (width_decades > 0 and math.isfinite(width_decades)):
            raise ConfigError("Invalid width of a centred learning-rate range",
                              expected="width_decades > 0 (decades of the log axis)",
                              received=str(width_decades), fix="pass e.g. width_decades=1.0")
        half = 10 ** (width_decades / 2)
        lo, hi = self.lr_range
        return max(lo, self.suggestion / half), min(hi, self.suggestion * half)

    def widened(self, search_range: tuple[float, float]) -> tuple[float, float]:
        """The smallest range that holds ``search_range`` and a range as wide centred on
        the suggestion (:meth:`centred`): the search reaches the suggestion without
        dropping the rates it had."""
        lo, hi = search_range
        if not 0 < lo < hi:
            raise ConfigError("A learning-rate range to widen must have positive, distinct "
                              "bounds", expected="0 < low < high", received=f"({lo}, {hi})",
                              fix="pass the search range as (low, high)")
        c_lo, c_hi = self.centred(math.log10(hi / lo))
        return min(lo, c_lo), max(hi, c_hi)


def curve_from_losses(lrs: Sequence[float], raw: Sequence[float], *, planned: int,
                      lr_range: tuple[float, float], beta: float, seconds: float) -> LRCurve:
    """The :class:`LRCurve` of a finished sweep: ``raw`` losses at the first ``len(raw)``
    of ``lrs`` (the stop rule already applied)."""
    if not len(raw):
        raise ConfigError("The LR finder's loss was not finite at its first learning rate",
                          expected="a finite training loss at lr_range[0]",
                          received=f"lr_range={tuple(lr_range)}",
                          fix="lower lr_range[0] (e.g. 1e-7) or check the data")
    lrs_run = np.asarray(lrs[:len(raw)], dtype=float)
    sm = smooth(raw, beta)
    skip = int(len(sm) * _SKIP_FIRST)
    first, last = valley(sm[skip:])
    first, last = first + skip, last + skip
    at = first + round(VALLEY_POINT * (last - first))
    lowest = skip + int(np.argmin(sm[skip:]))
    return LRCurve(lrs=tuple(float(v) for v in lrs_run), losses=tuple(float(v) for v in sm),
                   raw_losses=tuple(float(v) for v in raw), suggestion=float(lrs_run[at]),
                   min_div10=float(lrs_run[lowest] / 10), valley=(first, last), steps=len(raw),
                   planned=planned, diverged=diverged(sm),
                   lr_range=(float(lr_range[0]), float(lr_range[1])), beta=float(beta),
                   seconds=round(float(seconds), 3))


@dataclass(frozen=True)
class LRFinding(Record):
    """What :func:`~tuner.training.find_lr` measured: the head's sweep (on the pooled
    features) and, for a partial freeze, the backbone's (the layers after ``boundary``,
    on its cached activations; ``None`` for a feature extractor, ``freeze_block ==
    n_blocks``). :meth:`ranges` gives the search ranges centred on the suggestions."""

    head: LRCurve
    backbone: LRCurve | None
    freeze_block: int
    n_blocks: int
    boundary: str | None
    backbone_name: str
    augmentation: str
    batch_size: int
    seed: int
    seconds: float
    notes: tuple[str, ...] = ()

    def ranges(self, width_decades: float = 1.0
               ) -> tuple[tuple[float, float], tuple[float, float] | None]:
        """``(head_range, backbone_range)``: each a ``(low, high)`` range ``width_decades``
        wide on a log axis, centred on that sweep's suggestion and clipped to the swept
        range (:meth:`LRCurve.centred`); ``backbone_range`` is ``None`` without a backbone
        sweep. What a search space centres its ``head_lr`` and ``backbone_lr`` on."""
        return (self.head.centred(width_decades),
                self.backbone.centred(width_decades) if self.backbone is not None else None)
