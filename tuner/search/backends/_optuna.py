"""Optuna backend: seeded TPE sampler, median pruner on per-epoch val accuracy,
study in any Optuna storage (SQLite ``run_dir/study.db`` by default)."""

from __future__ import annotations

from typing import Any

from advisor.errors import ConfigError
from tuner.trial import TrialRecord
from tuner.trial import head_phase_epochs
from tuner.search.backends._base import KILLED_MESSAGE, Proposal, SearchBackend

__all__ = ["OptunaBackend"]

_RECORD_ATTR = "tltune_record"  # user attribute holding the TrialRecord fields


class OptunaBackend(SearchBackend):
    """TPE (``n_startup_trials`` random trials first, seeded) + MedianPruner.

    The pruner compares a trial's validation accuracy at each epoch with the
    median of earlier trials at the same epoch, after ``pruner_startup`` finished
    trials, and not before the second fine-tuning epoch (``warmup_steps``): during
    the head phase a fine-tuning trial is only a linear probe, and pruning it there
    would judge every freeze depth by its frozen features.
    """

    name = "optuna"

    def __init__(self, space, *, seed, run_dir, storage=None, study_name="tltune",
                 n_startup_trials: int = 10, pruner_startup: int = 3) -> None:
        super().__init__(space, seed=seed, run_dir=run_dir, storage=storage,
                         study_name=study_name)
        self.n_startup_trials = n_startup_trials
        self.pruner_startup = pruner_startup
        self.warmup_steps = head_phase_epochs(space.epochs) + 1
        self._study: Any = None
        self.sampler_seed = seed

    @property
    def storage_url(self) -> str:
        return self.storage or f"sqlite:///{(self.run_dir / 'study.db').resolve()}"

    def _make(self, sampler_seed: int):
        import optuna

        sampler = optuna.samplers.TPESampler(seed=sampler_seed,
                                             n_startup_trials=self.n_startup_trials)
        pruner = optuna.pruners.MedianPruner(n_startup_trials=self.pruner_startup,
                                             n_warmup_steps=self.warmup_steps)
        return sampler, pruner

    def open(self, *, resume: bool) -> list[int]:
        import optuna
        from optuna.trial import TrialState

        sampler, pruner = self._make(self.seed)
        if self.storage is None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        storage = optuna.storages.get_storage(self.storage_url)
        if resume:
            try:
                self._study = optuna.load_study(study_name=self.study_name, storage=storage,
                                                sampler=sampler, pruner=pruner)
            except KeyError as e:
                raise ConfigError(f"No study {self.study_name!r} to resume in the storage",
                                  expected="the storage the sweep was started with",
                                  received=self.storage_url,
                                  fix="pass the --storage URL of the original run, or start "
                                      "a new sweep without --resume") from e
            n = len(self._study.get_trials(deepcopy=False))
            if n:
                # A sampler re-seeded with the original seed would replay the random
                # start-up draws and propose finished configurations again: seed each
                # session by the number of trials it starts after.
                self.sampler_seed = (self.seed * 1_000_003 + n) % 2**32
                self._study.sampler = self._make(self.sampler_seed)[0]
        else:
            try:
                self._study = optuna.create_study(study_name=self.study_name, storage=storage,
                                                  sampler=sampler, pruner=pruner,
                                                  direction="maximize")
            except optuna.exceptions.DuplicatedStudyError as e:
                raise ConfigError(f"The storage already holds a study {self.study_name!r}",
                                  expected="a new study for a new sweep",
                                  received=self.storage_url,
                                  fix="resume it with --resume RUN_DIR, or pass another "
                                      "--storage / --out") from e
            first = self.space.first()
            if first:
                self._study.enqueue_trial(first, user_attrs={"source": "advice"})
        killed: list[int] = []
        study_id = storage.get_study_id_from_name(self.study_name)
        for t in self._study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            tid = storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
            storage.set_trial_user_attr(tid, "message", KILLED_MESSAGE)
            storage.set_trial_state_values(tid, TrialState.FAIL)
            killed.append(t.number)
        return killed

    def ask(self) -> Proposal:
        trial = self._study.ask()
        sampled: dict[str, Any] = {}
        freeze = self.space.fixed_values()["freeze_block"]
        for d in self.space.dimensions():
            if d.needs_unfrozen and not self.space.is_unfrozen(sampled.get("freeze_block", freeze)):
                continue
            if d.kind == "categorical":
                sampled[d.name] = trial.suggest_categorical(d.name, list(d.choices))
            else:
                sampled[d.name] = trial.suggest_float(d.name, d.low, d.high, log=d.log)
        return Proposal(trial.number, sampled, self.space.params(sampled), trial)

    def should_prune(self, proposal: Proposal, step: int, val_accuracy: float) -> bool:
        proposal.handle.report(val_accuracy, step)
        return proposal.handle.should_prune()

    def tell(self, proposal: Proposal, record: TrialRecord) -> None:
        from optuna.trial import TrialState

        trial = proposal.handle
        d = record.to_dict()
        trial.set_user_attr(_RECORD_ATTR, {k: d[k] for k in (
            "val_accuracy", "val_loss", "epochs_run", "seconds", "history", "notes", "message")})
        if record.state == "COMPLETE":
            self._study.tell(trial, record.val_accuracy)
        elif record.state == "PRUNED":
            self._study.tell(trial, state=TrialState.PRUNED)
        else:
            self._study.tell(trial, state=TrialState.FAIL)

    def trials(self) -> list[TrialRecord]:
        from optuna.trial import TrialState

        out: list[TrialRecord] = []
        for t in self._study.get_trials(deepcopy=False):
            if t.state == TrialState.WAITING:
                continue
            rec = t.user_attrs.get(_RECORD_ATTR, {})
            out.append(TrialRecord(
                number=t.number, state=t.state.name,
                params=self.space.params(t.params).to_dict(), sampled=dict(t.params),
                val_accuracy=rec.get("val_accuracy", t.value),
                val_loss=rec.get("val_loss"), epochs_run=rec.get("epochs_run", 0),
                seconds=rec.get("seconds", 0.0),
                history=tuple(rec.get("history", ())), notes=tuple(rec.get("notes", ())),
                started=t.datetime_start.isoformat() if t.datetime_start else None,
                finished=t.datetime_complete.isoformat() if t.datetime_complete else None,
                message=rec.get("message") or t.user_attrs.get("message", "")))
        return sorted(out, key=lambda r: r.number)

    def describe(self) -> dict:
        return {"backend": self.name, "sampler": "TPESampler",
                "sampler_args": {"seed": self.seed, "session_seed": self.sampler_seed,
                                 "n_startup_trials": self.n_startup_trials},
                "pruner": "MedianPruner",
                "pruner_args": {"n_startup_trials": self.pruner_startup,
                                "n_warmup_steps": self.warmup_steps},
                "storage": self.storage_url, "study_name": self.study_name,
                "first_trial": "the advice's configuration (enqueued)"}
