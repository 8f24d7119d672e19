"""The search trials' kept network parts: a trial trained on a kept view compiled by an
earlier trial (other optimizer settings, dropout, label smoothing, batch size) has the
history it has alone, and the view's traced steps are not made again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.tuner.conftest import trial_params
from tuner.training import TrialRunner
from tuner.training._fit import smoothed
from tuner.training._kept import rate_dropout
from tuner.training._optim import OptimizerSpec, make_optimizer, tunable_optimizer

pytestmark = pytest.mark.slow


def _history(out) -> list[tuple]:
    return [(h.phase, h.train_accuracy, h.train_loss, h.val_accuracy, h.val_loss)
            for h in out.history]


def test_a_trial_on_views_compiled_by_earlier_trials_has_its_own_history(
        data32, tmp_path: Path) -> None:
    n = TrialRunner(data32, weights="none", seed=0).n_blocks
    p = trial_params(n - 3, epochs=4, head_epochs=1, dropout=0.3)
    others = [trial_params(n - 3, epochs=4, head_epochs=1, dropout=0.4, label_smoothing=0.1,
                           batch_size=8, backbone_lr=3e-3, weight_decay=0.05, layer_decay=0.75),
              trial_params(n - 6, epochs=5, head_epochs=1, schedule="gradual")]
    alone = TrialRunner(data32, weights="none", seed=0, cache_dir=tmp_path / "a").run(p)
    r = TrialRunner(data32, weights="none", seed=0, cache_dir=tmp_path / "b")
    for q in others:
        r.run(q)
    view = r._kept.suffix(r.boundaries()[n - 3], "adam")
    step = view.train_function
    assert step is not None  # compiled by the first of the others
    after = r.run(p)
    assert _history(after) == _history(alone)
    assert view.train_function is step  # the same traced step, not a new compile
    sgd = r.run(trial_params(n - 3, epochs=3, head_epochs=1, optimizer="sgd"))
    assert view.train_function is step  # SGD trains a view of its own
    assert r._kept.suffix(r.boundaries()[n - 3], "sgd").train_function is not None
    fresh = TrialRunner(data32, weights="none", seed=0, cache_dir=tmp_path / "c")
    assert _history(fresh.run(trial_params(n - 3, epochs=3, head_epochs=1, optimizer="sgd"))
                    ) == _history(sgd)


@pytest.mark.parametrize("name,decay", [("adam", 0.0), ("adam", 0.05), ("sgd", 0.05)])
def test_a_tunable_optimizer_steps_like_the_plain_one(name: str, decay: float) -> None:
    import keras

    def steps(make) -> np.ndarray:
        v, u = (keras.Variable(np.full((3,), 2.0, np.float32)) for _ in range(2))
        opt = make(OptimizerSpec(name, decay, {id(v): 0.25}), 1e-2)
        if hasattr(opt, "tune"):
            opt.build([v, u])
            opt.tune(OptimizerSpec(name, decay, {id(v): 0.25}), 1e-2)
        for g in (1.0, -0.5, 2.0):
            opt.apply([keras.ops.full((3,), g), keras.ops.full((3,), g / 2)], [v, u])
        return np.concatenate([np.asarray(v), np.asarray(u)])

    np.testing.assert_allclose(steps(tunable_optimizer), steps(make_optimizer), rtol=1e-6)


def test_rate_dropout_is_keras_dropout_with_its_rate_in_a_variable() -> None:
    import keras

    layer = rate_dropout()
    x = np.ones((400, 50), np.float32)
    assert np.array_equal(np.asarray(layer(x, training=True)), x)  # rate 0: the identity
    layer.rate.var.assign(0.25)
    out = np.asarray(layer(x, training=True))
    assert set(np.unique(out)) == {0.0, np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.02
    assert np.array_equal(np.asarray(layer(x, training=False)), x)
    assert layer.weights == []  # get_weights of the head model stays [kernel, bias]
    keras.backend.clear_session()


def test_smoothed_targets_give_keras_label_smoothing_loss() -> None:
    import keras

    y = np.eye(3, dtype=np.float32)[[0, 2, 1, 2]]
    p = np.random.default_rng(0).dirichlet(np.ones(3), 4).astype(np.float32)
    want = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)(y, p)
    got = keras.losses.CategoricalCrossentropy()(smoothed(y, 0.1), p)
    assert float(got) == pytest.approx(float(want), rel=1e-6)
    assert smoothed(y, 0.0) is y


def test_a_kept_network_comes_back_reset(data32) -> None:
    import keras

    r = TrialRunner(data32, weights="none", seed=0)
    bnd = r.boundaries()[r.n_blocks - 3]

    def network(dropout: float):
        return r._kept.network(r.spec, 32, r.weights_source(), 3, dropout, bnd, seed=0)

    net = network(0.3)
    drop, dense = net.top[1], net.top[2]
    first = ([w.copy() for w in dense.get_weights()], drop.seed_generator.state.numpy().copy(),
             [w.copy() for w in net.backbone.get_weights()])
    drop(np.ones((4, 8), np.float32), training=True)  # a draw moves the random state
    dense.set_weights([w + 1 for w in dense.get_weights()])
    net.backbone.set_weights([w * 0.5 for w in net.backbone.get_weights()])
    again = network(0.1)
    assert again.top is net.top and again.suffix is net.suffix  # kept, not rebuilt
    assert all(np.array_equal(a, b) for a, b in zip(dense.get_weights(), first[0]))
    assert np.array_equal(drop.seed_generator.state.numpy(), first[1])
    assert all(np.array_equal(a, b) for a, b in zip(net.backbone.get_weights(), first[2]))
    assert float(drop.rate.var.numpy()) == pytest.approx(0.1)
    # the head's initial weights are a fresh build's for the seed (a head-only trial's)
    alone = r._build(trial_params(r.n_blocks, dropout=0.3))
    assert all(np.array_equal(a, b) for a, b in zip(alone.head.get_weights(), first[0]))
    keras.backend.clear_session()
