"""Fit the advice's decision the honest way: leave one dataset out (LODO), scored on
the v3 ground truth (``benchmarks/scenario_truth.py``).

    python benchmarks/advice_fit.py --truth DIR_V3 --advice DIR_ADVICE [--json OUT]

``DIR_ADVICE/<dataset>.json`` is ``tladvise DATASET --json`` at its defaults (224 px,
the whole dataset); ``DIR_V3/<dataset>.json`` the harness result of the same dataset.

The rule family (docs/ground-truth.md): *if ``x`` is on the low side of ``tau``, call the
feature extractor, else fine-tune with option ``f``*, where ``x`` is one measured
quantity of the advice (:data:`FEATURES`), ``tau`` a threshold and ``f`` one of the
fine-tuning options the harness trains (partial at 1/2 or 3/4 of the blocks, full
fine-tune). For each held-out dataset, ``(x, side, tau, f)`` are chosen on the other
datasets alone (least total regret; ties: fewer misses, then more calls of the
cheapest option, the feature extractor, then the widest gap around ``tau``), and then applied to the held-out one. A call is a *hit* when its regret is at most
``max(1 point, 1 paired SE)`` (the issue's yardstick). The stated confidence of a
held-out call is the hit rate, on the other datasets, of calls on the same side of
their own fitted rule (Laplace-smoothed): the calibration table compares it with the
held-out outcome.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from advisor import AdviceResult  # noqa: E402
from advisor.recommend import (DECISION_FEATURES, FINETUNE_OPTIONS, DecisionRule,  # noqa: E402
                               decision_feature)


FEATURES = tuple(DECISION_FEATURES)
FINETUNE = tuple(FINETUNE_OPTIONS)


@dataclass(frozen=True)
class Case:
    name: str
    x: dict  # feature -> value
    acc: dict  # option -> mean test accuracy
    se: dict  # option -> paired SE of its difference from the best
    best: str
    labels: dict  # FINETUNE name / "feature_extractor" -> harness option label

    def regret(self, option: str) -> float:
        lab = self.labels[option]
        return 100 * (self.acc[self.best] - self.acc[lab])

    def hit(self, option: str) -> bool:
        lab = self.labels[option]
        return self.regret(option) <= max(1.0, 100 * self.se.get(lab, 0.0))


def load_case(truth: Path, advice: Path) -> Case:
    t = json.loads(truth.read_text())
    m = AdviceResult.from_dict(json.loads(advice.read_text())).chosen
    partial = sorted((o["freeze_block"], o["label"]) for o in t["scoreboard"]["options"]
                     if o["scenario"] == "partial_freeze")
    n = 18

    def nearest(frac: float) -> str:
        return min(partial, key=lambda p: abs(p[0] - frac * n))[1]

    labels = {"feature_extractor": "feature_extractor", "partial_half": nearest(0.5),
              "partial_three_quarters": nearest(0.75), "full_finetune": "full_finetune"}
    se = {k: v["se"] for k, v in t["vs_best"].items()}
    return Case(t["dataset"], {k: decision_feature(m, k) for k in FEATURES}, t["accuracy"], se,
                t["best"], labels)


def call(rule: DecisionRule, c: Case) -> str:
    """``rule``'s call on ``c`` (a feature that was not measured counts as fine-tune)."""
    return "feature_extractor" if rule.feature_extractor_at(c.x[rule.feature]) else rule.finetune


def fit(cases: list[Case]) -> tuple[DecisionRule, float]:
    """The rule of least total regret on ``cases`` (ties: fewer misses, then more calls
    of the cheaper feature extractor, then the widest gap around tau)."""
    best, best_key = None, None
    for feat in FEATURES:
        xs = sorted({c.x[feat] for c in cases if not math.isnan(c.x[feat])})
        if not xs:
            continue
        cuts = [xs[0] - 1.0] + [(a + b) / 2 for a, b in zip(xs, xs[1:])] + [xs[-1] + 1.0]
        gaps = [math.inf] + [b - a for a, b in zip(xs, xs[1:])] + [math.inf]
        spread = (xs[-1] - xs[0]) or 1.0
        for tau, gap in zip(cuts, gaps):
            for side in (1, -1):
                for ft in FINETUNE:
                    r = DecisionRule(feat, side, tau, ft)
                    calls = [call(r, c) for c in cases]
                    total = sum(c.regret(k) for c, k in zip(cases, calls))
                    n_fe = sum(k == "feature_extractor" for k in calls)
                    misses = sum(not c.hit(k) for c, k in zip(cases, calls))
                    key = (round(total, 6), misses, -n_fe, -min(gap / spread, 1.0))
                    if best_key is None or key < best_key:
                        best, best_key = r, key
    return best, best_key[0]


def lodo(cases: list[Case]) -> list[dict]:
    rows = []
    for i, held in enumerate(cases):
        rest = cases[:i] + cases[i + 1:]
        rule, in_regret = fit(rest)
        k = call(rule, held)
        fe = k == "feature_extractor"
        same_side = [c for c in rest if (call(rule, c) == "feature_extractor") == fe]
        hits = sum(c.hit(call(rule, c)) for c in same_side)
        conf = (hits + 1) / (len(same_side) + 2)
        lab = held.labels[k]
        rows.append({"dataset": held.name, "rule": rule.describe(), "call": k, "option": lab,
                     "best": held.best, "regret_points": round(held.regret(k), 2),
                     "se_points": round(100 * held.se.get(lab, 0.0), 2), "hit": held.hit(k),
                     "confidence": round(conf, 3), "in_sample_regret_of_rest": round(in_regret, 2),
                     "x": {k: round(v, 4) for k, v in held.x.items()}})
    return rows


def confident(rule: DecisionRule, cases: list[Case], rows: list[dict]) -> DecisionRule:
    """``rule`` with its stated confidence per side: the held-out hit rate of the LODO
    calls on that side (Laplace-smoothed), and where it came from."""
    from dataclasses import replace

    def rate(fe: bool) -> float:
        side = [r for r in rows if (r["call"] == "feature_extractor") == fe]
        return round((sum(r["hit"] for r in side) + 1) / (len(side) + 2), 3)

    names = ", ".join(c.name for c in cases)
    return replace(rule, confidence_fe=rate(True), confidence_finetune=rate(False),
                   source=f"benchmarks/advice_fit.py on {names} (harness v3); confidence: "
                          "leave-one-dataset-out hit rate per side, Laplace-smoothed")


def markdown(rows: list[dict], final: DecisionRule, final_regret: float) -> str:
    out = ["| dataset | held-out rule (fitted on the other datasets) | call | best option "
           "| regret (points) | paired SE | hit | stated confidence |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['dataset']} | {r['rule']} | {r['option']} | {r['best']} "
                   f"| {r['regret_points']:.1f} | {r['se_points']:.1f} | {'yes' if r['hit'] else 'no'} "
                   f"| {r['confidence']:.2f} |")
    n_hit = sum(r["hit"] for r in rows)
    mean = sum(r["regret_points"] for r in rows) / len(rows)
    out += ["", f"Leave-one-dataset-out: {n_hit} of {len(rows)} calls within max(1 point, 1 SE); "
                f"mean regret {mean:.2f} points.",
            f"Rule fitted on all {len(rows)}: {final.describe()} (in-sample total regret "
            f"{final_regret:.2f} points).", "",
            "| stated confidence | calls | hits (observed) |", "|---|---|---|"]
    bins = [(0.0, 0.6), (0.6, 0.8), (0.8, 1.01)]
    for lo, hi in bins:
        sel = [r for r in rows if lo <= r["confidence"] < hi]
        if sel:
            stated = sum(r["confidence"] for r in sel) / len(sel)
            out.append(f"| {lo:.1f}..{min(hi, 1):.1f} (mean {stated:.2f}) | {len(sel)} "
                       f"| {sum(r['hit'] for r in sel)} ({sum(r['hit'] for r in sel) / len(sel):.2f}) |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--truth", type=Path, required=True)
    ap.add_argument("--advice", type=Path, required=True)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    cases = []
    for t in sorted(args.truth.glob("*.json")):
        a = args.advice / t.name
        if not a.exists():
            print(f"skipping {t.stem}: no advice file {a}", file=sys.stderr)
            continue
        cases.append(load_case(t, a))
    if len(cases) < 3:
        print(f"error: need at least 3 datasets with both files, found {len(cases)}", file=sys.stderr)
        return 2
    rows = lodo(cases)
    final, final_regret = fit(cases)
    final = confident(final, cases, rows)
    print(markdown(rows, final, final_regret), end="")
    print(f"\nFITTED_RULE = {final!r}")
    if args.json:
        args.json.write_text(json.dumps({"lodo": rows, "final_rule": final.to_dict(),
                                         "final_in_sample_regret": final_regret}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
