"""Workers on one PostgreSQL study (as on several machines): three ``tltune`` processes
started with the same ``--storage URL --study NAME``; one SIGKILLed mid-trial. Optuna's
heartbeat (kept by the ask / tell loop) fails its trial, a live worker trains the
configuration again, the study ends with exactly N finished trials, one worker trains
the only final model and no password reaches the disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import read_results as results
from tests.conftest import subprocess_env, tltune_argv
from tuner.search import TEST_SLEEP_ENV
from tuner.storage import STORAGE_ENV

TRIALS = 6


def password(url: str) -> str:
    return url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]


def assert_no_secret(root: Path, secret: str) -> None:
    for f in root.rglob("*"):
        if f.is_file():
            assert secret.encode() not in f.read_bytes(), f"password written to {f}"


@pytest.mark.slow
def test_three_workers_one_killed_mid_trial(tiny_images, tmp_path, pg_url, pg_study_name):
    import optuna

    common = [str(tiny_images), "--trials", str(TRIALS), "--scenario", "feature_extractor",
              "--weights", "none", "--image-size", "64", "--epochs", "1", "--study",
              pg_study_name, "--heartbeat", "1"]
    # the URL (with its password) by environment for two workers, on the command line
    # for the third: neither may reach the disk
    env = subprocess_env(**{TEST_SLEEP_ENV: "4", STORAGE_ENV: pg_url})
    runs = [tmp_path / f"w{i}" for i in range(3)]
    procs = []
    for i, run in enumerate(runs):
        extra = ["--storage", pg_url] if i == 2 else []
        procs.append(subprocess.Popen(tltune_argv() + common + extra + ["--out", str(run)],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True, env=env))
        time.sleep(1.0 if i == 0 else 0)
    victim = None
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and victim is None:
            for i, run in enumerate(runs[1:], 1):  # not the first: it may hold the claim
                d = results(run)
                now = datetime.now()  # a trial started under 2 s ago is in its 4 s sleep
                mine = [t for t in (d or {}).get("trials", []) if t["state"] == "RUNNING"
                        and t["worker"].endswith(f":{procs[i].pid}") and t["started"]
                        and (now - datetime.fromisoformat(t["started"])).total_seconds() < 2]
                done = [t for t in (d or {}).get("trials", []) if t["state"] == "COMPLETE"]
                if mine and done:
                    victim = (i, mine[0])
                    break
            time.sleep(0.2)
        assert victim is not None, [p.poll() for p in procs]
        os.kill(procs[victim[0]].pid, signal.SIGKILL)
        outs = [p.communicate(timeout=600)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    live = [i for i in range(3) if i != victim[0]]
    for i in live:
        assert procs[i].returncode == 0, outs[i][-3000:]
    assert procs[victim[0]].returncode == -signal.SIGKILL

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=pg_study_name, storage=pg_url)
    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    assert sum(s in ("COMPLETE", "PRUNED") for s in states) == TRIALS, states
    assert "RUNNING" not in states
    killed = study.trials[victim[1]["number"]]
    assert killed.state.name == "FAIL"
    finished = [t for t in study.get_trials(deepcopy=False)
                if t.state.name in ("COMPLETE", "PRUNED")]
    from optuna.storages import RetryHeartbeatStaleTrialCallback as Retry

    retried = [t for t in finished if Retry.retried_trial_number(t) == killed.number]
    assert len(retried) == 1  # retried, once, holding every parameter the killed one had drawn
    assert killed.params.items() <= retried[0].params.items()
    configs = [json.dumps(t.params, sort_keys=True) for t in finished]
    assert len(configs) == len(set(configs))  # nothing trained twice

    print(f"\nkill test (PostgreSQL, 3 workers): states {states}; killed trial "
          f"{killed.number} ({victim[1]['worker']}); retried as trial "
          f"{retried[0].number}")
    finals = [i for i in live if (runs[i] / "model").is_dir()]
    assert len(finals) == 1, [results(runs[i])["status"] for i in live]
    winner = results(runs[finals[0]])
    assert winner["status"] == "done" and winner["n_finished"] == TRIALS
    other = results(runs[next(i for i in live if i != finals[0])])
    assert other["status"] == "searched" and other["final"] is None
    assert other["final_by"]["run_dir"] == str(runs[finals[0]].resolve())
    for d in (winner, other):  # every worker's trials, with host and pid
        assert len(d["workers"]) >= 2
        assert {t["number"] for t in d["trials"]} >= {t.number for t in finished}
        record = next(t for t in d["trials"] if t["number"] == killed.number)
        assert record["state"] == "FAIL" and "heartbeat" in record["message"]
        assert "queued again" in record["message"]
        assert record["worker"].endswith(f":{procs[victim[0]].pid}")
    for run in runs:
        assert_no_secret(run, password(pg_url))
    cfg = json.loads((runs[finals[0]] / "config.json").read_text())
    assert cfg["storage"] == pg_url.replace(password(pg_url), "***")


@pytest.mark.slow
def test_resume_takes_the_password_from_the_environment_only(tiny_images, tmp_path, pg_url,
                                                              pg_study_name):
    run = tmp_path / "run"
    base = tltune_argv() + [str(tiny_images), "--trials", "2", "--scenario",
                            "feature_extractor", "--weights", "none", "--image-size", "64",
                            "--epochs", "1", "--study", pg_study_name, "--storage", pg_url,
                            "--out", str(run)]
    p = subprocess.run(base, capture_output=True, text=True, env=subprocess_env(), timeout=600)
    assert p.returncode == 0, (p.stdout + p.stderr)[-3000:]
    assert_no_secret(run, password(pg_url))
    again = tltune_argv() + ["--resume", str(run), "--trials", "3"]
    p = subprocess.run(again, capture_output=True, text=True, env=subprocess_env(), timeout=600)
    assert p.returncode == 2 and "needs its password" in p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    p = subprocess.run(again, capture_output=True, text=True, timeout=600,
                       env=subprocess_env(**{STORAGE_ENV: pg_url}))
    assert p.returncode == 0, (p.stdout + p.stderr)[-3000:]
    assert results(run)["n_finished"] == 3 and results(run)["sessions"] == 2
    assert_no_secret(run, password(pg_url))
