"""benchmarks/sweep_e2e.py: the per-kind breakdown of the two sides' trial seconds."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("sweep_e2e", REPO / "benchmarks" / "sweep_e2e.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench
_spec.loader.exec_module(bench)


def test_breakdown_sums_each_kind_and_its_ratio() -> None:
    rows = [{"freeze_block": 18, "schedule": "at_once", "tltune_s": 0.5, "naive_s": 50.0},
            {"freeze_block": 18, "schedule": "gradual", "tltune_s": 0.5, "naive_s": 30.0},
            {"freeze_block": 9, "schedule": "at_once", "tltune_s": 10.0, "naive_s": 40.0},
            {"freeze_block": 9, "schedule": "gradual", "tltune_s": 20.0, "naive_s": 90.0},
            {"freeze_block": 12, "schedule": "gradual", "tltune_s": 10.0, "naive_s": 30.0},
            {"freeze_block": 0, "schedule": "at_once", "tltune_s": 40.0, "naive_s": 60.0}]
    b = bench.breakdown(rows, n_blocks=18)
    assert set(b) == {"head only", "partial at once", "partial gradual", "whole network"}
    assert b["whole network"] == {"trials": 1, "tltune_s": 40.0, "naive_s": 60.0, "ratio": 1.5}
    assert b["head only"] == {"trials": 2, "tltune_s": 1.0, "naive_s": 80.0, "ratio": 80.0}
    assert b["partial at once"]["ratio"] == pytest.approx(4.0)
    assert b["partial gradual"] == {"trials": 2, "tltune_s": 30.0, "naive_s": 120.0, "ratio": 4.0}
