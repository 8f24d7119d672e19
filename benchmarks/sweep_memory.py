"""Sweep memory: peak RSS must not grow with the number of trials.

Runs one ``tuner.tune`` sweep of 30 trials (partial-freeze search: the trials build and
fine-tune networks, where leaked models would accumulate) and records the process's peak
RSS after trial 3 and after the last trial. Prints one summary line with their ratio
(target <= 1.1); exits 1 when the target is missed, 2 on bad input.

Peak RSS is the kernel's high-water mark (``resource.getrusage(...).ru_maxrss``);
psutil's current RSS is printed alongside.

    python benchmarks/sweep_memory.py                # full: 30 trials, hymenoptera, 128 px
    python benchmarks/sweep_memory.py --quick        # smoke run: 5 trials, 64 px, 30 images
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TARGET = 1.1
EARLY = 3


def default_data() -> Path:
    return Path(os.environ.get("TL_SHARED", REPO.parent / "shared")) / "data" / "hymenoptera"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


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
    import psutil

    from tuner import tune

    proc = psutil.Process()
    marks: dict[int, tuple[float, float]] = {}
    verdict: list[bool] = []

    def progress(ev) -> None:
        if ev.kind != "trial_end":
            return
        marks[ev.n_finished] = (peak_rss_mib(), proc.memory_info().rss / 2**20)
        print(f"trial {ev.n_finished}/{ev.n_requested}: peak RSS {marks[ev.n_finished][0]:.0f}"
              f" MiB, RSS {marks[ev.n_finished][1]:.0f} MiB", flush=True)
        if ev.n_finished == a.trials:  # summarise before the final fit
            early, last = marks[EARLY][0], marks[a.trials][0]
            ratio = last / early
            verdict.append(ratio <= TARGET)
            print(f"sweep_memory: peak RSS after trial {EARLY} {early:.0f} MiB, after trial "
                  f"{a.trials} {last:.0f} MiB, ratio {ratio:.3f} (target <= {TARGET}) "
                  f"{'PASS' if verdict[0] else 'FAIL'}{' [quick]' if a.quick else ''}",
                  flush=True)

    out = Path(tempfile.mkdtemp(prefix="sweep_memory-"))
    try:
        tune(a.data, trials=a.trials, scenario=a.scenario, weights=a.weights,
             input_size=a.size, epochs=a.epochs, max_images=a.max_images, seed=a.seed,
             out=out / "run", progress=progress)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return 0 if verdict and verdict[0] else 1


if __name__ == "__main__":
    sys.exit(main())
