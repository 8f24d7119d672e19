"""The study's storage: chosen in one place, bad URLs refused with what to do, the
password never kept, the final-model claim won once, and a dead worker's trial retried."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.errors import ConfigError
from tuner.storage import (JOURNAL_FILE, SQLITE_FILE, STORAGE_ENV, claim, fail_and_retry,
                           get_storage, redact_url)


def test_redact_url_hides_only_the_password() -> None:
    assert redact_url("postgresql://ann:s3cr:et@db.example:5432/tl") == \
        "postgresql://ann:***@db.example:5432/tl"
    assert redact_url("postgresql://ann@db/tl") == "postgresql://ann@db/tl"
    assert redact_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    assert redact_url(None) is None


def test_the_choice_of_storage(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(STORAGE_ENV, raising=False)
    local = get_storage(tmp_path)
    assert not local.shared and local.heartbeat_s is None
    assert local.location == f"sqlite:///{(tmp_path / SQLITE_FILE).resolve()}"
    workers = get_storage(tmp_path / "w", workers=3)
    assert workers.journal and workers.shared and workers.heartbeat_s is None
    url = get_storage(tmp_path, "postgresql://u:pw@127.0.0.1/db", heartbeat_s=5)
    assert url.shared and url.heartbeat_s == 5 and url.redacted == "postgresql://u:***@127.0.0.1/db"
    assert "pw" not in url.location
    assert get_storage(tmp_path, "postgresql://u:pw@h/db").heartbeat_s == 60  # the default
    monkeypatch.setenv(STORAGE_ENV, "postgresql://u:pw@h/db")
    assert get_storage(tmp_path).url == "postgresql://u:pw@h/db"
    assert get_storage(tmp_path, env=False).url is None


@pytest.mark.parametrize("url, what, fix", [
    ("garbage", "Malformed storage URL", "--storage URL in that form"),
    ("notadb://x", "Unknown storage scheme 'notadb'", "PostgreSQL URL"),
    ("postgresql://u:***@h/db", "password redacted", STORAGE_ENV),
])
def test_bad_urls_are_refused_before_any_connection(tmp_path: Path, url, what, fix) -> None:
    with pytest.raises(ConfigError) as e:
        get_storage(tmp_path, url)
    assert what in e.value.what and fix in e.value.fix


def test_sqlite_is_refused_for_several_workers(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SQLite is not safe"):
        get_storage(tmp_path, f"sqlite:///{tmp_path}/s.db", workers=2)
    (tmp_path / SQLITE_FILE).write_bytes(b"")
    with pytest.raises(ConfigError, match="keeps its study in SQLite"):
        get_storage(tmp_path, workers=2)
    j = tmp_path / "j"
    j.mkdir()
    (j / JOURNAL_FILE).write_bytes(b"")
    assert get_storage(j).journal  # a journal run stays a journal run, with any --workers


def test_missing_driver_and_unreachable_server(tmp_path: Path) -> None:
    # mysql:// needs a driver that is not a dependency (PostgreSQL's is, with [postgres])
    with pytest.raises(ConfigError) as e:
        get_storage(tmp_path, "mysql://u:pw@127.0.0.1:1/db").open()
    assert "No database driver" in e.value.what and "pw" not in str(e.value)
    with pytest.raises(ConfigError) as e:
        get_storage(tmp_path, "postgresql://u:pw@127.0.0.1:1/db").open()
    assert "Cannot reach the storage server" in e.value.what
    assert "u:***@127.0.0.1:1" in e.value.received and "pw" not in str(e.value)
    with pytest.raises(ConfigError, match="Cannot open the SQLite"):
        get_storage(tmp_path, f"sqlite:///{tmp_path}/no/such/dir/s.db").open()


def test_refused_login(tmp_path: Path, pg_url: str) -> None:
    user, rest = pg_url.split("://", 1)[1].split(":", 1)
    wrong = pg_url.replace(":" + rest.split("@", 1)[0] + "@", ":not-the-password@")
    with pytest.raises(ConfigError) as e:
        get_storage(tmp_path, wrong).open()
    assert "refused the login" in e.value.what and "not-the-password" not in str(e.value)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_final_model_is_claimed_once(tmp_path: Path, workers: int) -> None:
    import optuna

    handle = get_storage(tmp_path, workers=workers).open()
    optuna.create_study(study_name="s", storage=handle)
    assert claim(handle, "s", "final-model", {"worker": "a:1"}) is None
    assert claim(handle, "s", "final-model", {"worker": "b:2"}) == {"worker": "a:1"}
    assert claim(handle, "s", "final-model", {"worker": "a:1"}) == {"worker": "a:1"}


def test_a_dead_workers_trial_is_failed_and_queued_again(tmp_path: Path) -> None:
    import optuna
    from optuna.trial import TrialState

    handle = get_storage(tmp_path, workers=2).open()
    study = optuna.create_study(study_name="s", storage=handle)
    trial = study.ask()
    trial.suggest_float("x", 0, 1)
    assert fail_and_retry(handle, study, 0, "worker w:9 died")
    assert not fail_and_retry(handle, study, 0, "twice")  # no longer running
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.WAITING]
    assert trials[1].params == trials[0].params
    assert trials[0].user_attrs["message"] == "worker w:9 died"
    again = study.ask()  # the queued configuration comes first
    assert again.suggest_float("x", 0, 1) == trials[0].params["x"]


def test_a_loser_waits_for_the_winners_holder() -> None:
    """The winner creates the claim study, then writes its holder: a loser reading in
    between waits for it instead of returning a holder without its run folder."""
    import threading

    import optuna

    storage = optuna.storages.InMemoryStorage()
    sid = storage.create_new_study(directions=[optuna.study.StudyDirection.MAXIMIZE],
                                   study_name="s:final-model")
    winner = {"worker": "a:1", "run_dir": "/runs/a"}
    late = threading.Timer(0.3, storage.set_study_user_attr, (sid, "holder", winner))
    late.start()
    try:
        assert claim(storage, "s", "final-model", {"worker": "b:2", "run_dir": "/runs/b"}) == winner
    finally:
        late.join()
