"""benchmarks/scenario_truth.py (harness v3): what it summarises from a scoreboard
and the table it prints."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from tests.conftest import REPO
from tuner.verify import Option, Scoreboard

_spec = importlib.util.spec_from_file_location("scenario_truth", REPO / "benchmarks" / "scenario_truth.py")
truth = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(truth)


def _board() -> Scoreboard:
    rng = np.random.default_rng(0)
    y = np.zeros(200, int)
    base = rng.random((2, 200))
    correct = {"feature_extractor": (base < 0.80).astype(float),
               "partial_b9": (base < 0.86).astype(float),  # right wherever FE is, and more
               "full_finetune": (base < 0.83).astype(float)}
    opts = (Option("feature_extractor", "feature_extractor", 18),
            Option("partial_b9", "partial_freeze", 9), Option("full_finetune", "full_finetune", 0))
    return Scoreboard(opts, y, correct, ())


def test_summary_names_the_best_and_pairs_every_option_with_it() -> None:
    s = truth.summarise(_board())
    assert s["best"] == "partial_b9"
    assert set(s["vs_best"]) == {"feature_extractor", "full_finetune"}
    fe = s["vs_best"]["feature_extractor"]
    assert fe["difference"] == pytest.approx(s["accuracy"]["feature_extractor"] - s["accuracy"]["partial_b9"],
                                             abs=1e-4) and fe["difference"] < 0
    assert fe["se"] > 0 and fe["n_images"] == 200 and fe["repeats"] == 2
    assert len(s["repeat_accuracy"]["partial_b9"]) == 2


def test_table_has_one_row_per_dataset_with_the_runner_up() -> None:
    res = {"dataset": "toy", "seeds": [0, 1], "data": {"n_train": [400, 400], "n_test": 200},
           "seconds": 60.0, "command": "python benchmarks/scenario_truth.py toy",
           **truth.summarise(_board())}
    md = truth.markdown_table([res])
    row = next(line for line in md.splitlines() if line.startswith("| toy"))
    ru = res["vs_best"]["full_finetune"]
    assert "partial_b9" in row and f"full_finetune: {100 * ru['difference']:+.1f}" in row
    assert "`python benchmarks/scenario_truth.py toy`" in md
