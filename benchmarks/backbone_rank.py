"""Does the advisor's backbone ranking pick the backbone that tunes better?

For each dataset, (a) ``advisor.advise(path, backbones=[...])`` ranks the backbones by
linear-probe accuracy, then LogME (the order ``tladvise --backbone a,b`` prints), and
(b) a short ``tuner.tune`` sweep per backbone (defaults otherwise: its own advisor run,
framing auto, refit on train + val) reaches a test accuracy on ``val/`` (the test split,
used once). Printed per dataset: the advisor's order, each backbone's probe accuracy and
LogME, each sweep's test accuracy with its binomial SE, the paired difference (top minus
the other, per test image) with its SE, and whether the advisor's top backbone is the one
with the higher test accuracy or within 1 binomial SE of it (``agrees``).

Both use the same images (``--max-images``, the same stratified subsample and seed) at
the same input side. The advisor's features are cached (``$TL_CACHE_DIR``), so each
sweep's own advisor run reuses them.

    python benchmarks/backbone_rank.py                         # 4 datasets, 6 trials, 128 px, 400 images
    python benchmarks/backbone_rank.py --datasets hymenoptera --out DIR
    python benchmarks/backbone_rank.py --quick                 # smoke run: hymenoptera, 2 trials,
                                                               # 2 epochs, 64 px, 120 images
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DATASETS = ("hymenoptera", "tf_flowers", "eurosat5", "weather4")
BACKBONES = ("mobilenet_v2", "mobilenet_v2_035")


def binomial_se(acc: float, n: int) -> float:
    return math.sqrt(acc * (1 - acc) / n) if n > 0 else float("nan")


def paired(wrong_a: set[str], wrong_b: set[str], n: int) -> tuple[float, float]:
    """Accuracy of a minus b on the same ``n`` test images, and its paired SE, from
    the sets of images each got wrong."""
    if n <= 0:
        return float("nan"), float("nan")
    a_only, b_only = len(wrong_b - wrong_a), len(wrong_a - wrong_b)  # a right/b wrong, and back
    diff = (a_only - b_only) / n
    var = (a_only + b_only) / n - diff ** 2
    return diff, math.sqrt(max(var, 0.0) / n)


def verdict(order: list[str], sweeps: dict[str, dict]) -> dict:
    """Whether the advisor's top backbone has the highest test accuracy, or is within
    1 binomial SE of the backbone that has it."""
    top = order[0]
    best = max(order, key=lambda b: sweeps[b]["test_accuracy"])
    gap = sweeps[best]["test_accuracy"] - sweeps[top]["test_accuracy"]
    se = sweeps[best]["se"]
    other = next((b for b in order if b != top), top)
    diff, diff_se = paired(sweeps[top]["wrong"], sweeps[other]["wrong"], sweeps[top]["n_test"])
    return {"advisor_top": top, "test_best": best, "gap": round(gap, 4),
            "agrees": top == best or gap <= se, "paired_diff_top_minus_other": round(diff, 4),
            "paired_se": round(diff_se, 4)}


def advisor_ranking(path: Path, a: argparse.Namespace) -> dict:
    from advisor import advise

    t = time.perf_counter()
    res = advise(path, backbones=list(a.backbones), input_size=a.image_size,
                 max_images=a.max_images, seed=a.seed)
    return {"order": [m.backbone for m in res.measurements], "scenario": res.advice.scenario,
            "seconds": round(time.perf_counter() - t, 1),
            "backbones": {m.backbone: {"probe_accuracy": round(m.probe.accuracy, 4),
                                       "probe_std": round(m.probe.std, 4),
                                       "logme": round(m.logme, 4), "seconds": m.seconds}
                          for m in res.measurements}}


def sweep(path: Path, backbone: str, a: argparse.Namespace, run_dir: Path) -> dict:
    from tuner import tune

    t = time.perf_counter()
    res = tune(path, backbone=backbone, trials=a.trials, input_size=a.image_size,
               max_images=a.max_images, test_split="val", seed=a.seed, epochs=a.epochs,
               out=run_dir)
    f = res.final
    if f is None:
        raise RuntimeError(f"the {backbone} sweep finished without a final model ({res.status})")
    best = res.best
    return {"test_accuracy": round(f.test_accuracy, 4), "n_test": f.n_test,
            "se": round(binomial_se(f.test_accuracy, f.n_test), 4),
            "scenario": res.advice.scenario if res.advice else None,
            "best_freeze_block": best.trial_params.freeze_block if best else None,
            "states": res.state_counts, "seconds": round(time.perf_counter() - t, 1),
            "run_dir": str(run_dir), "wrong": {m.path for m in f.misclassified}}


def run_dataset(path: Path, a: argparse.Namespace, work: Path) -> dict:
    rank = advisor_ranking(path, a)
    sweeps = {b: sweep(path, b, a, work / path.name / b) for b in a.backbones}
    out = {"dataset": path.name, "advisor": rank, "verdict": verdict(rank["order"], sweeps),
           "sweeps": {b: {k: v for k, v in s.items() if k != "wrong"} for b, s in sweeps.items()}}
    for b, s in sweeps.items():
        out["sweeps"][b]["misclassified"] = sorted(s["wrong"])
    return out


def print_dataset(r: dict) -> None:
    adv, v = r["advisor"], r["verdict"]
    print(f"\n{r['dataset']}: advisor order {' > '.join(adv['order'])} "
          f"(advice {adv['scenario']}, {adv['seconds']:.0f} s)")
    for b in adv["order"]:
        m, s = adv["backbones"][b], r["sweeps"][b]
        print(f"  {b:<18} probe {m['probe_accuracy']:.3f}  LogME {m['logme']:+.3f}  |  "
              f"test {s['test_accuracy']:.3f} ± {s['se']:.3f} (n={s['n_test']}, "
              f"{s['scenario']}, freeze {s['best_freeze_block']}, {s['seconds']:.0f} s)")
    print(f"  top minus other (paired): {v['paired_diff_top_minus_other']:+.3f} "
          f"± {v['paired_se']:.3f}; advisor's top {v['advisor_top']}, test best "
          f"{v['test_best']}: {'agrees' if v['agrees'] else 'DISAGREES'}"
          + ("" if v["advisor_top"] == v["test_best"] else f" (gap {v['gap']:.3f})"), flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", type=Path,
                    default=Path(os.environ.get("TL_SHARED", REPO.parent / "shared")) / "data")
    ap.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated names")
    ap.add_argument("--backbones", default=",".join(BACKBONES), help="comma-separated names")
    ap.add_argument("--trials", type=int, default=6)
    ap.add_argument("--epochs", type=int, default=None, help="per trial [default: the tuner's]")
    ap.add_argument("--image-size", type=int, default=128)
    ap.add_argument("--max-images", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="folder for the JSON results and runs")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: one dataset, 2 trials, 2 epochs, 64 px, 120 images")
    a = ap.parse_args(argv)
    a.datasets = [d.strip() for d in a.datasets.split(",") if d.strip()]
    a.backbones = [b.strip() for b in a.backbones.split(",") if b.strip()]
    if a.quick:
        a.datasets, a.trials, a.epochs, a.image_size, a.max_images = a.datasets[:1], 2, 2, 64, 120
    missing = [d for d in a.datasets if not (a.data_root / d).is_dir()]
    if missing or len(a.backbones) < 2:
        print(f"missing datasets {missing} under {a.data_root} (set TL_SHARED or --data-root)"
              if missing else "--backbones needs two or more names", file=sys.stderr)
        return 2
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = a.out / "runs" if a.out else Path(tmp)
        for name in a.datasets:
            r = run_dataset(a.data_root / name, a, work)
            print_dataset(r)
            results.append(r)
            if a.out:
                a.out.mkdir(parents=True, exist_ok=True)
                (a.out / f"{name}.json").write_text(json.dumps(r, indent=2))
    n_agree = sum(r["verdict"]["agrees"] for r in results)
    print(f"\nadvisor's top backbone agrees with the sweeps on {n_agree} of {len(results)} "
          f"datasets ({a.trials} trials, {a.image_size} px, {a.max_images} images each)")
    if a.out:
        settings = {k: getattr(a, k) for k in ("datasets", "backbones", "trials", "epochs",
                                                "image_size", "max_images", "seed")}
        (a.out / "summary.json").write_text(json.dumps(
            {"settings": settings, "agree": n_agree,
             "datasets": {r["dataset"]: r["verdict"] for r in results}}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
