"""Memory and throughput against dataset size: ``tladvise`` and a 3-trial ``tltune`` on
generated JPEG datasets of two sizes (default about 5 000 and 50 000 images).

Each command runs in its own process; the peak resident memory of its whole process tree
(the command and its worker processes) is sampled every 0.2 s with psutil. Prints one
JSON line per run (images, wall time, peak MiB, images per second) and a summary with
the peak-memory ratio of the larger dataset to the smaller (target <= 1.5 for 10x the
data) and the throughput ratio (target: within 20 %). Exit 1 when a target is missed.

Throughput is per-image work: ``images / (wall - fixed)``, where ``fixed`` is the wall
time of the same command on a tiny dataset (``--base`` images, default 100) measured
in the same run: the start-up (TensorFlow import, model builds, trial set-up) that does
not grow with the data and would otherwise make the larger run look faster. The raw
``images / wall`` is printed beside it.

    python benchmarks/scale_memory.py                        # 5 000 and 50 000 images, 64 px
    python benchmarks/scale_memory.py --sizes 500 5000       # a quicker pair
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

import numpy as np
import psutil

REPO = Path(__file__).resolve().parents[1]
MEMORY_TARGET = 1.5
THROUGHPUT_TARGET = 0.2
CLASSES = ("red", "green", "blue", "grey")


def make_dataset(root: Path, n: int, side: int, seed: int = 0) -> Path:
    """``n`` JPEGs in ``len(CLASSES)`` class folders: noisy images tinted by class."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    tint = {"red": (180, 40, 40), "green": (40, 160, 60), "blue": (40, 60, 180),
            "grey": (120, 120, 120)}
    for c in CLASSES:
        (root / c).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        c = CLASSES[i % len(CLASSES)]
        px = np.clip(rng.normal(tint[c], 40, size=(side, side, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(px).save(root / c / f"{i:06d}.jpg", quality=85)
    return root


def measured(argv: list[str], env: dict) -> dict:
    """Run ``argv``; its wall time and the peak RSS of its process tree."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    top = psutil.Process(proc.pid)
    peak = 0.0
    while proc.poll() is None:
        try:
            tree = [top, *top.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()) / 2**20)
        except psutil.Error:
            pass
        time.sleep(0.2)
    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv[:3])} ... failed ({proc.returncode}):\n{out[-3000:]}")
    return {"wall_s": round(time.perf_counter() - t, 1), "peak_mib": round(peak, 1)}


def bin_of(name: str) -> str:
    script = Path(sys.executable).parent / name
    return str(script) if script.is_file() else name


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs=2, default=(5000, 50000))
    ap.add_argument("--side", type=int, default=72, help="generated JPEG side in pixels")
    ap.add_argument("--image-size", type=int, default=64, help="model input side")
    ap.add_argument("--weights", default="none")
    ap.add_argument("--base", type=int, default=100,
                    help="images of the tiny dataset that measures the fixed start-up time")
    ap.add_argument("--keep", type=Path, default=None, help="keep datasets and runs here")
    args = ap.parse_args(argv)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        for n in (args.base, *args.sizes):
            ds = make_dataset(base / f"ds{n}", n, args.side)
            adv = measured([bin_of("tladvise"), str(ds), "--image-size", str(args.image_size),
                            "--weights", args.weights, "--cache-dir", str(base / f"c{n}"),
                            "--json", str(base / f"advice{n}.json")], env)
            tune = measured([bin_of("tltune"), str(ds), "--trials", "3", "--scenario",
                             "feature_extractor", "--weights", args.weights, "--image-size",
                             str(args.image_size), "--epochs", "2",
                             "--out", str(base / f"run{n}")], env)
            for cmd, m in (("tladvise", adv), ("tltune", tune)):
                row = {"images": n, "command": cmd, **m,
                       "images_per_s_raw": round(n / m["wall_s"], 1)}
                fixed = next((r["wall_s"] for r in rows
                              if r["command"] == cmd and r["images"] == args.base), None)
                if n != args.base and fixed is not None:
                    row["fixed_s"] = fixed
                    row["images_per_s"] = round(n / max(m["wall_s"] - fixed, 1e-3), 1)
                rows.append(row)
                print(json.dumps(row), flush=True)
    ok = True
    small, large = args.sizes
    for cmd in ("tladvise", "tltune"):
        a = next(r for r in rows if r["command"] == cmd and r["images"] == small)
        b = next(r for r in rows if r["command"] == cmd and r["images"] == large)
        mem = b["peak_mib"] / a["peak_mib"]
        speed = b["images_per_s"] / a["images_per_s"]
        good = mem <= MEMORY_TARGET and abs(speed - 1) <= THROUGHPUT_TARGET
        ok &= good
        print(f"{cmd}: peak {a['peak_mib']:.0f} -> {b['peak_mib']:.0f} MiB for {large / small:.0f}x "
              f"the images (ratio {mem:.2f}, target <= {MEMORY_TARGET}); "
              f"{a['images_per_s']:.0f} -> {b['images_per_s']:.0f} images/s after the fixed "
              f"{a['fixed_s']:.0f} s (ratio {speed:.2f}, target within {THROUGHPUT_TARGET:.0%}; "
              f"raw {a['images_per_s_raw']:.0f} -> {b['images_per_s_raw']:.0f}): "
              f"{'PASS' if good else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
