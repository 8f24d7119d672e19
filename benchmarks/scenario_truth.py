"""Ground truth for the advice: train every transfer scenario with one equal budget
and measure what the recommendation gives up (its regret).

    python benchmarks/scenario_truth.py DATASET [--advice FILE] [--out DIR]
        [--input-size 128] [--max-train 600] [--epochs 6] [--patience 4] [--seed 0]
        [--head-epochs 30] [--head-patience 5] [--finetune-epochs 4]
    python benchmarks/scenario_truth.py --table DIR/*.json > table.md

Scenarios (MobileNetV2 unless the advice names another backbone), all trained by
:class:`tuner.training._runner.TrialRunner` under :class:`tuner.verify.PilotBudget`:

* feature_extractor: every block frozen, a new head on the pooled features;
* partial_freeze at the advice's boundary ``b`` (for another call: the boundary the
  rule would pick for partial_freeze), and at ``b - s`` (shallower) and ``b + s``
  (deeper) with ``s = ceil(n_blocks / 4)`` (5 of MobileNetV2's 18), clipped to
  ``1 .. n_blocks - 1``;
* full_finetune: nothing frozen;
* from_scratch: the same architecture with random weights.

Regret = best of (feature extractor, best partial freeze, full fine-tune, from
scratch) minus the recommended scenario's accuracy (partial_freeze: the run at ``b``),
in points of validation accuracy. The advice is ``advisor.advise(DATASET)`` at its
defaults (224 px, whole dataset) unless ``--advice`` gives a ``tladvise --json`` file.
Writes ``DIR/<dataset>.json`` and ``DIR/<dataset>.md``; ``--table`` joins JSON files
into one Markdown table. See docs/ground-truth.md.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from advisor import AdviceResult  # noqa: E402
from advisor.errors import InputError, TLError  # noqa: E402
from advisor.recommend import FreezePlan  # noqa: E402
from tuner.verify import (PilotBudget, for_advice, partial_boundary, pilot_data,  # noqa: E402
                          scenario_params)

FAMILIES = ("feature_extractor", "partial_freeze", "full_finetune", "from_scratch")


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _load_advice(path: Path) -> AdviceResult:
    try:
        return AdviceResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise InputError(f"Cannot read the advice file {path}",
                         expected="the complete JSON that tladvise --json writes",
                         received=f"{type(e).__name__}: {e}"[:200],
                         fix="re-run tladvise DATASET --json FILE") from e


def planned_runs(result: AdviceResult, boundaries: list, spread: int | None = None
                 ) -> list[tuple[str, str, FreezePlan]]:
    """``(label, scenario, freeze plan)`` of every run, the advice's partial first."""
    n = boundaries[-1].block
    s = spread if spread is not None else math.ceil(n / 4)
    b = partial_boundary(result, boundaries).block

    def plan(scenario: str, block: int | None = None) -> FreezePlan:
        return FreezePlan.for_scenario(scenario, boundaries,
                                       partial=None if block is None else boundaries[block])

    runs = [("feature_extractor", "feature_extractor", plan("feature_extractor")),
            ("partial@advice", "partial_freeze", plan("partial_freeze", b))]
    for label, k in (("partial@shallower", max(1, b - s)), ("partial@deeper", min(n - 1, b + s))):
        if k not in {r[2].block for r in runs}:
            runs.append((label, "partial_freeze", plan("partial_freeze", k)))
    runs += [(f, f, plan(f)) for f in ("full_finetune", "from_scratch")]
    return runs


def regret(result_runs: list[dict], scenario: str) -> dict:
    """Accuracy per family (partial: best boundary), the best family and the regret
    of ``scenario`` (partial_freeze is judged at the advice's boundary)."""
    fam = {f: max(r["val_accuracy"] for r in result_runs if r["scenario"] == f) for f in FAMILIES}
    rec = {r["label"]: r["val_accuracy"] for r in result_runs}
    chosen = rec["partial@advice"] if scenario == "partial_freeze" else fam[scenario]
    best = max(fam, key=lambda f: fam[f])
    return {"family_accuracy": fam, "best_scenario": best, "best_accuracy": fam[best],
            "recommended_accuracy": chosen, "regret_points": round(100 * (fam[best] - chosen), 2)}


def code_version() -> dict:
    """The commit this ran on, and whether the code it imports differed from it."""
    import subprocess

    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True).stdout.rstrip()

    dirty = git("status", "--porcelain", "--", "advisor", "tuner", "benchmarks/scenario_truth.py")
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "uncommitted": [line[3:] for line in dirty.splitlines()]}


def run(dataset: Path, advice_file: Path | None, budget: PilotBudget, seed: int,
        weights: str, cache_dir: Path, spread: int | None, command: str) -> dict:
    """Advise (or load the advice), train every planned run, score the call."""
    from tuner.training import TrialRunner

    t0 = time.perf_counter()
    version = code_version()
    if advice_file is not None:
        result, advice_src, advice_s = _load_advice(advice_file), str(advice_file), None
    else:
        from advisor import advise

        _log(f"advising {dataset} (224 px, whole dataset)")
        result = advise(dataset, seed=seed)
        advice_src, advice_s = "advisor.advise(DATASET) at its defaults", result.seconds
    a = result.advice
    _log(f"advice: {a.scenario} (freeze {a.freeze.block}/{a.freeze.n_blocks} {a.freeze.layer}), "
         f"runner-up {a.runner_up}")
    budget = for_advice(budget, result)
    t = time.perf_counter()
    data = pilot_data(dataset, budget, seed=seed, cache_dir=cache_dir)
    prepare_s = time.perf_counter() - t
    _log(f"data: {len(data.y_train)} train, {len(data.y_val)} val at {data.input_size}px "
         f"({prepare_s:.0f}s)")
    runner = TrialRunner(data, backbone=a.backbone, weights=weights, seed=seed, cache_dir=cache_dir)
    boundaries = runner.boundaries()
    runs = []
    for label, scenario, plan in planned_runs(result, boundaries, spread):
        p = scenario_params(scenario, plan, budget)
        _log(f"training {label} (freeze_block {plan.code})")
        o = runner.run(p)
        runs.append({"label": label, "scenario": scenario, "freeze_block": plan.code,
                     "freeze_layer": plan.layer_label,
                     "head_lr": p.head_lr, "backbone_lr": p.backbone_lr,
                     "val_accuracy": o.val_accuracy, "val_loss": o.val_loss,
                     "epochs_run": o.epochs_run, "seconds": o.seconds, "notes": list(o.notes),
                     "val_history": [round(h.val_accuracy, 4) for h in o.history]})
        _log(f"  {label}: val accuracy {o.val_accuracy:.4f} in {o.epochs_run} epochs, {o.seconds:.0f}s")
    summary = regret(runs, a.scenario)
    n_val = len(data.y_val)
    rec_acc = summary["recommended_accuracy"]
    return {
        "dataset": dataset.name, "path": str(dataset), "command": command, "code": version,
        "advice": {"source": advice_src, "seconds": advice_s, "scenario": a.scenario,
                   "freeze_block": a.freeze.block, "freeze_layer": a.freeze.layer,
                   "n_blocks": a.freeze.n_blocks, "runner_up": a.runner_up, "confidence": a.confidence,
                   "similarity": a.similarity, "images_per_class": a.images_per_class,
                   "shift": result.chosen.shift.overall,
                   "probe_accuracy": result.chosen.probe.accuracy,
                   "pixel_accuracy": result.chosen.pixel_probe.accuracy},
        "budget": budget.to_dict(), "seed": seed, "weights": weights, "backbone": a.backbone,
        "data": {"n_train": len(data.y_train), "n_val": n_val, "classes": list(data.classes),
                 "train_counts": data.counts("train"), "val_counts": data.counts("val"),
                 "split_source": data.split_source, "prepare_seconds": round(prepare_s, 1)},
        "runs": runs, **summary,
        # binomial standard error of one accuracy on this validation set, for scale
        "accuracy_se_points": round(100 * math.sqrt(max(rec_acc * (1 - rec_acc), 1e-12) / n_val), 2),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _short(run: dict) -> str:
    if run["scenario"] == "partial_freeze":
        return f"partial b{run['freeze_block']}"
    return run["scenario"].replace("_", " ").replace("finetune", "fine-tune")


def markdown_table(rows: list[dict]) -> str:
    """One Markdown table row per dataset result, then the commands."""
    head = ("| dataset | train / val | feature extractor | partial (advice / shallower / deeper) "
            "| full fine-tune | from scratch | advisor's call | best run | regret (points) | 1 SE | minutes |")
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        by = {x["label"]: x for x in r["runs"]}
        parts = []
        for lab in ("partial@advice", "partial@shallower", "partial@deeper"):
            x = by.get(lab)
            parts.append(f"{_pct(x['val_accuracy'])} (b{x['freeze_block']})" if x else "-")
        a = r["advice"]
        call = a["scenario"] + (f" b{a['freeze_block']}" if a["scenario"] == "partial_freeze" else "")
        best = " = ".join(_short(x) for x in r["runs"] if x["val_accuracy"] == r["best_accuracy"])
        lines.append(
            f"| {r['dataset']} | {r['data']['n_train']} / {r['data']['n_val']} "
            f"| {_pct(by['feature_extractor']['val_accuracy'])} | {' / '.join(parts)} "
            f"| {_pct(by['full_finetune']['val_accuracy'])} | {_pct(by['from_scratch']['val_accuracy'])} "
            f"| {call} | {best} | {r['regret_points']:.1f} | {r['accuracy_se_points']:.1f} "
            f"| {r['seconds'] / 60:.1f} |")
    lines.append("")
    lines += [f"- {r['dataset']}: `{r['command']}`" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", nargs="?", type=Path)
    ap.add_argument("--advice", type=Path, help="tladvise --json output to use instead of advising")
    ap.add_argument("--out", type=Path, default=REPO / "runs" / "scenario_truth")
    ap.add_argument("--input-size", type=int, default=PilotBudget.input_size)
    ap.add_argument("--max-train", type=int, default=PilotBudget.max_train)
    ap.add_argument("--epochs", type=int, default=PilotBudget.epochs)
    ap.add_argument("--patience", type=int, default=PilotBudget.patience,
                    help="early-stopping patience of fine-tuning and from scratch")
    ap.add_argument("--head-epochs", type=int, default=PilotBudget.head_epochs,
                    help="head-phase budget on cached features; 0 = the older equal-epoch "
                         "budget (--epochs in all, a third on the head)")
    ap.add_argument("--head-patience", type=int, default=PilotBudget.head_patience)
    ap.add_argument("--finetune-epochs", type=int, default=PilotBudget.finetune_epochs)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weights", default="imagenet")
    ap.add_argument("--spread", type=int, help="blocks between the partial-freeze runs "
                                               "(default ceil(n_blocks / 4))")
    ap.add_argument("--cache-dir", type=Path, help="decoded images and activations (default OUT/cache)")
    ap.add_argument("--table", nargs="+", type=Path, help="print one Markdown table of these JSON results")
    args = ap.parse_args(argv)
    if args.table:
        print(markdown_table([json.loads(p.read_text()) for p in args.table]), end="")
        return 0
    if args.dataset is None:
        ap.error("DATASET is required (or --table)")
    budget = PilotBudget(input_size=args.input_size, max_train=args.max_train, epochs=args.epochs,
                         patience=args.patience, head_epochs=args.head_epochs or None,
                         head_patience=args.head_patience, finetune_epochs=args.finetune_epochs)
    command = "python benchmarks/scenario_truth.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    try:
        res = run(args.dataset, args.advice, budget, args.seed, args.weights,
                  args.cache_dir or args.out / "cache", args.spread, command)
    except TLError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return e.exit_code
    args.out.mkdir(parents=True, exist_ok=True)
    name = args.dataset.resolve().name
    (args.out / f"{name}.json").write_text(json.dumps(res, indent=2))
    (args.out / f"{name}.md").write_text(markdown_table([res]))
    _log(f"{name}: call {res['advice']['scenario']}, best {res['best_scenario']}, "
         f"regret {res['regret_points']:.1f} points, {res['seconds'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
