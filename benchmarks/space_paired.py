"""The fine-tune recipe's search space against the classic one, paired.

For each dataset and seed, two ``tltune`` sweeps with the same data, advice, seed, trial
count and test images (the dataset's ``val/`` folder), every trial run (``stall=0``):

- ``classic``: the space before the recipe was searched (Adam, no weight or layer
  decay, everything after the boundary unfrozen at once, no LR finder);
- ``new``: the default space (optimizer, weight decay, layer decay and gradual
  unfreezing searched for trials that fine-tune; LR ranges centred by the LR finder).

Prints, per dataset and seed, both test accuracies, the paired difference (new -
classic) with its SE over the test images (per-image correctness: the run's
misclassified files), wall and CPU seconds of each sweep, what the new search chose
(the best trial's recipe and how often each choice was among the finished trials), and
the LR finder's suggestions against the best trial's rates. Over seeds the difference
is averaged; its SE combines the per-seed image SEs and the spread between seeds.
Target: the new space does not lose accuracy at equal trials (mean difference >= -1 SE).

    python benchmarks/space_paired.py --datasets hymenoptera --seeds 0,1 --out DIR
    python benchmarks/space_paired.py --summarize DIR   # the table of the runs in DIR
    python benchmarks/space_paired.py --quick           # smoke run (2 trials, 64 px)

Runs already finished in ``--out`` are read, not run again, so the benchmark resumes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("TL_SHARED", REPO.parent / "shared"))
ADVICE = REPO / "benchmarks" / "results" / "advice_v3"
SPACES = ("classic", "new")


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="hymenoptera,chest_xray,weather4")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--spaces", default=",".join(SPACES))
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--image-size", type=int, default=160)
    ap.add_argument("--max-images", type=int, default=400,
                    help="stratified subset of datasets larger than this (hymenoptera is "
                         "smaller and runs whole)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/space_paired"))
    ap.add_argument("--summarize", type=Path, default=None, help="only print the table of DIR")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 trials, 64 px, 80 images")
    a = ap.parse_args(argv)
    if a.quick:
        a.datasets, a.seeds, a.trials, a.image_size, a.max_images = "hymenoptera", "0", 2, 64, 80
    return a


def run_name(dataset: str, space: str, seed: int) -> str:
    return f"{dataset}_{space}_s{seed}"


def _cpu_s() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_one(a: argparse.Namespace, dataset: str, space: str, seed: int) -> Path:
    """Run (or find) one sweep; its run directory."""
    from advisor.recommend import Advice
    from tuner import tune
    from tuner.search import SearchSpace

    out = a.out / run_name(dataset, space, seed)
    done = out / "results.json"
    if done.is_file() and json.loads(done.read_text())["status"] == "done":
        return out
    advice_file = ADVICE / f"{dataset}.json"
    advice = Advice.from_dict(json.loads(advice_file.read_text())["advice"])
    from advisor.data import scan_layout

    path = SHARED / "data" / dataset
    n_images = len(scan_layout(path).items)
    kw: dict = dict(trials=a.trials, seed=seed, advice=advice_file, input_size=a.image_size,
                    test_split="val", out=out, stall=0,
                    max_images=a.max_images if n_images > a.max_images else None)
    if space == "classic":
        kw["space"] = SearchSpace.from_advice(advice, advice.freeze.n_blocks).classic()
        kw["lr_find"] = False
    t, cpu = time.perf_counter(), _cpu_s()
    tune(path, **kw)
    (out / "bench.json").write_text(json.dumps(
        {"wall_s": round(time.perf_counter() - t, 1), "cpu_s": round(_cpu_s() - cpu, 1)}))
    return out


def _load(run: Path) -> dict | None:
    f = run / "results.json"
    if not f.is_file():
        return None
    r = json.loads(f.read_text())
    if r.get("status") != "done" or not r.get("final"):
        return None
    bench = run / "bench.json"
    r["bench"] = json.loads(bench.read_text()) if bench.is_file() else {}
    return r


def paired(r_new: dict, r_old: dict) -> tuple[float, float, int]:
    """(difference of test accuracies, its SE over the shared test images, n)."""
    n = r_new["final"]["n_test"]
    a = {m["path"] for m in r_new["final"]["misclassified"]}
    b = {m["path"] for m in r_old["final"]["misclassified"]}
    # per image d = correct_new - correct_old: +1 on b - a, -1 on a - b, else 0
    plus, minus = len(b - a), len(a - b)
    mean = (plus - minus) / n
    var = (plus + minus) / n - mean ** 2
    return mean, math.sqrt(max(var, 0.0) / n), n


def choices(result: dict) -> dict:
    """What the search chose: the best trial's recipe and the share of each choice among
    the finished trials that fine-tuned."""
    best = result.get("best") or {}
    p = best.get("params", {})
    ft = [t for t in result["trials"] if t["state"] in ("COMPLETE", "PRUNED")
          and "optimizer" in t.get("sampled", {})]
    share: dict[str, dict[str, int]] = {}
    for key in ("optimizer", "weight_decay", "layer_decay", "schedule"):
        share[key] = {}
        for t in ft:
            v = str(t["sampled"][key])
            share[key][v] = share[key].get(v, 0) + 1
    return {"best": {k: p.get(k) for k in ("freeze_block", "optimizer", "weight_decay",
                                           "layer_decay", "schedule", "head_lr",
                                           "backbone_lr")},
            "finetuning_trials": len(ft), "share": share}


def lr_vs_best(result: dict, other: dict | None = None) -> dict | None:
    """The LR finder's suggestions (of ``result``) against the rates of the best trial of
    ``result`` and of ``other`` (the classic sweep): log10(best / suggested). The
    backbone rate counts only where the best trial fine-tuned (it has an optimizer
    sampled)."""
    finding = (result.get("config") or {}).get("lr_finding")
    if not finding:
        return None
    out = {}
    for part, key in (("head", "head_lr"), ("backbone", "backbone_lr")):
        curve = finding.get(part)
        if not (curve and curve.get("suggestion")):
            continue
        row = {"suggested": curve["suggestion"]}
        for name, r in (("new", result), ("classic", other)):
            best = (r or {}).get("best") or {}
            if best and (key == "head_lr" or key in best.get("sampled", {})):
                row[f"best_{name}"] = best["params"][key]
                row[f"log10_{name}"] = round(math.log10(best["params"][key] / curve["suggestion"]), 2)
        out[part] = row
    return out


def stall_replay(result: dict, patience: int = 10) -> dict:
    """Where ``--stall patience`` would have stopped this every-trial sweep, and the best
    validation accuracy of the trials run by then against that of all of them."""
    from tuner.search import stall_stop
    from tuner.trial import TrialRecord

    trials = [TrialRecord.from_dict(t) for t in result["trials"]]
    n_val = sum(result["data"]["counts"]["val"].values())
    done = [t for t in sorted(trials, key=lambda t: t.number) if t.is_finished]
    best_all = max((t.val_accuracy for t in done), default=None)
    for i in range(1, len(done) + 1):
        if stall_stop(done[:i], patience, n_val) is not None:
            return {"stopped_after": i, "of": len(done), "best_by_then":
                    max(t.val_accuracy for t in done[:i]), "best_of_all": best_all}
    return {"stopped_after": None, "of": len(done), "best_of_all": best_all}


def summarize(root: Path, datasets: list[str] | None = None) -> dict:
    rows: list[dict] = []
    names = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    keys = sorted({n.rsplit("_", 2)[0] + "|" + n.rsplit("_", 1)[1] for n in names
                   if n.rsplit("_", 2)[-2] in SPACES})
    for key in keys:
        ds, s = key.split("|")
        if datasets and ds not in datasets:
            continue
        seed = int(s[1:])
        new, old = (_load(root / run_name(ds, sp, seed)) for sp in ("new", "classic"))
        if not (new and old):
            continue
        d, se, n = paired(new, old)
        row = {"dataset": ds, "seed": seed, "n_test": n,
               "classic": old["final"]["test_accuracy"], "new": new["final"]["test_accuracy"],
               "diff": d, "se": se,
               "wall_classic": old["bench"].get("wall_s", old["timings"].get("total_s")),
               "wall_new": new["bench"].get("wall_s", new["timings"].get("total_s")),
               "cpu_classic": old["bench"].get("cpu_s"), "cpu_new": new["bench"].get("cpu_s"),
               "chose": choices(new), "lr": lr_vs_best(new, old),
               "stall10": {"classic": stall_replay(old), "new": stall_replay(new)}}
        rows.append(row)
        print(f"{ds:<12} seed {seed}  classic {row['classic']:.4f}  new {row['new']:.4f}  "
              f"diff {100 * d:+.2f} +- {100 * se:.2f} pts (n={n})  wall {row['wall_classic']}"
              f" -> {row['wall_new']} s  cpu {row['cpu_classic']} -> {row['cpu_new']} s")
        print(f"{'':<12} best: {row['chose']['best']}  shares: {row['chose']['share']}")
        if row["lr"]:
            print(f"{'':<12} LR finder vs best trial: {row['lr']}")
        print(f"{'':<12} --stall 10 replayed: {row['stall10']}")
    by_ds: dict[str, list[dict]] = {}
    for r in rows:
        by_ds.setdefault(r["dataset"], []).append(r)
    verdicts = {}
    for ds, rs in by_ds.items():
        k = len(rs)
        mean = sum(r["diff"] for r in rs) / k
        within = sum(r["se"] ** 2 for r in rs) / k ** 2
        between = (sum((r["diff"] - mean) ** 2 for r in rs) / (k - 1) / k) if k > 1 else 0.0
        se = math.sqrt(within + between)
        ok = mean >= -se
        verdicts[ds] = {"mean_diff": mean, "se": se, "seeds": k, "pass": ok}
        print(f"{ds:<12} mean over {k} seed(s): {100 * mean:+.2f} +- {100 * se:.2f} pts  "
              f"{'PASS' if ok else 'FAIL'} (not below -1 SE)")
    noise = seed_to_seed(root, by_ds)
    for ds, row in noise.items():
        print(f"{ds:<12} seed to seed, same space (unpaired): " + "  ".join(
            f"{sp} {100 * d:+.2f} +- {100 * s:.2f} pts" for sp, (d, s) in row.items()))
    return {"rows": rows, "verdicts": verdicts, "seed_to_seed": noise}


def seed_to_seed(root: Path, by_ds: dict[str, list[dict]]) -> dict[str, dict]:
    """The noise floor of the comparison: per dataset and space, the difference of test
    accuracies (seed b - seed a) between the sweeps of its first two seeds, which differ in
    nothing but the seed. Unpaired (the binomial SEs combined): ``--max-images`` draws its
    subset, test images included, by the seed."""
    out: dict[str, dict] = {}
    for ds, rs in by_ds.items():
        seeds = sorted(r["seed"] for r in rs)[:2]
        if len(seeds) < 2:
            continue
        out[ds] = {}
        for sp in SPACES:
            a, b = (_load(root / run_name(ds, sp, s)) for s in seeds)
            if a and b:
                pa, pb = a["final"]["test_accuracy"], b["final"]["test_accuracy"]
                na, nb = a["final"]["n_test"], b["final"]["n_test"]
                out[ds][sp] = (pb - pa, math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb))
    return out


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    if a.summarize is not None:
        summary = summarize(a.summarize)
        return 0 if all(v["pass"] for v in summary["verdicts"].values()) else 1
    datasets = [d for d in a.datasets.split(",") if d]
    missing = [d for d in datasets if not (SHARED / "data" / d).is_dir()]
    if missing:
        print(f"error: no dataset {missing} under {SHARED / 'data'}; set TL_SHARED", file=sys.stderr)
        return 2
    a.out.mkdir(parents=True, exist_ok=True)
    for ds in datasets:
        for seed in (int(s) for s in a.seeds.split(",")):
            for space in a.spaces.split(","):
                run_one(a, ds, space, seed)
    summary = summarize(a.out, datasets)
    (a.out / "summary.json").write_text(json.dumps(summary, indent=1))
    return 0 if all(v["pass"] for v in summary["verdicts"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
