"""Trial parameters: the gradual schedule's stages and epochs, and their checks."""

from __future__ import annotations

import pytest

from advisor.errors import ConfigError
from tuner.trial import SGD_LR_SCALE, TrialParams, check_params, gradual_stages, stage_epochs


def test_gradual_stages_end_at_the_boundary_in_about_equal_groups() -> None:
    assert gradual_stages(0, 18) == (12, 6, 0)
    assert gradual_stages(9, 18) == (15, 12, 9)
    assert gradual_stages(16, 18) == (17, 16)  # two trainable blocks: two stages
    assert gradual_stages(17, 18) == (17,)


def test_stage_epochs_give_the_remainder_to_the_last_stage() -> None:
    assert stage_epochs(7, 3) == (2, 2, 3)
    assert stage_epochs(2, 3) == (1, 1)
    assert sum(stage_epochs(10, 3)) == 10


def test_sgd_trains_at_a_multiple_of_the_backbone_rate() -> None:
    p = TrialParams(3, 1e-3, 1e-4)
    assert p.finetune_lr == 1e-4
    assert TrialParams(3, 1e-3, 1e-4, optimizer="sgd").finetune_lr == pytest.approx(1e-4 * SGD_LR_SCALE)


@pytest.mark.parametrize("bad", [dict(optimizer="rmsprop"), dict(schedule="sometimes"),
                                 dict(layer_decay=0.0), dict(layer_decay=1.5),
                                 dict(weight_decay=-1e-3)])
def test_bad_fine_tune_options_are_refused(bad: dict) -> None:
    with pytest.raises(ConfigError) as e:
        check_params(TrialParams(3, 1e-3, 1e-4, **bad), 18, "mobilenet_v2")
    assert next(iter(bad)) in str(e.value)
