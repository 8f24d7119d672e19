"""What a sweep tells its ``progress`` callback as it goes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from tuner.trial import TrialRecord, best_of

__all__ = ["SweepEvent", "Progress", "Emitter", "EVENT_KINDS"]

EVENT_KINDS = ("start", "framing", "warning", "note", "trial_start", "epoch", "trial_end", "rerank_run",
               "final_start", "final_end")


@dataclass(frozen=True)
class SweepEvent:
    """What ``progress`` receives. ``kind``: ``start`` (``message`` is the run
    directory), ``framing`` (``message``: the choice of ``--framing auto`` and its
    numbers), ``warning`` (``message``: something the user should know before the
    trials, also kept in the result's warnings), ``note`` (``message``: what the sweep is
    doing besides training, e.g. waiting for other workers), ``trial_start``, ``epoch``,
    ``trial_end``, ``rerank_run`` (one cross-validation training: ``trial``, and
    ``message`` "fold f/k, candidate j/n"), ``final_start`` or ``final_end``."""

    kind: str
    n_finished: int
    n_requested: int
    trial: int | None = None
    epoch: int | None = None
    val_accuracy: float | None = None  # of ``epoch``
    record: TrialRecord | None = None
    best: TrialRecord | None = None
    elapsed_s: float = 0.0
    eta_s: float | None = None
    message: str = ""


Progress = Callable[[SweepEvent], None]


class Emitter:
    """Sends :class:`SweepEvent` objects to ``progress`` (nothing when it is ``None``),
    with the sweep's counts, best trial and an estimate of the time left from the
    trials of this session (``trial_seconds``)."""

    def __init__(self, progress: Progress | None, n_requested: int, t0: float) -> None:
        self.progress = progress
        self.n_requested = n_requested
        self.t0 = t0
        self.trial_seconds: list[float] = []

    def __call__(self, kind: str, trials: list[TrialRecord] | tuple[TrialRecord, ...] = (),
                 **kw: object) -> None:
        if self.progress is None:
            return
        n = sum(t.is_finished for t in trials)
        left = self.n_requested - n
        done = self.trial_seconds or [t.seconds for t in trials if t.is_finished]
        eta = (sum(done) / len(done)) * left if done and left > 0 else None
        self.progress(SweepEvent(kind=kind, n_finished=n, n_requested=self.n_requested,
                                 best=best_of(trials), elapsed_s=time.perf_counter() - self.t0,
                                 eta_s=eta, **kw))
