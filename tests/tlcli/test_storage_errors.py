"""Bad storage on the command line: exit 2, a message saying what was expected and how
to fix it, no traceback, no password echoed, and no run directory left behind."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import subprocess_env, tltune_argv
from tuner.storage import STORAGE_ENV


def tltune(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(tltune_argv() + args, capture_output=True, text=True, cwd=cwd,
                          env=subprocess_env(**env), timeout=300)


def check_refused(p: subprocess.CompletedProcess, cwd: Path, *needles: str) -> str:
    out = p.stdout + p.stderr
    assert p.returncode == 2, out[-2000:]
    assert "Traceback" not in out
    for n in needles:
        assert n in out, out[-2000:]
    assert "Expected" in out and "Fix" in out
    assert not (cwd / "run").exists() and not (cwd / "runs").exists()  # nothing half-made
    return out


CASES = [
    ("garbage", ("Malformed storage URL",)),
    ("notadb://x", ("Unknown storage scheme 'notadb'", "postgresql://")),
    ("mysql://ann:hunter22@127.0.0.1:1/db", ("No database driver", "ann:***@")),
    ("postgresql://ann:hunter22@127.0.0.1:1/db", ("Cannot reach the storage server",)),
]


@pytest.mark.parametrize("url, needles", CASES, ids=["malformed", "scheme", "driver",
                                                     "unreachable"])
def test_bad_storage_url(tiny_images, tmp_path, url, needles) -> None:
    p = tltune([str(tiny_images), "--storage", url, "--scenario", "feature_extractor",
                "--out", "run"], tmp_path)
    out = check_refused(p, tmp_path, *needles)
    assert "hunter22" not in out


def test_bad_storage_url_from_the_environment(tiny_images, tmp_path) -> None:
    p = tltune([str(tiny_images), "--scenario", "feature_extractor", "--out", "run"], tmp_path,
               **{STORAGE_ENV: "postgresql://ann:hunter22@127.0.0.1:1/db"})
    assert "hunter22" not in check_refused(p, tmp_path, "Cannot reach the storage server")


def test_refused_login(tiny_images, tmp_path, pg_url) -> None:
    secret = pg_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    wrong = pg_url.replace(f":{secret}@", ":wrong-password@")
    p = tltune([str(tiny_images), "--storage", wrong, "--scenario", "feature_extractor",
                "--out", "run"], tmp_path)
    out = check_refused(p, tmp_path, "refused the login", "USER:PASSWORD")
    assert "wrong-password" not in out


@pytest.mark.parametrize("args, needles", [
    (["--workers", "2", "--storage", "sqlite:///x.db"], ("SQLite is not safe",)),
    (["--workers", "2", "--backend", "kerastuner"], ("Only the Optuna backend",)),
    (["--study", " "], ("study name is empty",)),
], ids=["sqlite-workers", "kerastuner-workers", "empty-study"])
def test_bad_worker_options(tiny_images, tmp_path, args, needles) -> None:
    check_refused(tltune([str(tiny_images), "--scenario", "feature_extractor", "--out", "run",
                          *args], tmp_path), tmp_path, *needles)


def test_resume_of_a_study_that_does_not_exist(done_sweep, tmp_path, pg_url,
                                               pg_study_name) -> None:
    """A run whose study is gone from the server (deleted, or another server)."""
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(done_sweep["run"], run)
    cfg = json.loads((run / "config.json").read_text())
    secret = pg_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    cfg.update(storage=pg_url.replace(secret, "***"), study=pg_study_name, heartbeat=60)
    (run / "config.json").write_text(json.dumps(cfg))
    p = tltune(["--resume", str(run)], tmp_path, **{STORAGE_ENV: pg_url})
    out = p.stdout + p.stderr
    assert p.returncode == 2 and "Traceback" not in out, out[-2000:]
    assert f"No study '{pg_study_name}'" in out and secret not in out
    p = tltune(["--resume", str(run)], tmp_path)  # and without the password
    assert p.returncode == 2 and "needs its password" in p.stdout + p.stderr
