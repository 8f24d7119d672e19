"""The small-data decision: feature extractor or fine-tune, from one measured quantity
and one threshold, fitted leave-one-dataset-out on the ground truth.

:class:`DecisionRule` is the one representation of that rule: the product applies
:data:`FITTED_RULE` (:func:`advisor.recommend.recommend`), and
``benchmarks/advice_fit.py`` fits rules of the same form and scores them on held-out
datasets (``docs/ground-truth.md``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.backbones import Boundary
from advisor.codec import Record
from advisor.measure._types import Measurements

__all__ = ["DECISION_FEATURES", "FINETUNE_OPTIONS", "DecisionRule", "FITTED_RULE",
           "decision_feature", "boundary_at_fraction"]

# what a rule may call instead of the feature extractor: the frozen fraction of the blocks
FINETUNE_OPTIONS: dict[str, float] = {"partial_half": 0.5, "partial_three_quarters": 0.75,
                                      "full_finetune": 0.0}


def _headroom(m: Measurements) -> float:
    return 1.0 - m.probe.accuracy


def _similarity(m: Measurements) -> float:
    return m.similarity


def _gain(m: Measurements) -> float:
    q = m.pixel_probe.accuracy
    return (m.probe.accuracy - q) / max(1.0 - q, 1e-6)


def _late_gain(m: Measurements) -> float:
    d = m.depth_probes
    if len(d) < 2:
        return float("nan")
    return d[-1].accuracy - max(x.accuracy for x in d[:-1])


# name -> (function, what it means)
DECISION_FEATURES = {
    "headroom": (_headroom, "error of the linear probe on the pooled features"),
    "similarity": (_similarity, "similarity to ImageNet from the BatchNorm shift"),
    "gain": (_gain, "normalised gain of the feature probe over the raw-pixel probe"),
    "late_gain": (_late_gain, "what the last blocks add to the depth probes (final minus best "
                              "earlier)"),
}


def decision_feature(m: Measurements, name: str) -> float:
    """The value of feature ``name`` (:data:`DECISION_FEATURES`) for ``m`` (NaN: not measured)."""
    return float(DECISION_FEATURES[name][0](m))


def boundary_at_fraction(boundaries: Sequence[Boundary], fraction: float) -> Boundary:
    """The block end nearest ``fraction`` of the blocks (half up), clipped to 1..n-1."""
    n = boundaries[-1].block
    return boundaries[min(n - 1, max(1, int(math.floor(n * fraction + 0.5))))]


@dataclass(frozen=True)
class DecisionRule(Record):
    """Feature extractor when ``side * (value - threshold) < 0``, else ``finetune``.

    ``confidence_fe`` / ``confidence_finetune``: how often a call on that side was the
    best (within max(1 point, 1 SE)) on held-out datasets; ``source``: how it was fitted.
    """

    feature: str
    side: int  # +1: feature extractor below the threshold; -1: above it
    threshold: float
    finetune: str
    confidence_fe: float = 0.5
    confidence_finetune: float = 0.5
    source: str = ""

    def __post_init__(self) -> None:
        if self.feature not in DECISION_FEATURES or self.finetune not in FINETUNE_OPTIONS \
                or self.side not in (1, -1):
            raise ValueError(f"not a decision rule: {self.feature!r}, side {self.side}, "
                             f"{self.finetune!r}")

    def value(self, m: Measurements) -> float:
        return decision_feature(m, self.feature)

    def feature_extractor(self, m: Measurements) -> bool:
        """Whether the rule calls the feature extractor for ``m`` (a feature that was not
        measured counts as "fine-tune")."""
        return self.feature_extractor_at(self.value(m))

    def feature_extractor_at(self, x: float) -> bool:
        """The same decision for a value ``x`` of :attr:`feature` (NaN: fine-tune)."""
        return not math.isnan(x) and self.side * (x - self.threshold) < 0

    @property
    def scenario(self) -> str:
        """The scenario of the fine-tuning side."""
        return "full_finetune" if self.finetune == "full_finetune" else "partial_freeze"

    @property
    def fraction(self) -> float:
        return FINETUNE_OPTIONS[self.finetune]

    def describe(self) -> str:
        op = "<" if self.side > 0 else ">"
        return f"feature_extractor if {self.feature} {op} {self.threshold:.4g}, else {self.finetune}"


# Fitted by `python benchmarks/advice_fit.py --truth benchmarks/results/scenario_truth_v3
# --advice benchmarks/results/advice_v3` on the eight dev datasets of ../shared/data
# (harness v3, seeds 0 and 1): the threshold is the midpoint between eurosat5 (gain 0.856,
# fine-tuning ahead by 1.0 point) and hymenoptera (0.878, the feature extractor level with
# every fine-tune). Its leave-one-dataset-out table and calibration: docs/ground-truth.md.
FITTED_RULE = DecisionRule(feature="gain", side=-1, threshold=0.867, finetune="full_finetune",
                           confidence_fe=0.667, confidence_finetune=0.889,
                           source="benchmarks/advice_fit.py on the eight dev datasets (harness v3, "
                                  "seeds 0 and 1); confidence: leave-one-dataset-out hit rate per "
                                  "side, Laplace-smoothed")
