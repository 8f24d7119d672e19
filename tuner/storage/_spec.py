"""The storage of a study: which one (:func:`get_storage`), its URL without secrets, and
opening it with a heartbeat where several workers share it."""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.errors import ConfigError

__all__ = ["StudyStorage", "get_storage", "redact_url", "fail_and_retry", "optuna_experimental",
           "STORAGE_ENV", "SQLITE_FILE", "JOURNAL_FILE", "DEFAULT_HEARTBEAT_S", "MAX_RETRY"]

STORAGE_ENV = "TLTUNE_STORAGE"  # the full storage URL, so that no password goes on disk or argv
SQLITE_FILE = "study.db"  # one worker: the run directory's embedded study
JOURNAL_FILE = "study.journal"  # --workers K: Optuna's file journal (safe for processes)
DEFAULT_HEARTBEAT_S = 60  # a trial whose worker is silent for 2x this long is failed and retried
MAX_RETRY = 2  # times a configuration whose worker died is tried again
_SCHEMES = ("sqlite", "postgresql", "mysql")  # Optuna's RDB storage (SQLAlchemy dialects)
_DRIVER_FIX = {"postgresql": "pip install 'tltools[postgres]' (the psycopg 3 driver)",
               "mysql": "pip install PyMySQL and pass mysql+pymysql://..."}


@contextlib.contextmanager
def optuna_experimental() -> Iterator[None]:
    """Use Optuna's heartbeat and retry, which it marks experimental, without its warning
    on the user's terminal (the choice is documented in docs/distributed.md)."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def redact_url(url: str | None) -> str | None:
    """A storage URL with any password replaced by ``***``."""
    if url is None:
        return None
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


@dataclass(frozen=True)
class StudyStorage:
    """Where the study lives. ``url``: an Optuna RDB URL with its secret, or ``None``
    for a file in ``run_dir`` (``journal``: the journal file local workers share, else
    SQLite). ``heartbeat_s``: set where workers that may die share the study (Optuna
    fails a trial whose heartbeat is older than twice this, and the configuration is
    retried)."""

    run_dir: Path
    url: str | None = None
    journal: bool = False
    heartbeat_s: int | None = None

    @property
    def shared(self) -> bool:
        """Whether other processes may work on the same study."""
        return self.url is not None or self.journal

    @property
    def redacted(self) -> str | None:
        """What the configuration stores: the URL without its password (``None``: local)."""
        return redact_url(self.url)

    @property
    def location(self) -> str:
        """Where the study is, for reports and optuna-dashboard (no password)."""
        if self.url is not None:
            return str(redact_url(self.url))
        if self.journal:
            return str((self.run_dir / JOURNAL_FILE).resolve())
        return f"sqlite:///{(self.run_dir / SQLITE_FILE).resolve()}"

    def open(self) -> Any:
        """The Optuna storage object; a bad URL, a missing driver, an unreachable server or
        a refused login is a :class:`~advisor.errors.ConfigError`."""
        import optuna

        if self.journal and self.url is None:
            from optuna.storages.journal import JournalFileBackend, JournalStorage

            self.run_dir.mkdir(parents=True, exist_ok=True)
            return JournalStorage(JournalFileBackend(str(self.run_dir / JOURNAL_FILE)))
        if self.url is None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        url = self.url or f"sqlite:///{(self.run_dir / SQLITE_FILE).resolve()}"
        kwargs: dict[str, Any] = {}
        if self.heartbeat_s:
            from optuna.storages import RetryHeartbeatStaleTrialCallback

            with optuna_experimental():
                retry = RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)
            kwargs = dict(heartbeat_interval=self.heartbeat_s, grace_period=2 * self.heartbeat_s,
                          heartbeat_stale_trial_callback=retry)
        scheme = _scheme(url)
        engine = {"connect_args": {"connect_timeout": 10}} if scheme == "postgresql" else {}
        with optuna_experimental():
            return _connect(optuna, url, scheme, engine, kwargs)


def fail_and_retry(storage: Any, study: Any, number: int, why: str,
                   max_retry: int = MAX_RETRY) -> bool:
    """Fail the RUNNING trial ``number`` of a worker known to be dead, keeping ``why``, and
    queue its configuration again (Optuna's
    :class:`~optuna.storages.RetryHeartbeatStaleTrialCallback`, at most ``max_retry``
    times). False when it was no longer running. Public storage calls only."""
    import optuna
    from optuna.storages import RetryHeartbeatStaleTrialCallback
    from optuna.trial import TrialState

    study_id = storage.get_study_id_from_name(study.study_name)
    trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, number)
    try:
        storage.set_trial_user_attr(trial_id, "message", why)
        if not storage.set_trial_state_values(trial_id, TrialState.FAIL):
            return False
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    with optuna_experimental():
        RetryHeartbeatStaleTrialCallback(max_retry=max_retry)(study, storage.get_trial(trial_id))
    return True


def _scheme(url: str) -> str:
    if "://" not in url:
        raise ConfigError(f"Malformed storage URL {redact_url(url)!r}",
                          expected="an Optuna RDB URL such as "
                                   "postgresql://USER:PASSWORD@HOST:5432/DB or sqlite:///FILE",
                          received=str(redact_url(url)),
                          fix="pass --storage URL in that form (or omit it: the run directory "
                              "keeps its own study)")
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme not in _SCHEMES:
        raise ConfigError(f"Unknown storage scheme {scheme!r}",
                          expected=f"one of {', '.join(s + '://' for s in _SCHEMES)}",
                          received=str(redact_url(url)),
                          fix="pass a PostgreSQL URL (postgresql://USER:PASSWORD@HOST/DB), or "
                              "omit --storage")
    return scheme


def _connect(optuna: Any, url: str, scheme: str, engine: dict, kwargs: dict) -> Any:
    import sqlalchemy.exc

    shown = str(redact_url(url))
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=engine or None, **kwargs)
    except ImportError as e:
        raise ConfigError(f"No database driver for {scheme}:// storage is installed",
                          expected=f"the {scheme} driver SQLAlchemy needs", received=shown,
                          fix=_DRIVER_FIX.get(scheme, "install the database driver")) from e
    except (sqlalchemy.exc.ArgumentError, ValueError) as e:
        raise ConfigError(f"Malformed storage URL {shown!r}",
                          expected="DIALECT://USER:PASSWORD@HOST:PORT/DATABASE",
                          received=redact_url(str(e))[:300], fix="check the URL") from e
    except sqlalchemy.exc.OperationalError as e:
        text = str(e.orig if getattr(e, "orig", None) is not None else e)
        if re.search(r"password authentication|authentication failed|role .* does not exist|"
                     r"access denied", text, re.I):
            raise ConfigError("The storage server refused the login",
                              expected="a user and password the server accepts",
                              received=f"{shown}: {text.strip().splitlines()[0][:200]}",
                              fix=f"check USER:PASSWORD in the URL (or ${STORAGE_ENV})") from e
        if scheme == "sqlite":
            raise ConfigError("Cannot open the SQLite study file",
                              expected="sqlite:///PATH of a file in a folder that exists and "
                                       "is writable", received=f"{shown}: {text[:200]}",
                              fix="check the path (sqlite:////abs/path.db has four slashes)"
                              ) from e
        if re.search(r"database .* does not exist", text, re.I):
            raise ConfigError("The storage database does not exist",
                              expected="an existing database on the server", received=shown,
                              fix="create it (createdb NAME) or name another in the URL") from e
        raise ConfigError("Cannot reach the storage server",
                          expected="a database server that accepts connections at the URL",
                          received=f"{shown}: {text.strip().splitlines()[0][:200]}",
                          fix="check host and port, that the server runs and that its "
                              "firewall lets this machine in") from e


def get_storage(run_dir: str | Path | None, url: str | None = None, *, workers: int = 1,
                heartbeat_s: int | None = None, env: bool = True) -> StudyStorage:
    """The one place a study's storage is chosen: ``url`` (else ``$TLTUNE_STORAGE`` when
    ``env``) when given; else a journal file for several local workers (or where the run
    directory already keeps its study in one), else the run's SQLite file. Checks the
    URL's form and scheme, not the connection (:meth:`StudyStorage.open`).
    ``run_dir=None``: a run directory not made yet (set it with ``dataclasses.replace``)."""
    url = url or (os.environ.get(STORAGE_ENV) if env else None) or None
    new = run_dir is None
    run_dir = Path(".") if run_dir is None else Path(run_dir)
    if url is not None:
        if "***" in url:
            raise ConfigError("The storage URL has its password redacted",
                              expected="the full URL, with its password",
                              received=str(redact_url(url)),
                              fix=f"pass --storage with the password, or set ${STORAGE_ENV} "
                                  "(tltune writes URLs to disk only without it)")
        scheme = _scheme(url)
        if scheme == "sqlite" and workers > 1:
            raise ConfigError("SQLite is not safe for several worker processes",
                              expected="--workers 1 with sqlite://, or another storage",
                              received=f"--workers {workers} --storage {redact_url(url)}",
                              fix="omit --storage (local workers share a journal file in the "
                                  "run directory) or use a PostgreSQL URL")
        return StudyStorage(run_dir, url=url, heartbeat_s=heartbeat_s or DEFAULT_HEARTBEAT_S)
    if workers > 1 and not new and (run_dir / SQLITE_FILE).exists():
        raise ConfigError("This run keeps its study in SQLite, which is not safe for several "
                          "worker processes", expected="--workers 1 when resuming this run",
                          received=f"--workers {workers}, {run_dir / SQLITE_FILE}",
                          fix="resume without --workers, or start a new sweep with --workers")
    # Several local workers: Optuna's file journal (its FAQ's choice for processes on one
    # machine). The supervising tltune process sees a worker die at once, so the journal
    # needs no heartbeat (and Optuna's journal storage has none).
    return StudyStorage(run_dir, journal=workers > 1 or (not new
                                                        and (run_dir / JOURNAL_FILE).exists()))
