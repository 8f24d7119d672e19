"""The worker process side of :class:`~tuner.training.WorkerRunner`: its main loop,
and how errors and the caller's ``__main__`` cross the process boundary."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import sys
import traceback
from collections.abc import Iterator
from typing import Any

from advisor.backbones import require_tensorflow
from advisor.errors import InternalError, TLError
from tuner.data import DataSpec
from tuner.training._layout import BackboneLayout
from tuner.training._runner import TrialRunner
from tuner.training._spec import RunnerSpec

__all__ = ["child_main", "pack_error", "unpack_error", "rss_mb", "usage", "main_module_hidden"]


class Aborted(Exception):
    """The parent stopped the running trial (pruned or interrupted)."""


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def usage(runner: TrialRunner) -> tuple[float, int]:
    """What a reply tells the parent of this worker's memory: its resident MB and how many
    kept views its runner has compiled (their memory is bounded, not a leak)."""
    return rss_mb(), runner.kept_views


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (a killed sweep
    leaves no orphan training on); elsewhere the closed pipe ends the child."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def pack_error(e: BaseException) -> tuple:
    tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))[-4000:]
    if isinstance(e, TLError):
        return ("tl", type(e).__name__, e.what, e.expected, e.received, e.fix, tb)
    return ("other", type(e).__name__, str(e)[:1000], None, None, None, tb)


def unpack_error(packed: tuple) -> BaseException:
    import advisor.errors as errors

    kind, name, what, expected, received, fix, tb = packed
    cls = getattr(errors, name, None) if kind == "tl" else None
    if isinstance(cls, type) and issubclass(cls, TLError):
        return cls(what, expected=expected, received=received, fix=fix)
    return InternalError(f"A trial failed in the worker process: {name}: {what}",
                         expected="the trial to train", received=tb.strip().splitlines()[-1],
                         fix="see the traceback in the run's results.json notes, or run "
                             "with --no-isolate to debug in one process")


def child_main(conn: Any, data: DataSpec, runner_spec: RunnerSpec, expect: tuple[int, ...],
               known: BackboneLayout | None = None) -> None:
    """The worker process: build the runner, then serve the parent's commands."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    require_tensorflow()  # before any model: TensorFlow's start-up lines stay out of the logs
    # every trial builds new models, so tf.function's "retracing" warning is expected noise
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    served: list = [None, None]  # the data spec this child serves, and its runner

    def serve(spec: DataSpec, blocks: tuple[int, ...]) -> TrialRunner:
        if spec != served[0]:
            layout = known if served[1] is None else served[1].layout
            r = TrialRunner.from_spec(runner_spec, spec.prepare())
            if layout is not None:  # the first worker's backbone analysis: no model to build
                r._layout = layout
            served[:] = [spec, r]
        served[1].expect(blocks)
        return served[1]

    try:
        runner = serve(data, expect)
        conn.send(("ready", {"n_blocks": runner.n_blocks, "rss_mb": rss_mb(),
                             "known": runner.layout, "device": runner.device}))
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("error", pack_error(e), (0.0, 0)))
        return

    def on_epoch(epoch: int, acc: float) -> None:
        conn.send(("epoch", epoch, acc))
        if conn.recv()[0] != "go":
            raise Aborted()

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] == "stop":
            _exit_now(conn)
        _collect_frozen(msg[0])
        try:
            if msg[0] == "run":
                out: Any = runner.run(msg[1], on_epoch)
            elif msg[0] == "use":  # another fold of the same data, say
                runner, out = serve(msg[1], msg[2]), None
            elif msg[0] == "final":
                out = runner.fit_final(msg[1])
            elif msg[0] == "find_lr":
                out = runner.find_lr(**msg[1])
            else:
                raise InternalError(f"Unknown worker command {msg[0]!r}")
        except Aborted:
            conn.send(("aborted", usage(runner)))
        except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises it
            conn.send(("error", pack_error(e), usage(runner)))
        else:
            conn.send(("done", out, usage(runner)))


def _collect_frozen(command: str) -> None:
    """Keep the garbage collector off what outlives the search trials.

    A runner's kept backbone and compiled views (``tuner/training/_kept.py``) are many
    Python objects that live as long as the runner, and every full collection walks
    them all: each trial's ``gc.collect`` and the automatic ones while a new view
    traces. A search trial leaves only them (and the data) alive, so before the next
    one what is alive after a collection moves to the permanent generation
    (``gc.freeze``; that collection walks only what came since the last). Any other
    command may drop a runner or build other networks: it first gives the frozen
    objects back to the collector, so that none become garbage it cannot see. This is
    the worker's own process; a library caller's interpreter is never frozen."""
    if command == "run":
        gc.collect()
        gc.freeze()
    else:
        gc.unfreeze()


def _exit_now(conn: Any) -> None:
    """End the worker without Python's and TensorFlow's teardown, which took 1.5 to 1.9 s
    of every worker replacement (224 px, 2 cores) and has nothing to save: results go
    back through the pipe and the activation cache is written before each reply."""
    sys.stdout.flush()
    sys.stderr.flush()
    conn.close()
    os._exit(0)


@contextlib.contextmanager
def main_module_hidden() -> Iterator[None]:
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
