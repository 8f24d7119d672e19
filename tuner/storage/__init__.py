"""Where a sweep's Optuna study lives, chosen and checked in one place: the run
directory's SQLite file (the default), a journal file shared by local worker processes
(``--workers K``), or any Optuna RDB URL (PostgreSQL, MySQL) shared by workers on
several machines. URLs are kept on disk only without their password."""

from tuner.storage._spec import (DEFAULT_HEARTBEAT_S, JOURNAL_FILE, MAX_RETRY, SQLITE_FILE,
                                 STORAGE_ENV, StudyStorage, fail_and_retry, get_storage,
                                 optuna_experimental, redact_url)
from tuner.storage._study import claim, study_attr, study_exists, worker_id

__all__ = ["DEFAULT_HEARTBEAT_S", "JOURNAL_FILE", "MAX_RETRY", "SQLITE_FILE", "STORAGE_ENV",
           "StudyStorage", "claim", "fail_and_retry", "get_storage", "optuna_experimental",
           "redact_url", "study_attr", "study_exists", "worker_id"]
