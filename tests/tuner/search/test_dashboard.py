"""optuna-dashboard opens the studies as they are stored: the SQLite ``study.db`` a real
``tltune`` run saves, and a study on a real PostgreSQL server. The dashboard runs as its own
command; the test reads its HTTP JSON API (``/api/studies``, ``/api/studies/{id}``)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import optuna
import pytest

pytest.importorskip("optuna_dashboard", reason="optuna-dashboard not installed (pip install -e '.[test]')")

START_TIMEOUT_S = 30.0


def dashboard_argv() -> list[str]:
    """The installed ``optuna-dashboard`` command (the package has no ``__main__``)."""
    script = Path(sys.executable).parent / "optuna-dashboard"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from optuna_dashboard._cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, timeout: float = 10.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        assert r.status == 200, (url, r.status)
        return json.loads(r.read().decode())


@contextmanager
def dashboard(storage: str, log: Path):
    """``optuna-dashboard STORAGE`` on a free loopback port; yields its base URL once it
    answers, and always ends the server."""
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(dashboard_argv() + [storage, "--host", "127.0.0.1",
                                                     "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"optuna-dashboard exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
            try:
                get_json(base + "/api/meta", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"optuna-dashboard did not answer on {base} within "
                                f"{START_TIMEOUT_S:.0f} s:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def dashboard_study(base: str, name: str) -> dict:
    """The study ``name`` as the dashboard shows it: its entry in the study list and its
    detail (trials)."""
    listed = get_json(base + "/api/studies")["study_summaries"]
    match = [s for s in listed if s["study_name"] == name]
    assert len(match) == 1, [s["study_name"] for s in listed]
    detail = get_json(f"{base}/api/studies/{match[0]['study_id']}")
    assert detail["name"] == name
    return {"listed": listed, "summary": match[0], "detail": detail}


def as_optuna_sees_it(trials) -> list[tuple]:
    return [(t.number, t.state.name.capitalize(), t.values) for t in sorted(trials, key=lambda t: t.number)]


def as_dashboard_shows_it(detail: dict) -> list[tuple]:
    return [(t["number"], t["state"], t.get("values"))
            for t in sorted(detail["trials"], key=lambda t: t["number"])]


def assert_same_trials(detail: dict, trials) -> None:
    shown, stored = as_dashboard_shows_it(detail), as_optuna_sees_it(trials)
    assert [(n, s) for n, s, _ in shown] == [(n, s) for n, s, _ in stored]
    for (_, _, v_shown), (_, _, v_stored) in zip(shown, stored):
        assert (v_shown is None) == (v_stored is None)
        if v_stored is not None:
            assert v_shown == pytest.approx(v_stored)


@pytest.mark.slow
def test_dashboard_opens_the_study_a_tltune_run_saves(done_sweep, tmp_path):
    assert done_sweep["returncode"] == 0, done_sweep["stderr"][-3000:]
    db = Path(done_sweep["run"]) / "study.db"
    assert db.is_file(), sorted(p.name for p in Path(done_sweep["run"]).iterdir())
    url = f"sqlite:///{db.resolve()}"
    names = optuna.get_all_study_names(storage=url)
    study = optuna.load_study(study_name="tltune", storage=url)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) >= 3 and names == ["tltune"]
    with dashboard(url, tmp_path / "dashboard.log") as base:
        seen = dashboard_study(base, "tltune")
    assert [s["study_name"] for s in seen["listed"]] == names
    assert seen["summary"]["directions"] == [d.name.lower() for d in study.directions]
    assert len(seen["detail"]["trials"]) == len(trials)
    assert_same_trials(seen["detail"], trials)


@pytest.mark.postgres
def test_dashboard_opens_a_study_on_postgresql(pg_url, pg_study_name, tmp_path):
    study = optuna.create_study(storage=pg_url, study_name=pg_study_name, direction="maximize")
    try:
        for i, state in enumerate([optuna.trial.TrialState.COMPLETE,
                                   optuna.trial.TrialState.COMPLETE,
                                   optuna.trial.TrialState.PRUNED]):
            t = study.ask()
            t.suggest_float("lr", 1e-4, 1e-1, log=True)
            study.tell(t, 0.5 + 0.1 * i if state == optuna.trial.TrialState.COMPLETE else None,
                       state=state)
        with dashboard(pg_url, tmp_path / "dashboard.log") as base:
            seen = dashboard_study(base, pg_study_name)
        assert len(seen["detail"]["trials"]) == 3
        assert [t["state"] for t in seen["detail"]["trials"]] == ["Complete", "Complete", "Pruned"]
        assert_same_trials(seen["detail"], study.get_trials(deepcopy=False))
    finally:
        optuna.delete_study(study_name=pg_study_name, storage=pg_url)


def test_dashboard_opens_the_journal_of_local_workers(tmp_path):
    """``--workers K`` keeps the study in ``RUN/study.journal``: the dashboard takes the
    file's path as it is."""
    from tuner.storage import JOURNAL_FILE, get_storage

    study = optuna.create_study(storage=get_storage(tmp_path, workers=2).open(),
                                study_name="tltune", direction="maximize")
    for v in (0.5, 0.75):
        t = study.ask()
        t.suggest_float("lr", 1e-4, 1e-1, log=True)
        study.tell(t, v)
    with dashboard(str(tmp_path / JOURNAL_FILE), tmp_path / "dashboard.log") as base:
        seen = dashboard_study(base, "tltune")
    assert_same_trials(seen["detail"], study.get_trials(deepcopy=False))
