"""The pilot budget: its data split (val folder or hold-out, training cap, test/ unused),
the fixed learning-rate rule and the partial-freeze boundary of an advice."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from advisor import AdviceResult, advise
from advisor.errors import ConfigError
from advisor.recommend import FITTED_RULE, LR_RANGES, FreezePlan, boundary_at_fraction
from tests.conftest import write_image_folder
from tuner.verify._pilot import (
    LEARNING_RATES,
    PilotBudget,
    for_advice,
    freeze_plan_of,
    partial_boundary,
    pilot_data,
    planned_epochs,
    scenario_params,
)

pytestmark = pytest.mark.slow

SMALL = PilotBudget(input_size=24, max_train=None)


def plan(code: int, n: int = 18) -> FreezePlan:
    return FreezePlan.from_code(code, n)


@pytest.fixture(scope="module")
def splits(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pilot") / "ds"
    write_image_folder(root, {"a": 12, "b": 6}, size=24, split="train")
    write_image_folder(root, {"a": 4, "b": 3}, size=24, seed=1, split="val")
    write_image_folder(root, {"a": 2, "b": 2}, size=24, seed=2, split="test")
    return root


def test_val_folder_is_validation_and_all_train_images_train(splits: Path) -> None:
    d = pilot_data(splits, SMALL, seed=0)
    assert d.counts("val") == {"a": 4, "b": 3}
    assert all(f.startswith("val/") for f in d.files_val)
    # the tuner's test hold-out of train is given back; test/ is never used
    assert d.counts("train") == {"a": 12, "b": 6}
    assert all(f.startswith("train/") for f in d.files_train)
    assert len(d.y_test) == 0 and len(d.x_train) == len(d.y_train) == 18
    assert d.split_source["test"] == "folder test/, unused"


def test_training_cap_is_stratified_and_seeded(splits: Path) -> None:
    capped = dataclasses.replace(SMALL, max_train=9)
    d = pilot_data(splits, capped, seed=0)
    assert d.counts("train") == {"a": 6, "b": 3}
    assert d.counts("val") == {"a": 4, "b": 3}  # the cap never touches validation
    again = pilot_data(splits, capped, seed=0)
    other = pilot_data(splits, capped, seed=1)
    assert again.files_train == d.files_train and again.fingerprint == d.fingerprint
    assert other.files_train != d.files_train and other.fingerprint != d.fingerprint
    full = pilot_data(splits, SMALL, seed=0)
    assert full.fingerprint != d.fingerprint


def test_flat_layout_holds_out_a_stratified_fifth(tmp_path: Path) -> None:
    root = write_image_folder(tmp_path / "flat", {"x": 10, "y": 15}, size=24)
    d = pilot_data(root, SMALL, seed=0)
    assert d.counts("val") == {"x": 2, "y": 3}
    assert d.counts("train") == {"x": 8, "y": 12}
    assert not set(d.files_train) & set(d.files_val)
    assert "20%" in d.split_source["val"] and d.split_source["test"].startswith("none")


def test_max_images_subsamples_before_splitting(splits: Path) -> None:
    d = pilot_data(splits, SMALL, seed=0, max_images=16)
    assert len(d.y_train) + len(d.y_val) <= 16
    assert set(d.counts("val")) == {"a", "b"} and min(d.counts("val").values()) >= 1


def test_learning_rates_are_geometric_middles_and_same_head_rule() -> None:
    assert {h for h, _ in LEARNING_RATES.values()} == {math.sqrt(1e-3 * 1e-2)}
    assert LEARNING_RATES["partial_freeze"][1] == pytest.approx(math.sqrt(1e-5 * 3e-4))
    assert LEARNING_RATES["full_finetune"][1] == pytest.approx(math.sqrt(1e-5 * 1e-4))
    # read from the advisor's one table, not copied
    assert set(LEARNING_RATES) == set(LR_RANGES)
    assert LEARNING_RATES["partial_freeze"][1] == LR_RANGES["partial_freeze"][1].middle
    old = PilotBudget(epochs=5, patience=1, head_epochs=None)
    p = scenario_params("full_finetune", plan(0), old)
    assert (p.freeze_block, p.epochs, p.patience, p.augmentation) == (0, 5, 1, "light")
    assert p.head_epochs is None


def test_budget_drops_flips_where_the_advice_says_so(advice) -> None:
    a = advice.advice
    no = dataclasses.replace(advice, advice=dataclasses.replace(
        a, augmentation=dataclasses.replace(a.augmentation, flip="none")))
    assert for_advice(SMALL, no).augmentation == "light-noflip"
    assert for_advice(for_advice(SMALL, no), no).augmentation == "light-noflip"
    assert for_advice(dataclasses.replace(SMALL, augmentation="off"), no).augmentation == "off"
    yes = dataclasses.replace(advice, advice=dataclasses.replace(
        a, augmentation=dataclasses.replace(a.augmentation, flip="horizontal")))
    assert for_advice(SMALL, yes) is SMALL


def test_planned_epochs_counts_both_phases() -> None:
    b = PilotBudget(epochs=6, head_epochs=30, finetune_epochs=4)
    assert planned_epochs(scenario_params("feature_extractor", plan(18), b), 18) == 30
    assert planned_epochs(scenario_params("partial_freeze", plan(9), b), 18) == 34
    assert planned_epochs(scenario_params("from_scratch", plan(-1), b), 18) == 6
    old = dataclasses.replace(b, head_epochs=None)
    assert planned_epochs(scenario_params("partial_freeze", plan(9), old), 18) == 6


def test_default_budget_converges_the_head_then_fine_tunes() -> None:
    b = PilotBudget()
    assert (b.head_epochs, b.head_patience, b.finetune_epochs, b.patience, b.epochs) == (30, 5, 4, 4, 6)
    for scenario, block in (("feature_extractor", 18), ("partial_freeze", 9), ("full_finetune", 0)):
        p = scenario_params(scenario, plan(block), b)
        assert (p.head_epochs, p.head_patience, p.epochs, p.patience) == (30, 5, 4, 4)
        assert p.freeze_block == block
    p = scenario_params("from_scratch", plan(-1), b)  # no head phase: end to end
    assert (p.head_epochs, p.epochs, p.patience) == (None, 6, 4) and p.freeze_block == -1
    with pytest.raises(ConfigError, match="Unknown scenario"):
        scenario_params("linear_probe", plan(0), SMALL)


@pytest.fixture(scope="module")
def advice(tmp_path_factory):
    root = write_image_folder(tmp_path_factory.mktemp("adv") / "ds", {"r": 10, "g": 10, "b": 10},
                              size=40)
    return advise(root, weights="none", input_size=64, cache_dir=None)


@pytest.fixture(scope="module")
def boundaries(advice):
    from tuner.training import TrialRunner

    d = pilot_data(advice.profile.root, dataclasses.replace(SMALL, input_size=32))
    return TrialRunner(d, weights="none").boundaries()


def test_partial_boundary_of_a_partial_freeze_call_is_its_own(advice, boundaries) -> None:
    b = boundaries[7]
    a = dataclasses.replace(advice.advice, scenario="partial_freeze", freeze=FreezePlan.at(b))
    r = dataclasses.replace(advice, advice=a)
    assert partial_boundary(r, boundaries) == b
    assert freeze_plan_of("partial_freeze", r, boundaries) == FreezePlan.at(b)
    assert freeze_plan_of("partial_freeze", r, boundaries).code == 7


def test_partial_boundary_of_another_call_is_the_rules_choice(advice, boundaries) -> None:
    n = boundaries[-1].block
    for scenario, block in (("feature_extractor", n), ("full_finetune", 0)):
        a = dataclasses.replace(advice.advice, scenario=scenario,
                                freeze=FreezePlan.at(boundaries[block]))
        r = dataclasses.replace(advice, advice=a)
        b = partial_boundary(r, boundaries)
        frac = FITTED_RULE.fraction if FITTED_RULE.scenario == "partial_freeze" else 0.75
        assert b == boundary_at_fraction(boundaries, frac) and 0 < b.block < n
        assert freeze_plan_of(scenario, r, boundaries).code == block
        assert freeze_plan_of(scenario, r, boundaries).layer == boundaries[block].name
    scratch = freeze_plan_of("from_scratch", advice, boundaries)
    assert scratch.code == -1 and scratch.scratch and scratch.layer_label == "none (random init)"
    with pytest.raises(ConfigError, match="Unknown scenario"):
        freeze_plan_of("linear_probe", advice, boundaries)


def test_advice_for_another_backbone_is_refused(advice, boundaries) -> None:
    a = dataclasses.replace(advice.advice, scenario="partial_freeze", freeze=FreezePlan(3, 7, "b3", 30))
    with pytest.raises(ConfigError, match="does not match the backbone"):
        partial_boundary(dataclasses.replace(advice, advice=a), boundaries)


def test_partial_boundary_survives_a_json_round_trip(advice, boundaries) -> None:
    # an advice read back from tladvise --json gives the same boundary
    back = AdviceResult.from_dict(json.loads(json.dumps(advice.to_dict())))
    assert partial_boundary(back, boundaries) == partial_boundary(advice, boundaries)
