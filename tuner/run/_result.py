"""What a sweep produced (``results.json``): the typed object every renderer reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.codec import Record, to_dict
from advisor.recommend import Advice
from tuner.data import DataSummary
from tuner.final import FinalResult
from tuner.run._config import SweepConfig
from tuner.run._tensorboard import TENSORBOARD_DIR
from tuner.search import RerankResult, StallStop
from tuner.training import DeviceInfo
from tuner.trial import TrialRecord, best_of

__all__ = ["SweepResult", "STATUSES"]

STATUSES = ("running", "searched", "done")


@dataclass(frozen=True)
class SweepResult(Record):
    """Everything a sweep produced; renderers and the sweep report read only this.

    ``status``: ``running`` (written after each trial), ``searched`` (all trials
    finished, final model not yet trained) or ``done``. ``data`` describes the
    splits (where train/val/test come from). ``importances`` maps parameter name to
    importance (Optuna's evaluator; ``None`` below two COMPLETE trials). ``search``
    describes the backend (sampler, pruner, redacted storage); ``timings`` holds
    seconds per stage of this session (``previous_sessions``: those of earlier ones).
    ``device``: the device the trials trained on (GPU with mixed precision, or CPU and
    why no GPU was visible). ``final_by``: on a study that several workers share, the worker that trains the final
    model when it is not this one (``{"worker": "host:pid", "run_dir": ...}``).
    """

    run_dir: str
    status: str
    config: SweepConfig
    command: str
    trials: tuple[TrialRecord, ...]
    n_requested: int
    advice: Advice | None = None
    data: DataSummary | None = None
    final: FinalResult | None = None
    importances: dict[str, float] | None = None
    timings: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    killed_trials: tuple[int, ...] = ()  # RUNNING trials of a killed process, marked FAIL
    sessions: int = 1  # 1 + number of resumes
    search: dict[str, Any] = field(default_factory=dict)
    rerank: RerankResult | None = None  # its ``chosen`` trial is the best
    final_by: dict | None = None
    device: DeviceInfo | None = None  # what the trials train on, and why
    stopped: StallStop | None = None  # the early stop, when the search ended before n_requested

    @property
    def finished_trials(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.is_finished]

    @property
    def n_finished(self) -> int:
        return len(self.finished_trials)

    @property
    def state_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for t in self.trials:
            counts[t.state] = counts.get(t.state, 0) + 1
        return counts

    @property
    def workers(self) -> dict[str, int]:
        """Trials per worker (``host:pid``) that ran them, in order of first trial."""
        counts: dict[str, int] = {}
        for t in sorted(self.trials, key=lambda t: t.number):
            if t.worker:
                counts[t.worker] = counts.get(t.worker, 0) + 1
        return counts

    @property
    def best(self) -> TrialRecord | None:
        """The trial the final model trains: the re-ranking's choice when there was
        one, else the search's best (:func:`~tuner.trial.best_of`)."""
        if self.rerank is not None:
            for t in self.trials:
                if t.number == self.rerank.chosen:
                    return t
        return best_of(self.trials)

    def to_dict(self) -> dict:
        """The fields, plus what scripts read without recomputing it: ``n_finished``,
        ``state_counts``, ``workers``, ``best``, ``best_curves`` (the best trial's history) and
        ``tensorboard`` (the ``--logdir`` of the trials' TensorBoard logs)."""
        best = self.best
        return {**to_dict(self), "n_finished": self.n_finished,
                "state_counts": self.state_counts, "workers": self.workers,
                "tensorboard": str(Path(self.run_dir) / TENSORBOARD_DIR),
                "best": best.to_dict() if best else None,
                "best_curves": list(best.history) if best else []}
