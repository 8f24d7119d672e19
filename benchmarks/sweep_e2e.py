"""End to end: the default tltune sweep against the same configurations trained naively.

1. ``tuner.tune`` on hymenoptera at 224 px with the default space (partial freezes,
   gradual unfreezing, layer decay and the optimizers included), every trial run
   (``stall=0``): the search's wall time (``timings.search_s``: the activation-cache
   passes and every trial).
2. The same configurations, each as a plain Keras model over the images: the backbone
   runs forward on every image of every epoch (head phase included) and fine-tuning
   trains the whole network on the images, with the same recipe otherwise (the same
   data and augmentation, optimizer, layer rates, gradual stages, early stopping), and
   each trial capped at the epochs it ran in the sweep (a pruned trial stops where the
   pruner stopped it).

Prints the wall-time ratio naive / tltune (target >= 8) and both best validation
accuracies (target: within 1 point); exits 1 when a target is missed, 2 on bad input.

    python benchmarks/sweep_e2e.py                 # 30 trials, hymenoptera, 224 px
    python benchmarks/sweep_e2e.py --quick         # smoke run: 3 trials, 96 px, 60 images
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SPEED_TARGET = 8.0
ACC_TARGET = 0.01  # 1 point


def parse(argv: list[str] | None) -> argparse.Namespace:
    shared = Path(os.environ.get("TL_SHARED", REPO.parent / "shared"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=shared / "data" / "hymenoptera")
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--max-images", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="run directory (default: a temp dir)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 3 trials, 96 px, 60 images")
    a = ap.parse_args(argv)
    if a.quick:
        a.trials, a.size, a.max_images = 3, 96, a.max_images or 60
    return a


def naive_trial(runner, params, max_epochs: int) -> tuple[float, float]:
    """Train ``params`` as a plain Keras model over the images; (best val accuracy, s)."""
    import keras

    from tuner.training._fit import ImageFeed, fit_phase
    from tuner.training._optim import OptimizerSpec, layer_rate_scales
    from tuner.trial import gradual_stages, phase_epochs, stage_epochs

    t = time.perf_counter()
    d = runner.data
    aug = runner._validate(params)
    net = runner._build(params, final=True)  # the whole network, even for a feature extractor
    y = np.eye(d.n_classes, dtype=np.float32)[d.y_train]
    w = runner.class_weights()[d.y_train]
    history: list = []
    common = dict(patience=params.patience, batch_size=params.batch_size,
                  label_smoothing=params.label_smoothing, seed=runner.seed, history=history,
                  on_epoch=None)
    plan = params.freeze_plan(runner.n_blocks)
    n_head, n_ft = phase_epochs(params, plan.all_frozen)
    n_head = min(n_head, max_epochs)
    n_ft = min(n_ft, max_epochs - n_head)
    feed = ImageFeed(d.x_train, y, w, aug)
    net.backbone.trainable = False  # head phase: the backbone runs forward every epoch
    best = fit_phase(net.model, feed, d.x_val, d.y_val, phase="head", lr=params.head_lr,
                     epochs=n_head, start_epoch=0, best=None, **common)
    if not plan.all_frozen and n_ft > 0:
        stages = (gradual_stages(plan.block, runner.n_blocks)
                  if params.schedule == "gradual" else (plan.block,))
        epochs = stage_epochs(n_ft, len(stages))
        opt = OptimizerSpec(params.optimizer, params.weight_decay,
                            layer_rate_scales(net.backbone, runner.boundaries(), params.layer_decay))
        for block, n in zip(stages[-len(epochs):], epochs):
            net.freeze_through(runner.boundaries()[block].index)
            best = fit_phase(net.model, feed, d.x_val, d.y_val, phase="finetune",
                             lr=params.finetune_lr, epochs=n, start_epoch=len(history),
                             best=best, optimizer=opt, **common)
    keras.backend.clear_session()
    return best.accuracy, time.perf_counter() - t


def kind(row: dict, n_blocks: int) -> str:
    """A trial's kind: ``head only`` (the whole backbone frozen), ``whole network`` (full
    fine-tune or from scratch), ``partial at once`` or ``partial gradual``."""
    if row["freeze_block"] >= n_blocks:
        return "head only"
    if row["freeze_block"] <= 0:
        return "whole network"
    return "partial gradual" if row["schedule"] == "gradual" else "partial at once"


def breakdown(rows: list[dict], n_blocks: int) -> dict[str, dict]:
    """Per trial kind: trials, summed seconds of both sides (trials only, no setup) and
    their ratio naive / tltune."""
    out: dict[str, dict] = {}
    for r in rows:
        k = out.setdefault(kind(r, n_blocks), {"trials": 0, "tltune_s": 0.0, "naive_s": 0.0})
        k["trials"] += 1
        k["tltune_s"] += r["tltune_s"]
        k["naive_s"] += r["naive_s"]
    for k in out.values():
        k["ratio"] = round(k["naive_s"] / max(k["tltune_s"], 1e-9), 1)
        k["tltune_s"], k["naive_s"] = round(k["tltune_s"], 1), round(k["naive_s"], 1)
    return out


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    if not a.data.is_dir():
        print(f"error: dataset folder {a.data} not found; set TL_SHARED or pass --data",
              file=sys.stderr)
        return 2
    from tuner import tune
    from tuner.data import DataSpec
    from tuner.training import TrialRunner
    from tuner.trial import TrialParams

    out = a.out or Path(tempfile.mkdtemp(prefix="sweep_e2e_")) / "run"
    result = tune(a.data, trials=a.trials, input_size=a.size, test_split="val", seed=a.seed,
                  max_images=a.max_images, out=out, stall=0, refit=False)
    t_tl = float(result.timings["search_s"])
    finished = [t for t in result.trials if t.is_finished]
    best_tl = max(t.val_accuracy for t in finished)
    c = result.config
    data = DataSpec(path=str(a.data), input_size=c.input_size, framing=c.resolved_framing,
                    test_split=c.test_split, seed=c.seed, max_images=c.max_images).prepare()
    runner = TrialRunner(data, backbone=c.backbone, weights=c.weights, seed=c.seed)
    rows, t_naive = [], 0.0
    for t in finished:
        acc, s = naive_trial(runner, TrialParams.from_dict(t.params), max(1, t.epochs_run))
        t_naive += s
        rows.append({"trial": t.number, "tltune_val": t.val_accuracy, "naive_val": acc,
                     "tltune_s": t.seconds, "naive_s": round(s, 1),
                     "schedule": t.params.get("schedule"), "freeze_block": t.params["freeze_block"]})
        print(f"trial {t.number:>2}  freeze {t.params['freeze_block']:>2} "
              f"{t.params.get('schedule', 'at_once'):<8} tltune {t.val_accuracy:.4f} "
              f"({t.seconds:.1f}s)  naive {acc:.4f} ({s:.1f}s)", flush=True)
    best_naive = max(r["naive_val"] for r in rows)
    ratio = t_naive / t_tl
    ok_speed, ok_acc = ratio >= SPEED_TARGET, abs(best_tl - best_naive) <= ACC_TARGET
    summary = {"trials": len(rows), "size": c.input_size, "tltune_search_s": t_tl,
               "naive_s": round(t_naive, 1), "ratio": round(ratio, 2), "best_tltune": best_tl,
               "best_naive": best_naive, "gradual_trials": sum(r["schedule"] == "gradual"
                                                               for r in rows),
               "partial_trials": sum(0 < r["freeze_block"] < runner.n_blocks for r in rows),
               "by_kind": breakdown(rows, runner.n_blocks),
               "setup_in_search_s": round(t_tl - sum(t.seconds for t in finished), 1),
               "rows": rows, "run_dir": str(out)}
    (Path(out) / "sweep_e2e.json").write_text(json.dumps(summary, indent=1))
    print(f"{len(rows)} trials at {c.input_size}px ({summary['partial_trials']} partial freezes, "
          f"{summary['gradual_trials']} gradual): tltune search {t_tl:.0f}s, naive {t_naive:.0f}s,"
          f" ratio {ratio:.1f}x (target >= {SPEED_TARGET:g}) {'PASS' if ok_speed else 'FAIL'}; "
          f"best val tltune {best_tl:.4f} naive {best_naive:.4f} (target within "
          f"{100 * ACC_TARGET:g} point) {'PASS' if ok_acc else 'FAIL'}")
    for name, k in summary["by_kind"].items():
        print(f"  {name:<16} {k['trials']:>2} trials: tltune {k['tltune_s']:.0f}s, naive "
              f"{k['naive_s']:.0f}s, ratio {k['ratio']:.1f}x")
    print(f"  tltune's search outside its trials (cache passes, worker starts): "
          f"{summary['setup_in_search_s']:.0f}s")
    return 0 if ok_speed and ok_acc else 1


if __name__ == "__main__":
    raise SystemExit(main())
