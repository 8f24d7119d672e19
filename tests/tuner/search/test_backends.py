"""Search backends: what they propose, prune, store and recover; and a real search
with the shared TrialRunner for each backend."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from advisor.errors import ConfigError
from tuner.trial import TrialRecord
from tuner.search._space import SearchSpace
from tuner.search.backends import KILLED_MESSAGE, get_backend

N = 18


def space() -> SearchSpace:
    return SearchSpace.from_advice(None, N, "partial_freeze", epochs=3)


def objective(sampled: dict) -> float:
    """A deterministic score that prefers head_lr near 1e-3 and deep freezing."""
    return (1.0 - abs(math.log10(sampled.get("head_lr", 1e-3)) + 3) / 3
            + 0.01 * sampled.get("freeze_block", 0))


def finish(backend, proposal, value: float, state: str = "COMPLETE") -> TrialRecord:
    rec = TrialRecord(number=proposal.number, state=state, params=proposal.params.to_dict(),
                      sampled=proposal.sampled, val_accuracy=value, val_loss=1.0 - value,
                      epochs_run=2, seconds=0.5,
                      history=({"epoch": 0, "val_accuracy": value},), notes=("n",))
    backend.tell(proposal, rec)
    return rec


@pytest.fixture(params=["optuna", "kerastuner"])
def backend_name(request) -> str:
    return request.param


def test_first_trial_is_the_recommended_configuration(tmp_path, backend_name):
    sp = space()
    b = get_backend(backend_name, sp, seed=0, run_dir=tmp_path)
    assert b.open(resume=False) == []
    p = b.ask()
    assert p.number == 0 and p.sampled == sp.first()
    assert p.params == sp.params(sp.first())


def test_proposals_stay_in_the_space_and_records_round_trip(tmp_path, backend_name):
    sp = space()
    b = get_backend(backend_name, sp, seed=1, run_dir=tmp_path, n_startup_trials=2)
    b.open(resume=False)
    told = []
    for _ in range(4):
        p = b.ask()
        assert p.params.freeze_block in sp.freeze_blocks
        assert sp.head_lr[0] <= p.params.head_lr <= sp.head_lr[1]
        assert p.params.augmentation in sp.augmentation and p.params.epochs == 3
        told.append(finish(b, p, objective(p.sampled)))
    got = b.trials()
    assert [t.number for t in got] == [0, 1, 2, 3]
    for want, have in zip(told, got):
        assert have.state == "COMPLETE"
        assert have.params == want.params and have.val_accuracy == pytest.approx(want.val_accuracy)
        assert have.history == want.history and have.notes == want.notes
        assert have.seconds == want.seconds


def test_same_seed_same_proposals(tmp_path, backend_name):
    # Optuna: two random trials, then TPE. KerasTuner: random phase only (a Gaussian
    # process step costs tens of seconds on two shared cores).
    startup = 2 if backend_name == "optuna" else 10
    runs = []
    for d in ("a", "b"):
        b = get_backend(backend_name, space(), seed=7, run_dir=tmp_path / d,
                        n_startup_trials=startup)
        b.open(resume=False)
        seq = []
        for _ in range(4):
            p = b.ask()
            finish(b, p, objective(p.sampled))
            seq.append(p.sampled)
        runs.append(seq)
    assert runs[0] == runs[1]


def test_killed_running_trial_is_marked_fail_and_not_rerun(tmp_path, backend_name):
    sp = space()
    b = get_backend(backend_name, sp, seed=0, run_dir=tmp_path)
    b.open(resume=False)
    for _ in range(2):
        p = b.ask()
        finish(b, p, objective(p.sampled))
    running = b.ask()  # the process "dies" here: never told
    assert [t.state for t in b.trials()] == ["COMPLETE", "COMPLETE", "RUNNING"]

    again = get_backend(backend_name, sp, seed=0, run_dir=tmp_path)
    assert again.open(resume=True) == [running.number]
    states = {t.number: t for t in again.trials()}
    assert states[running.number].state == "FAIL"
    assert states[running.number].message == KILLED_MESSAGE
    nxt = again.ask()
    assert nxt.number == running.number + 1
    # The resumed sampler does not replay the draws of the first session.
    assert nxt.sampled not in [t.sampled for t in states.values()] + [running.sampled]
    finish(again, nxt, 0.5)
    assert sum(t.is_finished for t in again.trials()) == 3


def test_optuna_prunes_a_bad_trial_after_the_warmup_epoch(tmp_path):
    b = get_backend("optuna", space(), seed=0, run_dir=tmp_path, pruner_startup=3)
    b.open(resume=False)
    for _ in range(3):
        p = b.ask()
        for step, v in enumerate((0.5, 0.6, 0.7)):
            assert not b.should_prune(p, step, v)
        finish(b, p, 0.7)
    p = b.ask()
    # warm-up: the head phase (1 of 3 epochs) and the first fine-tuning epoch never prune
    assert b.warmup_steps == 2
    assert not b.should_prune(p, 0, 0.1) and not b.should_prune(p, 1, 0.1)
    assert b.should_prune(p, 2, 0.1)
    finish(b, p, 0.1, state="PRUNED")
    assert b.trials()[-1].state == "PRUNED" and b.trials()[-1].is_finished


def test_kerastuner_samples_backbone_lr_only_for_unfrozen_trials(tmp_path):
    sp = replace(SearchSpace.from_advice(None, N), freeze_blocks=(N - 1, N))
    b = get_backend("kerastuner", sp, seed=3, run_dir=tmp_path, n_startup_trials=20)
    b.open(resume=False)
    seen = set()
    for _ in range(12):
        p = b.ask()
        seen.add(p.params.freeze_block == N)
        assert ("backbone_lr" in p.sampled) == (p.params.freeze_block < N)
        finish(b, p, objective(p.sampled))
    assert seen == {True, False}


def test_backend_selection_errors(tmp_path):
    with pytest.raises(ConfigError):
        get_backend("hyperopt", space(), seed=0, run_dir=tmp_path)
    with pytest.raises(ConfigError):
        get_backend("kerastuner", space(), seed=0, run_dir=tmp_path, storage="sqlite:///x.db")
    b = get_backend("optuna", space(), seed=0, run_dir=tmp_path)
    b.open(resume=False)
    with pytest.raises(ConfigError):  # a second new study in the same storage
        get_backend("optuna", space(), seed=0, run_dir=tmp_path).open(resume=False)
    with pytest.raises(ConfigError):  # nothing to resume
        get_backend("optuna", space(), seed=0, run_dir=tmp_path / "empty").open(resume=True)


@pytest.mark.slow
def test_real_search_with_the_trial_runner(tmp_path, backend_name, tiny_images):
    """Both backends drive the same runner: 3 trials, 64 px, random weights, 1 epoch."""
    from tuner import tune

    events = []
    r = tune(tiny_images, trials=3, backend=backend_name, scenario="feature_extractor",
             weights="none", input_size=64, epochs=1, out=tmp_path / "run",
             progress=events.append)
    assert r.status == "done" and r.n_finished == 3
    assert [t.number for t in r.trials] == [0, 1, 2]
    assert r.trials[0].sampled == r.config.space.first()
    assert all(t.state == "COMPLETE" and 0.0 <= t.val_accuracy <= 1.0 for t in r.trials)
    assert all(t.history and t.epochs_run >= 1 for t in r.trials)
    assert len({tuple(sorted(t.sampled.items())) for t in r.trials}) == 3
    assert r.final is not None and 0.0 <= r.final.test_accuracy <= 1.0
    assert Path(r.final.exports["keras"]).is_file()
    kinds = [e.kind for e in events]
    assert kinds.count("trial_end") == 3 and kinds[-1] == "final_end"
    assert [e.n_finished for e in events if e.kind == "trial_end"] == [1, 2, 3]
