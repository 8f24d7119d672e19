"""KerasTuner backend: a Bayesian-optimisation Oracle driven directly (no kt.Tuner
loop), so the shared TrialRunner runs every trial. Oracle state and one record
file per trial live in ``run_dir/kerastuner/``.

Hyperband is not offered: it decides each trial's epochs itself and its number of
trials follows from ``max_epochs``, which does not fit "N trials of the same
training budget" that both backends share here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from advisor.errors import ConfigError, InternalError
from advisor.io import write_json_atomic
from tuner.trial import TrialRecord
from tuner.search.backends._base import KILLED_MESSAGE, Proposal, SearchBackend

__all__ = ["KerasTunerBackend"]

_STATES = {"COMPLETED": "COMPLETE", "FAILED": "FAIL", "INVALID": "FAIL", "RUNNING": "RUNNING"}
_TUNER_ID = "tltune"
_MAX_TRIALS = 9999  # a cap the oracle needs; the sweep loop decides when to stop


def _oracle_class():
    import keras_tuner as kt

    class CentredBayesianOracle(kt.oracles.BayesianOptimizationOracle):
        """Bayesian oracle whose first trial is the advice's configuration, whose
        state files are written atomically, and which marks trials a killed
        process left running as FAILED on reload instead of retrying them."""

        first_values: dict = {}

        def populate_space(self, trial_id):
            if not self.trials and self.first_values:
                return {"status": "RUNNING", "values": dict(self.first_values)}
            return super().populate_space(trial_id)

        def save(self):
            write_json_atomic(self._get_oracle_fname(), self.get_state())

        def _save_trial(self, trial):
            write_json_atomic(os.path.join(self._get_trial_dir(trial.trial_id), "trial.json"),
                               trial.get_state())

        def reload(self):
            super().reload()  # sends trials that were running to the retry queue
            killed = [t for t in self._retry_queue if self.trials[t].status == "RUNNING"]
            self.killed = [int(t) for t in killed]
            for tid in killed:
                self._retry_queue.remove(tid)
                trial = self.trials[tid]
                trial.status = "FAILED"
                trial.message = KILLED_MESSAGE
                self.end_trial(trial)

    return CentredBayesianOracle


class KerasTunerBackend(SearchBackend):
    """``kt.oracles.BayesianOptimizationOracle`` (Gaussian process, UCB) over the
    same space; no pruning (every trial runs its epochs, with early stopping)."""

    name = "kerastuner"

    def __init__(self, space, *, seed, run_dir, storage=None, study_name="tltune",
                 n_startup_trials: int = 10) -> None:
        super().__init__(space, seed=seed, run_dir=run_dir, storage=storage,
                         study_name=study_name)
        self.n_startup_trials = n_startup_trials
        self._oracle: Any = None

    @property
    def directory(self) -> Path:
        return self.run_dir / "kerastuner"

    def _record_path(self, number: int) -> Path:
        return self.directory / "records" / f"{number:04d}.json"

    def _hyperparameters(self):
        import keras_tuner as kt

        hps = kt.HyperParameters()
        sp = self.space
        dims = sp.dimensions()
        def add(d) -> None:
            if d.kind == "categorical":
                hps.Choice(d.name, list(d.choices))
            else:
                hps.Float(d.name, d.low, d.high, sampling="log" if d.log else "linear")

        for d in dims:
            if d.needs_unfrozen and any(x.name == "freeze_block" for x in dims):
                unfrozen = [b for b in sp.freeze_blocks if sp.is_unfrozen(b)]
                with hps.conditional_scope("freeze_block", unfrozen):
                    add(d)
            else:
                add(d)
        return hps

    def open(self, *, resume: bool, joined: bool = False) -> list[int]:
        import keras_tuner as kt

        project = self.directory / "search"
        exists = (project / "oracle.json").is_file()
        if resume and not exists:
            raise ConfigError("No KerasTuner state to resume in the run directory",
                              expected=f"{project / 'oracle.json'}", received="no such file",
                              fix="resume a run that used --backend kerastuner, or start a "
                                  "new sweep")
        if not resume and exists:
            raise ConfigError("The run directory already holds a KerasTuner search",
                              expected="an empty run directory for a new sweep",
                              received=str(project), fix="pass --resume RUN_DIR or another --out")
        cls = _oracle_class()
        # KerasTuner replaces seed 0 by a random seed (``seed or randint``): shift by one.
        oracle = cls(objective=kt.Objective("val_accuracy", "max"), max_trials=_MAX_TRIALS,
                     seed=self.seed + 1, num_initial_points=self.n_startup_trials,
                     hyperparameters=self._hyperparameters(),
                     allow_new_entries=False, tune_new_entries=False,
                     max_consecutive_failed_trials=_MAX_TRIALS)
        oracle.first_values = self.space.first()
        oracle.verbose = 0
        # Driving the oracle without a kt.Tuner: set its project directory the way
        # BaseTuner does.
        oracle._set_project_dir(str(self.directory), "search")
        (self.directory / "records").mkdir(parents=True, exist_ok=True)
        killed: list[int] = []
        if resume:
            oracle.reload()
            killed = list(oracle.killed)
        self._oracle = oracle
        return killed

    def ask(self) -> Proposal:
        trial = self._oracle.create_trial(_TUNER_ID)
        if trial.status != "RUNNING":
            raise InternalError("KerasTuner's oracle stopped proposing trials",
                                expected="a RUNNING trial", received=f"status {trial.status}",
                                fix="use --backend optuna, or widen the search space")
        sampled = dict(trial.hyperparameters.values)
        return Proposal(int(trial.trial_id), sampled, self.space.params(sampled), trial)

    def should_prune(self, proposal: Proposal, step: int, val_accuracy: float) -> bool:
        self._oracle.update_trial(proposal.handle.trial_id, {"val_accuracy": val_accuracy},
                                  step=step)
        return False

    def tell(self, proposal: Proposal, record: TrialRecord) -> None:
        write_json_atomic(self._record_path(record.number), record.to_dict())
        trial = proposal.handle
        if record.state == "COMPLETE":
            if not self._oracle.trials[trial.trial_id].metrics.exists("val_accuracy"):
                self._oracle.update_trial(trial.trial_id, {"val_accuracy": record.val_accuracy})
            trial.status = "COMPLETED"
        else:  # this backend does not prune
            trial.status = "FAILED"
            trial.message = record.message
        self._oracle.end_trial(trial)

    def trials(self) -> list[TrialRecord]:
        out: list[TrialRecord] = []
        for tid, t in self._oracle.trials.items():
            state = _STATES.get(t.status)
            if state is None:  # IDLE / STOPPED: never ran
                continue
            number = int(tid)
            path = self._record_path(number)
            sampled = dict(t.hyperparameters.values)
            if path.is_file():
                rec = TrialRecord.from_dict(json.loads(path.read_text()))
                out.append(TrialRecord(**{**rec.__dict__, "state": state, "sampled": sampled}))
            else:
                out.append(TrialRecord(number=number, state=state,
                                       params=self.space.params(sampled).to_dict(),
                                       sampled=sampled, val_accuracy=t.score,
                                       message=t.message or ""))
        return sorted(out, key=lambda r: r.number)

    def describe(self) -> dict:
        return {"backend": self.name, "oracle": "BayesianOptimizationOracle",
                "oracle_args": {"seed": self.seed + 1,
                                "num_initial_points": self.n_startup_trials,
                                "objective": "val_accuracy (max)"},
                "pruner": None, "storage": str(self.directory),
                "first_trial": "the advice's configuration"}
