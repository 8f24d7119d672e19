"""From measurements to one of four transfer scenarios."""

from advisor.recommend._decision import (DECISION_FEATURES, FINETUNE_OPTIONS, FITTED_RULE,
                                         DecisionRule, boundary_at_fraction, decision_feature)
from advisor.recommend._freeze import FreezePlan
from advisor.recommend._rules import (LR_RANGES, Thresholds, normalised_gain,
                                      recommend, similarity_from_shift)
from advisor.recommend._scenarios import SCENARIOS
from advisor.recommend._types import Advice, Augmentation, LRRange, Reason

__all__ = ["DECISION_FEATURES", "FINETUNE_OPTIONS", "FITTED_RULE", "DecisionRule",
           "boundary_at_fraction", "decision_feature", "LR_RANGES", "SCENARIOS", "Advice", "Augmentation", "FreezePlan", "LRRange", "Reason",
           "Thresholds", "normalised_gain", "recommend",
           "similarity_from_shift"]
