"""Sweep memory: peak memory must not grow with the number of trials.

Runs one ``tuner.tune`` sweep of 30 trials (partial-freeze search: the trials build and
fine-tune networks, where leaked models would accumulate) and records the peak memory
after trial 3 and after the last trial. Prints one summary line with their ratio
(target <= 1.1); exits 1 when the target is missed, 2 on bad input.

Memory is the resident set of the whole process tree (this process plus tltune's trial
worker, see ``tuner/training/_worker.py``), sampled every 50 ms by a thread; the peak is the
largest sum seen so far. ``--no-isolate`` trains in this process instead, which shows
the growth the worker exists to contain.

    python benchmarks/sweep_memory.py                # full: 30 trials, hymenoptera, 128 px
    python benchmarks/sweep_memory.py --no-isolate   # the same sweep in one process
    python benchmarks/sweep_memory.py --quick        # smoke run: 5 trials, 64 px, 30 images
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TARGET = 1.1
EARLY = 3


def default_data() -> Path:
    return Path(os.environ.get("TL_SHARED", REPO.parent / "shared")) / "data" / "hymenoptera"


class TreeMemory:
    """Peak resident memory of this process and its descendants, sampled by a thread."""

    def __init__(self, interval_s: float = 0.05) -> None:
        import psutil

        self.proc = psutil.Process()
        self.interval_s = interval_s
        self.peak_mib = 0.0
        self.window_mib = 0.0  # the peak since the last take_window()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def now_mib(self) -> float:
        import psutil

        total = 0
        for p in [self.proc] + self.proc.children(recursive=True):
            try:
                total += p.memory_info().rss
            except psutil.Error:  # a worker that just exited
                pass
        return total / 2**20

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            now = self.now_mib()
            self.peak_mib = max(self.peak_mib, now)
            self.window_mib = max(self.window_mib, now)

    def take_window(self) -> float:
        """The peak since the previous call (one trial's peak), and start a new window."""
        peak, self.window_mib = max(self.window_mib, self.now_mib()), 0.0
        return peak

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=default_data())
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--max-images", type=int, default=160)
    ap.add_argument("--scenario", default="partial_freeze")
    ap.add_argument("--weights", default="imagenet")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-isolate", dest="isolate", action="store_false",
                    help="train in this process (no worker): shows the growth")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 5 trials, 1 epoch, 64 px, 30 images, random weights")
    a = ap.parse_args(argv)
    if a.quick:
        a.trials, a.epochs, a.size, a.max_images, a.weights = 5, 1, 64, 30, "none"
    if a.trials <= EARLY:
        ap.error(f"--trials must be more than {EARLY}")
    return a


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    if not a.data.is_dir():
        print(f"sweep_memory: dataset {a.data} not found (pass --data or set TL_SHARED)",
              file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tuner import tune

    marks: dict[int, tuple[float, float]] = {}
    verdict: list[bool] = []
    by_kind: dict[tuple, float] = {}  # (freeze block, batch, schedule) -> its first trial's peak
    repeats: list[tuple[int, tuple, float]] = []  # (trial, configuration, peak / its first's)
    mem = TreeMemory()

    def progress(ev) -> None:
        if ev.kind != "trial_end":
            return
        marks[ev.n_finished] = (max(mem.peak_mib, mem.now_mib()), mem.now_mib())
        p = ev.record.params
        kind = (p["freeze_block"], p["batch_size"], p.get("schedule", "at_once"))
        trial_peak = mem.take_window()
        if kind in by_kind:
            repeats.append((ev.n_finished, kind, trial_peak / by_kind[kind]))
        first = by_kind.setdefault(kind, trial_peak)  # the first trial of this configuration
        print(f"trial {ev.n_finished}/{ev.n_requested} (freeze block {kind[0]}, batch {kind[1]}, "
              f"{kind[2]}, {ev.record.state}): peak {marks[ev.n_finished][0]:.0f} MiB, "
              f"this trial {trial_peak:.0f} MiB ({trial_peak / first:.3f} x the first trial of "
              f"its configuration), now {marks[ev.n_finished][1]:.0f} MiB", flush=True)
        if ev.n_finished == a.trials:  # summarise before the final fit
            early, last = marks[EARLY][0], marks[a.trials][0]
            ratio = last / early
            verdict.append(ratio <= TARGET)
            print(f"sweep_memory: peak memory (process tree) after trial {EARLY} {early:.0f} MiB, "
                  f"after trial {a.trials} {last:.0f} MiB, ratio {ratio:.3f} (target <= "
                  f"{TARGET}) {'PASS' if verdict[0] else 'FAIL'}; "
                  f"{'worker process' if a.isolate else 'in process'}"
                  f"{' [quick]' if a.quick else ''}", flush=True)
            if repeats:
                worst = max(repeats, key=lambda r: r[2])
                print(f"sweep_memory: {len(repeats)} trials repeated an earlier configuration; "
                      f"their peak against that configuration's first trial: at most "
                      f"{worst[2]:.3f} x (trial {worst[0]}, {worst[1]})", flush=True)

    out = Path(tempfile.mkdtemp(prefix="sweep_memory-"))
    try:
        with mem:
            result = tune(a.data, trials=a.trials, scenario=a.scenario, weights=a.weights,
                          input_size=a.size, epochs=a.epochs, max_images=a.max_images,
                          seed=a.seed, out=out / "run", isolate=a.isolate, progress=progress,
                          stall=0)  # every trial: the ratio is read after the last one
        if a.isolate:
            print(f"worker: {result.timings.get('worker_restarts')} restarts, "
                  f"{result.timings.get('worker_startup_s')} s starting workers", flush=True)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return 0 if verdict and verdict[0] else 1


if __name__ == "__main__":
    sys.exit(main())
