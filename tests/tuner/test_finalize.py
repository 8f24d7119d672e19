"""``tltune --finalize RUN``: the final model of a searched study, trained without more
trials (the way out when the worker that claimed it was lost)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import subprocess_env, tltune_argv


@pytest.mark.slow
def test_finalize_trains_the_final_model_and_no_trial(done_sweep, tmp_path) -> None:
    run = tmp_path / "run"
    shutil.copytree(done_sweep["run"], run)
    shutil.rmtree(run / "model")
    before = json.loads((run / "results.json").read_text())
    (run / "results.json").write_text(json.dumps({**before, "status": "searched",
                                                  "final": None}))
    p = subprocess.run(tltune_argv() + ["--finalize", str(run)], capture_output=True, text=True,
                       env=subprocess_env(), timeout=600)
    assert p.returncode == 0, (p.stdout + p.stderr)[-3000:]
    after = json.loads((run / "results.json").read_text())
    assert after["status"] == "done" and after["final"]["exports"]["keras"]
    assert (run / "model" / "model.keras").is_file()
    assert [t["number"] for t in after["trials"]] == [t["number"] for t in before["trials"]]
    assert after["best"]["number"] == before["best"]["number"]


def test_finalize_needs_one_run_directory(tmp_path) -> None:
    for args in (["--finalize", str(tmp_path / "nothing")],
                 ["--finalize", str(tmp_path / "a"), "--resume", str(tmp_path / "b")]):
        p = subprocess.run(tltune_argv() + args, capture_output=True, text=True,
                           env=subprocess_env(), timeout=120)
        assert p.returncode == 2 and "Traceback" not in p.stdout + p.stderr, p.stdout + p.stderr
