"""benchmarks/vs_tutorial.py: the paired comparison, its targets and the tutorial's model."""

from __future__ import annotations

import importlib.util
import math
import sys

import numpy as np
import pytest

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("vs_tutorial", REPO / "benchmarks" / "vs_tutorial.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # its dataclasses look their module up
_spec.loader.exec_module(bench)


def test_paired_difference_and_its_se() -> None:
    recipe = np.array([1, 1, 0, 0, 1, 0, 1, 1, 0, 1])
    tltune = np.array([1, 1, 1, 0, 1, 1, 1, 0, 1, 1])
    c = bench.compare(recipe, tltune, recipe_s=100.0, tltune_s=150.0)
    d = tltune - recipe
    assert c.n == 10 and c.recipe_acc == pytest.approx(0.6) and c.tltune_acc == pytest.approx(0.8)
    assert c.recipe_se == pytest.approx(math.sqrt(0.6 * 0.4 / 10))
    assert c.diff == pytest.approx(0.2) and c.diff_se == pytest.approx(d.std(ddof=1) / math.sqrt(10))
    assert c.ratio == pytest.approx(1.5)


def test_targets() -> None:
    same = np.ones(50)
    worse = same.copy()
    worse[:10] = 0
    # tltune 10 points better, far beyond its SE: the time target does not bind
    c = bench.compare(worse, same, recipe_s=10.0, tltune_s=100.0)
    assert c.accuracy_ok and not c.time_applies and c.time_ok
    # tltune 10 points worse: the accuracy target fails; the time target binds
    c = bench.compare(same, worse, recipe_s=10.0, tltune_s=30.0)
    assert not c.accuracy_ok and c.time_applies and not c.time_ok
    # a tie: 2x the recipe's time passes, more fails
    assert bench.compare(same, same, 10.0, 20.0).time_ok
    assert not bench.compare(same, same, 10.0, 20.5).time_ok
    lines = bench.report_lines("toy", bench.compare(same, same, 10.0, 20.5))
    assert lines[-2].endswith("PASS") and lines[-1].endswith("FAIL")
    with pytest.raises(ValueError):
        bench.compare(same, same[:-1], 1.0, 1.0)


def test_quick_options() -> None:
    a = bench.parse(["--quick"])
    assert a.datasets == ["hymenoptera"] and a.trials == 2 and a.size == 96
    assert (a.head_epochs, a.fine_tune_epochs, a.max_images) == (1, 1, 120)
    assert bench.parse(["--max-images", "0"]).max_images is None


@pytest.mark.shared
def test_recipe_model_is_the_tutorials(imagenet_weights) -> None:
    from advisor.backbones import WeightsSource

    model, base = bench.recipe_model(3, 96, WeightsSource("path", imagenet_weights))
    assert not base.trainable and len(base.layers) == 154  # the tutorial's count
    assert model.output_shape == (None, 3)
    names = [type(layer).__name__ for layer in model.layers]
    assert "GlobalAveragePooling2D" in names and "Dropout" in names
