"""From measurements to one of four transfer scenarios."""

from advisor.recommend._freeze import FreezePlan
from advisor.recommend._rules import (LR_RANGES, Thresholds, choose_boundary, normalised_gain,
                                      recommend, similarity_from_shift)
from advisor.recommend._scenarios import SCENARIOS
from advisor.recommend._types import Advice, Augmentation, LRRange, Reason

__all__ = ["LR_RANGES", "SCENARIOS", "Advice", "Augmentation", "FreezePlan", "LRRange", "Reason",
           "Thresholds", "choose_boundary", "normalised_gain", "recommend",
           "similarity_from_shift"]
