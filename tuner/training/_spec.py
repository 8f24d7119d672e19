"""How to build a trial runner: everything :class:`~tuner.training.TrialRunner`
takes besides its data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tuner.data import PreparedData

if TYPE_CHECKING:  # the runner imports TensorFlow-facing modules: only when built
    from tuner.training._runner import TrialRunner

__all__ = ["RunnerSpec", "VIEWS"]

VIEWS = 4  # augmented views cached per training image (one is picked per epoch)


@dataclass(frozen=True)
class RunnerSpec:
    """The settings of a :class:`~tuner.training.TrialRunner` (see its docstring)."""

    backbone: str = "mobilenet_v2"
    weights: str = "imagenet"
    seed: int = 0
    cache_dir: str | None = None
    views: int = VIEWS
    cache_budget_mb: float = 1024
    precision: str = "auto"

    def build(self, data: PreparedData) -> "TrialRunner":
        """A runner with these settings on ``data``."""
        from tuner.training._runner import TrialRunner

        return TrialRunner(data, backbone=self.backbone, weights=self.weights, seed=self.seed,
                           cache_dir=Path(self.cache_dir) if self.cache_dir else None,
                           views=self.views, cache_budget_mb=self.cache_budget_mb,
                           precision=self.precision)
