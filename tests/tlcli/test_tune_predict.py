"""``tltune`` / ``tlpredict``: options, exit codes, a real installed-command run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tests.conftest import subprocess_env, tf_noise, tltune_argv
from tlcli.predict import app as predict_app
from tlcli.tune import app

runner = CliRunner()


def test_help_lists_every_option():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for opt in ("--trials", "--backend", "--advice", "--scenario", "--backbone", "--weights",
                "--image-size", "--test-split", "--seed", "--out", "--resume", "--storage",
                "--max-images", "--export", "--json", "--epochs", "--patience"):
        assert opt in r.output


def test_help_does_not_import_tensorflow():
    code = ("import sys; from typer.testing import CliRunner; from tlcli.tune import app; "
            "r = CliRunner().invoke(app, ['--help']); "
            "assert r.exit_code == 0; print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_bad_input_exits_2(tmp_path):
    r = runner.invoke(app, [str(tmp_path / "missing")])
    assert r.exit_code == 2 and "error:" in r.output
    r = runner.invoke(app, ["--resume", str(tmp_path)])
    assert r.exit_code == 2 and "config.json" in r.output
    r = runner.invoke(app, [str(tmp_path), "--export", "onnx"])
    assert r.exit_code == 2 and "onnx" in r.output
    r = runner.invoke(app, [str(tmp_path), "--backend", "hyperopt"])
    assert r.exit_code == 2  # rejected by the option's choices


def test_bad_advice_file_exits_2(tmp_path, tiny_images):
    bad = tmp_path / "advice.json"
    bad.write_text(json.dumps({"advice": {"scenario": "partial_freeze"}}))
    r = runner.invoke(app, [str(tiny_images), "--advice", str(bad)])
    assert r.exit_code == 2 and "holds no advice" in r.output


@pytest.mark.slow
def test_installed_command_runs_a_sweep(done_sweep):
    """The session fixture ran the real ``tltune`` in a subprocess."""
    assert done_sweep["returncode"] == 0, done_sweep["stderr"][-3000:]
    out = done_sweep["stdout"]
    assert "Run directory:" in out and "Trials (3 finished of 3 requested)" in out
    assert tf_noise(out + done_sweep["stderr"]) == []  # its worker process's included
    d = json.loads(done_sweep["json"].read_text())
    assert d["n_finished"] == 3 and d["final"]["exports"]["keras"]
    # --rerank 5: the top trials were cross-validated, in worker processes
    rr = d["rerank"]
    assert d["config"]["rerank"] == 5 and len(rr["candidates"]) >= 2
    assert d["best"]["number"] == rr["chosen"] and d["final"]["params"] == d["best"]["params"]
    totals = {sum(c["fold_sizes"]) for c in rr["candidates"]}  # every candidate: the same pool
    assert len(totals) == 1 and totals.pop() > 0
    assert "--rerank 5" in d["command"]


@pytest.mark.slow
def test_resume_with_changed_config_exits_2(done_sweep):
    r = runner.invoke(app, ["--resume", str(done_sweep["run"]), "--seed", "3"])
    assert r.exit_code == 2 and "seed" in r.output
    p = subprocess.run(tltune_argv() + ["--resume", str(done_sweep["run"]), "--backend",
                                        "kerastuner"],
                       capture_output=True, text=True, env=subprocess_env(), timeout=300)
    assert p.returncode == 2 and "backend" in p.stdout + p.stderr


@pytest.mark.slow
def test_tlpredict_on_the_exported_model(done_sweep):
    model = done_sweep["run"] / "model"
    images = sorted((done_sweep["dataset"] / "red").glob("*.png"))[:2]
    r = runner.invoke(predict_app, [str(model), *map(str, images), "--top", "2", "--json"])
    assert r.exit_code == 0, r.output
    preds = json.loads(r.output)
    assert [p["path"] for p in preds] == [str(i) for i in images]
    assert all(len(p["top"]) == 2 and p["error"] is None for p in preds)
    assert all(t["label"] in ("blue", "green", "red") for p in preds for t in p["top"])
    r = runner.invoke(predict_app, [str(done_sweep["run"]), str(images[0])])
    assert r.exit_code == 2  # no model.keras directly in the run directory
