"""Trial cost by kind (activation cache computed vs. reused) and memory over many trials.

Runs :class:`tuner.training._runner.TrialRunner` on one dataset: feature-extractor and
partial-freeze trials with the cache computed (first) and reused (later), one full
fine-tune and one from-scratch trial, then ``--repeat`` cached trials while sampling
the process's resident memory. Prints one JSON line per trial and a summary.

    python benchmarks/runner_trials.py                       # hymenoptera, 160 px
    python benchmarks/runner_trials.py --size 96 --max-images 60 --repeat 5   # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def parse(argv: list[str] | None) -> argparse.Namespace:
    shared = Path(os.environ.get("TL_SHARED", REPO.parent / "shared"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=shared / "data" / "hymenoptera")
    ap.add_argument("--size", type=int, default=160)
    ap.add_argument("--max-images", type=int, default=None)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=30, help="cached trials for the memory check")
    ap.add_argument("--skip-full", action="store_true", help="no full fine-tune / scratch trial")
    ap.add_argument("--seed", type=int, default=0)
    return ap.parse_args(argv)


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tuner.data import prepare_data
    from tuner.training import TrialRunner
    from tuner.trial import TrialParams

    t = time.perf_counter()
    data = prepare_data(a.data, input_size=a.size, seed=a.seed, max_images=a.max_images)
    print(json.dumps({"prepare_s": round(time.perf_counter() - t, 1), **data.to_dict()["counts"]}))
    cache = Path(tempfile.mkdtemp(prefix="runner_trials_"))
    runner = TrialRunner(data, seed=a.seed, cache_dir=cache)
    n = runner.n_blocks
    partial = max(1, round(n * 0.8))

    def trial(label: str, fb: int, aug: str, epochs: int = a.epochs, lr: float = 1e-3) -> dict:
        p = TrialParams(freeze_block=fb, head_lr=1e-3 if fb >= 0 else lr, backbone_lr=lr,
                        augmentation=aug, epochs=epochs, patience=epochs)
        c0, t0 = time.process_time(), time.perf_counter()
        out = runner.run(p)
        row = {"trial": label, "freeze_block": fb, "augmentation": aug, "epochs": out.epochs_run,
               "val_accuracy": round(out.val_accuracy, 4),
               "wall_s": round(time.perf_counter() - t0, 2),
               "cpu_s": round(time.process_time() - c0, 2), "rss_mb": round(rss_mb()),
               "cache": next((x for x in out.notes if x.startswith("activation cache")), "")}
        print(json.dumps(row), flush=True)
        return row

    rows = [trial("feature extractor, cache computed", n, "off"),
            trial("feature extractor, cache reused", n, "off"),
            trial("feature extractor light aug, cache computed", n, "light"),
            trial("feature extractor light aug, cache reused", n, "light"),
            trial(f"partial freeze {partial}/{n}, cache computed", partial, "light", lr=1e-4),
            trial(f"partial freeze {partial}/{n}, cache reused", partial, "light", lr=1e-4)]
    if not a.skip_full:
        rows.append(trial("full fine-tune (images, 2 epochs)", 0, "light", epochs=2, lr=1e-4))
        rows.append(trial("from scratch (images, 2 epochs)", -1, "light", epochs=2, lr=1e-3))
    mem = []
    for i in range(a.repeat):
        fb = n if i % 2 == 0 else partial
        mem.append(trial(f"repeat {i}", fb, "light", lr=1e-4)["rss_mb"])
    summary = {"rss_mb_first_repeat": mem[0] if mem else None,
               "rss_mb_last_repeat": mem[-1] if mem else None,
               "rss_mb_max_repeat": max(mem) if mem else None,
               "cache_entries_computed": runner.cache.computed,
               "cache_mb_on_disk": round(sum(f.stat().st_size for f in cache.rglob("*.npy")) / 2**20, 1)}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
