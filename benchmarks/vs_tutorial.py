"""The TensorFlow transfer-learning tutorial's recipe against the default ``tltune``,
scored paired on the same test images.

The recipe ("Transfer learning and fine-tuning", tensorflow.org/tutorials/images/
transfer_learning), as the tutorial runs it:

* MobileNetV2 at 160 px, ImageNet weights (the 1.0 224 no-top file from
  ``$KERAS_HOME/models``, loaded by path: keras would look for a 160-specific file);
* inputs -> RandomFlip("horizontal") + RandomRotation(0.2) -> ``mobilenet_v2
  .preprocess_input`` -> frozen base (``trainable=False``, called with
  ``training=False``) -> GlobalAveragePooling2D -> Dropout(0.2) -> Dense head;
* 10 epochs at Adam(1e-4), then ``base.trainable=True`` with the layers before index
  100 frozen (``fine_tune_at = 100``), recompiled with RMSprop(1e-5, the tutorial's
  ``base_learning_rate / 10``), 10 more epochs (``initial_epoch=10``); batch size 32.

One change so that it works for any class count: the tutorial's 2-class head (Dense(1)
with a from-logits BinaryCrossentropy) is a softmax ``Dense(n_classes)`` trained with
SparseCategoricalCrossentropy (the same model for two classes, up to parametrisation).

Same images for both. Each dataset's ``train/`` and ``val/`` folders, optionally a
stratified ``--max-images`` subset (tltune's own: :func:`advisor.data.subsample`, per
split and class, seeded), decoded by the project's :func:`tuner.data.prepare_data` with
the same seed, input size, ``test_split="val"`` and the framing tltune's ``--framing
auto`` chose for that dataset (so tltune runs first). The test images are ``val/``.
tltune's search validates on a stratified 20 % of ``train/`` and its final model is
refit on all of ``train/``; the recipe does no model selection (the tutorial trains its
20 epochs and keeps the last state), so it trains on all of ``train/`` as well: the
same training images as tltune's final model, and the same test images, checked by the
data fingerprint. Each is scored once on the test images.

tltune: ``tuner.tune(path, trials=..., input_size=160, test_split="val", seed=...,
max_images=...)``, defaults otherwise (advisor first, framing auto, refit on
train + val). Its per-image correctness comes from its final result: every misclassified
test image is listed there (``FinalResult.misclassified``), the rest are right.

Per dataset: both test accuracies ± binomial SE, the paired difference tltune - recipe
± its paired SE (per-image correctness), wall times (each includes decoding its images;
tltune's also its advisor and framing decision, the search, the refit and the export)
and their ratio. Targets: tltune never below the recipe by more than 1 SE of the paired
difference; where the recipe is within 1 SE of tltune (not more than 1 SE below it),
tltune takes at most 2x the recipe's time. Exits 1 when a target is missed, 2 on bad
input.

    python benchmarks/vs_tutorial.py --out DIR    # 4 datasets, 30 trials, <= 400 images each
    python benchmarks/vs_tutorial.py --datasets hymenoptera --max-images 0   # all its images
    python benchmarks/vs_tutorial.py --quick      # smoke run: hymenoptera, 2 trials,
                                                  # recipe 1+1 epochs, 120 images, 96 px
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _tutorial_recipe import (
    FINE_TUNE_EPOCHS,
    HEAD_EPOCHS,
    SideResult,
    recipe_model,
    run_recipe,
)

__all__ = ["Comparison", "compare", "main", "recipe_model", "run_recipe", "run_tltune"]

DATASETS = ("hymenoptera", "chest_xray", "eurosat5", "weather4")
TIME_TARGET = 2.0  # tltune / recipe, where the recipe is within 1 SE of tltune
DEFAULT_MAX_IMAGES = 400  # hymenoptera whole; about an hour for the four on 2 CPU cores


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def default_root() -> Path:
    return Path(os.environ.get("TL_SHARED", REPO.parent / "shared")) / "data"


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS),
                    help="names under --root, or dataset folders")
    ap.add_argument("--root", type=Path, default=default_root())
    ap.add_argument("--trials", type=int, default=30, help="tltune trials (its default)")
    ap.add_argument("--max-images", type=int, default=DEFAULT_MAX_IMAGES,
                    help="stratified subset of train/ + val/ per dataset, the same for both "
                         f"(default {DEFAULT_MAX_IMAGES}; 0: all images)")
    ap.add_argument("--size", type=int, default=160, help="input side of both (the tutorial's 160)")
    ap.add_argument("--head-epochs", type=int, default=HEAD_EPOCHS)
    ap.add_argument("--fine-tune-epochs", type=int, default=FINE_TUNE_EPOCHS)
    ap.add_argument("--weights", default="imagenet")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="write DIR/<dataset>.json and DIR/summary.json")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: first dataset only, 2 trials, recipe 1+1 epochs, "
                         "120 images, 96 px")
    a = ap.parse_args(argv)
    if a.quick:
        a.datasets, a.trials, a.size = a.datasets[:1], 2, 96
        a.head_epochs, a.fine_tune_epochs, a.max_images = 1, 1, 120
    a.max_images = a.max_images or None
    return a


# ---------------------------------------------------------------- statistics

@dataclass(frozen=True)
class Comparison:
    """Both test scores on the same images, the paired difference and the targets."""

    n: int
    recipe_acc: float
    recipe_se: float
    tltune_acc: float
    tltune_se: float
    diff: float  # tltune - recipe
    diff_se: float  # paired, per image
    recipe_s: float
    tltune_s: float
    accuracy_ok: bool  # diff >= -diff_se
    time_applies: bool  # the recipe is not more than 1 SE below tltune
    time_ok: bool

    @property
    def ratio(self) -> float:
        return self.tltune_s / self.recipe_s if self.recipe_s > 0 else math.inf

    def to_dict(self) -> dict:
        return {k: (round(v, 5) if isinstance(v, float) else v)
                for k, v in {**self.__dict__, "ratio": self.ratio}.items()}


def binomial_se(p: float, n: int) -> float:
    """sqrt(p (1 - p) / n)."""
    return math.sqrt(p * (1 - p) / n) if n else float("nan")


def compare(recipe_correct: np.ndarray, tltune_correct: np.ndarray, recipe_s: float,
            tltune_s: float, time_target: float = TIME_TARGET) -> Comparison:
    """Paired comparison of per-image correctness (0/1, the same test images in the
    same order) and the two targets."""
    r = np.asarray(recipe_correct, float)
    t = np.asarray(tltune_correct, float)
    if r.shape != t.shape or r.ndim != 1 or not len(r):
        raise ValueError(f"per-image correctness of different or empty shapes {r.shape}, {t.shape}")
    n = len(r)
    d = t - r
    diff = float(d.mean())
    diff_se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    pr, pt = float(r.mean()), float(t.mean())
    accuracy_ok = diff >= -diff_se
    time_applies = diff <= diff_se
    ratio = tltune_s / recipe_s if recipe_s > 0 else math.inf
    return Comparison(n, pr, binomial_se(pr, n), pt, binomial_se(pt, n), diff, diff_se,
                      recipe_s, tltune_s, accuracy_ok, time_applies,
                      (ratio <= time_target) if time_applies else True)


def _pts(x: float) -> str:
    return f"{100 * x:.1f}"


def report_lines(name: str, c: Comparison) -> list[str]:
    """The printed rows of one dataset."""
    pts = _pts
    z = c.diff / c.diff_se if c.diff_se > 0 else 0.0
    acc = "PASS" if c.accuracy_ok else "FAIL"
    if c.time_applies:
        tm = (f"tltune/recipe {c.ratio:.2f}x (target <= {TIME_TARGET:g} where the recipe is "
              f"within 1 SE of tltune) {'PASS' if c.time_ok else 'FAIL'}")
    else:
        tm = (f"tltune/recipe {c.ratio:.2f}x, not binding: the recipe is {z:.1f} SE below "
              "tltune PASS")
    return [
        f"{name}: {c.n} test images",
        f"  recipe {pts(c.recipe_acc)} ± {pts(c.recipe_se)} %  ({c.recipe_s:.0f} s)",
        f"  tltune {pts(c.tltune_acc)} ± {pts(c.tltune_se)} %  ({c.tltune_s:.0f} s)",
        (f"  tltune - recipe {c.diff * 100:+.1f} ± {pts(c.diff_se)} points paired "
         f"(target >= -1 SE) {acc}"),
        f"  time: {tm}",
    ]


# ---------------------------------------------------------------- the two sides

def run_tltune(path: Path, a: argparse.Namespace, run_dir: Path) -> SideResult:
    """The default ``tltune`` (advisor, framing auto, search, refit, export)."""
    from tuner import tune

    t = time.perf_counter()
    res = tune(path, trials=a.trials, input_size=a.size, test_split="val", seed=a.seed,
               max_images=a.max_images, weights=a.weights, out=run_dir)
    seconds = time.perf_counter() - t
    f = res.final
    if f is None:
        raise RuntimeError(f"tltune finished without a final model ({res.status})")
    wrong = {m.path for m in f.misclassified}
    best = res.best
    info = {"run_dir": str(run_dir), "framing": res.config.resolved_framing,
            "fingerprint": res.data.fingerprint, "counts": res.data.counts,
            "test_accuracy": f.test_accuracy, "macro_f1": f.macro_f1, "n_test": f.n_test,
            "misclassified": sorted(wrong), "train_protocol": f.train_protocol,
            "best_trial": best.number if best else None,
            "best_params": best.trial_params.to_dict() if best else None,
            "states": res.state_counts, "timings": res.timings, "warnings": list(res.warnings)}
    return SideResult(np.array([], float), seconds, info | {"_wrong": wrong})


# ---------------------------------------------------------------- main

def run_dataset(path: Path, a: argparse.Namespace, workdir: Path) -> dict:
    """tltune, then the recipe on the same images; the comparison as a JSON dict."""
    name = path.name
    _log(f"{name}: tltune, {a.trials} trials at {a.size} px, max_images {a.max_images}")
    tl = run_tltune(path, a, workdir / name)
    wrong = tl.info.pop("_wrong")
    _log(f"{name}: tltune {tl.info['test_accuracy']:.4f} in {tl.seconds:.0f} s "
         f"(framing {tl.info['framing']}); the recipe, {a.head_epochs}+{a.fine_tune_epochs} "
         "epochs")
    rec, data = run_recipe(path, a, tl.info["framing"])
    if data.fingerprint != tl.info["fingerprint"]:
        raise RuntimeError(f"{name}: the recipe's images differ from tltune's (fingerprint "
                           f"{data.fingerprint} vs {tl.info['fingerprint']})")
    unknown = wrong - set(data.files_test)
    if unknown or len(data.files_test) != tl.info["n_test"]:
        raise RuntimeError(f"{name}: tltune's test images are not the recipe's "
                           f"({tl.info['n_test']} vs {len(data.files_test)}; "
                           f"unknown {sorted(unknown)[:3]})")
    tl.correct = np.array([f not in wrong for f in data.files_test], float)
    if abs(tl.correct.mean() - tl.info["test_accuracy"]) > 1e-9:
        raise RuntimeError(f"{name}: tltune's per-image correctness does not give its accuracy")
    _log(f"{name}: recipe {rec.correct.mean():.4f} in {rec.seconds:.0f} s "
         f"(decode {rec.info['decode_s']} s, frozen {rec.info['head_s']} s)")
    c = compare(rec.correct, tl.correct, rec.seconds, tl.seconds)
    return {"dataset": name, "path": str(path), "quick": a.quick, "seed": a.seed,
            "trials": a.trials, "size": a.size, "max_images": a.max_images,
            "recipe_epochs": [a.head_epochs, a.fine_tune_epochs],
            "n_train": len(data.y_train) + len(data.y_val), "n_test": len(data.y_test),
            "classes": list(data.classes), "framing": tl.info["framing"],
            "fingerprint": data.fingerprint, **c.to_dict(),
            "test_files": list(data.files_test), "y_test": data.y_test.tolist(),
            "recipe_correct": rec.correct.astype(int).tolist(),
            "tltune_correct": tl.correct.astype(int).tolist(),
            "recipe": rec.info, "tltune": tl.info}


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    paths = [Path(d) if Path(d).is_dir() else a.root / d for d in a.datasets]
    missing = [str(p) for p in paths if not (p / "train").is_dir() or not (p / "val").is_dir()]
    if missing:
        print(f"vs_tutorial: no train/ and val/ in {missing} (pass --root or set TL_SHARED)",
              file=sys.stderr)
        return 2
    import tensorflow  # noqa: F401 - imported once here, so that neither side's time holds it

    from advisor.errors import TLError

    workdir = Path(tempfile.mkdtemp(prefix="vs_tutorial-"))
    rows: list[dict] = []
    t0 = time.perf_counter()
    try:
        for p in paths:
            try:
                row = run_dataset(p, a, workdir)
            except TLError as e:
                print(f"vs_tutorial: {p.name}: {e.message}", file=sys.stderr)
                return 2
            rows.append(row)
            if a.out:
                a.out.mkdir(parents=True, exist_ok=True)
                (a.out / f"{row['dataset']}.json").write_text(json.dumps(row))
            shutil.rmtree(workdir / p.name, ignore_errors=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    ok = True
    for r in rows:
        c = Comparison(**{k: r[k] for k in Comparison.__dataclass_fields__})
        for line in report_lines(r["dataset"], c):
            print(line)
        ok = ok and c.accuracy_ok and c.time_ok
    n_acc = sum(r["accuracy_ok"] for r in rows)
    n_time = sum(r["time_ok"] for r in rows)
    total = time.perf_counter() - t0
    print(f"vs_tutorial: accuracy target {n_acc}/{len(rows)} PASS, time target {n_time}/"
          f"{len(rows)} PASS; {total / 60:.1f} min in all{' [quick]' if a.quick else ''}")
    if a.out:
        (a.out / "summary.json").write_text(json.dumps({
            "argv": argv if argv is not None else sys.argv[1:], "seconds": round(total, 1),
            "rows": [{k: r[k] for k in ("dataset", "n_train", "n_test", "framing", "recipe_acc",
                                         "tltune_acc", "diff", "diff_se", "recipe_s",
                                         "tltune_s", "ratio", "accuracy_ok", "time_applies",
                                         "time_ok")} for r in rows]}, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
