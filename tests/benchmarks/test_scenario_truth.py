"""benchmarks/scenario_truth.py: which runs it plans, how it scores the call (regret)."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import pytest

from advisor import advise
from advisor.backbones import Boundary
from advisor.recommend import FreezePlan
from tests.conftest import REPO, write_image_folder

_spec = importlib.util.spec_from_file_location("scenario_truth", REPO / "benchmarks" / "scenario_truth.py")
truth = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(truth)

BOUNDS = [Boundary("input", -1, 0, 18)] + [Boundary(f"b{k}", 10 * k, k, 18) for k in range(1, 19)]


def run(label: str, scenario: str, acc: float, fb: int = 0) -> dict:
    return {"label": label, "scenario": scenario, "val_accuracy": acc, "freeze_block": fb}


def test_regret_judges_partial_freeze_at_the_advice_boundary() -> None:
    runs = [run("feature_extractor", "feature_extractor", 0.80, 18),
            run("partial@advice", "partial_freeze", 0.84, 13),
            run("partial@shallower", "partial_freeze", 0.90, 8),
            run("partial@deeper", "partial_freeze", 0.82, 17),
            run("full_finetune", "full_finetune", 0.86),
            run("from_scratch", "from_scratch", 0.50, -1)]
    r = truth.regret(runs, "partial_freeze")
    assert r["family_accuracy"]["partial_freeze"] == 0.90
    assert r["best_scenario"] == "partial_freeze" and r["recommended_accuracy"] == 0.84
    assert r["regret_points"] == pytest.approx(6.0)
    fe = truth.regret(runs, "feature_extractor")
    assert fe["regret_points"] == pytest.approx(10.0)
    assert truth.regret(runs, "from_scratch")["regret_points"] == pytest.approx(40.0)


@pytest.mark.slow
def test_planned_runs_cover_every_scenario_and_three_partial_boundaries(tmp_path: Path) -> None:
    root = write_image_folder(tmp_path / "ds", {"a": 8, "b": 8}, size=40)
    res = advise(root, weights="none", input_size=64, cache_dir=None)

    def at(block: int):
        a = dataclasses.replace(res.advice, scenario="partial_freeze",
                                freeze=FreezePlan.at(BOUNDS[block]))
        return dataclasses.replace(res, advice=a)

    plan = truth.planned_runs(at(10), BOUNDS)
    assert [(label, p.code) for label, _, p in plan] == [
        ("feature_extractor", 18), ("partial@advice", 10), ("partial@shallower", 5),
        ("partial@deeper", 15), ("full_finetune", 0), ("from_scratch", -1)]
    assert [p.scenario for _, _, p in plan] == [s for _, s, _ in plan]
    assert [p.layer_label for _, _, p in plan] == ["b18", "b10", "b5", "b15", "input",
                                                   "none (random init)"]
    clipped = truth.planned_runs(at(2), BOUNDS)  # b - 5 clips to block 1
    assert [p.code for label, _, p in clipped if label.startswith("partial")] == [2, 1, 7]
    edge = truth.planned_runs(at(1), BOUNDS, spread=5)  # shallower would repeat block 1
    assert [label for label, _, _ in edge].count("partial@shallower") == 0
