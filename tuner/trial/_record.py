"""The record of one trial, and how trials are ranked.

Trial states follow Optuna's names for both backends: ``COMPLETE``, ``PRUNED``,
``FAIL`` and ``RUNNING``. A trial is *finished* ("completed" in the CLI) when it is
``COMPLETE`` or ``PRUNED``; a sweep of ``--trials N`` ends with exactly N finished
trials. ``FAIL`` trials (errors, or trials left running by a killed process) are
kept in the record but do not count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor.codec import Record
from tuner.trial._params import TrialParams

__all__ = ["FINISHED_STATES", "REFIT_FROM_SEARCH", "TrialRecord", "best_of", "better",
           "ranked", "refit_epochs"]

FINISHED_STATES = ("COMPLETE", "PRUNED")
REFIT_FROM_SEARCH = "the search's epoch count up to the best epoch"  # where refit epochs came from
_LOSS_EPS = 1e-9  # losses closer than this tie


def better(acc: float, loss: float, than_acc: float, than_loss: float) -> bool:
    """Whether ``(acc, loss)`` beats ``(than_acc, than_loss)``: higher accuracy; ties
    (frequent on small validation sets: accuracies are exact fractions correct/n, so
    equal means the same count) go to the lower loss."""
    return acc > than_acc or (acc == than_acc and loss < than_loss - _LOSS_EPS)


@dataclass(frozen=True)
class TrialRecord(Record):
    """One trial: its parameters, state, best validation accuracy and history.

    ``val_accuracy`` is the best validation accuracy over the epochs run (for a
    pruned trial: over the epochs before it was stopped); ``history`` holds one
    :class:`~tuner.trial._params.EpochRecord` dict per epoch; ``sampled`` the values the
    search chose (the rest of ``params`` is fixed by the space).
    """

    number: int
    state: str
    params: dict
    sampled: dict = field(default_factory=dict)
    val_accuracy: float | None = None
    val_loss: float | None = None
    epochs_run: int = 0
    seconds: float = 0.0
    history: tuple[dict, ...] = ()
    notes: tuple[str, ...] = ()
    started: str | None = None  # ISO time
    finished: str | None = None
    message: str = ""  # why it failed or was pruned
    worker: str = ""  # host:pid of the process that ran it (where the backend records it)

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def trial_params(self) -> TrialParams:
        return TrialParams.from_dict(self.params)


def ranked(trials: tuple[TrialRecord, ...] | list[TrialRecord]) -> list[TrialRecord]:
    """The COMPLETE trials, best first: higher validation accuracy; ties (frequent on
    small validation sets) go to the lower validation loss, then the lower number."""
    done = [t for t in trials if t.state == "COMPLETE" and t.val_accuracy is not None]
    return sorted(done, key=lambda t: (-t.val_accuracy,
                                       t.val_loss if t.val_loss is not None else float("inf"),
                                       t.number))


def best_of(trials: tuple[TrialRecord, ...] | list[TrialRecord]) -> TrialRecord | None:
    """The first of :func:`ranked`, or ``None`` without a COMPLETE trial."""
    done = ranked(trials)
    return done[0] if done else None


def refit_epochs(history: tuple[dict, ...] | list[dict]) -> dict[str, int] | None:
    """Epochs per phase that reproduce a trial up to its best epoch, for the final
    refit: ``{"head": n, "finetune": m}`` (``m`` omitted when the best epoch was in
    the head phase) or ``{"scratch": n}``. Replays the runner's selection: within a
    phase the higher accuracy, ties to the lower loss; a fine-tune epoch must beat
    the head phase's best, which it starts from. ``None`` without per-epoch phases."""
    if not history or any(not {"phase", "val_accuracy", "val_loss"} <= set(h) for h in history):
        return None

    def best_index(rows: list[dict]) -> int:
        b = 0
        for i, h in enumerate(rows):
            if better(h["val_accuracy"], h["val_loss"], rows[b]["val_accuracy"],
                      rows[b]["val_loss"]):
                b = i
        return b

    phases: dict[str, list[dict]] = {}
    for h in sorted(history, key=lambda h: h["epoch"]):
        phases.setdefault(h["phase"], []).append(h)
    if "scratch" in phases:
        return {"scratch": best_index(phases["scratch"]) + 1}
    head = phases.get("head", [])
    if not head:
        return None
    out = {"head": best_index(head) + 1}
    ft = phases.get("finetune", [])
    if ft:
        rows = [head[out["head"] - 1]] + ft  # fine-tuning starts from the head's best
        b = best_index(rows)
        if b > 0:
            out["finetune"] = b
    return out
