"""benchmarks/advice_fit.py: the rule it fits separates what the ground truth separates,
each held-out call comes from a rule fitted without that dataset, and the stated
confidence is the held-out hit rate of its side."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("advice_fit", REPO / "benchmarks" / "advice_fit.py")
fit = importlib.util.module_from_spec(_spec)
sys.modules["advice_fit"] = fit  # its dataclasses look their module up
_spec.loader.exec_module(fit)

LABELS = {"feature_extractor": "feature_extractor", "partial_half": "partial_b9",
          "partial_three_quarters": "partial_b14", "full_finetune": "full_finetune"}


def case(name: str, headroom: float, fe: float, ft: float, se: float = 0.005) -> "fit.Case":
    acc = {"feature_extractor": fe, "partial_b9": ft - 0.01, "partial_b14": ft - 0.02, "full_finetune": ft}
    best = max(acc, key=acc.get)
    x = {"headroom": headroom, "similarity": 0.5, "gain": 0.5, "late_gain": float("nan")}
    return fit.Case(name, x, acc, {k: se for k in acc if k != best}, best, LABELS)


# fine-tuning wins by 5 points wherever the probe's error is above 0.1, loses by 2 below
CASES = [case("a", 0.02, 0.95, 0.93), case("b", 0.05, 0.92, 0.90), case("c", 0.08, 0.90, 0.88),
         case("d", 0.15, 0.80, 0.85), case("e", 0.20, 0.70, 0.75), case("f", 0.30, 0.60, 0.65)]


def test_fit_finds_the_separating_threshold_and_option() -> None:
    rule, total = fit.fit(CASES)
    assert total == 0.0
    assert (rule.feature, rule.side, rule.finetune) == ("headroom", 1, "full_finetune")
    assert 0.08 < rule.threshold < 0.15
    assert [fit.call(rule, c) for c in CASES] == ["feature_extractor"] * 3 + ["full_finetune"] * 3


def test_lodo_calls_come_from_rules_fitted_without_the_held_out_dataset() -> None:
    rows = fit.lodo(CASES)
    assert [r["dataset"] for r in rows] == list("abcdef") and all(r["hit"] for r in rows)
    assert all(r["regret_points"] == 0.0 for r in rows)
    # a dataset that contradicts the others is missed when held out (no rule can know it)
    odd = CASES + [case("g", 0.25, 0.82, 0.80)]
    g = next(r for r in fit.lodo(odd) if r["dataset"] == "g")
    assert g["call"] == "full_finetune" and g["regret_points"] == pytest.approx(2.0) and not g["hit"]
    final = fit.confident(fit.fit(odd)[0], odd, fit.lodo(odd))
    assert final.confidence_fe == pytest.approx((3 + 1) / (3 + 2))
    assert final.confidence_finetune < final.confidence_fe


def test_a_call_within_one_se_is_a_hit() -> None:
    c = case("n", 0.1, 0.80, 0.83, se=0.04)  # 3 points behind, SE 4 points
    assert c.regret("feature_extractor") == pytest.approx(3.0) and c.hit("feature_extractor")
    assert not case("m", 0.1, 0.80, 0.83, se=0.01).hit("feature_extractor")
