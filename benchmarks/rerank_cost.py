"""Re-ranking cost: folds sharing one activation pass over train + val, against a pass per fold.

``tltune --rerank N`` trains N candidate configurations on each of 5 folds of
train + val. Each fold is new data to the activation cache; since the pool change,
a fold keys its cache on the pool (all of train + val, K augmented views and one
plain view of each image), so the frozen prefix runs once per augmentation level for
all folds. This runs the same re-ranking twice in one process on the same decoded
data: as tltune does it, and with every fold computing its own activations (the
earlier behaviour), and prints the ratio of their times and whether both chose the
same candidate with the same held-out counts (augmented views are drawn per pool
row rather than per fold row, so per-fold counts can differ by an image or two).

The candidates default to five configurations like hymenoptera's top five in a 30-trial
search (freeze 15..17 blocks, light and moderate augmentation); ``--results`` takes the
top five of a finished run's ``results.json`` instead.

    python benchmarks/rerank_cost.py                          # hymenoptera, 224 px
    python benchmarks/rerank_cost.py --results RUN/results.json
    python benchmarks/rerank_cost.py --quick                  # smoke run: 96 px, 60 images
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_CANDIDATES = [  # (freeze_block, augmentation, head_lr, backbone_lr, dropout)
    (17, "moderate", 3e-3, 5e-5, 0.2), (17, "light", 2e-3, 3e-5, 0.3),
    (16, "moderate", 3e-3, 8e-5, 0.1), (15, "moderate", 1.5e-3, 5e-5, 0.4),
    (17, "moderate", 6e-3, 1e-4, 0.2)]


def default_data() -> Path:
    return Path(os.environ.get("TL_SHARED", REPO.parent / "shared")) / "data" / "hymenoptera"


def candidates(a: argparse.Namespace) -> list:
    from tuner.search._rerank import candidates as top
    from tuner.trial import TrialRecord
    from tuner.trial import TrialParams

    if a.results:
        trials = [TrialRecord.from_dict(t) for t in json.loads(a.results.read_text())["trials"]]
        return top(trials, 5)
    return [TrialRecord(number=i, state="COMPLETE", val_accuracy=1.0, val_loss=0.1,
                        params=TrialParams(freeze_block=fb, augmentation=aug, head_lr=hl,
                                           backbone_lr=bl, dropout=dr, epochs=a.epochs,
                                           patience=3).to_dict())
            for i, (fb, aug, hl, bl, dr) in enumerate(DEFAULT_CANDIDATES)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_data())
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--test-split", default="val")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--results", type=Path, default=None,
                    help="take the candidates from this results.json (its top five)")
    ap.add_argument("--max-images", type=int, default=None)
    ap.add_argument("--weights", default="imagenet")
    ap.add_argument("--quick", action="store_true", help="smoke run: 96 px, 60 images, 2 epochs")
    a = ap.parse_args(argv)
    if a.quick:
        a.size, a.max_images, a.epochs = 96, a.max_images or 60, 2
    if not a.data.is_dir():
        print(f"no dataset at {a.data} (set TL_SHARED or pass --data)", file=sys.stderr)
        return 2
    from tuner.data import PreparedData, prepare_data
    from tuner.search._rerank import rerank
    from tuner.training import TrialRunner

    data = prepare_data(a.data, input_size=a.size, seed=0, test_split=a.test_split,
                        max_images=a.max_images)
    cands = candidates(a)
    shared_fold = PreparedData.cv_fold

    def per_fold(self, k, i, seed):  # the earlier behaviour: a fold is new data to the cache
        return replace(shared_fold(self, k, i, seed), pool=None)

    out = {}
    for mode in ("shared", "per-fold"):
        PreparedData.cv_fold = shared_fold if mode == "shared" else per_fold
        try:
            with tempfile.TemporaryDirectory() as tmp:
                runner = TrialRunner(data, weights=a.weights, seed=0, cache_dir=Path(tmp))
                t0 = time.perf_counter()
                rr = rerank(runner, cands, seed=0)
                out[mode] = (time.perf_counter() - t0, rr)
        finally:
            PreparedData.cv_fold = shared_fold
        secs, rr = out[mode]
        print(f"{mode:>9}: {secs:7.1f} s, chose #{rr.chosen}, held-out right "
              + " ".join(f"#{c.number}={sum(c.fold_correct)}" for c in rr.candidates), flush=True)
    (s, a_rr), (p, b_rr) = out["shared"], out["per-fold"]
    n_pool = len(data.y_train) + len(data.y_val)
    print(f"\nrerank of {len(cands)} candidates x 5 folds on {a.data.name} ({n_pool} train + val "
          f"images, {a.size} px): per-fold {p:.1f} s / shared {s:.1f} s = {p / s:.2f}x; "
          f"same choice: {a_rr.chosen == b_rr.chosen}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
