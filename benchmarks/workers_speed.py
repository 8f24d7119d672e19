"""Wall time of the same sweep with 1 and with 2 local worker processes (``--workers``).

Runs ``tltune DATASET --trials N --workers K`` for K = 1, then K = 2, each in a fresh
process and run directory (cold caches: each run decodes its images and computes its
activation caches, as a user's run does), same seed and options. Prints per run the
command's wall time, the search stage's seconds (``timings.search_s``), the threads per
worker and the finished trials, then one line with the ratio of wall times
(1 worker / 2 workers) measured in this run.

    python benchmarks/workers_speed.py                         # hymenoptera, 12 trials, 128 px
    python benchmarks/workers_speed.py --quick                 # smoke run: 4 trials, 64 px
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def default_data() -> Path:
    return Path(os.environ.get("TL_SHARED", REPO.parent / "shared")) / "data" / "hymenoptera"


def tltune() -> list[str]:
    script = Path(sys.executable).parent / "tltune"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "tlcli.tune"]


def run(data: Path, out: Path, workers: int, args: argparse.Namespace) -> dict:
    argv = tltune() + [str(data), "--trials", str(args.trials), "--workers", str(workers),
                       "--scenario", args.scenario, "--image-size", str(args.image_size),
                       "--epochs", str(args.epochs), "--seed", "0", "--out", str(out)]
    if args.max_images:
        argv += ["--max-images", str(args.max_images)]
    if args.weights:
        argv += ["--weights", args.weights]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    t = time.perf_counter()
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"tltune --workers {workers} failed ({p.returncode}):\n"
                 + (p.stdout + p.stderr)[-3000:])
    d = json.loads((out / "results.json").read_text())
    return {"workers": workers, "wall_s": wall, "search_s": d["timings"].get("search_s"),
            "threads": d["timings"].get("worker_threads"), "finished": d["n_finished"],
            "states": d["state_counts"], "best": d["best"]["val_accuracy"],
            "test": d["final"]["test_accuracy"], "per_worker": d["workers"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--trials", type=int, default=12)
    ap.add_argument("--scenario", default="partial_freeze")
    ap.add_argument("--image-size", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--max-images", type=int, default=None)
    ap.add_argument("--weights", default=None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.trials, args.image_size, args.epochs = 4, 64, 1
        args.max_images = args.max_images or 60
    data = args.data or default_data()
    if not data.is_dir():
        print(f"no dataset at {data}: pass --data DIR", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in (1, 2):
            r = run(data, Path(tmp) / f"w{k}", k, args)
            rows.append(r)
            print(json.dumps(r))
    print(f"{data.name}: {args.trials} trials, {args.scenario}, {args.image_size} px, "
          f"{os.cpu_count()} cores: 1 worker {rows[0]['wall_s']:.0f} s (search "
          f"{rows[0]['search_s']:.0f} s), 2 workers {rows[1]['wall_s']:.0f} s (search "
          f"{rows[1]['search_s']:.0f} s, {rows[1]['threads']} thread(s) each); wall ratio "
          f"{rows[0]['wall_s'] / rows[1]['wall_s']:.2f}, search ratio "
          f"{rows[0]['search_s'] / rows[1]['search_s']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
