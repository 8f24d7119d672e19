"""Two backends on one shared study (as two workers): they see each other's trials with
the worker that ran them, keep the study's trial budget, give back a proposal that came
too late, and fail a dead worker's trial so that its configuration runs again."""

from __future__ import annotations

import warnings
from pathlib import Path

from tests.tuner.search.test_backends import finish, space
from tuner.search import Emitter, TrialLoop
from tuner.search.backends import get_backend
from tuner.storage import StudyStorage, get_storage


def two_workers(tmp_path: Path):
    storage = get_storage(tmp_path, workers=2)
    a = get_backend("optuna", space(), seed=0, run_dir=tmp_path, storage=storage)
    a.open(resume=False)
    b = get_backend("optuna", space(), seed=0, run_dir=tmp_path, storage=storage)
    b.open(resume=False, joined=True)
    b.worker = "elsewhere:42"  # another process, as the trials record it
    return a, b


def test_workers_share_trials_and_propose_differently(tmp_path: Path) -> None:
    a, b = two_workers(tmp_path)
    assert a.sampler_seed != b.sampler_seed  # no replay of each other's random start
    pa = a.ask()
    pb = b.ask()
    assert pa.number != pb.number and pa.sampled != pb.sampled
    finish(a, pa, 0.5)
    seen = {t.number: t for t in b.trials()}
    assert seen[pa.number].state == "COMPLETE" and seen[pa.number].worker == a.worker
    assert seen[pb.number].state == "RUNNING" and seen[pb.number].worker == "elsewhere:42"


def test_a_late_proposal_is_given_back_untrained(tmp_path: Path) -> None:
    a, b = two_workers(tmp_path)
    held = [a.ask(), b.ask()]  # both places of a 2-trial study are running
    loop = TrialLoop(a, None, 2, emit=Emitter(None, 2, 0.0), on_change=lambda t: None,
                     warn=lambda m: None)
    assert loop.run_trial() is None  # asked a third trial: given back, never trained
    trials = {t.number: t for t in a.trials()}
    late = max(trials)
    assert trials[late].state == "FAIL" and trials[late].message.startswith("not trained")
    assert [t.state for t in trials.values()].count("RUNNING") == 2
    for p in held:
        finish(a, p, 0.6)
    nxt = b.ask()  # the given-back configuration is queued: it comes next
    assert nxt.sampled == trials[late].sampled


def test_a_dead_workers_trial_is_retried_by_a_live_one(tmp_path: Path) -> None:
    a, b = two_workers(tmp_path)
    pb = b.ask()
    assert a.fail_worker("elsewhere:42", "worker elsewhere:42 died (exit status -9)") == \
        [pb.number]
    retry = a.ask()
    assert retry.sampled == pb.sampled and retry.number > pb.number
    finish(a, retry, 0.7)
    trials = {t.number: t for t in a.trials()}
    assert trials[pb.number].state == "FAIL"
    assert trials[pb.number].message == (f"worker elsewhere:42 died (exit status -9); its "
                                         f"configuration was queued again (trial "
                                         f"{retry.number})")
    assert trials[retry.number].state == "COMPLETE" and trials[retry.number].message == ""
    assert trials[retry.number].worker == a.worker


def test_asking_with_a_heartbeat_warns_nothing(tmp_path: Path) -> None:
    """The loop keeps the heartbeat itself: Optuna's warning that its heartbeat belongs to
    study.optimize() must not reach the user's terminal on every trial."""
    storage = StudyStorage(tmp_path, url=f"sqlite:///{tmp_path / 'hb.db'}", heartbeat_s=1)
    backend = get_backend("optuna", space(), seed=0, run_dir=tmp_path, storage=storage)
    backend.open(resume=False)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        proposal = backend.ask()
        with backend.keep_alive(proposal):
            pass
        finish(backend, proposal, 0.5)
    assert [str(w.message) for w in seen] == []
