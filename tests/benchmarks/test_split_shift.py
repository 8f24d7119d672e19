"""benchmarks/split_shift.py: its rows are the check's own numbers."""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("split_shift", REPO / "benchmarks" / "split_shift.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.mark.shared
def test_quick_rows_match_the_findings(shared_data, imagenet_weights, tmp_path) -> None:
    r = bench.measure_dataset(shared_data / "chest_xray", 96, 80, cache_dir=tmp_path)
    rows = r["splits"]["val"]
    assert set(rows) == {"NORMAL", "PNEUMONIA"}
    for v in rows.values():
        assert 0.0 <= v["auc"] <= 1.0 and v["null_sd"] > 0 and v["n_train"] >= 5
    reported = sorted(c for c, v in rows.items() if v["reported"])
    assert reported == sorted(c for f in r["findings"] for c in f["classes"])
