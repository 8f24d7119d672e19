"""The ``split_shift`` health check on the real datasets: every class's domain AUC.

For each dataset: one measuring pass of the advisor (ImageNet MobileNetV2, features
from the advisor's cache when present), then :func:`advisor.health.split_shift_aucs`,
the numbers the check judges: per non-training split and class, the cross-validated
ROC AUC of a linear probe telling that split's images from the training images of the
class, its null standard deviation, and whether the check reports it (AUC >= 0.7 and
>= 3 null SDs above 0.5). Rows go to ``benchmarks/results/split_shift/``.

    python benchmarks/split_shift.py                         # all four, 224 px
    python benchmarks/split_shift.py --datasets chest_xray --size 160
    python benchmarks/split_shift.py --quick                 # smoke run: 80 images, 96 px
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("TL_SHARED", REPO.parent / "shared"))
DATASETS = ("hymenoptera", "chest_xray", "eurosat5", "tf_flowers")


def measure_dataset(path: Path, size: int, max_images: int | None, cache_dir=None) -> dict:
    """The domain AUCs of one dataset and what the check reports (``cache_dir``: the
    advisor's feature cache; None: its default)."""
    from advisor.data import scan_layout, subsample
    from advisor.health import HealthData, HealthThresholds, SplitShift, split_shift_aucs
    from advisor.health._splits import MIN_Z
    from advisor.measure import measure

    t0 = time.perf_counter()
    index = subsample(scan_layout(path), max_images, 0)
    fp, _ = measure(index, input_size=size,
                    **({} if cache_dir is None else {"cache_dir": cache_dir}))
    data = HealthData(index, fp.files, fp.features)
    t = HealthThresholds()
    aucs = split_shift_aucs(data, t.min_eval_images)
    rows = {s: {c: {"auc": round(r.auc, 4), "null_sd": round(r.null_sd, 4),
                    "z": round((r.auc - 0.5) / r.null_sd, 2), "n_train": r.n_train,
                    "n_other": r.n_other,
                    "reported": bool(r.auc >= t.split_shift_auc
                                     and (r.auc - 0.5) / r.null_sd >= MIN_Z)}
                for c, r in per.items()} for s, per in aucs.items()}
    found = SplitShift(t).find_issues(data)
    return {"dataset": path.name, "size": size, "max_images": max_images, "splits": rows,
            "findings": [f.to_dict() for f in found],
            "seconds": round(time.perf_counter() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--quick", action="store_true", help="80 images of chest_xray at 96 px")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "split_shift")
    args = ap.parse_args(argv)
    names = ["chest_xray"] if args.quick else args.datasets.split(",")
    size = 96 if args.quick else args.size
    for name in names:
        path = SHARED / "data" / name
        if not path.is_dir():
            print(f"{name}: not found under {SHARED / 'data'} (set TL_SHARED)", file=sys.stderr)
            return 2
        r = measure_dataset(path, size, 80 if args.quick else None)
        for s, per in r["splits"].items():
            for c, v in per.items():
                flag = "REPORTED" if v["reported"] else ""
                print(f"{name:12s} {s:5s} {c:12s} AUC {v['auc']:.3f} (null SD {v['null_sd']:.3f}, "
                      f"z {v['z']:5.1f}; {v['n_train']} train / {v['n_other']} {s}) {flag}")
        if not args.quick:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{name}-{size}.json").write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
