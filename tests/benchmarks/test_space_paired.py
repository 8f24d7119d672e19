"""benchmarks/space_paired.py: the paired difference is counted from each sweep's
misclassified images, and the verdict over seeds combines the per-seed SEs with the
spread between seeds."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("space_paired", REPO / "benchmarks" / "space_paired.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

N = 10


def result(wrong: set[str], n: int = N) -> dict:
    """The parts of a results.json the summary reads: a finished sweep, no trials."""
    return {"status": "done", "best": None, "trials": [], "config": {}, "timings": {"total_s": 1.0},
            "data": {"counts": {"val": {"a": 5, "b": 5}}},
            "final": {"n_test": n, "test_accuracy": 1 - len(wrong) / n,
                      "misclassified": [{"path": p} for p in sorted(wrong)]}}


def write_run(root: Path, name: str, wrong: set[str]) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "results.json").write_text(json.dumps(result(wrong)))


def test_paired_difference_from_the_misclassified_images() -> None:
    new, old = result({"x1", "x2"}), result({"x2", "x3", "x4", "x5"})  # new right on x3..x5
    diff, se, n = bench.paired(new, old)
    assert n == N and diff == pytest.approx(0.2)
    assert se == pytest.approx(math.sqrt((0.4 - 0.04) / N))
    assert bench.paired(new, new)[:2] == (0.0, 0.0)


def test_the_verdict_over_seeds_fails_below_minus_one_se(tmp_path: Path) -> None:
    # seed 0: new wrong on 3 more images; seed 1: on 2 more; never right where classic is wrong
    write_run(tmp_path, "ds_classic_s0", set())
    write_run(tmp_path, "ds_new_s0", {"a", "b", "c"})
    write_run(tmp_path, "ds_classic_s1", set())
    write_run(tmp_path, "ds_new_s1", {"a", "b"})
    v = bench.summarize(tmp_path)["verdicts"]["ds"]
    assert v["seeds"] == 2 and v["mean_diff"] == pytest.approx(-0.25)
    within = (0.3 * 0.7 / N + 0.2 * 0.8 / N) / 4  # each seed's SE^2 over 2^2
    between = ((-0.3 + 0.25) ** 2 + (-0.2 + 0.25) ** 2) / 1 / 2
    assert v["se"] == pytest.approx(math.sqrt(within + between))
    assert not v["pass"]
    # the same sweeps with the spaces swapped: a gain passes
    for s in (0, 1):
        (tmp_path / f"ds_new_s{s}").rename(tmp_path / "tmp")
        (tmp_path / f"ds_classic_s{s}").rename(tmp_path / f"ds_new_s{s}")
        (tmp_path / "tmp").rename(tmp_path / f"ds_classic_s{s}")
    assert bench.summarize(tmp_path)["verdicts"]["ds"]["pass"]


def test_an_unfinished_sweep_is_left_out(tmp_path: Path) -> None:
    write_run(tmp_path, "ds_classic_s0", set())
    (tmp_path / "ds_new_s0").mkdir()
    (tmp_path / "ds_new_s0" / "results.json").write_text(json.dumps({**result(set()),
                                                                    "status": "searched"}))
    assert bench.summarize(tmp_path)["rows"] == []
