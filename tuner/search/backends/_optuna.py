"""Optuna backend: seeded TPE sampler, median pruner on per-epoch val accuracy, study
in the run directory's SQLite file by default, or shared by several workers (a journal
file for local workers, PostgreSQL across machines: :mod:`tuner.storage`)."""

from __future__ import annotations

import contextlib
import threading
import warnings
import zlib
from collections.abc import Iterator
from typing import Any

from advisor.errors import ConfigError
from tuner.search.backends._base import KILLED_MESSAGE, Proposal, SearchBackend
from tuner.storage import claim, fail_and_retry, optuna_experimental
from tuner.trial import TrialRecord, head_phase_epochs

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
    shareable = True

    def __init__(self, space, *, seed, run_dir, storage=None, study_name="tltune",
                 n_startup_trials: int = 10, pruner_startup: int = 3) -> None:
        super().__init__(space, seed=seed, run_dir=run_dir, storage=storage,
                         study_name=study_name)
        self.n_startup_trials = n_startup_trials
        self.pruner_startup = pruner_startup
        self.warmup_steps = head_phase_epochs(space.epochs) + 1
        self._study: Any = None
        self._storage: Any = None  # the Optuna storage object (not the study's cache)
        self.sampler_seed = seed

    @property
    def storage_url(self) -> str:
        """Where the study is (without a password)."""
        return self.storage.location

    def _make(self, sampler_seed: int):
        import optuna

        # Shared studies: "constant liar" keeps concurrent workers from proposing next to
        # each other's running trials (Optuna's advice for distributed TPE).
        sampler = optuna.samplers.TPESampler(seed=sampler_seed,
                                             n_startup_trials=self.n_startup_trials,
                                             constant_liar=self.storage.shared)
        pruner = optuna.pruners.MedianPruner(n_startup_trials=self.pruner_startup,
                                             n_warmup_steps=self.warmup_steps)
        return sampler, pruner

    def open(self, *, resume: bool, joined: bool = False) -> list[int]:
        import optuna

        sampler, pruner = self._make(self.seed)
        storage = self._storage = self.storage.open()
        if resume or joined:
            try:
                self._study = optuna.load_study(study_name=self.study_name, storage=storage,
                                                sampler=sampler, pruner=pruner)
            except KeyError as e:
                raise ConfigError(f"No study {self.study_name!r} in the storage",
                                  expected="the storage and --study the sweep was started with",
                                  received=self.storage_url,
                                  fix="pass the --storage URL (and --study) of the original "
                                      "run, or start a new sweep without --resume") from e
            n = len(self._study.get_trials(deepcopy=False))
            if n or joined:
                # A sampler re-seeded with the original seed would replay the random
                # start-up draws and propose finished configurations again: seed each
                # session by the number of trials it starts after (and each worker of a
                # shared study by its name).
                salt = zlib.crc32(self.worker.encode()) if self.storage.shared else 0
                self.sampler_seed = (self.seed * 1_000_003 + n + salt) % 2**32
                self._study.sampler = self._make(self.sampler_seed)[0]
        else:
            try:
                self._study = optuna.create_study(study_name=self.study_name, storage=storage,
                                                  sampler=sampler, pruner=pruner,
                                                  direction="maximize")
            except optuna.exceptions.DuplicatedStudyError as e:
                self._study = optuna.load_study(study_name=self.study_name, storage=storage,
                                                sampler=sampler, pruner=pruner)
                if self._study.get_trials(deepcopy=False) or self._study.user_attrs:
                    raise ConfigError(
                        f"The storage already holds a study {self.study_name!r}",
                        expected="a new study for a new sweep", received=self.storage_url,
                        fix="resume it with --resume RUN_DIR, join it as one more worker "
                            f"with --study {self.study_name}, or pass another --study / "
                            "--out") from e
                # else: an empty study this run created before it was stopped: ours
            first = self.space.first()
            if first:
                self._study.enqueue_trial(first, user_attrs={"source": "advice"})
        if self.storage.heartbeat_s:
            self.reap()  # only the heartbeat tells a dead worker's trial from a live one's
            return []
        if joined:
            return []
        killed: list[int] = []
        study_id = storage.get_study_id_from_name(self.study_name)
        for t in self._study.get_trials(deepcopy=False, states=(_state("RUNNING"),)):
            tid = storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
            storage.set_trial_user_attr(tid, "message", KILLED_MESSAGE)
            storage.set_trial_state_values(tid, _state("FAIL"))
            killed.append(t.number)
        return killed

    def reap(self) -> None:
        from optuna.storages import fail_stale_trials

        if self.storage.heartbeat_s:
            with optuna_experimental():
                fail_stale_trials(self._study)

    @contextlib.contextmanager
    def keep_alive(self, proposal: Proposal) -> Iterator[None]:
        if not self.storage.heartbeat_s:
            yield
            return
        tid = self._trial_id(proposal.number)
        stop = threading.Event()

        def beat() -> None:
            import sqlalchemy.exc

            while True:
                try:
                    self._storage.record_heartbeat(tid)
                except sqlalchemy.exc.SQLAlchemyError:
                    pass  # the server is away for a moment: the next beat tries again
                if stop.wait(self.storage.heartbeat_s):
                    return

        thread = threading.Thread(target=beat, name=f"heartbeat-{proposal.number}",
                                  daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _trial_id(self, number: int) -> int:
        study_id = self._storage.get_study_id_from_name(self.study_name)
        return self._storage.get_trial_id_from_study_id_trial_number(study_id, number)

    def fail_worker(self, worker: str, why: str) -> list[int]:
        return [t.number for t in self._study.get_trials(deepcopy=False,
                                                         states=(_state("RUNNING"),))
                if t.user_attrs.get("worker") == worker
                and fail_and_retry(self._storage, self._study, t.number, why)]

    def discard(self, proposal: Proposal, why: str) -> None:
        self.tell(proposal, TrialRecord(number=proposal.number, state="FAIL",
                                        params=proposal.params.to_dict(),
                                        sampled=proposal.sampled, message=why))
        self._study.enqueue_trial(dict(proposal.sampled),
                                  user_attrs={"source": f"given back by trial {proposal.number}"})

    def publish(self, key: str, value: Any) -> None:
        self._study.set_user_attr(key, value)

    def claim_final(self, holder: dict) -> dict | None:
        if not self.storage.shared:
            return None
        return claim(self._storage, self.study_name, "final-model", holder)

    def ask(self) -> Proposal:
        with warnings.catch_warnings():
            # Optuna warns that its heartbeat is meant for study.optimize(): keep_alive()
            # sends this loop's heartbeats, so the warning says nothing to the user
            warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed",
                                    category=UserWarning)
            trial = self._study.ask()
        trial.set_user_attr("worker", self.worker)
        if trial.user_attrs.get("message"):  # a retried configuration: not its failure's
            trial.set_user_attr("message", "")
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
        from optuna.storages import RetryHeartbeatStaleTrialCallback as Retry
        from optuna.trial import TrialState

        out: list[TrialRecord] = []
        every = self._study.get_trials(deepcopy=False)
        with optuna_experimental():
            retried_as = {Retry.retried_trial_number(t): t.number for t in every
                          if Retry.retried_trial_number(t) is not None}
        for t in every:
            if t.state == TrialState.WAITING:
                continue
            rec = t.user_attrs.get(_RECORD_ATTR, {})
            message = rec.get("message") or t.user_attrs.get("message", "")
            if t.state == TrialState.FAIL and not message and _RECORD_ATTR not in t.user_attrs:
                # failed by Optuna's heartbeat check, which cannot leave a message
                message = (f"worker {t.user_attrs.get('worker', '?')} stopped sending "
                           "heartbeats (killed or lost): marked FAIL by Optuna's heartbeat")
            if t.number in retried_as:
                message += f"; its configuration was queued again (trial {retried_as[t.number]})"
            out.append(TrialRecord(
                number=t.number, state=t.state.name,
                params=self.space.params(t.params).to_dict(), sampled=dict(t.params),
                val_accuracy=rec.get("val_accuracy", t.value),
                val_loss=rec.get("val_loss"), epochs_run=rec.get("epochs_run", 0),
                seconds=rec.get("seconds", 0.0),
                history=tuple(rec.get("history", ())), notes=tuple(rec.get("notes", ())),
                started=t.datetime_start.isoformat() if t.datetime_start else None,
                finished=t.datetime_complete.isoformat() if t.datetime_complete else None,
                message=message, worker=t.user_attrs.get("worker", "")))
        return sorted(out, key=lambda r: r.number)

    def describe(self) -> dict:
        return {"backend": self.name, "sampler": "TPESampler",
                "sampler_args": {"seed": self.seed, "session_seed": self.sampler_seed,
                                 "n_startup_trials": self.n_startup_trials},
                "pruner": "MedianPruner",
                "pruner_args": {"n_startup_trials": self.pruner_startup,
                                "n_warmup_steps": self.warmup_steps},
                "storage": self.storage_url, "study_name": self.study_name,
                "first_trial": "the advice's configuration (enqueued)",
                "shared": self.storage.shared, "heartbeat_s": self.storage.heartbeat_s}


def _state(name: str) -> Any:
    """Optuna's ``TrialState[name]`` (Optuna is imported only when a backend runs)."""
    from optuna.trial import TrialState

    return TrialState[name]
