"""The interface the sweep trains through, in this process or in a worker."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from tuner.final import FinalRequest, FinalResult
from tuner.training._device import DeviceInfo
from tuner.training._lrcurve import LRFinding
from tuner.trial import TrialOutcome, TrialParams

__all__ = ["Runner", "EpochCallback"]

EpochCallback = Callable[[int, float], None]  # (epoch, validation accuracy) after each epoch


@runtime_checkable
class Runner(Protocol):
    """What trains a sweep's trials: :class:`~tuner.training.TrialRunner` (in this
    process) and :class:`~tuner.training.WorkerRunner` (in a child process)."""

    @property
    def n_blocks(self) -> int:
        """Freeze boundaries of the backbone (blocks): ``n_blocks`` freezes everything."""

    @property
    def device(self) -> DeviceInfo:
        """The device trials train on, and why (GPU with mixed precision, or CPU)."""

    def expect(self, freeze_blocks: Iterable[int]) -> None:
        """Announce the freeze blocks the sweep will try (one cache pass for all)."""

    def run(self, params: TrialParams, on_epoch: EpochCallback | None = None) -> TrialOutcome:
        """Train one configuration; an exception ``on_epoch`` raises stops it."""

    def find_lr(self, **kw) -> LRFinding:
        """The LR finder on the runner's cached activations (:func:`~tuner.training.find_lr`)."""

    def fit_final(self, request: FinalRequest) -> FinalResult:
        """Train, evaluate once on the test split and export the final model."""

    def for_fold(self, k: int, i: int, seed: int) -> "Runner":
        """The same runner on cross-validation fold ``i`` of ``k`` of train + val."""

    def close(self) -> None:
        """Release what the runner holds (a worker process)."""
