"""The search space: centring on the advice, per-scenario freeze ranges, LR ranges."""

from __future__ import annotations

from dataclasses import replace

import pytest

from advisor.errors import ConfigError
from advisor.recommend import Advice, Augmentation, FreezePlan, LRRange
from tuner.search._space import SearchSpace

N = 18  # MobileNetV2's block count


def make_advice(scenario: str, freeze_block: int, *, n_blocks: int = N, runner_up: str = "x",
                head=(2e-4, 5e-3), backbone=(3e-6, 2e-4), level: str = "light") -> Advice:
    freeze = FreezePlan.from_code(freeze_block, n_blocks)
    if freeze.block:  # a frozen block with its (made-up) layer
        freeze = replace(freeze, layer="block", index=10)
    return Advice(scenario=scenario, backbone="mobilenet_v2", input_size=160, freeze=freeze,
                  head_lr=LRRange(*head),
                  backbone_lr=LRRange(*backbone) if backbone else None,
                  augmentation=Augmentation(level, "horizontal", 0.1, 0.1, 0.1),
                  confidence=0.7, reasons=(), what_would_change=(), runner_up=runner_up,
                  similarity=0.5, images_per_class=50.0)


def density(space: SearchSpace, lo: int, hi: int) -> float:
    """Candidates per block in [lo, hi]."""
    return sum(lo <= b <= hi for b in space.freeze_blocks) / (hi - lo + 1)


def test_feature_extractor_centres_on_all_frozen_and_covers_upper_partial_freeze():
    s = SearchSpace.from_advice(make_advice("feature_extractor", N), N)
    assert s.recommended_block == N and s.first()["freeze_block"] == N
    assert max(s.freeze_blocks) == N and min(s.freeze_blocks) == N // 2
    assert -1 not in s.freeze_blocks
    assert density(s, N - 3, N) > density(s, N // 2, N - 4)


def test_partial_freeze_centres_on_recommended_block_and_reaches_both_neighbours():
    s = SearchSpace.from_advice(make_advice("partial_freeze", 12), N)
    assert s.first()["freeze_block"] == 12
    assert {0, 12, N} <= set(s.freeze_blocks) and -1 not in s.freeze_blocks
    assert density(s, 9, 15) == 1.0  # every block near the recommendation
    assert density(s, 0, 8) < 0.5


def test_full_finetune_adds_scratch_only_when_the_advice_allows_it():
    near = SearchSpace.from_advice(make_advice("full_finetune", 0, runner_up="partial_freeze"), N)
    far = SearchSpace.from_advice(make_advice("full_finetune", 0, runner_up="from_scratch"), N)
    assert near.first()["freeze_block"] == 0 and max(near.freeze_blocks) == N // 2
    assert -1 not in near.freeze_blocks
    assert -1 in far.freeze_blocks and set(near.freeze_blocks) < set(far.freeze_blocks)


def test_from_scratch_covers_full_finetune_and_uses_scratch_lr_without_advice_range():
    s = SearchSpace.from_advice(make_advice("from_scratch", -1, backbone=None), N)
    assert s.first()["freeze_block"] == -1
    assert {-1, 0} <= set(s.freeze_blocks) and max(s.freeze_blocks) <= N // 4
    assert s.backbone_lr[0] >= 1e-4  # scratch range, not a fine-tuning one


@pytest.mark.parametrize("scenario,expected", [("feature_extractor", (N,)),
                                               ("full_finetune", (0,)),
                                               ("from_scratch", (-1,))])
def test_forced_scenario_searches_only_its_freeze_range(scenario, expected):
    s = SearchSpace.from_advice(make_advice("partial_freeze", 12), N, scenario)
    assert s.freeze_blocks == expected and s.forced
    assert "freeze_block" not in [d.name for d in s.dimensions()]
    assert s.params({}).freeze_block == expected[0]


def test_forced_partial_freeze_excludes_the_ends_and_keeps_the_advised_block():
    s = SearchSpace.from_advice(make_advice("partial_freeze", 12), N, "partial_freeze")
    assert min(s.freeze_blocks) >= 1 and max(s.freeze_blocks) <= N - 1
    assert s.first()["freeze_block"] == 12
    fe = SearchSpace.from_advice(make_advice("feature_extractor", N), N, "partial_freeze")
    assert fe.first()["freeze_block"] == N // 2  # the advice's block is not a partial freeze


def test_forced_scratch_does_not_reuse_a_fine_tuning_lr_range():
    adv = make_advice("partial_freeze", 12, backbone=(3e-6, 2e-4))
    assert SearchSpace.from_advice(adv, N).backbone_lr == (3e-6, 2e-4)
    assert SearchSpace.from_advice(adv, N, "from_scratch").backbone_lr != (3e-6, 2e-4)


def test_learning_rates_and_augmentation_come_from_the_advice():
    s = SearchSpace.from_advice(make_advice("partial_freeze", 12, level="moderate"), N)
    assert s.head_lr == (2e-4, 5e-3) and s.backbone_lr == (3e-6, 2e-4)
    assert s.augmentation == ("light", "moderate", "strong")
    dims = {d.name: d for d in s.dimensions()}
    assert dims["head_lr"].log and dims["backbone_lr"].log and dims["backbone_lr"].needs_unfrozen
    c = s.centre
    assert 2e-4 < c.head_lr < 5e-3 and c.augmentation == "moderate"


def test_no_flips_in_any_level_when_the_advice_says_so():
    a = make_advice("partial_freeze", 6, level="light")
    a = replace(a, augmentation=replace(a.augmentation, flip="none", note="grayscale"))
    s = SearchSpace.from_advice(a, N)
    assert s.augmentation == ("off", "light-noflip", "moderate-noflip")
    assert s.centre.augmentation == "light-noflip"
    assert any("no flips" in n for n in s.notes)
    assert SearchSpace.from_dict(s.to_dict()).augmentation == s.augmentation


def test_all_frozen_space_does_not_search_the_backbone_lr():
    s = SearchSpace.from_advice(make_advice("partial_freeze", 12), N, "feature_extractor")
    assert "backbone_lr" not in [d.name for d in s.dimensions()]
    assert "backbone_lr" not in s.first()


def test_advice_from_another_backbone_is_rescaled_by_depth():
    s = SearchSpace.from_advice(make_advice("partial_freeze", 8, n_blocks=16), N)
    assert s.recommended_block == 9 and s.notes
    assert "advice freeze block 8/16 rescaled to 9/18" in s.notes[0]


def test_candidates_are_freeze_plan_codes():
    s = SearchSpace.from_advice(make_advice("full_finetune", 0, runner_up="from_scratch"), N)
    assert s.plan(-1).scratch and s.plan(0).none_frozen and not s.plan(0).scratch
    assert s.is_unfrozen(-1) and s.is_unfrozen(N - 1) and not s.is_unfrozen(N)
    assert [s.plan(b).code for b in s.freeze_blocks] == list(s.freeze_blocks)
    with pytest.raises(ValueError):
        s.plan(N + 1)


def test_no_advice_searches_the_whole_range():
    s = SearchSpace.from_advice(None, N)
    assert min(s.freeze_blocks) == 0 and max(s.freeze_blocks) == N


def test_round_trip_and_params_fill_fixed_values():
    s = SearchSpace.from_advice(make_advice("partial_freeze", 12), N, epochs=4, patience=2)
    assert SearchSpace.from_dict(s.to_dict()) == s
    p = s.params({"freeze_block": N, "head_lr": 1e-3})
    assert p.epochs == 4 and p.patience == 2 and p.freeze_block == N
    fixed = replace(s, batch_sizes=(48,))
    assert fixed.params({}).batch_size == 48
    assert "batch_size" not in [d.name for d in fixed.dimensions()]


def test_bad_inputs_raise_config_error():
    with pytest.raises(ConfigError):
        SearchSpace.from_advice(None, N, "fine_tune_everything")
    with pytest.raises(ConfigError):
        SearchSpace.from_advice(make_advice("partial_freeze", 12, head=(0.0, 1e-3)), N)
    with pytest.raises(ConfigError):
        SearchSpace.from_advice(None, N, epochs=0)


RECIPE = ["optimizer", "weight_decay", "layer_decay", "schedule"]


def test_the_fine_tune_recipe_is_searched_for_trials_that_train_the_backbone():
    s = SearchSpace.from_advice(make_advice("partial_freeze", 12), N)
    dims = {d.name: d for d in s.dimensions()}
    assert all(dims[k].needs_unfrozen for k in RECIPE)
    assert dims["optimizer"].choices == ("adam", "sgd")
    assert dims["layer_decay"].choices[0] == 1.0  # "off" is a choice
    assert s.first()["schedule"] == "at_once" and s.first()["optimizer"] == "adam"
    p = s.params({"freeze_block": 12, "optimizer": "sgd", "weight_decay": 0.05,
                  "layer_decay": 0.75, "schedule": "gradual"})
    assert (p.optimizer, p.weight_decay, p.layer_decay, p.schedule) == ("sgd", 0.05, 0.75,
                                                                        "gradual")
    fe = SearchSpace.from_advice(make_advice("partial_freeze", 12), N, "feature_extractor")
    assert not set(RECIPE) & {d.name for d in fe.dimensions()}


def test_classic_space_and_spaces_stored_before_the_recipe_fix_it():
    s = SearchSpace.from_advice(make_advice("partial_freeze", 12), N)
    classic = s.classic()
    assert not set(RECIPE) & {d.name for d in classic.dimensions()}
    assert [d.name for d in classic.dimensions()] == [d.name for d in s.dimensions()
                                                      if d.name not in RECIPE]
    old = {k: v for k, v in s.to_dict().items()
           if k not in ("optimizers", "weight_decays", "layer_decays", "schedules")}
    assert SearchSpace.from_dict(old) == classic  # a config.json written before them


def test_gradual_stages_are_announced_to_the_cache():
    s = SearchSpace.from_advice(make_advice("partial_freeze", 12), N)
    blocks = s.cached_blocks()
    assert set(s.freeze_blocks) <= set(blocks) and 16 in blocks  # 12's stages: 16, 14, 12
    assert s.classic().cached_blocks() == s.freeze_blocks


def test_centred_ranges_move_the_first_trial_and_are_noted():
    s = SearchSpace.from_advice(make_advice("partial_freeze", 12), N)
    c = s.centred((1e-3, 1e-1), None, "LR finder")
    assert c.head_lr == (1e-3, 1e-1) and c.backbone_lr == s.backbone_lr
    assert c.first()["head_lr"] == pytest.approx(1e-2) and c.notes[-1] == "LR finder"
    with pytest.raises(ConfigError):
        s.centred((0.0, 1.0), None, "x")
