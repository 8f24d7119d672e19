"""THE KILL TEST: SIGKILL a real ``tltune`` sweep in the middle of a trial, resume it,
and check that no finished trial is lost or repeated and that exactly the requested
number of trials finish."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import read_results, subprocess_env, tltune_argv
from tuner.search import TEST_SLEEP_ENV
TRIALS = 6


def finished(d: dict) -> dict[int, dict]:
    return {t["number"]: t for t in d["trials"] if t["state"] in ("COMPLETE", "PRUNED")}


def study_states(run: Path) -> list[str]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name="tltune", storage=f"sqlite:///{run / 'study.db'}")
    return [t.state.name for t in study.get_trials(deepcopy=False)]


@pytest.mark.slow
def test_sigkill_mid_trial_then_resume(tiny_images, tmp_path):
    run = tmp_path / "run"
    argv = tltune_argv() + [str(tiny_images), "--trials", str(TRIALS), "--scenario",
                            "feature_extractor", "--weights", "none", "--image-size", "64",
                            "--epochs", "1", "--out", str(run)]
    # Each trial sleeps 3 s after it is RUNNING: the kill lands inside a trial.
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=subprocess_env(**{TEST_SLEEP_ENV: "3"}))
    before = None
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            d = read_results(run)
            if d and len(finished(d)) >= 2 and any(t["state"] == "RUNNING" for t in d["trials"]):
                before = d
                break
            time.sleep(0.1)
        assert before is not None, f"sweep never reached 2 finished trials: rc={proc.poll()}"
        workers = psutil.Process(proc.pid).children(recursive=True)
        assert workers, "tltune trains in a worker process by default"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        out = proc.communicate()[0]
    assert proc.returncode == -signal.SIGKILL, out[-3000:]
    # the worker dies with the sweep: nothing keeps training or writing the cache
    gone, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive, [p.cmdline() for p in alive]

    running = [t["number"] for t in before["trials"] if t["state"] == "RUNNING"]
    assert len(running) == 1
    done_before = finished(before)
    states = study_states(run)
    assert states.count("RUNNING") == 1  # the study saw the trial start, never its end
    assert sum(s in ("COMPLETE", "PRUNED") for s in states) >= len(done_before)

    res = subprocess.run(tltune_argv() + ["--resume", str(run)], capture_output=True,
                         text=True, env=subprocess_env(), timeout=900)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]

    after = read_results(run)
    done_after = finished(after)
    assert len(done_after) == TRIALS
    assert after["status"] == "done" and after["n_finished"] == TRIALS
    for n, t in done_before.items():  # nothing lost, nothing changed
        assert done_after[n]["params"] == t["params"]
        assert done_after[n]["val_accuracy"] == t["val_accuracy"]
        assert done_after[n]["history"] == t["history"]
    killed = running[0]
    assert killed not in done_after and killed in after["killed_trials"]
    assert next(t for t in after["trials"] if t["number"] == killed)["state"] == "FAIL"
    # Nothing repeated: trial numbers are unique and the killed trial is not re-run.
    numbers = [t["number"] for t in after["trials"]]
    assert len(numbers) == len(set(numbers))
    params = [json.dumps(t["sampled"], sort_keys=True) for t in done_after.values()]
    assert len(params) == len(set(params))
    assert sorted(study_states(run)).count("FAIL") == 1
    assert sum(s in ("COMPLETE", "PRUNED") for s in study_states(run)) == TRIALS
    assert after["sessions"] == 2 and after["final"]["exports"]["keras"]
