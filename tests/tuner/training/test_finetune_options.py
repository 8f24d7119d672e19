"""The fine-tune phase's options: the optimizer, layer-wise rate decay and gradual
unfreezing (each stage on the cached activations at its own boundary)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.tuner.conftest import trial_params
from tuner.training import TrialRunner
from tuner.training._optim import OptimizerSpec, layer_rate_scales, make_optimizer
from tuner.trial import gradual_stages

pytestmark = pytest.mark.slow


def _one_step(spec: OptimizerSpec, lr: float, scale: float | None) -> float:
    """The change of a weight after one update with gradient 1 (scaled by ``scale``)."""
    import keras

    v = keras.Variable(np.ones((2,), np.float32))
    spec = OptimizerSpec(spec.name, spec.weight_decay, {id(v): scale} if scale else None)
    opt = make_optimizer(spec, lr)
    opt.apply([keras.ops.ones((2,))], [v])
    return float(1.0 - np.asarray(v)[0])


@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_a_rate_factor_scales_the_update_of_its_variable(name: str) -> None:
    full = _one_step(OptimizerSpec(name), 1e-2, None)
    quarter = _one_step(OptimizerSpec(name), 1e-2, 0.25)
    assert full > 0 and quarter == pytest.approx(0.25 * full, rel=1e-4)


def test_optimizer_kinds() -> None:
    import keras

    assert type(make_optimizer(OptimizerSpec("adam"), 1e-3)) is keras.optimizers.Adam
    adamw = make_optimizer(OptimizerSpec("adam", 1e-2), 1e-3)
    assert isinstance(adamw, keras.optimizers.AdamW) and adamw.weight_decay == pytest.approx(1e-2)
    sgd = make_optimizer(OptimizerSpec("sgd"), 1e-3)
    assert isinstance(sgd, keras.optimizers.SGD) and sgd.nesterov and sgd.momentum == 0.9


def test_layer_rates_fall_by_block_from_the_top(data32) -> None:
    import keras

    r = TrialRunner(data32, weights="none", seed=0)
    net = r.build(trial_params(0))
    try:
        bounds = r.boundaries()
        scales = layer_rate_scales(net.backbone, bounds, 0.5)
        layers = net.backbone.layers
        top = [id(v) for v in layers[-2].weights]  # the last conv block
        first = [id(v) for v in layers[1].weights]  # the stem, in block 1
        assert all(scales[i] == 1.0 for i in top)
        assert all(scales[i] == pytest.approx(0.5 ** (r.n_blocks - 1)) for i in first)
        assert not any(id(v) in scales for v in net.head.weights)  # the head: full rate
        # one factor per block, falling from the top
        by_block = sorted({s for s in scales.values()}, reverse=True)
        assert by_block == [0.5 ** d for d in range(r.n_blocks)]
        assert layer_rate_scales(net.backbone, bounds, 1.0) == {}
    finally:
        keras.backend.clear_session()


def test_gradual_unfreezing_trains_each_stage_on_the_prefix_activations(
        data32, tmp_path: Path) -> None:
    r = TrialRunner(data32, weights="none", seed=0, cache_dir=tmp_path / "a")
    n = r.n_blocks
    block = n - 6
    stages = gradual_stages(block, n)
    assert len(stages) == 3 and stages[-1] == block
    out = r.run(trial_params(block, epochs=4, schedule="gradual", optimizer="sgd",
                             layer_decay=0.8))
    assert any(s.startswith("gradual unfreezing") for s in out.notes)
    assert any("SGD" in s and "layer decay 0.8" in s for s in out.notes)
    ft = [h for h in out.history if h.phase == "finetune"]
    assert 1 <= len(ft) <= 3  # head 1 epoch, then 1 + 1 + 1 at most (early stopping)
    assert r.cache.computed == 4  # pooled + the three stage boundaries, none recomputed
    # the later stages' entries hold the untrained backbone's activations: the same as a
    # fresh runner computes for an at-once trial at that boundary
    fresh = TrialRunner(data32, weights="none", seed=0, cache_dir=tmp_path / "b")
    fresh.run(trial_params(stages[1], epochs=2, head_epochs=1))
    key = r._key(r.boundaries()[stages[1]].name, r._validate(trial_params(0)))
    a, b = r.cache.get(key), fresh.cache.get(key)
    assert np.array_equal(a["val"].read(slice(None)), b["val"].read(slice(None)))


def test_a_gradual_refit_follows_the_search_schedule_up_to_its_epochs(data32) -> None:
    import keras

    from tuner.training._recipe import train_trial

    r = TrialRunner(data32, weights="none", seed=0)
    n = r.n_blocks
    p = trial_params(n - 6, epochs=7, schedule="gradual")  # head 2, stages (1, 1, 3)
    try:
        out = train_trial(r, p, None, final=True, refit={"head": 1, "finetune": 2})
        note = next(s for s in out.notes if s.startswith("gradual unfreezing"))
        # the search had reached its second stage after two fine-tune epochs
        assert note == "gradual unfreezing: blocks 2 (1 epochs), 4 (1 epochs) trainable from the top"
        assert [h.phase for h in out.history] == ["head", "finetune", "finetune"]
    finally:
        keras.backend.clear_session()
