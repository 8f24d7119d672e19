"""How to build a trial runner: everything :class:`~tuner.training.TrialRunner`
takes besides its data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["RunnerSpec", "VIEWS"]

VIEWS = 4  # augmented views cached per training image (one is picked per epoch)


@dataclass(frozen=True)
class RunnerSpec:
    """The settings of a :class:`~tuner.training.TrialRunner` (see its docstring);
    ``TrialRunner.from_spec(spec, data)`` builds one."""

    backbone: str = "mobilenet_v2"
    weights: str = "imagenet"
    seed: int = 0
    cache_dir: str | Path | None = None
    views: int = VIEWS
    cache_budget_mb: float = 1024
    precision: str = "auto"
