"""The study a session works on: its storage (checked before any run directory exists,
its password never stored), and for a study that several workers share, whether this
worker starts it or joins it with the configuration its first worker published."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from advisor.errors import ConfigError
from tuner._options import SweepOptions
from tuner.run import SweepConfig, check_resume
from tuner.storage import (STORAGE_ENV, StudyStorage, get_storage, redact_url, study_attr,
                           study_exists)

__all__ = ["CONFIG_ATTR", "DEFAULT_STUDY", "JOIN_WAIT_S", "joined_config", "new_storage",
           "resumed_storage", "start_or_join"]

CONFIG_ATTR = "tltune:config"  # the study's configuration, published by its first worker
DEFAULT_STUDY = "tltune"
JOIN_WAIT_S = 1800  # how long a joining worker waits for the first one's configuration
_POLL_S = 2.0


def new_storage(opts: SweepOptions) -> StudyStorage:
    """The storage of a new sweep (its run directory is set later), its URL checked in
    form; :func:`start_or_join` connects to it before anything is written."""
    storage = get_storage(None, opts.storage, workers=opts.workers or 1,
                          heartbeat_s=opts.heartbeat)
    if storage.shared and (opts.backend or "optuna").lower() != "optuna":
        raise ConfigError("Only the Optuna backend shares a study between workers",
                          expected="--backend optuna with --storage, --study, --workers or "
                                   f"${STORAGE_ENV}",
                          received=f"--backend {opts.backend}",
                          fix="drop --backend (Optuna is the default)")
    return storage  # a URL is connected to by start_or_join, before any run directory


def resumed_storage(stored: SweepConfig, opts: SweepOptions, run_dir: Path) -> StudyStorage:
    """The storage of a resumed run: its own file, or the stored URL completed with its
    password from ``--storage`` or ``$TLTUNE_STORAGE`` (never read from disk)."""
    workers = opts.workers or stored.workers
    heartbeat = opts.heartbeat or stored.heartbeat
    if stored.storage is None:
        if opts.storage:
            raise ConfigError("This run keeps its study in its run directory",
                              expected="no --storage when resuming it",
                              received=str(redact_url(opts.storage)),
                              fix="resume without --storage")
        return get_storage(run_dir, None, workers=workers, env=False)
    given = opts.storage or os.environ.get(STORAGE_ENV)
    if given is None:
        if "***" in stored.storage:
            raise ConfigError("The run's storage URL needs its password",
                              expected=f"the full URL in --storage or ${STORAGE_ENV}",
                              received=f"{stored.storage} (tltune never writes the password)",
                              fix=f"pass --storage URL again, or export {STORAGE_ENV}=URL")
        given = stored.storage
    if redact_url(given) != stored.storage:
        raise ConfigError("The storage URL differs from the run's",
                          expected=stored.storage, received=str(redact_url(given)),
                          fix="pass the URL the sweep was started with")
    storage = get_storage(run_dir, given, workers=workers, heartbeat_s=heartbeat)
    handle = storage.open()
    if stored.space is not None and not study_exists(handle, stored.study):
        raise ConfigError(f"No study {stored.study!r} in the storage",
                          expected="the study this run worked on", received=storage.location,
                          fix="pass the --storage URL the sweep was started with (was the "
                              "study deleted?), or start a new sweep")
    return storage


def start_or_join(storage: StudyStorage, opts: SweepOptions, note: Callable[[str], None]
                  ) -> dict | None:
    """On a URL storage (connected here: a bad one fails before any run directory):
    create the study (``None``: this worker starts the sweep) or,
    when ``--study NAME`` exists, return the configuration its first worker published
    (waiting for it while that worker prepares). The default study is never joined."""
    if storage.url is None:
        return None
    import optuna

    handle = storage.open()
    name = opts.study or DEFAULT_STUDY
    exists = study_exists(handle, name)
    if opts.study is None:
        if exists and _started(handle, name):
            raise ConfigError(f"The storage already holds a study {name!r}",
                              expected="a new study, or --study NAME to join one",
                              received=storage.location,
                              fix=f"pass --study {name} to add this worker to that sweep, or "
                                  "--study NEW_NAME to start another")
        return None  # the backend creates it (or takes over an empty one)
    if not exists:
        try:  # claim the name now, so that workers started together agree on who starts
            handle.create_new_study(directions=[optuna.study.StudyDirection.MAXIMIZE],
                                    study_name=name)
            return None
        except optuna.exceptions.DuplicatedStudyError:
            pass  # another worker created it a moment ago: join it
    deadline = time.monotonic() + JOIN_WAIT_S
    told = False
    while True:
        published = study_attr(handle, name, CONFIG_ATTR)
        if published is not None:
            return published
        if time.monotonic() > deadline:
            raise ConfigError(f"Study {name!r} has no tltune configuration",
                              expected="a study started by tltune",
                              received=f"none published within {JOIN_WAIT_S} s",
                              fix="check that its first worker runs, or pass another --study")
        if not told:
            note(f"waiting for the first worker of study {name!r} to publish its configuration "
                 "(if it was stopped before, resume it with --resume RUN_DIR)")
            told = True
        time.sleep(_POLL_S)


def joined_config(published: dict, opts: SweepOptions, storage: StudyStorage,
                  fingerprint: str, path: Any) -> SweepConfig:
    """This worker's configuration: the study's, on this machine's copy of the dataset
    (the same files by fingerprint), refusing options that differ from the study's."""
    study = SweepConfig.from_dict(published)
    if study.dataset_fingerprint != fingerprint:
        raise ConfigError("This worker's dataset differs from the study's",
                          expected=f"the same files (fingerprint {study.dataset_fingerprint})",
                          received=f"{Path(path).resolve()} (fingerprint {fingerprint})",
                          fix="give each worker a copy of the same dataset")
    given = opts.compared(None)
    given.pop("advice", None)  # the study's advice is used
    if opts.trials is not None:
        given["trials"] = opts.trials
    check_resume(study, given, joining=True)
    return replace(study, dataset=str(Path(path).resolve()), storage=storage.redacted,
                   joined=True, workers=int(opts.workers or 1),
                   heartbeat=storage.heartbeat_s)


def _started(handle: Any, name: str) -> bool:
    """Whether study ``name`` holds trials or a published configuration."""
    study_id = handle.get_study_id_from_name(name)
    return bool(handle.get_all_trials(study_id, deepcopy=False)
                or handle.get_study_user_attrs(study_id))
