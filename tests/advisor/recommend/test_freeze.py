"""FreezePlan: the one freeze-depth type (advice, search space, trials, pilot, renderers)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from advisor.backbones import Boundary
from advisor.errors import ConfigError
from advisor.recommend import Advice, Augmentation, FreezePlan, LRRange, Reason

N = 18
BOUNDS = [Boundary("input", -1, 0, N)] + [Boundary(f"b{k}", 10 * k + 3, k, N)
                                          for k in range(1, N + 1)]


def _advice(scenario: str, freeze: FreezePlan) -> Advice:
    return Advice(scenario=scenario, backbone="mobilenet_v2", input_size=224, freeze=freeze,
                  head_lr=LRRange(1e-3, 1e-2), backbone_lr=LRRange(1e-5, 3e-4),
                  augmentation=Augmentation("light", "horizontal", 0.05, 0.1, 0.1, "note"),
                  confidence=0.75, reasons=(Reason("size", "few images", 100.0, 1000.0),),
                  what_would_change=("more images",), runner_up="feature_extractor",
                  similarity=0.4, images_per_class=100.0)


def test_a_plan_at_a_boundary_says_what_it_freezes() -> None:
    p = FreezePlan.at(BOUNDS[12])
    assert (p.block, p.n_blocks, p.layer, p.index, p.scratch) == (12, N, "b12", 123, False)
    assert p.partial and not p.all_frozen and not p.none_frozen and p.trains_backbone
    assert p.fraction == pytest.approx(12 / 18) and p.scenario == "partial_freeze"
    assert p.label == "blocks 1..12 of 18 frozen" and p.layer_label == "b12"
    top = FreezePlan.at(BOUNDS[-1])
    assert top.all_frozen and not top.trains_backbone and top.label == "all 18 blocks frozen"
    none = FreezePlan.at(BOUNDS[0])
    assert none.none_frozen and not none.scratch and (none.layer, none.index) == ("input", -1)
    assert none.scenario == "full_finetune" and none.label == "nothing frozen"


def test_from_scratch_is_its_own_flag_not_a_magic_block() -> None:
    s = FreezePlan.from_scratch(N)
    assert s.scratch and s.block == 0 and s.none_frozen and not s.all_frozen and s.trains_backbone
    assert s.fraction == 0.0 and s.scenario == "from_scratch" and s != FreezePlan(0, N)
    assert s.label == "from scratch (random init)" and s.layer_label == "none (random init)"
    with pytest.raises(ValueError, match="freezes nothing"):
        FreezePlan(3, N, scratch=True)
    with pytest.raises(ValueError, match="outside"):
        FreezePlan(N + 1, N)
    with pytest.raises(ValueError, match="outside"):
        FreezePlan(-1, N)


@pytest.mark.parametrize("plan", [FreezePlan.at(BOUNDS[7]), FreezePlan.at(BOUNDS[0]),
                                  FreezePlan.at(BOUNDS[-1]), FreezePlan.from_scratch(N),
                                  FreezePlan.from_code(5, N)])
def test_round_trip_through_json(plan: FreezePlan) -> None:
    d = json.loads(json.dumps(plan.to_dict()))
    assert set(d) == {"block", "n_blocks", "layer", "index", "scratch"}
    assert FreezePlan.from_dict(d) == plan


def test_code_round_trip_is_the_one_encoding() -> None:
    for code in range(-1, N + 1):
        p = FreezePlan.from_code(code, N)
        assert p.code == code and FreezePlan.from_code(p.code, N) == p
    assert FreezePlan.SCRATCH_CODE == -1 and FreezePlan.from_code(-1, N).scratch
    assert FreezePlan.from_code(N, N).all_frozen and FreezePlan.from_code(0, N).none_frozen
    # without boundaries the layer of a frozen block is not known; with them it is
    assert (FreezePlan.from_code(5, N).layer, FreezePlan.from_code(5, N).index) == ("", None)
    assert FreezePlan.from_code(5, N, BOUNDS) == FreezePlan.at(BOUNDS[5])
    for bad in (-2, N + 1):
        with pytest.raises(ValueError):
            FreezePlan.from_code(bad, N)
    with pytest.raises(ValueError, match="do not belong"):
        FreezePlan.from_code(3, 17, BOUNDS)


def test_each_scenario_maps_to_its_plan() -> None:
    fe = FreezePlan.for_scenario("feature_extractor", BOUNDS)
    assert fe == FreezePlan.at(BOUNDS[-1]) and fe.code == N and fe.layer == "b18"
    ft = FreezePlan.for_scenario("full_finetune", BOUNDS)
    assert ft == FreezePlan.at(BOUNDS[0]) and ft.code == 0
    sc = FreezePlan.for_scenario("from_scratch", BOUNDS)
    assert sc == FreezePlan.from_scratch(N) and sc.code == -1
    pf = FreezePlan.for_scenario("partial_freeze", BOUNDS, partial=BOUNDS[9])
    assert pf == FreezePlan.at(BOUNDS[9]) and pf.code == 9
    for s in ("feature_extractor", "full_finetune", "from_scratch", "partial_freeze"):
        plan = FreezePlan.for_scenario(s, BOUNDS, partial=BOUNDS[9])
        assert plan.scenario == s
        # a block count alone gives the same codes
        assert FreezePlan.for_scenario(s, N, partial=plan).code == plan.code
    with pytest.raises(ValueError, match="needs its boundary"):
        FreezePlan.for_scenario("partial_freeze", BOUNDS)
    with pytest.raises(ConfigError, match="Unknown scenario"):
        FreezePlan.for_scenario("linear_probe", BOUNDS)


def test_rescaled_keeps_the_depth_fraction() -> None:
    p = FreezePlan(12, 17, "block_12_add", 110)
    r = p.rescaled(18)
    assert (r.block, r.n_blocks) == (13, 18)  # round(12 / 17 * 18) = round(12.7)
    assert (r.layer, r.index) == ("", None)  # another backbone: its layer is not known
    assert p.rescaled(17) is p
    assert FreezePlan(17, 17).rescaled(18).all_frozen
    assert FreezePlan(0, 17).rescaled(18) == FreezePlan(0, 18)
    assert FreezePlan.from_scratch(17).rescaled(18) == FreezePlan.from_scratch(18)


def test_matches_checks_block_count_and_layer() -> None:
    assert FreezePlan.at(BOUNDS[4]).matches(BOUNDS)
    assert FreezePlan.from_scratch(N).matches(BOUNDS)
    assert not FreezePlan(4, N, "other", 43).matches(BOUNDS)
    assert not FreezePlan(3, 7, "b3", 33).matches(BOUNDS)


def test_advice_round_trips_with_its_plan() -> None:
    a = _advice("partial_freeze", FreezePlan.at(BOUNDS[6]))
    d = json.loads(json.dumps(a.to_dict()))
    assert d["freeze"] == {"block": 6, "n_blocks": N, "layer": "b6", "index": 63, "scratch": False}
    assert not {"freeze_block", "freeze_index", "freeze_layer", "n_blocks"} & d.keys()
    assert Advice.from_dict(d) == a


def test_advice_reads_the_flat_keys_of_the_previous_version() -> None:
    new = _advice("partial_freeze", FreezePlan(12, 17, "block_12_add", 110))
    old = {k: v for k, v in new.to_dict().items() if k != "freeze"}
    old.update(freeze_layer="block_12_add", freeze_index=110, freeze_block=12, n_blocks=17)
    assert Advice.from_dict(json.loads(json.dumps(old))) == new
    # the previous rule wrote a from-scratch call as block 0 through "input"
    scratch = dict(old, scenario="from_scratch", freeze_layer="input", freeze_index=-1,
                   freeze_block=0, n_blocks=18)
    back = Advice.from_dict(scratch)
    assert back.freeze == FreezePlan.from_scratch(18) and back.freeze.code == -1
    ft = Advice.from_dict(dict(scratch, scenario="full_finetune"))
    assert ft.freeze == FreezePlan(0, 18) and not ft.freeze.scratch
    with pytest.raises(KeyError):
        Advice.from_dict({k: v for k, v in old.items() if k != "n_blocks"})


def test_advice_and_plan_agree_on_from_scratch() -> None:
    with pytest.raises(ValueError, match="cannot carry"):
        _advice("from_scratch", FreezePlan(0, N))
    with pytest.raises(ValueError, match="cannot carry"):
        _advice("full_finetune", FreezePlan.from_scratch(N))
    a = _advice("from_scratch", FreezePlan.from_scratch(N))
    assert dataclasses.replace(a, freeze=FreezePlan.from_scratch(17)).freeze.n_blocks == 17


def test_the_short_form_a_table_shows() -> None:
    assert FreezePlan.from_code(-1, 17).short == "scratch"
    assert FreezePlan.from_code(12, 17).short == "12/17"
    assert FreezePlan.from_code(17, 17).short == "17/17"
