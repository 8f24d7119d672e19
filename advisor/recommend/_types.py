"""The advice: one of four scenarios, with the numbers behind it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SCENARIOS", "Reason", "LRRange", "Augmentation", "Advice"]

SCENARIOS = ("feature_extractor", "partial_freeze", "full_finetune", "from_scratch")


@dataclass(frozen=True)
class Reason:
    """One reason for the call, with its measured number and the threshold it met."""

    code: str
    text: str
    value: float | None = None
    threshold: float | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class LRRange:
    low: float
    high: float

    def to_dict(self) -> dict:
        return {"low": self.low, "high": self.high}


@dataclass(frozen=True)
class Augmentation:
    """Suggested augmentation strengths (0 = off)."""

    level: str  # off | light | moderate | strong
    flip: str  # none | horizontal | horizontal_and_vertical
    rotation: float
    zoom: float
    contrast: float
    note: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Advice:
    """The recommendation. ``freeze_index``: layers ``0..freeze_index`` are frozen
    (-1 freezes nothing); ``freeze_block`` of ``n_blocks`` blocks are frozen."""

    scenario: str
    backbone: str
    input_size: int
    freeze_layer: str
    freeze_index: int
    freeze_block: int
    n_blocks: int
    head_lr: LRRange
    backbone_lr: LRRange | None
    augmentation: Augmentation
    confidence: float
    reasons: tuple[Reason, ...]
    what_would_change: tuple[str, ...]
    runner_up: str
    similarity: float
    images_per_class: float

    def to_dict(self) -> dict:
        return {"scenario": self.scenario, "backbone": self.backbone,
                "input_size": self.input_size, "freeze_layer": self.freeze_layer,
                "freeze_index": self.freeze_index, "freeze_block": self.freeze_block,
                "n_blocks": self.n_blocks, "head_lr": self.head_lr.to_dict(),
                "backbone_lr": self.backbone_lr.to_dict() if self.backbone_lr else None,
                "augmentation": self.augmentation.to_dict(), "confidence": self.confidence,
                "reasons": [r.to_dict() for r in self.reasons],
                "what_would_change": list(self.what_would_change),
                "runner_up": self.runner_up, "similarity": self.similarity,
                "images_per_class": self.images_per_class}

    @classmethod
    def from_dict(cls, d: dict) -> "Advice":
        return cls(
            scenario=d["scenario"], backbone=d["backbone"], input_size=d["input_size"],
            freeze_layer=d["freeze_layer"], freeze_index=d["freeze_index"],
            freeze_block=d["freeze_block"], n_blocks=d["n_blocks"],
            head_lr=LRRange(**d["head_lr"]),
            backbone_lr=LRRange(**d["backbone_lr"]) if d.get("backbone_lr") else None,
            augmentation=Augmentation(**d["augmentation"]), confidence=d["confidence"],
            reasons=tuple(Reason(**r) for r in d["reasons"]),
            what_would_change=tuple(d["what_would_change"]), runner_up=d["runner_up"],
            similarity=d["similarity"], images_per_class=d["images_per_class"])
