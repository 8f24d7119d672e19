"""``tltune --workers 2``: two local worker processes on one study in a journal file. A
worker SIGKILLed mid-trial: its trial ends FAIL, the configuration is trained again by
a live worker, the study ends with exactly N finished trials and one final model."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from tests.conftest import read_results as results
from tests.conftest import subprocess_env, tltune_argv
from tuner.search import TEST_SLEEP_ENV

TRIALS = 6


def journal_trials(run: Path) -> list:
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(str(run / "study.journal")))
    return optuna.load_study(study_name="tltune", storage=storage).get_trials(deepcopy=False)


@pytest.mark.slow
def test_two_local_workers_one_killed_mid_trial(tiny_images, tmp_path):
    run = tmp_path / "run"
    argv = tltune_argv() + [str(tiny_images), "--trials", str(TRIALS), "--scenario",
                            "feature_extractor", "--weights", "none", "--image-size", "64",
                            "--epochs", "1", "--workers", "2", "--out", str(run)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=subprocess_env(**{TEST_SLEEP_ENV: "4"}))
    victim = None
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None and victim is None:
            # read the study itself: a trial that started under 2 s ago is still in its
            # 4 s sleep, so the kill lands inside it
            trials = journal_trials(run) if (run / "study.journal").exists() else []
            now = datetime.now()
            fresh = [t for t in trials if t.state.name == "RUNNING" and t.datetime_start
                     and (now - t.datetime_start).total_seconds() < 2.0]
            if fresh and any(t.state.name == "COMPLETE" for t in trials):
                victim = {"number": fresh[0].number, "worker": fresh[0].user_attrs["worker"]}
            else:
                time.sleep(0.2)
        assert victim is not None, f"no trial ran beside a finished one: rc={proc.poll()}"
        pid = int(victim["worker"].rsplit(":", 1)[1])
        workers = [p for p in psutil.Process(proc.pid).children() if "tuner._local" in
                   " ".join(p.cmdline())]
        assert len(workers) == 2 and pid in [p.pid for p in workers]
        os.kill(pid, signal.SIGKILL)
        out = proc.communicate(timeout=600)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out[-3000:]

    d = results(run)
    assert d["status"] == "done" and d["n_finished"] == TRIALS
    assert d["final"]["exports"]["keras"] and (run / "model").is_dir()
    states = [t.state.name for t in journal_trials(run)]
    assert sum(s in ("COMPLETE", "PRUNED") for s in states) == TRIALS
    assert "RUNNING" not in states and "WAITING" not in states
    killed = next(t for t in d["trials"] if t["number"] == victim["number"])
    print(f"\nkill test (--workers 2): states {states}; killed {killed['number']}: "
          f"{killed['message']}")
    assert killed["state"] == "FAIL" and "died" in killed["message"]
    # each worker wrote the TensorBoard logs of the trials it finished, the killed one none
    assert sorted(p.name for p in (run / "tensorboard").glob("trial_*")) == sorted(
        f"trial_{t['number']:04d}" for t in d["trials"] if t["state"] in ("COMPLETE", "PRUNED"))
    assert "queued again" in killed["message"]
    finished = [t for t in d["trials"] if t["state"] in ("COMPLETE", "PRUNED")]
    # the retry holds every parameter the killed trial had drawn (a kill can land between
    # two suggestions, and the rest are then drawn afresh)
    again = int(re.search(r"queued again \(trial (\d+)\)", killed["message"]).group(1))
    retried = [t for t in finished if t["number"] == again]
    assert len(retried) == 1 and again > killed["number"]
    assert killed["sampled"].items() <= retried[0]["sampled"].items()
    assert retried[0]["worker"] != killed["worker"]
    configs = [json.dumps(t["sampled"], sort_keys=True) for t in finished]
    assert len(configs) == len(set(configs))  # nothing trained twice
    assert len({t["worker"] for t in d["trials"]}) >= 2  # both workers trained
    assert "worker" in out and "died" in out
