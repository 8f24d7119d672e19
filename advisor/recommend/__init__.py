"""From measurements to one of four transfer scenarios."""

from advisor.recommend._rules import (Thresholds, choose_boundary, normalised_gain, recommend,
                                      similarity_from_shift)
from advisor.recommend._types import SCENARIOS, Advice, Augmentation, LRRange, Reason

__all__ = ["SCENARIOS", "Advice", "Augmentation", "LRRange", "Reason", "Thresholds",
           "choose_boundary", "normalised_gain", "recommend", "similarity_from_shift"]
