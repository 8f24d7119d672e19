"""Result types of a sweep: one record per trial and the whole sweep.

Trial states follow Optuna's names for both backends: ``COMPLETE``, ``PRUNED``,
``FAIL`` and ``RUNNING``. A trial is *finished* ("completed" in the CLI) when it is
``COMPLETE`` or ``PRUNED``; a sweep of ``--trials N`` ends with exactly N finished
trials. ``FAIL`` trials (errors, or trials left running by a killed process) are
kept in the record but do not count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tuner._train import Best
from tuner._types import TrialParams

__all__ = ["FINISHED_STATES", "REFIT_FROM_SEARCH", "TrialRecord", "SweepResult", "best_of",
           "ranked", "refit_epochs"]

FINISHED_STATES = ("COMPLETE", "PRUNED")
REFIT_FROM_SEARCH = "the search's epoch count up to the best epoch"  # where refit epochs came from


@dataclass(frozen=True)
class TrialRecord:
    """One trial: its parameters, state, best validation accuracy and history.

    ``val_accuracy`` is the best validation accuracy over the epochs run (for a
    pruned trial: over the epochs before it was stopped); ``history`` holds one
    :class:`~tuner._types.EpochRecord` dict per epoch; ``sampled`` the values the
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

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def trial_params(self) -> TrialParams:
        return TrialParams.from_dict(self.params)

    def to_dict(self) -> dict:
        return {"number": self.number, "state": self.state, "params": dict(self.params),
                "sampled": dict(self.sampled), "val_accuracy": self.val_accuracy,
                "val_loss": self.val_loss, "epochs_run": self.epochs_run,
                "seconds": self.seconds, "history": [dict(h) for h in self.history],
                "notes": list(self.notes), "started": self.started,
                "finished": self.finished, "message": self.message}

    @classmethod
    def from_dict(cls, d: dict) -> "TrialRecord":
        return cls(number=d["number"], state=d["state"], params=dict(d["params"]),
                   sampled=dict(d.get("sampled", {})), val_accuracy=d.get("val_accuracy"),
                   val_loss=d.get("val_loss"), epochs_run=d.get("epochs_run", 0),
                   seconds=d.get("seconds", 0.0),
                   history=tuple(dict(h) for h in d.get("history", ())),
                   notes=tuple(d.get("notes", ())), started=d.get("started"),
                   finished=d.get("finished"), message=d.get("message", ""))


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
            if Best(rows[b]["val_accuracy"], rows[b]["val_loss"], b, None).beaten_by(
                    h["val_accuracy"], h["val_loss"]):
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


@dataclass(frozen=True)
class SweepResult:
    """Everything a sweep produced; renderers and the sweep report read only this.

    ``status``: ``running`` (written after each trial), ``searched`` (all trials
    finished, final model not yet trained) or ``done``. ``final`` is the runner's
    ``FinalResult.to_dict()`` (test metrics, exported files). ``data`` describes the
    splits (where train/val/test come from). ``importances`` maps parameter name
    to importance (Optuna's evaluator; ``None`` below two COMPLETE trials).
    """

    run_dir: str
    status: str
    config: dict
    command: str
    trials: tuple[TrialRecord, ...]
    n_requested: int
    advice: dict | None = None
    data: dict = field(default_factory=dict)
    final: dict | None = None
    importances: dict | None = None
    timings: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    killed_trials: tuple[int, ...] = ()  # RUNNING trials of a killed process, marked FAIL
    sessions: int = 1  # 1 + number of resumes
    search: dict = field(default_factory=dict)  # the backend: sampler, pruner, storage
    rerank: dict | None = None  # RerankResult.to_dict(): its ``chosen`` trial is the best

    @property
    def finished_trials(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.is_finished]

    @property
    def n_finished(self) -> int:
        return len(self.finished_trials)

    @property
    def best(self) -> TrialRecord | None:
        """The trial the final model trains: the re-ranking's choice when there was
        one, else the search's best (:func:`best_of`)."""
        if self.rerank:
            for t in self.trials:
                if t.number == self.rerank.get("chosen"):
                    return t
        return best_of(self.trials)

    def to_dict(self) -> dict:
        best = self.best
        counts: dict[str, int] = {}
        for t in self.trials:
            counts[t.state] = counts.get(t.state, 0) + 1
        return {"run_dir": self.run_dir, "status": self.status, "config": self.config,
                "command": self.command, "n_requested": self.n_requested,
                "n_finished": self.n_finished, "state_counts": counts,
                "trials": [t.to_dict() for t in self.trials],
                "best": best.to_dict() if best else None,
                "best_curves": list(best.history) if best else [],
                "advice": self.advice, "data": self.data, "final": self.final,
                "importances": self.importances, "timings": self.timings,
                "warnings": list(self.warnings), "killed_trials": list(self.killed_trials),
                "sessions": self.sessions, "search": self.search, "rerank": self.rerank}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SweepResult":
        return cls(run_dir=d["run_dir"], status=d["status"], config=d["config"],
                   command=d.get("command", ""),
                   trials=tuple(TrialRecord.from_dict(t) for t in d["trials"]),
                   n_requested=d["n_requested"], advice=d.get("advice"),
                   data=d.get("data", {}), final=d.get("final"),
                   importances=d.get("importances"), timings=d.get("timings", {}),
                   warnings=tuple(d.get("warnings", ())),
                   killed_trials=tuple(d.get("killed_trials", ())),
                   sessions=d.get("sessions", 1), search=d.get("search", {}),
                   rerank=d.get("rerank"))
