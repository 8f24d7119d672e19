"""Ground truth for the advice (harness v3): every transfer option trained under one
budget, scored on test images that chose nothing, compared paired.

    python benchmarks/scenario_truth.py DATASET [--seeds 0 1] [--out DIR]
        [--input-size 128] [--max-train 600] [--epochs 6] [--finetune-epochs 4] ...
    python benchmarks/scenario_truth.py --table DIR/*.json > table.md

Options (a fixed grid, independent of any advice; :func:`tuner.verify.grid_options`):
the feature extractor, partial freezes at 1/4, 1/2 and 3/4 of the blocks (MobileNetV2:
blocks 5, 9 and 14 of 18), full fine-tune and from scratch, each trained by the tuner's
:class:`~tuner.training.TrialRunner` under :class:`tuner.verify.PilotBudget`.

Per seed (one repeat each): a stratified selection split (20 % of the training images,
at most 200) picks every option's epochs and head; the training images are the rest,
capped to ``--max-train``; the *test* images are the dataset's ``val/`` folder (else a
stratified hold-out at seed 0), the same for every seed, and choose nothing. Options
are compared paired on those images and seeds (:class:`tuner.verify.Scoreboard`).

Writes ``DIR/<dataset>.json`` (every per-image outcome, so that any rule's call can be
scored afterwards: ``benchmarks/advice_fit.py``) and ``DIR/<dataset>.md``. See
docs/ground-truth.md.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from advisor.errors import TLError  # noqa: E402
from tuner.verify import (PilotBudget, Scoreboard, grid_options, holdout_splits,  # noqa: E402
                          score_options)

HARNESS_VERSION = 3


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def code_version() -> dict:
    """The commit this ran on, and whether the code it imports differed from it."""
    import subprocess

    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True).stdout.rstrip()

    dirty = git("status", "--porcelain", "--", "advisor", "tuner", "benchmarks/scenario_truth.py")
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "uncommitted": [line[3:] for line in dirty.splitlines()]}


def summarise(board: Scoreboard) -> dict:
    """Mean accuracy per option (and per repeat), the best option, and every option's
    paired difference from the best."""
    best = board.best()
    return {
        "accuracy": {k: round(board.accuracy(k), 4) for k in board.labels},
        "repeat_accuracy": {k: [round(float(a), 4) for a in board.repeat_accuracies(k)]
                            for k in board.labels},
        "best": best,
        "vs_best": {k: board.difference(k, best).to_dict() for k in board.labels if k != best},
    }


def run(dataset: Path, budget: PilotBudget, seeds: list[int], weights: str, cache_dir: Path,
        scratch: bool, fractions: list[float], command: str) -> dict:
    t0 = time.perf_counter()
    version = code_version()
    splits = holdout_splits(dataset, budget, seeds, cache_dir=cache_dir)
    first = splits[0].data
    _log(f"data: {len(first.y_train)} train, {len(first.y_val)} selection, "
         f"{len(first.y_test)} test at {first.input_size}px")

    def on_run(r) -> None:
        _log(f"  seed {r.seed} {r.label}: test {r.test_accuracy:.4f} (selection "
             f"{r.select_accuracy:.4f}, {r.epochs_run} epochs, {r.seconds:.0f}s)")

    board = score_options(splits, len(first.y_test), first.y_test,
                          lambda b: grid_options(b, fractions, scratch=scratch), budget,
                          weights=weights, cache_dir=cache_dir, on_run=on_run)
    return {
        "harness": HARNESS_VERSION, "dataset": dataset.resolve().name, "path": str(dataset),
        "fractions": fractions, "scratch": scratch,
        "command": command, "code": version, "budget": budget.to_dict(), "seeds": seeds,
        "weights": weights,
        "data": {"n_train": [len(s.data.y_train) for s in splits],
                 "n_select": [len(s.data.y_val) for s in splits], "n_test": len(first.y_test),
                 "classes": list(first.classes), "test_counts": first.counts("test"),
                 "split_source": first.split_source},
        **summarise(board), "scoreboard": board.to_dict(),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def markdown_table(rows: list[dict]) -> str:
    """One row per dataset: mean test accuracy of every option (over the seeds), the
    best, and the paired SE of the runner-up's difference from it."""
    labels = []
    for r in rows:
        labels += [k for k in r["accuracy"] if k not in labels]
    head = ("| dataset | train / test | seeds | " + " | ".join(labels)
            + " | best | runner-up: difference (SE) | minutes |")
    lines = [head, "|" + "---|" * (len(labels) + 6)]
    for r in rows:
        acc = r["accuracy"]
        cells = [(_pct(acc[k]) if k in acc else "-") for k in labels]
        vs = r["vs_best"]
        ru = min(vs, key=lambda k: -vs[k]["difference"])
        lines.append(f"| {r['dataset']} | {r['data']['n_train'][0]} / {r['data']['n_test']} "
                     f"| {','.join(map(str, r['seeds']))} | " + " | ".join(cells)
                     + f" | {r['best']} | {ru}: {100 * vs[ru]['difference']:+.1f} "
                       f"({100 * vs[ru]['se']:.1f}) | {r['seconds'] / 60:.1f} |")
    lines.append("")
    lines += [f"- {r['dataset']}: `{r['command']}`" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", nargs="?", type=Path)
    ap.add_argument("--out", type=Path, default=REPO / "runs" / "scenario_truth")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--input-size", type=int, default=PilotBudget.input_size)
    ap.add_argument("--max-train", type=int, default=PilotBudget.max_train)
    ap.add_argument("--epochs", type=int, default=PilotBudget.epochs, help="from-scratch epochs")
    ap.add_argument("--patience", type=int, default=PilotBudget.patience)
    ap.add_argument("--head-epochs", type=int, default=PilotBudget.head_epochs)
    ap.add_argument("--head-patience", type=int, default=PilotBudget.head_patience)
    ap.add_argument("--finetune-epochs", type=int, default=PilotBudget.finetune_epochs)
    ap.add_argument("--augmentation", default=PilotBudget.augmentation,
                    help="light, or light-noflip for data whose side matters (grayscale content)")
    ap.add_argument("--no-scratch", action="store_true", help="leave from scratch out")
    ap.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 0.75],
                    help="partial freezes at these fractions of the blocks")
    ap.add_argument("--weights", default="imagenet")
    ap.add_argument("--cache-dir", type=Path, help="decoded images and activations (default OUT/cache)")
    ap.add_argument("--table", nargs="+", type=Path, help="print one Markdown table of these JSON results")
    args = ap.parse_args(argv)
    if args.table:
        print(markdown_table([json.loads(p.read_text()) for p in args.table]), end="")
        return 0
    if args.dataset is None:
        ap.error("DATASET is required (or --table)")
    budget = PilotBudget(input_size=args.input_size, max_train=args.max_train, epochs=args.epochs,
                         patience=args.patience, head_epochs=args.head_epochs,
                         head_patience=args.head_patience, finetune_epochs=args.finetune_epochs,
                         augmentation=args.augmentation)
    command = "python benchmarks/scenario_truth.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    try:
        res = run(args.dataset, budget, args.seeds, args.weights,
                  args.cache_dir or args.out / "cache", not args.no_scratch, args.fractions, command)
    except TLError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return e.exit_code
    args.out.mkdir(parents=True, exist_ok=True)
    name = res["dataset"]
    (args.out / f"{name}.json").write_text(json.dumps(res))
    (args.out / f"{name}.md").write_text(markdown_table([res]))
    ru = max(res["vs_best"].items(), key=lambda kv: kv[1]["difference"])
    _log(f"{name}: best {res['best']} {_pct(res['accuracy'][res['best']])}, runner-up {ru[0]} "
         f"{100 * ru[1]['difference']:+.1f} (SE {100 * ru[1]['se']:.1f}), "
         f"{res['seconds'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
