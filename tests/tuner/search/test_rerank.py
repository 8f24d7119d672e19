"""Cross-validation re-ranking of the top trials: the folds, the candidates, the
choice rule, real training on every fold, and the sweep that uses it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from advisor.errors import ConfigError
from tests.tuner.conftest import trial_params
from tuner.data import prepare_data
from tuner.search._rerank import (CandidateScore, candidates, choose, fold_problem, rerank,
                           small_validation_hint)
from tuner.trial import TrialRecord
from tuner.training import TrialRunner


@pytest.fixture(scope="module")
def data(tiny_images: Path):
    return prepare_data(tiny_images, input_size=32, seed=0)


def test_cv_folds_are_stratified_disjoint_and_seeded(data) -> None:
    pool = sorted(data.files_train + data.files_val)
    folds = [data.cv_fold(4, i, seed=0) for i in range(4)]
    held = [f for d in folds for f in d.files_val]
    assert sorted(held) == pool  # every image held out exactly once
    for d in folds:
        assert sorted(d.files_train + d.files_val) == pool
        assert not set(d.files_train) & set(d.files_val)
        counts = list(d.counts("val").values())
        assert max(counts) - min(counts) <= 1  # stratified
        assert d.files_test == data.files_test and np.array_equal(d.x_test, data.x_test)
        assert "fold" in d.split_source["val"]
    assert len({d.fingerprint for d in folds} | {data.fingerprint}) == 5
    assert data.cv_fold(4, 1, seed=0).files_val == folds[1].files_val
    assert data.cv_fold(4, 1, seed=1).files_val != folds[1].files_val
    with pytest.raises(ConfigError, match="folds"):
        data.cv_fold(50, 0, seed=0)  # more folds than images in a class


def _rec(n: int, acc: float | None, loss: float | None, state: str = "COMPLETE", **p) -> TrialRecord:
    return TrialRecord(number=n, state=state, params=trial_params(18, **p).to_dict(),
                       val_accuracy=acc, val_loss=loss)


def test_candidates_follow_the_search_order_one_per_configuration() -> None:
    trials = [_rec(0, 0.9, 0.3), _rec(1, 1.0, 0.2, head_lr=0.1), _rec(2, 1.0, 0.1, head_lr=0.2),
              _rec(3, 1.0, 0.1, head_lr=0.2),  # same configuration as #2
              _rec(4, 1.0, None, state="PRUNED"), _rec(5, 0.95, 0.5, head_lr=0.3)]
    assert [t.number for t in candidates(trials, 3)] == [2, 1, 5]
    assert [t.number for t in candidates(trials, 10)] == [2, 1, 5, 0]


def test_choice_most_right_then_lower_loss_then_search_order() -> None:
    def s(n, correct, losses):
        return CandidateScore(n, 1.0, tuple(correct), (10,) * len(correct), tuple(losses))

    assert choose([s(0, [9, 9], [0.1, 0.1]), s(1, [10, 9], [0.9, 0.9])]) == 1
    assert choose([s(0, [9, 9], [0.3, 0.3]), s(1, [10, 8], [0.2, 0.2])]) == 1
    assert choose([s(3, [9, 9], [0.2, 0.2]), s(1, [10, 8], [0.2, 0.2])]) == 3
    assert "--rerank 5" in small_validation_hint(49) and small_validation_hint(100) is None


def test_refit_epochs_are_the_folds_median_per_phase() -> None:
    def s(epochs):
        return CandidateScore(0, 1.0, (1,) * len(epochs), (1,) * len(epochs), (0.1,) * len(epochs),
                              tuple(epochs))

    folds = [{"head": 2}, {"head": 3, "finetune": 4}, {"head": 3, "finetune": 1},
             {"head": 5}, {"head": 3, "finetune": 6}]
    assert s(folds).refit_epochs() == {"head": 3, "finetune": 1}  # finetune: 0 0 1 4 6
    assert s([{"head": 2}, {"head": 4}]).refit_epochs() == {"head": 2}  # median_low
    assert s([{"scratch": 3}, {"scratch": 5}, {"scratch": 4}]).refit_epochs() == {"scratch": 4}
    assert s([{"head": 2}, {}]).refit_epochs() is None
    assert CandidateScore.from_dict(s(folds).to_dict()).fold_epochs == tuple(folds)


def test_fold_problem_names_the_classes_too_small_for_the_folds() -> None:
    assert fold_problem([0] * 5 + [1] * 9, ("ants", "bees")) is None
    msg = fold_problem([0] * 4 + [1] * 9 + [2] * 2, ("ants", "bees", "wasps"))
    assert "ants (4)" in msg and "wasps (2)" in msg and "bees" not in msg


def test_folds_say_where_their_rows_sit_in_the_pool(data) -> None:
    x = np.concatenate([data.x_train, data.x_val])
    fps = set()
    for i in range(3):
        d = data.cv_fold(3, i, seed=0)
        assert np.array_equal(x[d.pool.train], d.x_train) and np.array_equal(x[d.pool.val], d.x_val)
        assert d.pool.size == len(x) and d.with_val_in_train().pool is None
        fps.add(d.pool.fingerprint)
    assert len(fps) == 1 and data.pool is None  # one pool for every fold of one split
    assert data.cv_fold(3, 0, seed=1).pool.fingerprint == fps.pop()  # same images, same pool


@pytest.mark.slow
def test_folds_share_one_activation_pass_over_the_pool(data, tmp_path: Path) -> None:
    n_blocks = TrialRunner(data, weights="none", seed=0).n_blocks
    aug = trial_params(n_blocks, augmentation="light", epochs=1)
    plain = trial_params(n_blocks - 1, epochs=1)
    base = TrialRunner(data, weights="none", seed=0, cache_dir=tmp_path)
    folds = [base.for_fold(3, i, seed=0) for i in range(3)]
    first = folds[0].run(aug)
    assert folds[0].cache.computed == 1 and any("computed" in n for n in first.notes)
    for f in folds[1:]:  # every other fold (its own process in a sweep) reads the pool's entry
        out = f.run(aug)
        assert f.cache.computed == 0 and any("cache hit" in n for n in out.notes)
    entry = next((tmp_path / "activations").glob("*-pooled-light-*"))
    pool = len(data.y_train) + len(data.y_val)
    assert np.load(entry / "train.npy", mmap_mode="r").shape[0] == 4 * pool  # 4 views as rows
    assert np.load(entry / "val.npy", mmap_mode="r").shape[0] == pool

    # without augmentation a fold's rows are exactly what a pass over the fold would give
    folds[1].run(plain)
    lone = TrialRunner(replace(data.cv_fold(3, 1, seed=0), pool=None), weights="none", seed=0)
    lone.run(plain)
    b = base.boundaries()[n_blocks - 1].name
    key = folds[1]._key(b, lone._validate(plain))
    ours = folds[1]._rows(folds[1].cache.get(key))
    theirs = lone.cache.get(lone._key(b, lone._validate(plain)))
    assert len(ours["train"]) == len(theirs["train"]) == 1
    for o, t in ((ours["train"][0], theirs["train"][0]), (ours["val"], theirs["val"])):
        assert np.array_equal(np.asarray(o), np.asarray(t))


@pytest.mark.slow
def test_rerank_trains_every_candidate_on_every_fold(data) -> None:
    runner = TrialRunner(data, weights="none", seed=0)
    cands = [_rec(0, 1.0, 0.5, head_lr=1e-2), _rec(1, 1.0, 0.6, head_lr=1e-4, epochs=1)]
    seen: list[tuple[int, int]] = []
    rr = rerank(runner, cands, folds=3, seed=0, on_run=lambda f, j, c: seen.append((f, c.number)))
    assert seen == [(f, n) for f in range(3) for n in (0, 1)]
    pool = len(data.y_train) + len(data.y_val)
    for c in rr.candidates:
        assert sum(c.fold_sizes) == pool and len(c.fold_correct) == 3
        assert all(0 <= k <= n for k, n in zip(c.fold_correct, c.fold_sizes))
    assert rr.chosen == choose(rr.candidates) and rr.search_best == 0
    for c in rr.candidates:  # each fold's best epoch per phase, then their median
        assert len(c.fold_epochs) == 3 and all(e.get("head", 0) >= 1 for e in c.fold_epochs)
        assert c.refit_epochs()["head"] == sorted(e["head"] for e in c.fold_epochs)[1]
    d = json.loads(json.dumps(rr.to_dict()))
    assert d["chosen"] == rr.chosen and len(d["candidates"]) == 2 and "rule" in d


@pytest.mark.slow
def test_a_sweep_on_a_small_validation_set_trains_the_cross_validated_choice(
        tiny_images: Path, tmp_path: Path) -> None:
    from tuner import tune

    kw = dict(trials=3, scenario="feature_extractor", weights="none", input_size=32, epochs=2,
              isolate=False)
    r = tune(tiny_images, out=tmp_path / "a", rerank=5, **kw)
    assert r.config.rerank == 5 and r.rerank is not None
    assert not any("--rerank" in w for w in r.warnings)
    numbers = [c.number for c in r.rerank.candidates]
    assert numbers == [t.number for t in candidates(r.trials, 5)] and len(numbers) >= 2
    assert r.best.number == r.rerank.chosen
    assert r.final.params.to_dict() == r.best.params
    chosen = r.rerank.candidate(r.best.number)
    refit = ", ".join(f"{v} {k} epoch(s)" for k, v in chosen.refit_epochs().items())
    assert any(n.startswith(f"refit on train + val: {refit} ") and "cross-validation folds" in n
               for n in r.final.notes)  # says where its epochs came from
    stored = json.loads((tmp_path / "a" / "results.json").read_text())
    assert stored["rerank"]["chosen"] == stored["best"]["number"] == r.best.number
    off = tune(tiny_images, out=tmp_path / "b", **kw)  # off by default, with a hint
    assert off.rerank is None and off.config.rerank == 0
    assert any("validates on" in w and "--rerank 5" in w for w in off.warnings)
    with pytest.raises(ConfigError, match="re-rank"):
        tune(tiny_images, out=tmp_path / "c", rerank=-1, **kw)
