"""The decision rule on hand-built measurements: each quadrant, boundary choice, confidence."""

from __future__ import annotations

import pytest

from advisor.backbones import Boundary
from advisor.measure._types import CurvePoint, LayerShift, Measurements, ProbeResult, ShiftProfile
from advisor.recommend import (LR_RANGES, SCENARIOS, DecisionRule, LRRange, Thresholds,
                               normalised_gain, recommend, similarity_from_shift)

# the small-data rule as the CS231n table has it (similar: feature extractor), for the mechanics
BY_SIMILARITY = DecisionRule("similarity", -1, 0.5, "partial_half", 0.8, 0.7)


def _probe(acc: float, slope: float = 0.0) -> ProbeResult:
    curve = (CurvePoint(0.5, 100, acc - slope), CurvePoint(1.0, 200, acc))
    return ProbeResult(accuracy=acc, std=0.01, folds=5, majority=0.5, learning_curve=curve)


def _measurements(shift_by_layer: list[float], probe_acc: float, pixel_acc: float,
                  t: Thresholds = Thresholds()) -> Measurements:
    n = len(shift_by_layer)
    layers = tuple(LayerShift(f"bn{i}", index=i * 10 + 5, depth=(i * 10 + 5) / (n * 10),
                              shift=s, mean_term=s, std_term=0.0) for i, s in enumerate(shift_by_layer))
    overall = sum(shift_by_layer) / n
    prof = ShiftProfile(layers, overall, overall, overall, overall)
    return Measurements("mobilenet_v2", 224, "cache", 400, prof, _probe(probe_acc), _probe(pixel_acc),
                        logme=0.5, similarity=similarity_from_shift(overall, t),
                        transfer_gain=probe_acc - pixel_acc, seconds=1.0, cache_hit=False)


def _boundaries(n_blocks: int = 10) -> list[Boundary]:
    out = [Boundary("input", -1, 0, n_blocks)]
    out += [Boundary(f"block{k}", k * 10 + 9, k + 1, n_blocks) for k in range(n_blocks)]
    return out


NEAR = [0.12] * 10
FAR = [0.45] * 10


@pytest.mark.parametrize("shifts,probe_acc,pixel_acc,ipc,expected", [
    (NEAR, 0.95, 0.6, 120, "feature_extractor"),
    (FAR, 0.95, 0.6, 120, "partial_freeze"),
    (FAR, 0.70, 0.68, 120, "partial_freeze"),
    (NEAR, 0.95, 0.6, 3000, "full_finetune"),
    (FAR, 0.95, 0.6, 3000, "full_finetune"),
    (FAR, 0.70, 0.68, 3000, "from_scratch"),
])
def test_quadrants(shifts, probe_acc, pixel_acc, ipc, expected):
    m = _measurements(shifts, probe_acc, pixel_acc)
    a = recommend(m, images_per_class=ipc, boundaries=_boundaries(), rule=BY_SIMILARITY)
    assert a.scenario == expected
    assert {r.code for r in a.reasons} >= {"size", "similarity", "transfer"}
    assert all(r.value is not None for r in a.reasons if r.code in ("size", "similarity", "transfer"))
    assert a.what_would_change
    # one freeze plan and one table of learning rates per scenario
    assert a.freeze.scenario == expected and a.freeze.scratch == (expected == "from_scratch")
    assert (a.head_lr, a.backbone_lr) == LR_RANGES[expected]


def test_learning_rate_table_keeps_the_documented_ranges():
    # docs/advice-rule.md: head 1e-3..1e-2 everywhere; backbone none / 1e-5..3e-4 /
    # 1e-5..1e-4 / 1e-3..1e-2
    assert {h for h, _ in LR_RANGES.values()} == {LRRange(1e-3, 1e-2)}
    assert [LR_RANGES[s][1] for s in SCENARIOS] == [
        None, LRRange(1e-5, 3e-4), LRRange(1e-5, 1e-4), LRRange(1e-3, 1e-2)]
    with pytest.raises(TypeError):
        LR_RANGES["full_finetune"] = (LRRange(1.0, 2.0), None)  # read-only


def test_small_data_follows_the_rule_and_says_why():
    m = _measurements(FAR, 0.95, 0.6)
    a = recommend(m, images_per_class=100, boundaries=_boundaries(), rule=BY_SIMILARITY)
    assert a.scenario == "partial_freeze" and a.runner_up == "feature_extractor"
    assert (a.freeze.block, a.freeze.layer) == (5, "block4")  # half of 10 blocks
    assert a.confidence == 0.7
    why = {r.code: r for r in a.reasons}
    assert why["decision"].value == pytest.approx(m.similarity) and why["decision"].threshold == 0.5
    assert any("becomes feature_extractor" in c for c in a.what_would_change)
    by_headroom = DecisionRule("headroom", 1, 0.1, "full_finetune", 0.9, 0.6)
    easy = recommend(m, images_per_class=100, boundaries=_boundaries(), rule=by_headroom)
    assert (easy.scenario, easy.confidence) == ("feature_extractor", 0.9)  # probe error 0.05
    hard = recommend(_measurements(FAR, 0.80, 0.6), images_per_class=100, boundaries=_boundaries(),
                     rule=by_headroom)
    assert hard.scenario == "full_finetune" and hard.freeze.block == 0
    # a rule on a quantity that was not measured (no depth probes here) fine-tunes
    late = DecisionRule("late_gain", 1, 0.02, "partial_three_quarters")
    assert recommend(m, images_per_class=100, boundaries=_boundaries(), rule=late).freeze.block == 8


def test_a_decision_rule_is_validated_where_it_is_made():
    with pytest.raises(ValueError):
        DecisionRule("colour", 1, 0.1, "full_finetune")
    with pytest.raises(ValueError):
        DecisionRule("headroom", 0, 0.1, "full_finetune")


def test_feature_extractor_freezes_everything_and_full_finetune_nothing():
    fe = recommend(_measurements(NEAR, 0.95, 0.6), images_per_class=50, boundaries=_boundaries(),
                   rule=BY_SIMILARITY)
    assert (fe.freeze.block, fe.backbone_lr) == (10, None) and fe.freeze.all_frozen
    ft = recommend(_measurements(NEAR, 0.95, 0.6), images_per_class=5000, boundaries=_boundaries())
    assert ft.freeze.index == -1 and ft.backbone_lr is not None and not ft.freeze.scratch
    assert ft.backbone_lr.high < ft.head_lr.low


def test_large_data_confidence_grows_with_distance_from_the_boundaries():
    near_edge = recommend(_measurements(NEAR, 0.95, 0.6), images_per_class=1100, boundaries=_boundaries())
    far_edge = recommend(_measurements(NEAR, 0.95, 0.6), images_per_class=6000, boundaries=_boundaries())
    assert 0.5 <= near_edge.confidence < far_edge.confidence <= 1.0


def test_thresholds_are_overridable():
    m = _measurements(NEAR, 0.95, 0.6)
    assert recommend(m, images_per_class=300, boundaries=_boundaries(),
                     rule=BY_SIMILARITY).scenario == "feature_extractor"
    t = Thresholds(large_per_class=200)
    assert recommend(m, images_per_class=300, boundaries=_boundaries(), thresholds=t).scenario == "full_finetune"


def test_similarity_and_gain_maps():
    t = Thresholds()
    assert similarity_from_shift(t.shift_midpoint) == pytest.approx(0.5)
    assert similarity_from_shift(0.1) > 0.9 > 0.1 > similarity_from_shift(0.5)
    assert normalised_gain(0.9, 0.6) == pytest.approx(0.75)
    assert normalised_gain(0.6, 0.6) == 0.0


def test_grayscale_data_gets_no_flip_advice():
    a = recommend(_measurements(FAR, 0.9, 0.85), images_per_class=300, boundaries=_boundaries(),
                  gray_fraction=1.0)
    assert a.augmentation.flip == "none"


def test_advice_round_trips_through_json():
    import json

    from advisor.recommend import Advice

    a = recommend(_measurements(FAR, 0.9, 0.6), images_per_class=100, boundaries=_boundaries())
    assert Advice.from_dict(json.loads(json.dumps(a.to_dict()))) == a
