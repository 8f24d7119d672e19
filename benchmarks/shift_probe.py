"""How far in-distribution validation predicts test accuracy: a shift probe.

For each input size: one pass of the ImageNet MobileNetV2 over train + val and over the
test split, keeping globally pooled activations at several block boundaries. At each
boundary an L2 logistic regression (balanced class weights) picks its C by stratified
5-fold cross-validation on train + val, as a tuner would, is refit on all of train + val
and scored once on test. The gap between the two is what no selection on train + val
can see: on ``chest_xray`` (whose test split is the official Kermany test set) the folds
say 0.91..0.97 and test says 0.76..0.84; on ``hymenoptera`` they agree within 5 points.

It is a diagnostic for the accuracy targets, not a tuner: the test split chooses nothing
here (C comes from the folds; every size and boundary is printed).

    python benchmarks/shift_probe.py                      # chest_xray, 160 and 224 px
    python benchmarks/shift_probe.py --dataset hymenoptera --sizes 224,288
    python benchmarks/shift_probe.py --quick              # smoke run: 40 images, 96 px
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("TL_SHARED", REPO.parent / "shared"))
BLOCKS = (3, 6, 10, 13, 16)  # block boundaries probed, besides the pooled last layer
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)


def features(data, size: int, seed: int) -> tuple[list[str], list[np.ndarray], list[np.ndarray]]:
    """Pooled activations at :data:`BLOCKS` and the last layer, for train + val and test."""
    import keras

    from tuner.training._model import build_prefix
    from tuner.training import TrialRunner

    runner = TrialRunner(data, backbone="mobilenet_v2", weights="imagenet", seed=seed)
    bounds = runner.boundaries()
    names = [bounds[b].name for b in BLOCKS if b < len(bounds) - 1]
    prefix = build_prefix(runner.spec, size, runner.weights_source(), names, seed)
    pooled = [keras.layers.GlobalAveragePooling2D()(o) for o in prefix.outputs[:-1]]
    model = keras.Model(prefix.input, pooled + [prefix.outputs[-1]])

    def run(x: np.ndarray) -> list[np.ndarray]:
        out = model.predict(x.astype(np.float32), batch_size=32, verbose=0)
        return [np.asarray(o, np.float64) for o in out]

    return names + ["pooled (last)"], run(np.concatenate([data.x_train, data.x_val])), \
        run(np.asarray(data.x_test))


def probe(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, seed: int,
          folds: int) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def model(c: float):
        return make_pipeline(StandardScaler(), LogisticRegression(
            C=c, max_iter=3000, class_weight="balanced"))

    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    scores = {c: float(cross_val_score(model(c), x, y, cv=cv).mean()) for c in C_GRID}
    c = max(C_GRID, key=lambda k: (scores[k], -k))  # ties: the stronger regularisation
    test = float((model(c).fit(x, y).predict(x_test) == y_test).mean())
    return {"C": c, "cv_accuracy": scores[c], "test_accuracy": test,
            "gap_points": 100 * (scores[c] - test)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="chest_xray", help="a folder under ../shared/data, or a path")
    ap.add_argument("--sizes", default="160,224", help="input sizes, comma-separated")
    ap.add_argument("--test-split", default="val", help="folder used as the test split")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-images", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the rows here")
    ap.add_argument("--quick", action="store_true", help="smoke run: 40 images, 96 px")
    a = ap.parse_args(argv)
    from tuner.data import prepare_data

    path = Path(a.dataset) if Path(a.dataset).is_dir() else SHARED / "data" / a.dataset
    if not path.is_dir():
        print(f"no dataset at {path} (expected a folder of class folders; set TL_SHARED or "
              "pass a path)", file=sys.stderr)
        return 2
    sizes = [96] if a.quick else [int(s) for s in a.sizes.split(",")]
    max_images = 40 if a.quick else a.max_images
    rows = []
    for size in sizes:
        t0 = time.perf_counter()
        data = prepare_data(path, input_size=size, seed=a.seed, test_split=a.test_split,
                            max_images=max_images)
        y = np.concatenate([data.y_train, data.y_val])
        folds = int(min(5, np.bincount(y).min()))
        names, f_pool, f_test = features(data, size, a.seed)
        secs = time.perf_counter() - t0
        print(f"\n{path.name} at {size} px: {len(y)} train + val images, {len(data.y_test)} "
              f"test ({data.split_source.get('test', 'test')}); features in {secs:.0f} s")
        print(f"{'boundary':<22} {'C':>5} {'cv acc':>7} {'test acc':>8} {'gap (pts)':>9}")
        for name, xp, xt in zip(names, f_pool, f_test):
            r = probe(xp, y, xt, data.y_test, a.seed, folds)
            rows.append({"dataset": path.name, "size": size, "boundary": name, **r})
            print(f"{name:<22} {r['C']:>5} {r['cv_accuracy']:>7.3f} {r['test_accuracy']:>8.3f} "
                  f"{r['gap_points']:>9.1f}")
    gaps = [r["gap_points"] for r in rows]
    print(f"\ngap between cross-validated and test accuracy: {min(gaps):.1f} .. {max(gaps):.1f} "
          f"points over {len(rows)} probes")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps({"dataset": str(path), "seed": a.seed, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
