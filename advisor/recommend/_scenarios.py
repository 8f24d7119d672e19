"""The four transfer scenarios, from least to most of the backbone retrained."""

from __future__ import annotations

__all__ = ["SCENARIOS"]

SCENARIOS = ("feature_extractor", "partial_freeze", "full_finetune", "from_scratch")
