"""Trials in a worker process, so that a sweep's memory stays flat.

TensorFlow and Keras keep memory after ``keras.backend.clear_session()`` (function
and graph caches, allocator fragmentation): measured in one process, about 25 MB
more per partial-freeze trial and 180 MB per full fine-tune trial. The
:class:`WorkerRunner` has the :class:`~tuner._runner.TrialRunner` interface the
sweep uses (``n_blocks``, ``expect``, ``run``, ``fit_final``) and runs the trials
in a spawned child process. The child rebuilds the data from the decoded-array
cache and shares the on-disk activation cache, so a new child costs its
TensorFlow import and little else. The child is replaced, between trials, once
its resident memory has grown by more than ``recycle_growth`` over what it held
after its first trial (``recycle_growth=0``: a fresh child for every trial).

The parent keeps the decisions: per-epoch results go to the parent's
``on_epoch`` (the pruner), whose exception stops the trial in the child.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from advisor.errors import InternalError, TLError
from tuner._results import REFIT_FROM_SEARCH
from tuner._types import TrialOutcome, TrialParams

__all__ = ["WorkerRunner", "WorkerDied", "RECYCLE_GROWTH"]

RECYCLE_GROWTH = 0.05  # replace the child once it holds 5 % more than after its first trial
_POLL_S = 1.0


class WorkerDied(InternalError):
    """The worker process ended in the middle of a trial (e.g. killed for memory)."""


class _Aborted(Exception):
    """The parent stopped the running trial (pruned or interrupted)."""


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (a killed sweep
    leaves no orphan training on); elsewhere the closed pipe ends the child."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _pack_error(e: BaseException) -> tuple:
    tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))[-4000:]
    if isinstance(e, TLError):
        return ("tl", type(e).__name__, e.what, e.expected, e.received, e.fix, tb)
    return ("other", type(e).__name__, str(e)[:1000], None, None, None, tb)


def _unpack_error(packed: tuple) -> BaseException:
    import advisor.errors as errors

    kind, name, what, expected, received, fix, tb = packed
    cls = getattr(errors, name, None) if kind == "tl" else None
    if isinstance(cls, type) and issubclass(cls, TLError):
        return cls(what, expected=expected, received=received, fix=fix)
    return InternalError(f"A trial failed in the worker process: {name}: {what}",
                         expected="the trial to train", received=tb.strip().splitlines()[-1],
                         fix="see the traceback in the run's results.json notes, or run "
                             "with --no-isolate to debug in one process")


def _child_main(conn: Any, data_args: dict, runner_args: dict, expect: tuple[int, ...],
                known: tuple | None = None) -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # every trial builds new models, so tf.function's "retracing" warning is expected noise
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        from tuner._data import prepare_data
        from tuner._runner import TrialRunner

        args = dict(data_args)
        fold = args.pop("cv_fold", None)
        data = prepare_data(**args)
        if fold is not None:
            data = data.cv_fold(*fold)
        runner = TrialRunner(data, **runner_args)
        if known is not None:  # the first worker's backbone analysis: no model to build
            runner._boundaries, runner._shapes = list(known[0]), dict(known[1])
        n_blocks = runner.n_blocks
        runner.expect(expect)
        conn.send(("ready", {"n_blocks": n_blocks, "rss_mb": _rss_mb(),
                             "known": (runner._boundaries, runner._shapes)}))
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("error", _pack_error(e), 0.0))
        return

    def on_epoch(epoch: int, acc: float) -> None:
        conn.send(("epoch", epoch, acc))
        if conn.recv()[0] != "go":
            raise _Aborted()

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] == "stop":
            return
        try:
            if msg[0] == "run":
                out: Any = runner.run(msg[1], on_epoch)
            elif msg[0] == "expect":
                out = runner.expect(msg[1])
            elif msg[0] == "final":
                out = runner.fit_final(msg[1], Path(msg[2]), export=tuple(msg[3]),
                                       refit_epochs=msg[4], search_val=msg[5], refit_from=msg[6])
            else:
                raise InternalError(f"Unknown worker command {msg[0]!r}")
        except _Aborted:
            conn.send(("aborted", _rss_mb()))
        except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises it
            conn.send(("error", _pack_error(e), _rss_mb()))
        else:
            conn.send(("done", out, _rss_mb()))


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start a spawned child without re-running the caller's script in it.

    ``spawn`` re-imports the parent's ``__main__`` in the child (to resolve pickled
    functions defined there). A script that calls ``tuner.tune(...)`` at top level,
    without an ``if __name__ == "__main__":`` guard, would then run its sweep again in
    the worker. The worker needs nothing from ``__main__`` (its target and arguments
    live in this package), so the module is made to look like an interactive session
    while the child starts, as multiprocessing does for ``python -c``.
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


class WorkerRunner:
    """A :class:`~tuner._runner.TrialRunner` in a child process.

    ``data_args``: keyword arguments of :func:`~tuner._data.prepare_data` (with a
    ``cache_dir``, so the child loads the decoded arrays instead of decoding), and
    optionally ``cv_fold=(k, i, seed)`` (:meth:`~tuner._data.PreparedData.cv_fold`);
    ``runner_args``: keyword arguments of ``TrialRunner`` after the data.
    ``restarts`` counts replaced children; ``startup_s`` the seconds spent starting them.
    """

    def __init__(self, data_args: dict, runner_args: dict, *,
                 recycle_growth: float = RECYCLE_GROWTH) -> None:
        self.data_args = data_args
        self.runner_args = runner_args
        self.recycle_growth = recycle_growth
        self.restarts = 0
        self.startup_s = 0.0
        self.peak_child_mb = 0.0
        self._expect: tuple[int, ...] = ()
        self._n_blocks: int | None = None
        self._proc: Any = None
        self._conn: Any = None
        self._baseline: float | None = None
        self._known: tuple | None = None  # boundaries and shapes from the first worker

    # ------------------------------------------------------------------ API
    @property
    def n_blocks(self) -> int:
        if self._n_blocks is None:
            self._start()
        assert self._n_blocks is not None
        return self._n_blocks

    def expect(self, freeze_blocks) -> None:
        """As ``TrialRunner.expect`` (and for every later child)."""
        self._expect = tuple(int(b) for b in freeze_blocks)
        if self._proc is not None:
            self._call(("expect", self._expect), None, trial=False)

    def run(self, params: TrialParams,
            on_epoch: Callable[[int, float], None] | None = None) -> TrialOutcome:
        return self._call(("run", params), on_epoch)

    def fit_final(self, params: TrialParams, out_dir: Path, *,
                  export: tuple[str, ...] = ("keras",),
                  refit_epochs: dict[str, int] | None = None, search_val: float | None = None,
                  refit_from: str = REFIT_FROM_SEARCH):
        return self._call(("final", params, str(out_dir), list(export), refit_epochs,
                           search_val, refit_from), None)

    def for_fold(self, k: int, i: int, seed: int) -> "WorkerRunner":
        """A worker runner on :meth:`~tuner._data.PreparedData.cv_fold` ``(k, i, seed)``
        (its own child process, started on first use)."""
        r = WorkerRunner(dict(self.data_args, cv_fold=(k, i, seed)), self.runner_args,
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
        self._proc = ctx.Process(target=_child_main, name="tltune-trial-worker", daemon=True,
                                 args=(child, self.data_args, self.runner_args, self._expect,
                                       self._known))
        with _main_module_hidden():
            self._proc.start()
        child.close()
        self._conn = parent
        self._baseline = None
        msg = self._recv()
        if msg[0] == "error":
            self._stop()
            raise _unpack_error(msg[1])
        self._n_blocks = int(msg[1]["n_blocks"])
        self._known = msg[1]["known"]
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
                    raise _unpack_error(msg[1])
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
