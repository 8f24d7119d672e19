"""What workers sharing a study read besides its trials (whether it exists, the
configuration its first worker published) and the one claim on its final model."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

__all__ = ["study_exists", "study_attr", "claim", "worker_id"]


def worker_id(pid: int | None = None) -> str:
    """A process of this machine (default: this one) as reports name a worker: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"


def study_exists(storage: Any, name: str) -> bool:
    """Whether the Optuna ``storage`` object holds a study ``name``."""
    import optuna

    try:
        storage.get_study_id_from_name(name)
    except KeyError:
        return False
    except optuna.exceptions.OptunaError:
        return False
    return True


def study_attr(storage: Any, name: str, key: str) -> Any:
    """The user attribute ``key`` of study ``name`` (``None`` when unset)."""
    study_id = storage.get_study_id_from_name(name)
    return storage.get_study_user_attrs(study_id).get(key)


_HOLDER_POLLS = 100  # 10 s for the winner to write its holder


def claim(storage: Any, name: str, what: str, holder: dict) -> dict | None:
    """Claim ``what`` (e.g. ``"final-model"``) of study ``name`` for ``holder`` once among
    all workers: ``None`` when this call won, else the winner's ``holder``.

    The storage's own uniqueness of study names makes it atomic on every backend: the
    claim is a study ``NAME:WHAT`` created by the winner (it holds no trials)."""
    import optuna

    claim_name = f"{name}:{what}"
    try:
        study_id = storage.create_new_study(
            directions=[optuna.study.StudyDirection.MAXIMIZE], study_name=claim_name)
    except optuna.exceptions.DuplicatedStudyError:
        study_id = storage.get_study_id_from_name(claim_name)
        # the winner writes its holder just after creating the study: a loser reading in
        # between found none (a KeyError on "run_dir" in a 3-worker CI run)
        for _ in range(_HOLDER_POLLS):
            holder_now = storage.get_study_user_attrs(study_id).get("holder")
            if holder_now:
                return dict(holder_now)
            time.sleep(0.1)
        return {"worker": "?", "run_dir": "?"}  # a winner killed before writing it
    storage.set_study_user_attr(study_id, "holder", holder)
    return None
