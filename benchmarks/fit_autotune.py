"""Fit pipelines with tf.data autotuning off (tltune's) and on (tf.data's default), paired.

Runs the same fine-tuning trials (cached boundary activations, partial freezes at once
and gradual) in one process, alternating the two arms (ABBA per round, so that drift
on a noisy machine falls on both): tltune's pipelines
(:func:`tuner.training._stream.prefetched`, autotuning off) and the same pipelines with
autotuning on. Prints each arm's summed trial seconds, the ratio on / off (target >= 1:
off is no slower) and the end of each fit (from its last epoch to ``model.fit``'s
return, where the iterator is deleted). Exits 1 when the target is missed, 2 on bad input.

    python benchmarks/fit_autotune.py               # hymenoptera, 224 px, 2 rounds
    python benchmarks/fit_autotune.py --quick       # smoke run: 96 px, 60 images, 1 round
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TARGET = 1.0
CONFIGS = [(12, "at_once"), (16, "at_once"), (12, "gradual")]  # (freeze block, schedule)


def parse(argv: list[str] | None) -> argparse.Namespace:
    shared = Path(os.environ.get("TL_SHARED", REPO.parent / "shared"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=shared / "data" / "hymenoptera")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--max-images", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="smoke run: 96 px, 60 images, 1 round")
    a = ap.parse_args(argv)
    if a.quick:
        a.size, a.max_images, a.rounds = 96, a.max_images or 60, 1
    return a


def autotuned(tf, ds):
    """The tf.data default: prefetched with autotuning on."""
    return ds.prefetch(tf.data.AUTOTUNE)


class FitTails:
    """Wraps the recipe's ``fit_phase``: records the seconds from each fit's last epoch
    to its return."""

    def __init__(self, fit_phase) -> None:
        self.fit_phase, self.tails = fit_phase, []

    def __call__(self, *args, **kw):
        last = [time.perf_counter()]
        inner = kw.get("on_epoch")

        def on_epoch(epoch: int, acc: float) -> None:
            if inner is not None:
                inner(epoch, acc)
            last[0] = time.perf_counter()

        kw["on_epoch"] = on_epoch
        out = self.fit_phase(*args, **kw)
        self.tails.append(time.perf_counter() - last[0])
        return out


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    if not a.data.is_dir():
        print(f"fit_autotune: dataset folder {a.data} not found; set TL_SHARED or pass --data",
              file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import logging

    import tuner.training._fit as fit
    import tuner.training._recipe as recipe
    from tuner.data import prepare_data
    from tuner.training import TrialRunner
    from tuner.trial import TrialParams

    # every trial builds new models: tf.function's retracing warning is expected noise
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    data = prepare_data(a.data, input_size=a.size, seed=0, max_images=a.max_images)
    runner = TrialRunner(data, backbone="mobilenet_v2", seed=0,
                         cache_dir=Path(tempfile.mkdtemp(prefix="fit_autotune-")))
    tails = FitTails(recipe.fit_phase)
    recipe.fit_phase = tails
    arms = {"off": fit.prefetched, "on": autotuned}

    def trial(block: int, schedule: str) -> float:
        p = TrialParams(freeze_block=block, head_lr=1e-3, backbone_lr=1e-4, dropout=0.1,
                        augmentation="off", batch_size=16, epochs=6, patience=10,
                        schedule=schedule)
        t = time.perf_counter()
        runner.run(p)
        return time.perf_counter() - t

    for block, schedule in CONFIGS:  # fill the activation cache, untimed
        trial(block, schedule)
    seconds: dict[str, list[float]] = {"off": [], "on": []}
    ends: dict[str, list[float]] = {"off": [], "on": []}
    for r in range(a.rounds):
        for arm in (("off", "on", "on", "off") if r % 2 == 0 else ("on", "off", "off", "on")):
            fit.prefetched = arms[arm]
            n = len(tails.tails)
            seconds[arm].append(sum(trial(b, s) for b, s in CONFIGS))
            ends[arm].extend(tails.tails[n:])
    fit.prefetched = arms["off"]
    for arm in ("off", "on"):
        print(f"autotuning {arm:3}: {len(seconds[arm])} passes of {len(CONFIGS)} trials, "
              f"{sum(seconds[arm]):.1f} s ({', '.join(f'{s:.1f}' for s in seconds[arm])}); "
              f"{len(ends[arm])} fits, end of fit at most {max(ends[arm]):.2f} s, "
              f"{sum(e > 1.0 for e in ends[arm])} over 1 s")
    ratio = sum(seconds["on"]) / sum(seconds["off"])
    ok = ratio >= TARGET
    print(f"fit_autotune: on / off {ratio:.3f} (target >= {TARGET:g}) {'PASS' if ok else 'FAIL'}"
          f"{' [quick]' if a.quick else ''}; {data.input_size} px, {len(data.y_train)} train / "
          f"{len(data.y_val)} val images")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
