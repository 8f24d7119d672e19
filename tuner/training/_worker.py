"""Trials in a worker process, so that a sweep's memory stays flat.

TensorFlow and Keras keep memory after ``keras.backend.clear_session()`` (function
and graph caches, allocator fragmentation): measured in one process, about 25 MB
more per partial-freeze trial and 180 MB per full fine-tune trial. The
:class:`WorkerRunner` has the :class:`~tuner.training.Runner` interface and runs the trials
in a spawned child process. The child rebuilds the data from the decoded-array
cache and shares the on-disk activation cache, so a new child costs its
TensorFlow import and little else. The child is replaced, between trials, once
its resident memory has grown by more than ``recycle_growth`` over what it held
after its first trial (``recycle_growth=0``: a fresh child for every trial).

The parent keeps the decisions: per-epoch results go to the parent's
``on_epoch`` (the pruner), whose exception stops the trial in the child.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from typing import Any

from advisor.errors import InternalError
from tuner.data import DataSpec
from tuner.final import FinalRequest, FinalResult
from tuner.training._device import DeviceInfo
from tuner.training._layout import BackboneLayout
from tuner.training._lrcurve import LRFinding
from tuner.training._child import child_main, main_module_hidden, unpack_error
from tuner.training._spec import RunnerSpec
from tuner.trial import TrialOutcome, TrialParams

__all__ = ["WorkerRunner", "WorkerDied", "RECYCLE_GROWTH"]

RECYCLE_GROWTH = 0.05  # replace the child once it holds 5 % more than after its first trial
_POLL_S = 1.0


class WorkerDied(InternalError):
    """The worker process ended in the middle of a trial (e.g. killed for memory)."""


class WorkerRunner:
    """A :class:`~tuner.training._runner.TrialRunner` in a child process.

    ``data``: how the child gets its data (with a ``cache_dir``, so that it loads the
    decoded arrays instead of decoding); ``runner``: the child runner's settings.
    ``restarts`` counts replaced children; ``startup_s`` the seconds spent starting them.
    """

    def __init__(self, data: DataSpec, runner: RunnerSpec, *,
                 recycle_growth: float = RECYCLE_GROWTH) -> None:
        self.data = data
        self.runner = runner
        self.recycle_growth = recycle_growth
        self.restarts = 0
        self.startup_s = 0.0
        self.peak_child_mb = 0.0
        self._expect: tuple[int, ...] = ()
        self._n_blocks: int | None = None
        self._proc: Any = None
        self._conn: Any = None
        self._baseline: float | None = None
        self._known: BackboneLayout | None = None  # measured by the first worker
        self._device: DeviceInfo | None = None

    # ------------------------------------------------------------------ API
    @property
    def n_blocks(self) -> int:
        if self._n_blocks is None:
            self._start()
        assert self._n_blocks is not None
        return self._n_blocks

    @property
    def device(self) -> DeviceInfo:
        """The device the child trains on (:func:`~tuner.training.detect_device` there)."""
        if self._device is None:
            self._start()
        assert self._device is not None
        return self._device

    def expect(self, freeze_blocks) -> None:
        """As ``TrialRunner.expect`` (and for every later child)."""
        self._expect = tuple(int(b) for b in freeze_blocks)
        if self._proc is not None:
            self._call(("expect", self._expect), None, trial=False)

    def run(self, params: TrialParams,
            on_epoch: Callable[[int, float], None] | None = None) -> TrialOutcome:
        return self._call(("run", params), on_epoch)

    def fit_final(self, request: FinalRequest) -> FinalResult:
        return self._call(("final", request), None)

    def find_lr(self, **kw: Any) -> LRFinding:
        """As ``TrialRunner.find_lr``, in the worker (whose cache the trials then reuse)."""
        return self._call(("find_lr", kw), None)

    def for_fold(self, k: int, i: int, seed: int) -> "WorkerRunner":
        """A worker runner on :meth:`~tuner.data._prepare.PreparedData.cv_fold` ``(k, i, seed)``
        (its own child process, started on first use)."""
        r = WorkerRunner(self.data.fold(k, i, seed), self.runner,
                         recycle_growth=self.recycle_growth)
        r._known = self._known
        return r

    def close(self) -> None:
        self._stop()

    def __enter__(self) -> "WorkerRunner":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------- internals
    def _start(self) -> None:
        t = time.perf_counter()
        ctx = mp.get_context("spawn")  # never fork a process that may hold TensorFlow
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=child_main, name="tltune-trial-worker", daemon=True,
                                 args=(child, self.data, self.runner, self._expect,
                                       self._known))
        with main_module_hidden():
            self._proc.start()
        child.close()
        self._conn = parent
        self._baseline = None
        msg = self._recv()
        if msg[0] == "error":
            self._stop()
            raise unpack_error(msg[1])
        self._n_blocks = int(msg[1]["n_blocks"])
        self._known = msg[1]["known"]
        self._device = msg[1]["device"]
        self.startup_s += time.perf_counter() - t

    def _stop(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if proc is None:
            return
        try:
            conn.send(("stop",))
        except (OSError, ValueError):
            pass
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=10)
        conn.close()

    def _died(self, cause: str) -> WorkerDied:
        """Reap the dead (or unreachable) worker and describe it."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        code = None
        if proc is not None:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=10)
            code = proc.exitcode
        if conn is not None:
            conn.close()
        return WorkerDied("The trial worker process died",
                          expected="the worker to finish its trial",
                          received=f"{cause}, exit code {code}"
                                   + (" (killed: out of memory?)" if code == -9 else ""),
                          fix="lower --image-size or the batch size; the sweep goes on with a new "
                              "worker, and --resume continues a stopped sweep (completed trials "
                              "are kept)")

    def _recv(self) -> tuple:
        """The child's next message; :class:`WorkerDied` when the child died."""
        while not self._conn.poll(_POLL_S):
            if not self._proc.is_alive():
                raise self._died("it exited")
        try:
            return self._conn.recv()
        except (EOFError, OSError) as e:
            raise self._died(type(e).__name__) from e

    def _call(self, command: tuple, on_epoch: Callable[[int, float], None] | None,
              trial: bool = True) -> Any:
        if self._proc is None:
            self._start()
        try:
            try:
                self._conn.send(command)
            except (OSError, ValueError) as e:  # the worker is gone
                raise self._died(type(e).__name__) from e
            while True:
                msg = self._recv()
                if msg[0] == "epoch":
                    try:
                        if on_epoch is not None:
                            on_epoch(msg[1], msg[2])
                    except BaseException:
                        self._conn.send(("abort",))
                        reply = self._recv()
                        self._after(reply[-1])
                        raise
                    self._conn.send(("go",))
                    continue
                if trial:
                    self._after(msg[-1])
                if msg[0] == "error":
                    raise unpack_error(msg[1])
                return msg[1]
        except KeyboardInterrupt:
            if self._proc is not None:
                self._proc.kill()
            self._stop()
            raise

    def _after(self, rss_mb: float) -> None:
        """Replace the child once it has grown past its budget."""
        self.peak_child_mb = max(self.peak_child_mb, rss_mb)
        if self._baseline is None and self.recycle_growth > 0:
            self._baseline = rss_mb
        elif self._baseline is None or rss_mb > self._baseline * (1 + self.recycle_growth):
            self.restarts += 1
            self._stop()
