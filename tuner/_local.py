"""``--workers K``: K worker processes on one study, supervised by the ``tltune`` that
started them.

Each worker (``python -m tuner._local RUN_DIR``) runs the same ask / train / tell loop
as any worker of a shared study (:class:`~tuner.search.TrialLoop`), on the data the
supervisor decoded once (the run's cache) and with ``cpu_count // K`` threads. The
supervisor trains nothing: it shows the study's trials as they finish, rewrites
``results.json``, and when a worker dies (killed, out of memory) fails its running
trial, queues that configuration again for the others (Optuna's retry callback) and
starts a replacement, at most K times. Only the supervisor trains the final model.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from advisor.errors import InternalError
from tuner._session import Session
from tuner.data import DataSpec
from tuner.search import SearchBackend
from tuner.storage import STORAGE_ENV, worker_id
from tuner.training import RunnerSpec
from tuner.trial import TrialRecord

__all__ = ["LocalWorkers", "THREADS_ENV", "work"]

THREADS_ENV = "TL_WORKER_THREADS"  # threads of one local worker's TensorFlow
SPEC_FILE = "spec.json"  # under RUN/workers/: how a worker gets its data and runner
_POLL_S = 1.0


class LocalWorkers:
    """Start ``s.config.workers`` worker processes on ``backend``'s study and supervise
    them until the study has ``s.config.trials`` finished trials."""

    def __init__(self, s: Session, backend: SearchBackend, data: DataSpec, runner: RunnerSpec,
                 *, poll_s: float = _POLL_S) -> None:
        self.s = s
        self.backend = backend
        self.data = data
        self.runner = runner
        self.poll_s = poll_s
        self.dir = s.run_dir / "workers"
        self.threads = max(1, (os.cpu_count() or 1) // s.config.workers)
        self.procs: list[subprocess.Popen] = []
        self.replacements = 0
        self._handled: set[int] = set()  # pids of dead workers already dealt with
        self._shown: dict[int, str] = {}

    def run(self) -> list[TrialRecord]:
        """Every trial of the study once ``trials`` of them are finished."""
        s, k = self.s, self.s.config.workers
        trials = self.backend.trials()
        if sum(t.is_finished for t in trials) >= s.config.trials:
            return trials  # a resumed sweep whose study is complete: nothing to start
        self.dir.mkdir(parents=True, exist_ok=True)
        spec = {"data": dataclasses.asdict(self.data),
                "runner": {k_: str(v) if isinstance(v, Path) else v
                           for k_, v in dataclasses.asdict(self.runner).items()}}
        (self.dir / SPEC_FILE).write_text(json.dumps(spec, indent=1), encoding="utf-8")
        self.procs = [self._start(i) for i in range(k)]
        s.emit("note", message=f"{k} worker processes on one study, {self.threads} thread(s) "
                               f"each; their logs are in {self.dir}")
        s.timings["worker_threads"] = self.threads
        try:
            while True:
                trials = self.backend.trials()
                self._show(trials)
                s.save(trials, "running")
                alive = [p for p in self.procs if p.poll() is None]
                for p in [p for p in self.procs if p.returncode not in (None, 0)
                          and p.pid not in self._handled]:
                    self._died(p, trials)
                    alive = [p for p in self.procs if p.poll() is None]
                if not alive:
                    break
                time.sleep(self.poll_s)
        except BaseException:
            self._stop("the sweep was interrupted")
            raise
        trials = self.backend.trials()
        self._show(trials)
        n = sum(t.is_finished for t in trials)
        if n < s.config.trials:
            raise InternalError("The local workers stopped before the study was complete",
                                expected=f"{s.config.trials} finished trials",
                                received=f"{n}; worker exit codes "
                                         f"{[p.returncode for p in self.procs]}",
                                fix=f"see the logs in {self.dir}, then --resume {s.run_dir}")
        s.timings["worker_replacements"] = self.replacements
        return trials

    def _start(self, i: int) -> subprocess.Popen:
        env = {k: v for k, v in os.environ.items() if k != STORAGE_ENV}
        if self.s.storage.url is not None:
            env[STORAGE_ENV] = self.s.storage.url  # the password travels by environment only
        env.update({THREADS_ENV: str(self.threads), "OMP_NUM_THREADS": str(self.threads),
                    "TF_CPP_MIN_LOG_LEVEL": "2"})
        log = open(self.dir / f"worker-{i}.log", "ab")  # noqa: SIM115 - the child keeps it
        try:
            return subprocess.Popen([sys.executable, "-m", "tuner._local", str(self.s.run_dir)],
                                    stdout=log, stderr=subprocess.STDOUT, env=env,
                                    stdin=subprocess.DEVNULL)
        finally:
            log.close()

    def _died(self, p: subprocess.Popen, trials: list[TrialRecord]) -> None:
        """Fail the dead worker's trial, queue it again, and start a replacement."""
        self._handled.add(p.pid)
        worker = worker_id(p.pid)
        why = f"worker {worker} died (exit status {p.returncode})"
        failed = self.backend.fail_worker(worker, why)
        self.s.warn(f"{why}; trial(s) {failed} marked FAIL and queued again"
                    if failed else why)
        i = self.procs.index(p)
        done = sum(t.is_finished for t in trials)
        if done < self.s.config.trials and self.replacements < self.s.config.workers:
            self.replacements += 1
            self.procs[i] = self._start(i)

    def _show(self, trials: list[TrialRecord]) -> None:
        for t in trials:
            if self._shown.get(t.number) == t.state:
                continue
            if t.state == "RUNNING":
                self.s.emit("trial_start", trials, trial=t.number)
            elif t.is_finished or t.state == "FAIL":
                self.s.emit("trial_end", trials, trial=t.number, record=t, message=t.worker)
            self._shown[t.number] = t.state

    def _stop(self, why: str) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            self.backend.fail_worker(worker_id(p.pid), why)


def work(run_dir: str | Path) -> int:
    """One local worker: run trials on the run's study until it is complete."""
    import signal

    from advisor.backbones import require_tensorflow
    from tuner.run import TensorBoardLog, load_config
    from tuner.search import Emitter, TrialLoop, get_backend, stall_stop
    from tuner.storage import get_storage
    from tuner.training import TrialRunner, die_with_parent

    die_with_parent()  # a killed supervisor leaves no worker training on
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the supervisor's to handle
    run_dir = Path(run_dir)
    # quiet, and its thread pools sized before its first operation
    require_tensorflow(threads=int(os.environ.get(THREADS_ENV, "0") or 0))
    config = load_config(run_dir)
    spec: dict[str, Any] = json.loads((run_dir / "workers" / SPEC_FILE).read_text("utf-8"))
    data = DataSpec(**spec["data"]).prepare()
    runner = TrialRunner.from_spec(RunnerSpec(**spec["runner"]), data)
    runner.expect(config.space.cached_blocks())
    storage = get_storage(run_dir, None, workers=config.workers, heartbeat_s=config.heartbeat)
    backend = get_backend(config.backend, config.space, seed=config.seed, run_dir=run_dir,
                          storage=storage, study_name=config.study)
    backend.open(resume=False, joined=True)
    tensorboard = TensorBoardLog(run_dir, warn=lambda m: print(m, flush=True))
    loop = TrialLoop(backend, runner, config.trials, emit=Emitter(None, config.trials, 0.0),
                     on_change=lambda trials: None, warn=lambda m: print(m, flush=True),
                     on_told=tensorboard.write_trial,
                     stop=lambda trials: stall_stop(trials, config.stall, len(data.y_val)))
    trials = loop.run()
    print(f"worker {backend.worker}: the study has {sum(t.is_finished for t in trials)} "
          "finished trials", flush=True)
    runner.close()
    return 0


if __name__ == "__main__":
    sys.exit(work(sys.argv[1]))
