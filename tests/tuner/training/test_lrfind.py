"""The LR finder: the reading of a loss curve (smoothing, stop rule, valley) on synthetic
curves with known answers, the centred ranges, the JSON round trip, and real sweeps on a
tiny runner (random weights, 32 px)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from advisor.errors import ConfigError
from tests.conftest import write_image_folder
from tuner.data import prepare_data
from tuner.training import LRCurve, LRFinding, TrialRunner, find_lr
from tuner.training._lrcurve import (curve_from_losses, diverged, smooth, smoothing_beta,
                                     sweep_lrs, valley)


def _synthetic() -> np.ndarray:
    """50 points: a slowly rising plateau (0..9), a straight descent (10..39) and an
    explosion (40..49)."""
    return np.concatenate([2.0 + 0.001 * np.arange(10), np.linspace(1.9, 0.5, 30),
                           np.linspace(0.6, 5.0, 10)])


def _curve(suggestion: float, lr_range=(1e-7, 1.0)) -> LRCurve:
    lrs = sweep_lrs(lr_range, 10)
    return LRCurve(lrs=tuple(lrs), losses=(1.0,) * 10, raw_losses=(1.0,) * 10,
                   suggestion=suggestion, min_div10=suggestion, valley=(0, 9), steps=10,
                   planned=10, diverged=False, lr_range=lr_range, beta=0.9, seconds=0.1)


def _finding(head: LRCurve, backbone: LRCurve | None) -> LRFinding:
    return LRFinding(head=head, backbone=backbone, freeze_block=9, n_blocks=18,
                     boundary="block_8_add", backbone_name="mobilenet_v2", augmentation="off",
                     batch_size=32, seed=0, seconds=1.0, notes=("a note",))


def test_sweep_rates_are_exponential_between_the_bounds() -> None:
    lrs = sweep_lrs((1e-6, 1e-1), 6)
    assert lrs[0] == pytest.approx(1e-6) and lrs[-1] == pytest.approx(1e-1)
    assert np.allclose(np.diff(np.log10(lrs)), 1.0)
    for bad in ((0.0, 1.0), (1e-2, 1e-3), (1e-3, math.inf)):
        with pytest.raises(ConfigError, match="range"):
            sweep_lrs(bad, 10)
    with pytest.raises(ConfigError, match="steps"):
        sweep_lrs((1e-6, 1.0), 4)


def test_smoothing_is_a_debiased_moving_average() -> None:
    assert np.allclose(smooth([3.0] * 20, 0.98), 3.0)  # no pull towards 0 at the start
    assert smooth([1.0, 3.0], 0.5)[1] == pytest.approx((0.25 + 1.5) / 0.75)
    assert smoothing_beta(100) == pytest.approx(0.98)
    assert smoothing_beta(50) == pytest.approx(0.98 ** 2)  # the same share of the sweep
    assert diverged(np.array([1.0, 0.5, 2.1])) and not diverged(np.array([1.0, 0.5, 1.9]))


def test_valley_is_the_longest_decreasing_stretch() -> None:
    assert valley(_synthetic()) == (9, 39)  # from the plateau's top to the bottom
    bumpy = np.array([5.0, 4.0, 4.2, 3.0, 2.0, 2.5, 1.0, 3.0])  # bumps do not end it
    assert valley(bumpy) == (0, 6)
    assert valley([1.0, 2.0, 3.0]) == (0, 0)  # no decrease: one point


def test_suggestion_lies_two_thirds_into_the_valley() -> None:
    raw = _synthetic()
    lrs = sweep_lrs((1e-7, 1.0), len(raw))
    c = curve_from_losses(lrs, raw, planned=len(raw), lr_range=(1e-7, 1.0), beta=0.0,
                          seconds=1.0)  # beta 0: no smoothing, the raw curve itself
    assert c.valley == (9, 39)
    assert c.suggestion == pytest.approx(lrs[29])  # 9 + 2/3 * 30
    assert c.min_div10 == pytest.approx(lrs[39] / 10)  # the lowest loss at 39
    assert c.steps == c.planned == 50 and c.diverged  # 5.0 > 4 x 0.5
    with pytest.raises(ConfigError, match="not finite"):
        curve_from_losses(lrs, [], planned=50, lr_range=(1e-7, 1.0), beta=0.98, seconds=0)


def test_ranges_are_centred_on_the_suggestions_and_clipped() -> None:
    f = _finding(_curve(1e-3), _curve(1e-5))
    (hlo, hhi), (blo, bhi) = f.ranges(1.0)
    assert (hlo, hhi) == pytest.approx((1e-3 / 10 ** 0.5, 1e-3 * 10 ** 0.5))
    assert (blo, bhi) == pytest.approx((1e-5 / 10 ** 0.5, 1e-5 * 10 ** 0.5))
    assert math.sqrt(hlo * hhi) == pytest.approx(1e-3)  # centred on a log axis
    assert f.ranges(2.0)[0] == pytest.approx((1e-4, 1e-2))
    assert f.ranges()[0] == f.ranges(1.0)[0]
    edge = _finding(_curve(0.5), None)  # clipped to the swept range; no backbone sweep
    head, backbone = edge.ranges(1.0)
    assert head == pytest.approx((0.5 / 10 ** 0.5, 1.0)) and backbone is None
    with pytest.raises(ConfigError, match="width"):
        f.ranges(0.0)


def test_a_search_range_is_widened_to_reach_the_suggestion_not_moved() -> None:
    # chest_xray seed 2: advice 1e-3 .. 1e-2, suggestion 8.9e-3; the classic search's best
    # head rate, 3.2e-3, is kept in range
    lo, hi = _curve(8.9e-3).widened((1e-3, 1e-2))
    assert lo == pytest.approx(1e-3) and hi == pytest.approx(8.9e-3 * 10 ** 0.5)
    above = _curve(1e-5).widened((1e-3, 1e-2))  # a suggestion below: widened downwards
    assert above == pytest.approx((1e-5 / 10 ** 0.5, 1e-2))
    assert _curve(1e-3).widened((1e-4, 1e-2)) == pytest.approx((1e-4, 1e-2))  # centred: kept
    assert _curve(0.5).widened((1e-3, 1e-2))[1] == 1.0  # clipped to the swept range
    with pytest.raises(ConfigError, match="widen"):
        _curve(1e-3).widened((1e-2, 1e-2))


def test_finding_round_trips_through_json() -> None:
    f = _finding(_curve(1e-3), _curve(1e-5))
    back = LRFinding.from_dict(json.loads(json.dumps(f.to_dict())))
    assert back == f and isinstance(back.backbone, LRCurve)
    head_only = _finding(_curve(1e-3), None)
    assert LRFinding.from_dict(json.loads(json.dumps(head_only.to_dict()))) == head_only


# ------------------------------------------------------------------ real sweeps

@pytest.fixture(scope="module")
def runner(tmp_path_factory) -> TrialRunner:
    root = write_image_folder(tmp_path_factory.mktemp("lrfind") / "ds",
                              {"blue": 12, "green": 12, "red": 12}, size=40)
    return TrialRunner(prepare_data(root, input_size=32, seed=0), weights="none", seed=0)


@pytest.fixture(scope="module")
def finding(runner) -> LRFinding:
    return find_lr(runner, freeze_block=runner.n_blocks - 1, batch_size=8, head_steps=40,
                   backbone_steps=12)


def _check(c: LRCurve, planned: int) -> None:
    assert 1 <= c.steps <= c.planned == planned
    assert len(c.lrs) == len(c.losses) == len(c.raw_losses) == c.steps
    assert all(b > a for a, b in zip(c.lrs, c.lrs[1:]))
    assert all(math.isfinite(v) for v in c.losses + c.raw_losses)
    assert c.lrs[0] <= c.suggestion <= c.lrs[-1] and c.suggestion in c.lrs
    assert c.lr_range[0] <= c.min_div10 * 10 <= c.lr_range[1]
    assert c.seconds >= 0


@pytest.mark.slow
def test_find_lr_sweeps_head_and_backbone_on_the_cache(runner, finding) -> None:
    _check(finding.head, 40)
    _check(finding.backbone, 12)
    assert finding.freeze_block == runner.n_blocks - 1 and finding.boundary is not None
    assert finding.boundary == runner.boundaries()[runner.n_blocks - 1].name
    assert any(n.startswith("activation cache") for n in finding.notes)
    head, backbone = finding.ranges()
    assert head[0] < finding.head.suggestion < head[1]
    assert backbone[0] < finding.backbone.suggestion < backbone[1]
    assert LRFinding.from_dict(json.loads(json.dumps(finding.to_dict()))) == finding


@pytest.mark.slow
def test_find_lr_is_deterministic_and_a_feature_extractor_sweeps_the_head(runner,
                                                                          finding) -> None:
    again = find_lr(runner, freeze_block=runner.n_blocks - 1, batch_size=8, head_steps=40,
                    backbone_steps=12)
    for a, b in ((again.head, finding.head), (again.backbone, finding.backbone)):
        assert (a.lrs, a.raw_losses, a.suggestion) == (b.lrs, b.raw_losses, b.suggestion)
    assert any("cache hit" in n for n in again.notes)  # the cached activations, reused
    fe = find_lr(runner, freeze_block=runner.n_blocks, batch_size=8, head_steps=40)
    assert fe.backbone is None and fe.boundary is None and fe.ranges()[1] is None
    assert fe.head.raw_losses == finding.head.raw_losses  # same head, same batches
    _check(fe.head, 40)


def test_find_lr_refuses_what_it_cannot_sweep(runner) -> None:
    with pytest.raises(ConfigError, match="partial freeze"):
        find_lr(runner, freeze_block=0)
    with pytest.raises(ConfigError, match="partial freeze"):
        find_lr(runner, freeze_block=-1)
    with pytest.raises(ConfigError, match="range"):
        find_lr(runner, lr_range=(1e-2, 1e-4))
    with pytest.raises(ConfigError, match="in-process runner"):
        find_lr(object())
    tight = TrialRunner(runner.data, weights="none", seed=0, cache_budget_mb=0.001)
    tight._layout = runner.layout  # the same backbone analysis (saves measuring it)
    with pytest.raises(ConfigError, match="cache budget"):
        find_lr(tight, freeze_block=tight.n_blocks - 1)


def test_keras_step_trains_at_the_rate_it_is_given() -> None:
    import keras

    from tuner.training._lrfind import _keras_step

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    y = np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]
    step = _keras_step(model, y, np.ones(4, np.float32), 0.0)
    x, pos = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32), np.arange(4)
    w0 = model.get_weights()[0].copy()
    step(x, pos, 0.0)  # Adam at rate 0: no change
    assert np.array_equal(model.get_weights()[0], w0)
    step(x, pos, 0.1)  # Adam's first steps move every weight by about the rate
    assert np.allclose(np.abs(model.get_weights()[0] - w0), 0.1, rtol=0.05)
    keras.backend.clear_session()
