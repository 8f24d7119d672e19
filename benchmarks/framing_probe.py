"""Squash or crop: what ``--framing auto`` chooses on the real datasets, and what each
framing gives on their test splits.

For each dataset (its ``val/`` folder is the test split, as in ``docs/accuracy.md``):
the share of non-square images; the paired probe of both framings on train
(:func:`tuner.training._framing.choose_framing` with ``probe_square=True``, so square sets are
measured too); what ``--framing auto`` chooses; and, as a diagnostic no choice sees,
the same linear probe fitted on those train images and scored once on test, per framing.

    python benchmarks/framing_probe.py                       # all four, 224 px
    python benchmarks/framing_probe.py --datasets hymenoptera --size 160
    python benchmarks/framing_probe.py --quick               # smoke run: 60 images, 96 px
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
DATASETS = ("hymenoptera", "chest_xray", "eurosat5", "tf_flowers")


def test_probe(data: dict, spec, weights, seed: int, max_images: int) -> dict[str, float]:
    """Probe accuracy on test per framing: fitted on (a sample of) train + val."""
    from advisor.measure._probe import PROBE_C, _standardise
    from sklearn.linear_model import LogisticRegression

    from tuner.data import stratified_sample
    from tuner.training._framing import _pooled_features
    out = {}
    for f, d in data.items():
        y = np.concatenate([d.y_train, d.y_val])
        rows = stratified_sample(y, max_images, seed, salt="framing")
        x = np.concatenate([d.x_train, d.x_val])[rows]
        both = _standardise(np.concatenate([
            _pooled_features(x, spec, weights, seed),
            _pooled_features(d.x_test, spec, weights, seed)]))  # no labels: as the probe does
        clf = LogisticRegression(C=PROBE_C, max_iter=1000).fit(both[:len(rows)], y[rows])
        out[f] = float((clf.predict(both[len(rows):]) == d.y_test).mean())
    return out


def run(name: str, size: int, seed: int, max_images: int | None, cache: Path) -> dict:
    from advisor.backbones import get_backbone, resolve_weights
    from tuner.data import prepare_data
    from tuner.training._framing import MAX_PROBE_IMAGES
    from tuner.training import choose_framing
    root = Path(name) if Path(name).is_dir() else SHARED / "data" / name
    t = time.perf_counter()
    data = {f: prepare_data(root, input_size=size, test_split="val", seed=seed,
                            max_images=max_images, cache_dir=cache, framing=f)
            for f in ("squash", "crop")}
    decode_s = time.perf_counter() - t
    spec = get_backbone("mobilenet_v2")
    weights = resolve_weights(spec, "imagenet")
    probed = choose_framing(data.__getitem__, spec, weights, seed=seed, probe_square=True)
    auto = (choose_framing(data.__getitem__, spec, weights, seed=seed)
            if probed.non_square <= 0.5 else probed)
    test = test_probe(data, spec, weights, seed, MAX_PROBE_IMAGES)
    return {"dataset": name, "size": size, "decode_s": round(decode_s, 1),
            "probe": probed.to_dict(), "auto": auto.to_dict(), "test_accuracy": test,
            "n_test": int(len(data["squash"].y_test))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="60 images of hymenoptera at 96 px")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "framing_probe")
    args = ap.parse_args(argv)
    names = ["hymenoptera"] if args.quick else args.datasets.split(",")
    size = 96 if args.quick else args.size
    max_images = 60 if args.quick else None
    cache = Path(os.environ.get("TMPDIR", "/tmp")) / "tl-framing-probe"
    print(f"{'dataset':<12} {'non-square':>10}  {'probe on train: squash / crop (diff ± se)':<44} "
          f"{'auto':<7} {'test: squash / crop':<20} {'probe s':>7}")
    for name in names:
        r = run(name, size, args.seed, max_images, cache)
        c, t = r["probe"], r["test_accuracy"]
        cv = (f"{c['accuracy']['squash']:.3f} / {c['accuracy']['crop']:.3f} "
              f"({100 * c['difference']:+.1f} ± {100 * c['std_error']:.1f} pts)"
              if c["accuracy"] else c["note"][:44])
        print(f"{name:<12} {c['non_square']:>10.0%}  {cv:<44} {r['auto']['framing']:<7} "
              f"{t['squash']:.3f} / {t['crop']:.3f}{'':<6} {c['seconds']:>7.1f}", flush=True)
        if not args.quick:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{name}-{size}.json").write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
