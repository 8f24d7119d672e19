"""The advice: one of four scenarios, with the numbers behind it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from advisor.codec import Record, from_dict
from advisor.recommend._freeze import FreezePlan
from advisor.recommend._scenarios import SCENARIOS

__all__ = ["SCENARIOS", "Reason", "LRRange", "Augmentation", "Advice"]



@dataclass(frozen=True)
class Reason(Record):
    """One reason for the call, with its measured number and the threshold it met."""

    code: str
    text: str
    value: float | None = None
    threshold: float | None = None



@dataclass(frozen=True)
class LRRange(Record):
    low: float
    high: float

    @property
    def middle(self) -> float:
        """The geometric middle (the centre of the range on a log scale)."""
        return math.sqrt(self.low * self.high)


@dataclass(frozen=True)
class Augmentation(Record):
    """Suggested augmentation strengths (0 = off)."""

    level: str  # off | light | moderate | strong
    flip: str  # none | horizontal | horizontal_and_vertical
    rotation: float
    zoom: float
    contrast: float
    note: str = ""



@dataclass(frozen=True)
class Advice(Record):
    """The recommendation: ``scenario`` and how to train it (``freeze``: how much of
    ``backbone`` stays frozen, or from scratch; learning-rate ranges; augmentation),
    with the numbers behind the call."""

    scenario: str
    backbone: str
    input_size: int
    freeze: FreezePlan
    head_lr: LRRange
    backbone_lr: LRRange | None
    augmentation: Augmentation
    confidence: float
    reasons: tuple[Reason, ...]
    what_would_change: tuple[str, ...]
    runner_up: str
    similarity: float
    images_per_class: float

    def __post_init__(self) -> None:
        if self.freeze.scratch != (self.scenario == "from_scratch"):
            raise ValueError(f"a {self.scenario} advice cannot carry the freeze plan "
                             f"{self.freeze.label!r}")

    @classmethod
    def from_dict(cls, d: dict) -> "Advice":
        """Inverse of :meth:`to_dict`; also reads the flat ``freeze_block``,
        ``freeze_index``, ``freeze_layer`` and ``n_blocks`` of advice files written
        before :class:`FreezePlan`."""
        if isinstance(d, dict) and "freeze" not in d and "freeze_block" in d:
            block = d["freeze_block"]
            scratch = d.get("scenario") == "from_scratch" or block < 0
            d = {**d, "freeze": {"block": 0 if scratch else block, "n_blocks": d["n_blocks"],
                                 "layer": d["freeze_layer"], "index": d["freeze_index"],
                                 "scratch": scratch}}
        return from_dict(cls, d)
