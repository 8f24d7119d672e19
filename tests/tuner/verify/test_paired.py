"""Paired comparisons: the splits never let a scored image choose anything, every image
is scored once per repeat when cross-fitting, the option grid ignores any advice, and
the paired difference and its standard error are what the formulas say."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from advisor.backbones import Boundary
from tests.conftest import write_image_folder
from tuner.verify import (SELECT_MAX, Option, PilotBudget, Scoreboard, ScoredRun, crossfit_splits,
                          grid_options, holdout_splits)

BOUNDS = [Boundary("input", -1, 0, 18)] + [Boundary(f"b{k}", 10 * k, k, 18) for k in range(1, 19)]
SMALL = PilotBudget(input_size=24, max_train=None)


def _board(correct: dict[str, list[list[float]]]) -> Scoreboard:
    opts = tuple(Option(k, "feature_extractor", 18) for k in correct)
    n = len(next(iter(correct.values()))[0])
    return Scoreboard(opts, np.zeros(n, int), {k: np.array(v, float) for k, v in correct.items()}, ())


def test_grid_is_fixed_and_clipped() -> None:
    labels = [(o.label, o.freeze_block) for o in grid_options(BOUNDS)]
    assert labels == [("feature_extractor", 18), ("partial_b5", 5), ("partial_b9", 9),
                      ("partial_b14", 14), ("full_finetune", 0), ("from_scratch", -1)]
    two = [Boundary("input", -1, 0, 2), Boundary("b1", 10, 1, 2), Boundary("b2", 20, 2, 2)]
    few = grid_options(two, fractions=(0.1, 0.5, 0.9), scratch=False)
    assert [o.freeze_block for o in few] == [2, 1, 0]  # every fraction clips to block 1


def test_paired_difference_and_its_standard_error() -> None:
    # two repeats over 4 images; a is right on 3 and 4 of them, b on 2 and 2
    board = _board({"a": [[1, 1, 1, 0], [1, 1, 1, 1]], "b": [[1, 0, 1, 0], [0, 1, 1, 0]]})
    d = board.difference("a", "b")
    per_image = np.array([0.5, 0.5, 0.0, 0.5])  # mean over repeats of a - b
    per_repeat = np.array([0.25, 0.5])  # mean over images of a - b, per repeat
    assert d.difference == pytest.approx(0.375) == pytest.approx(board.accuracy("a") - board.accuracy("b"))
    assert d.se_images == pytest.approx(per_image.std(ddof=1) / 2, abs=1e-5)
    assert d.se_runs == pytest.approx(per_repeat.std(ddof=1) / math.sqrt(2), abs=1e-5)
    assert d.se == pytest.approx(math.hypot(d.se_images, d.se_runs), abs=1e-5)
    assert (d.n_images, d.repeats, d.discordant) == (4, 2, pytest.approx(3 / 8))
    assert board.difference("b", "a").difference == pytest.approx(-0.375)
    assert board.best() == "a"
    # the same difference in every repeat: no training noise
    steady = _board({"a": [[1, 1, 1, 0], [1, 1, 0, 1]], "b": [[1, 1, 0, 0], [1, 1, 0, 0]]})
    assert steady.difference("a", "b").se_runs == 0.0
    # images not scored in a repeat (NaN) are left out of the pairing
    part = _board({"a": [[1, np.nan, 1]], "b": [[0, 1, 1]]})
    assert part.difference("a", "b").n_images == 2


def test_scoreboard_round_trips_through_json() -> None:
    import json

    board = _board({"a": [[1, np.nan, 0]], "b": [[0, 1, 1]]})
    board = Scoreboard(board.options, board.y, board.correct,
                       (ScoredRun("a", 0, 0, 0, 10, 3, 3, 0.5, 0.5, 4, 1.0),))
    back = Scoreboard.from_dict(json.loads(json.dumps(board.to_dict())))
    assert back.labels == board.labels and back.runs == board.runs
    assert np.isnan(back.correct["a"][0, 1]) and back.accuracy("b") == pytest.approx(2 / 3)


@pytest.mark.slow
def test_holdout_test_images_are_fixed_and_choose_nothing(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    write_image_folder(root, {"a": 30, "b": 20}, size=24, split="train")
    write_image_folder(root, {"a": 6, "b": 6}, size=24, split="val", seed=1)
    splits = holdout_splits(root, SMALL, [0, 1])
    assert [s.seed for s in splits] == [0, 1]
    for s in splits:
        d = s.data
        assert d.files_test == splits[0].data.files_test and len(d.y_test) == 12
        assert all(f.startswith("val/") for f in d.files_test)
        assert not set(d.files_train) & set(d.files_val)  # selection is not trained on
        assert len(d.files_train) + len(d.files_val) == 50 and len(d.files_val) == 10
        assert np.array_equal(s.test_rows, np.arange(12))
    assert set(splits[0].data.files_val) != set(splits[1].data.files_val)  # drawn per seed
    capped = holdout_splits(root, PilotBudget(input_size=24, max_train=20), [0])[0].data
    assert len(capped.y_train) == 20 and len(capped.y_val) == 10 <= SELECT_MAX


@pytest.mark.slow
def test_crossfit_scores_every_image_once_per_seed(tmp_path: Path) -> None:
    root = write_image_folder(tmp_path / "ds", {"a": 12, "b": 9}, size=24)
    splits, y, files = crossfit_splits(root, SMALL, [0, 1], 3)
    assert len(splits) == 6 and len(y) == 21
    for seed in (0, 1):
        mine = [s for s in splits if s.seed == seed]
        rows = np.concatenate([s.test_rows for s in mine])
        assert sorted(rows) == list(range(21))  # each image tested exactly once
        for s in mine:
            tested = {files[i] for i in s.test_rows}
            assert tested == set(s.data.files_test)
            assert not tested & (set(s.data.files_train) | set(s.data.files_val))
            assert np.array_equal(y[s.test_rows], s.data.y_test)
