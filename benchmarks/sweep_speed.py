"""Sweep speed: tltune's runner (cached backbone features) vs a plain KerasTuner loop.

The SAME search is run twice on the same decoded data: a frozen MobileNetV2 (feature
extractor) with a new head; searched: head learning rate, dropout, label smoothing and
batch size; same epochs and early-stopping patience; augmentation off.

1. KerasTuner ``RandomSearch`` over a keras model = frozen MobileNetV2 + head, fitting on
   the images every epoch (the backbone runs forward on every image in every epoch);
2. tltune's ``TrialRunner`` on exactly the configurations KerasTuner sampled (the
   backbone runs once, the heads train on cached features).

Prints one summary line with the speed ratio (target >= 20) and both best validation
accuracies (target: within 1 point); exits 1 when a target is missed, 2 on bad input.

    python benchmarks/sweep_speed.py                 # full: 10 trials, hymenoptera, 160 px
    python benchmarks/sweep_speed.py --quick         # smoke run: 3 trials, 96 px, 40 images
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SPEED_TARGET = 20.0
ACC_TARGET = 0.01  # 1 point


def default_data() -> Path:
    return Path(os.environ.get("TL_SHARED", REPO.parent / "shared")) / "data" / "hymenoptera"


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=default_data())
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--patience", type=int, default=3)
    ap.add_argument("--size", type=int, default=160)
    ap.add_argument("--max-images", type=int, default=None,
                    help="stratified subset of the dataset (default: all of it)")
    ap.add_argument("--weights", default="imagenet")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 3 trials, 2 epochs, 96 px, 40 images")
    a = ap.parse_args(argv)
    if a.quick:
        a.trials, a.epochs, a.size, a.max_images = 3, 2, 96, a.max_images or 40
    return a


def kerastuner_search(data, a: argparse.Namespace, workdir: Path, space) -> tuple[float, list]:
    """Plain KerasTuner: returns (seconds, [(hyperparameter values, best val acc)])."""
    import keras
    import keras_tuner as kt
    import numpy as np

    from advisor.backbones import get_backbone, resolve_weights

    spec = get_backbone("mobilenet_v2")
    wpath = resolve_weights(spec, a.weights).path
    n = data.n_classes
    y_train = np.eye(n, dtype="float32")[data.y_train]
    y_val = np.eye(n, dtype="float32")[data.y_val]

    class FrozenBackboneHead(kt.HyperModel):
        def build(self, hp):
            # every trial from the same seed, as tltune's runner: the same head
            # initialisation for the same shapes, and a reproducible data order
            keras.utils.set_random_seed(a.seed)
            base = keras.applications.MobileNetV2(
                include_top=False, weights=str(wpath) if wpath else None,
                input_shape=(a.size, a.size, 3), pooling="avg")
            base.trainable = False
            inp = keras.Input((a.size, a.size, 3))
            x = keras.layers.Rescaling(1 / 127.5, offset=-1.0)(inp)  # MobileNetV2 preprocessing
            x = base(x, training=False)
            x = keras.layers.Dropout(hp.Float("dropout", *space.dropout))(x)
            out = keras.layers.Dense(n, activation="softmax")(x)
            model = keras.Model(inp, out)
            model.compile(
                optimizer=keras.optimizers.Adam(
                    hp.Float("head_lr", *space.head_lr, sampling="log")),
                loss=keras.losses.CategoricalCrossentropy(
                    label_smoothing=hp.Float("label_smoothing", *space.label_smoothing)),
                metrics=["accuracy"])
            return model

        def fit(self, hp, model, *args, **kwargs):
            return model.fit(*args, batch_size=hp.Choice("batch_size", list(space.batch_sizes)),
                             **kwargs)

    class PlainRandomSearch(kt.RandomSearch):
        # KerasTuner's default run_trial imports tensorboard (not installed here);
        # this is the same build + fit without the TensorBoard hook.
        def run_trial(self, trial, *args, **kwargs):
            hp = trial.hyperparameters
            return self.hypermodel.fit(hp, self.hypermodel.build(hp), *args, **kwargs)

    tuner = PlainRandomSearch(FrozenBackboneHead(), objective="val_accuracy",
                            max_trials=a.trials, seed=a.seed + 1, directory=str(workdir),
                            project_name="kt_baseline", overwrite=True)
    tuner.oracle.verbose = 0
    t = time.perf_counter()
    # Every trial builds the frozen backbone + head and runs the backbone on every image
    # in every epoch: what a plain KerasTuner loop does.
    tuner.search(np.asarray(data.x_train, np.float32), y_train,
                 validation_data=(np.asarray(data.x_val, np.float32), y_val), epochs=a.epochs,
                 callbacks=[keras.callbacks.EarlyStopping("val_accuracy", patience=a.patience,
                                                          mode="max")], verbose=0)
    seconds = time.perf_counter() - t
    trials = [(dict(tr.hyperparameters.values), float(tr.score))
              for tr in tuner.oracle.trials.values() if tr.status == "COMPLETED"]
    return seconds, trials


def tltune_search(data, a: argparse.Namespace, workdir: Path, configs: list[dict]
                  ) -> tuple[float, list[float]]:
    """tltune's runner on the same configurations: returns (seconds, best val accs)."""
    from tuner.training import TrialRunner
    from tuner.trial import TrialParams

    t = time.perf_counter()
    runner = TrialRunner(data, backbone="mobilenet_v2", weights=a.weights, seed=a.seed,
                         cache_dir=workdir / "tl_cache")
    n = runner.n_blocks
    accs, marks = [], [time.perf_counter()]
    for c in configs:
        params = TrialParams(freeze_block=n, head_lr=c["head_lr"], backbone_lr=1e-4,
                             dropout=c["dropout"], augmentation="off",
                             label_smoothing=c["label_smoothing"], batch_size=c["batch_size"],
                             epochs=a.epochs, patience=a.patience)
        accs.append(runner.run(params).val_accuracy)
        marks.append(time.perf_counter())
    per = [b - a_ for a_, b in zip(marks, marks[1:])]
    print(f"tltune runner: setup {marks[0] - t:.1f} s, first trial {per[0]:.1f} s (computes the "
          f"feature cache), later trials {sum(per[1:]) / max(len(per) - 1, 1):.2f} s each",
          flush=True)
    return time.perf_counter() - t, accs


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    if not a.data.is_dir():
        print(f"sweep_speed: dataset {a.data} not found (pass --data or set TL_SHARED)",
              file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from dataclasses import replace

    from tuner.data import prepare_data
    from tuner.search._space import SearchSpace

    workdir = Path(tempfile.mkdtemp(prefix="sweep_speed-"))
    try:
        data = prepare_data(a.data, input_size=a.size, seed=a.seed, max_images=a.max_images)
        space = replace(SearchSpace.from_advice(None, 18, "feature_extractor", epochs=a.epochs,
                                                patience=a.patience), augmentation=("off",))
        print(f"data: {a.data.name}, {len(data.y_train)} train / {len(data.y_val)} val images, "
              f"{a.size} px; {a.trials} trials x {a.epochs} epochs", flush=True)
        kt_s, kt_trials = kerastuner_search(data, a, workdir, space)
        print(f"kerastuner: {kt_s:.1f} s, {len(kt_trials)} trials", flush=True)
        tl_s, tl_accs = tltune_search(data, a, workdir, [c for c, _ in kt_trials])
        print(f"tltune runner: {tl_s:.1f} s, {len(tl_accs)} trials", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ratio = kt_s / tl_s
    for i, ((c, k), t) in enumerate(zip(kt_trials, tl_accs)):
        print(f"  config {i}: head_lr {c['head_lr']:.2e} dropout {c['dropout']:.2f} smoothing "
              f"{c['label_smoothing']:.2f} batch {c['batch_size']}: kerastuner {k:.4f} "
              f"tltune {t:.4f}")
    mean_kt = sum(k for _, k in kt_trials) / len(kt_trials)
    mean_tl = sum(tl_accs) / len(tl_accs)
    print(f"mean over the configurations: kerastuner {mean_kt:.4f}, tltune {mean_tl:.4f} "
          f"(both train every configuration from seed {a.seed}; their initialisations and "
          f"data orders differ, since the implementations do)")
    kt_best, tl_best = max(s for _, s in kt_trials), max(tl_accs)
    diff = abs(tl_best - kt_best)
    ok_speed, ok_acc = ratio >= SPEED_TARGET, diff <= ACC_TARGET
    print(f"sweep_speed: speed ratio {ratio:.1f}x (kerastuner {kt_s:.1f} s / tltune {tl_s:.1f} s; "
          f"target >= {SPEED_TARGET:g}) {'PASS' if ok_speed else 'FAIL'}; best val accuracy "
          f"tltune {tl_best:.4f} vs kerastuner {kt_best:.4f} (diff {100 * diff:.1f} points; "
          f"target <= {100 * ACC_TARGET:g}) {'PASS' if ok_acc else 'FAIL'}"
          f"{' [quick]' if a.quick else ''}")
    return 0 if ok_speed and ok_acc else 1


if __name__ == "__main__":
    sys.exit(main())
