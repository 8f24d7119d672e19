"""The ask / train / tell loop: the backend proposes, the runner trains, the backend is
told, until the study has the requested number of finished trials.

The loop decides nothing itself and writes nothing: ``on_change`` receives the trials
after every change (the caller rewrites ``results.json``), so a killed sweep loses at
most the trial that was running.

Several workers may run this loop on one shared study. Then the trial budget is the
study's: a worker asks for a trial only while finished plus running trials are fewer
than ``n_trials``, waits while the running ones of other workers may still end the
study (or die, and be failed by the heartbeat and queued again), and gives a proposal
back untrained when other workers took the last places while it was asking. The
trial's heartbeat is kept here (Optuna wires it to ``study.optimize()`` only).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime

from tuner.search._events import Emitter
from tuner.search._stopping import StallStop
from tuner.search.backends import Proposal, SearchBackend
from tuner.training import Runner, WorkerDied
from tuner.trial import TrialRecord

__all__ = ["TrialLoop", "TEST_SLEEP_ENV", "MAX_WORKER_DEATHS", "POLL_S"]

# TEST-ONLY: seconds to sleep inside every trial (after it is RUNNING, before it
# trains), so that the kill/resume test can SIGKILL a sweep in the middle of a trial.
TEST_SLEEP_ENV = "TL_TEST_TRIAL_SLEEP"
MAX_WORKER_DEATHS = 3  # consecutive trials whose worker died: then the sweep stops
POLL_S = 1.0  # seconds between looks at a shared study while waiting for other workers


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


class TrialLoop:
    """Runs trials of ``backend`` on ``runner`` until ``n_trials`` are finished, or
    until ``stop`` (called with the trials before each new one) gives a reason."""

    def __init__(self, backend: SearchBackend, runner: Runner, n_trials: int, *,
                 emit: Emitter, on_change: Callable[[list[TrialRecord]], None],
                 warn: Callable[[str], None], poll_s: float = POLL_S,
                 on_told: Callable[[TrialRecord], None] | None = None,
                 stop: Callable[[list[TrialRecord]], StallStop | None] | None = None) -> None:
        self.backend = backend
        self.runner = runner
        self.n_trials = n_trials
        self.emit = emit
        self.on_change = on_change
        self.warn = warn
        self.poll_s = poll_s
        self.on_told = on_told  # each trial's record once the backend has it (TensorBoard)
        self.worker_deaths = 0  # consecutive
        self.stop = stop  # the early-stop rule, if any (tuner.search._stopping)
        self.stopped: StallStop | None = None  # why the loop stopped before n_trials

    def run(self) -> list[TrialRecord]:
        """Every trial of the study once ``n_trials`` of them are finished."""
        trials = self.backend.trials()
        self.on_change(trials)
        waiting = False
        while True:
            self.backend.reap()
            trials = self.backend.trials()
            done = sum(t.is_finished for t in trials)
            if done >= self.n_trials:
                return trials
            if self.stop is not None and not waiting:
                self.stopped = self.stop(trials)
                if self.stopped is not None:  # recorded in the result by the caller
                    self.emit("note", trials, message=self.stopped.reason)
                    return trials
            running = sum(t.state == "RUNNING" for t in trials)
            if done + running >= self.n_trials:
                if not waiting:
                    self.on_change(trials)
                    self.emit("note", trials, message=f"waiting: {done} trials finished and "
                              f"{running} running on other workers make {self.n_trials}")
                waiting = True
                time.sleep(self.poll_s)
                continue
            waiting = False
            self.run_trial()

    def run_trial(self) -> TrialRecord | None:
        """Ask for one proposal, train it and tell the backend its record (``None``: the
        proposal was given back, other workers having taken the study's last places)."""
        proposal = self.backend.ask()
        trials = self.backend.trials()
        ahead = sum(t.number < proposal.number and (t.is_finished or t.state == "RUNNING")
                    for t in trials)
        if ahead >= self.n_trials:
            self.backend.discard(proposal, f"not trained: {ahead} earlier trials were finished "
                                           "or running when it was asked")
            return None
        self.on_change(trials)
        self.emit("trial_start", trials, trial=proposal.number)
        with self.backend.keep_alive(proposal):
            record, error = self._train(proposal, trials)
        self.backend.tell(proposal, record)
        if self.on_told is not None:
            self.on_told(record)
        if isinstance(error, WorkerDied):
            # One configuration killed its worker (memory, most likely): the sweep goes
            # on with a new worker, unless that keeps happening.
            self.worker_deaths += 1
            self.warn(f"trial {proposal.number} failed: its worker process died "
                      f"({error.received}); the sweep went on with a new worker")
        elif error is None:
            self.worker_deaths = 0
            self.emit.trial_seconds.append(record.seconds)
        trials = self.backend.trials()
        self.on_change(trials)
        if error is not None and (not isinstance(error, WorkerDied)
                                  or self.worker_deaths >= MAX_WORKER_DEATHS):
            raise error
        self.emit("trial_end", trials, trial=record.number, record=record)
        return record

    def _train(self, proposal: Proposal, trials: list[TrialRecord]
               ) -> tuple[TrialRecord, BaseException | None]:
        """The trial's record, and the error that ended it when it failed."""
        import optuna

        started, t = _now(), time.perf_counter()
        history: list[dict] = []

        def on_epoch(epoch: int, val_accuracy: float) -> None:
            # The runner reports (epoch, val accuracy); full EpochRecords come with
            # its outcome, so a pruned trial keeps only these.
            history.append({"epoch": int(epoch), "val_accuracy": float(val_accuracy)})
            self.emit("epoch", trials, trial=proposal.number, epoch=int(epoch),
                      val_accuracy=float(val_accuracy))
            # Steps count from 0; the backend's warm-up keeps the head phase and the
            # first fine-tuning epoch from being pruned.
            if self.backend.should_prune(proposal, len(history) - 1, float(val_accuracy)):
                raise optuna.TrialPruned(f"pruned after epoch {len(history)}")

        def record(state: str, **kw: object) -> TrialRecord:
            fields: dict = dict(epochs_run=len(history), seconds=time.perf_counter() - t,
                                history=tuple(history))
            fields.update(kw)
            return TrialRecord(number=proposal.number, state=state,
                               params=proposal.params.to_dict(), sampled=proposal.sampled,
                               started=started, finished=_now(),
                               worker=self.backend.worker, **fields)

        try:
            sleep = float(os.environ.get(TEST_SLEEP_ENV, "0") or 0)
            if sleep > 0:
                time.sleep(sleep)
            out = self.runner.run(proposal.params, on_epoch)
        except optuna.TrialPruned as e:
            best = max(h["val_accuracy"] for h in history) if history else None
            return record("PRUNED", val_accuracy=best, message=str(e)), None
        except BaseException as e:  # noqa: BLE001 - recorded as FAIL, re-raised by run_trial
            return record("FAIL", message=f"{type(e).__name__}: {e}"[:500]), e
        return record("COMPLETE", val_accuracy=out.val_accuracy, val_loss=out.val_loss,
                      epochs_run=out.epochs_run, seconds=out.seconds,
                      history=tuple(h.to_dict() for h in out.history) or tuple(history),
                      notes=tuple(out.notes)), None
