"""Trials in a worker process, so that a sweep's memory stays flat.

TensorFlow and Keras keep memory after ``keras.backend.clear_session()`` (function
and graph caches, allocator fragmentation): measured in one process, about 25 MB
more per partial-freeze trial and 180 MB per full fine-tune trial. The
:class:`WorkerRunner` has the :class:`~tuner.training.Runner` interface and runs the trials
in a spawned child process. The child rebuilds the data from the decoded-array
cache and shares the on-disk activation cache, so a new child costs its
TensorFlow import and little else. The child is replaced, between trials, once
its resident memory has grown by more than ``recycle_growth`` over what it held
after its first trial (``recycle_growth=0``: a fresh child for every trial); memory taken
by newly compiled kept views (``tuner/training/_kept.py``) moves that baseline, up to
``kept_growth`` over the first trial. The
runners of :meth:`WorkerRunner.for_fold` take turns on their parent's child (a
``use`` command switches its data), so a cross-validation pays one start, not one
per fold.

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
# Kept views may raise that baseline up to 50 % over the first trial: their memory grows
# with the distinct boundaries and optimizers a sweep draws (then stays flat), and a
# replacement throws away their traced steps; 10 % replaced the 224 px worker six times
# in 30 trials and gave back nearly all their saving (docs/training-recipe.md).
KEPT_GROWTH = 0.50
_POLL_S = 1.0


class WorkerDied(InternalError):
    """The worker process ended in the middle of a trial (e.g. killed for memory)."""


class _Child:
    """The worker process that a runner and its fold runners share, what it serves now
    (``serving``: data spec and expected blocks), and the counters over its lifetimes."""

    def __init__(self) -> None:
        self.proc: Any = None
        self.conn: Any = None
        self.serving: tuple[DataSpec, tuple[int, ...]] | None = None
        self.baseline: float | None = None
        self.restarts = 0
        self.startup_s = 0.0
        self.peak_mb = 0.0
        self.n_blocks: int | None = None
        self.known: BackboneLayout | None = None  # measured by the first worker
        self.device: DeviceInfo | None = None
        self.views = 0  # kept views the child's runner had compiled at its last reply
        self.first: float | None = None  # the child's memory after its first trial


class WorkerRunner:
    """A :class:`~tuner.training._runner.TrialRunner` in a child process.

    ``data``: how the child gets its data (with a ``cache_dir``, so that it loads the
    decoded arrays instead of decoding); ``runner``: the child runner's settings.
    ``restarts`` counts replaced children; ``startup_s`` the seconds spent starting them
    (both shared with the fold runners).
    """

    def __init__(self, data: DataSpec, runner: RunnerSpec, *,
                 recycle_growth: float = RECYCLE_GROWTH, kept_growth: float = KEPT_GROWTH) -> None:
        self.data = data
        self.runner = runner
        self.recycle_growth = recycle_growth
        self.kept_growth = kept_growth
        self._expect: tuple[int, ...] = ()
        self._child = _Child()
        self._owner = True  # a fold runner borrows its parent's child and never stops it

    # ------------------------------------------------------------------ API
    @property
    def restarts(self) -> int:
        return self._child.restarts

    @property
    def startup_s(self) -> float:
        return self._child.startup_s

    @property
    def peak_child_mb(self) -> float:
        return self._child.peak_mb

    @property
    def _proc(self) -> Any:
        return self._child.proc

    @property
    def n_blocks(self) -> int:
        if self._child.n_blocks is None:
            self._serve()
        assert self._child.n_blocks is not None
        return self._child.n_blocks

    @property
    def device(self) -> DeviceInfo:
        """The device the child trains on (:func:`~tuner.training.detect_device` there)."""
        if self._child.device is None:
            self._serve()
        assert self._child.device is not None
        return self._child.device

    def expect(self, freeze_blocks) -> None:
        """As ``TrialRunner.expect`` (and for every later child)."""
        self._expect = tuple(int(b) for b in freeze_blocks)
        if self._child.proc is not None:
            self._serve()

    def run(self, params: TrialParams,
            on_epoch: Callable[[int, float], None] | None = None) -> TrialOutcome:
        return self._call(("run", params), on_epoch)

    def fit_final(self, request: FinalRequest) -> FinalResult:
        return self._call(("final", request), None)

    def find_lr(self, **kw: Any) -> LRFinding:
        """As ``TrialRunner.find_lr``, in the worker (whose cache the trials then reuse)."""
        return self._call(("find_lr", kw), None)

    def for_fold(self, k: int, i: int, seed: int) -> "WorkerRunner":
        """A worker runner on :meth:`~tuner.data._prepare.PreparedData.cv_fold` ``(k, i, seed)``,
        on this runner's child (switched to the fold's data on its first call)."""
        r = WorkerRunner(self.data.fold(k, i, seed), self.runner,
                         recycle_growth=self.recycle_growth, kept_growth=self.kept_growth)
        r._child, r._owner = self._child, False
        return r

    def close(self) -> None:
        """Stop the child (a fold runner leaves it to its parent)."""
        if self._owner:
            self._stop()

    def __enter__(self) -> "WorkerRunner":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------- internals
    def _serve(self) -> None:
        """Make the child serve this runner: start one, or switch the running one to
        this runner's data and expected blocks."""
        c = self._child
        if c.proc is None:
            self._start()
        elif c.serving != (self.data, self._expect):
            self._send(("use", self.data, self._expect))
            msg = self._recv()
            if msg[0] == "error":
                raise unpack_error(msg[1])
            c.serving = (self.data, self._expect)

    def _start(self) -> None:
        t, c = time.perf_counter(), self._child
        ctx = mp.get_context("spawn")  # never fork a process that may hold TensorFlow
        parent, child = ctx.Pipe()
        c.proc = ctx.Process(target=child_main, name="tltune-trial-worker", daemon=True,
                             args=(child, self.data, self.runner, self._expect, c.known))
        with main_module_hidden():
            c.proc.start()
        child.close()
        c.conn, c.baseline, c.serving = parent, None, (self.data, self._expect)
        c.views = 0
        msg = self._recv()
        if msg[0] == "error":
            self._stop()
            raise unpack_error(msg[1])
        c.n_blocks = int(msg[1]["n_blocks"])
        c.known = msg[1]["known"]
        c.device = msg[1]["device"]
        c.startup_s += time.perf_counter() - t

    def _send(self, command: tuple) -> None:
        try:
            self._child.conn.send(command)
        except (OSError, ValueError) as e:  # the worker is gone
            raise self._died(type(e).__name__) from e

    def _stop(self) -> None:
        c = self._child
        proc, conn = c.proc, c.conn
        c.proc = c.conn = c.serving = None
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
        c = self._child
        proc, conn = c.proc, c.conn
        c.proc = c.conn = c.serving = None
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
        c = self._child
        while not c.conn.poll(_POLL_S):
            if not c.proc.is_alive():
                raise self._died("it exited")
        try:
            return c.conn.recv()
        except (EOFError, OSError) as e:
            raise self._died(type(e).__name__) from e

    def _call(self, command: tuple, on_epoch: Callable[[int, float], None] | None,
              trial: bool = True) -> Any:
        self._serve()
        c = self._child
        try:
            self._send(command)
            while True:
                msg = self._recv()
                if msg[0] == "epoch":
                    try:
                        if on_epoch is not None:
                            on_epoch(msg[1], msg[2])
                    except BaseException:
                        c.conn.send(("abort",))
                        reply = self._recv()
                        self._after(reply[-1])
                        raise
                    c.conn.send(("go",))
                    continue
                if trial:
                    self._after(msg[-1])
                if msg[0] == "error":
                    raise unpack_error(msg[1])
                return msg[1]
        except KeyboardInterrupt:
            if c.proc is not None:
                c.proc.kill()
            self._stop()
            raise

    def _after(self, usage: tuple[float, int]) -> None:
        """Replace the child once it has grown past its budget. A trial that compiled new
        kept views (:class:`~tuner.training._kept.KeptBackbone`) moves the baseline to what
        the child holds after it, up to ``kept_growth`` over its first trial: those views
        buy every later trial on them its traced steps, and past that budget their
        memory counts like any other growth."""
        rss_mb, views = usage
        c = self._child
        c.peak_mb = max(c.peak_mb, rss_mb)
        if c.baseline is None and self.recycle_growth > 0:
            c.first = c.baseline = rss_mb
        elif c.baseline is None:
            c.restarts += 1
            self._stop()
        else:
            if views > c.views:
                c.baseline = min(max(c.baseline, rss_mb), c.first * (1 + self.kept_growth))
            if rss_mb > c.baseline * (1 + self.recycle_growth):
                c.restarts += 1
                self._stop()
        c.views = views
