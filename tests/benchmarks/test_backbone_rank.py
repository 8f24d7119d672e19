"""benchmarks/backbone_rank.py: the paired difference is counted from the images each
backbone got wrong, and the advisor's top agrees when best or within 1 binomial SE."""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("backbone_rank", REPO / "benchmarks" / "backbone_rank.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def sweep(acc: float, wrong: set[str], n: int = 100) -> dict:
    return {"test_accuracy": acc, "n_test": n, "se": bench.binomial_se(acc, n), "wrong": wrong}


def test_paired_difference_from_the_wrong_sets() -> None:
    a, b = {"x1", "x2"}, {"x2", "x3", "x4", "x5"}  # a right on x3..x5, b right on x1
    diff, se = bench.paired(a, b, 10)
    assert diff == pytest.approx(0.2) and se == pytest.approx((0.4 - 0.04) ** 0.5 / 10 ** 0.5)
    assert bench.paired(a, a, 10) == (0.0, 0.0)


def test_verdict_agrees_when_best_or_within_one_se() -> None:
    wide, thin = "mobilenet_v2", "mobilenet_v2_035"
    sweeps = {wide: sweep(0.90, {f"w{i}" for i in range(10)}),
              thin: sweep(0.80, {f"w{i}" for i in range(20)})}
    v = bench.verdict([wide, thin], sweeps)
    assert v["agrees"] and v["advisor_top"] == v["test_best"] == wide
    assert v["paired_diff_top_minus_other"] == pytest.approx(0.1)
    assert not bench.verdict([thin, wide], sweeps)["agrees"]  # 10 points: 3 SE below
    close = {wide: sweeps[wide], thin: sweep(0.88, {f"w{i}" for i in range(12)})}
    v = bench.verdict([thin, wide], close)  # 2 points below, SE 3 points
    assert v["agrees"] and v["test_best"] == wide and v["gap"] == pytest.approx(0.02)
