"""The one interface every search backend implements (the "deciding" half).

A backend is like keras-tuner's Oracle: it proposes parameters (:meth:`ask`),
receives per-epoch validation accuracy (:meth:`should_prune`) and the finished
trial (:meth:`tell`), and keeps its state in the run directory. It never trains:
the same :class:`~tuner.training._runner.TrialRunner` runs trials for every backend.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from tuner.search._space import SearchSpace
from tuner.storage import StudyStorage, get_storage, worker_id
from tuner.trial import TrialParams, TrialRecord

__all__ = ["Proposal", "SearchBackend", "KILLED_MESSAGE"]

KILLED_MESSAGE = "left RUNNING by a process that was killed; marked FAIL on resume"


@dataclass(frozen=True)
class Proposal:
    """A trial the backend wants run: its number, sampled values and full params."""

    number: int
    sampled: dict
    params: TrialParams
    handle: Any = None  # the backend's own trial object


class SearchBackend(ABC):
    """Decides parameters and records results; state lives under ``run_dir``.

    ``storage``: where the state lives (:func:`tuner.storage.get_storage`; ``None``: the
    run directory's own). Only a backend with ``shareable = True`` (Optuna) lets several
    workers share one state; the others keep the defaults of the sharing methods.
    """

    name: ClassVar[str]
    shareable: ClassVar[bool] = False

    def __init__(self, space: SearchSpace, *, seed: int, run_dir: str | Path,
                 storage: StudyStorage | None = None, study_name: str = "tltune") -> None:
        self.space = space
        self.seed = seed
        self.run_dir = Path(run_dir)
        self.storage = storage if storage is not None else get_storage(run_dir)
        self.study_name = study_name
        self.worker = worker_id()  # host:pid, kept with each trial it runs

    @abstractmethod
    def open(self, *, resume: bool, joined: bool = False) -> list[int]:
        """Create the search state (``resume=False``) or load it (``resume=True``, or
        ``joined``: a state other workers share and this one did not start).

        Returns the numbers of trials a killed process left RUNNING, now marked FAIL
        (not counted, not re-run). Where workers share the state only the heartbeat
        decides that a trial's worker is dead (:meth:`reap`).
        """

    def reap(self) -> None:
        """Fail the trials whose worker stopped sending heartbeats (their
        configurations are queued again). Nothing to do without a heartbeat."""

    @contextlib.contextmanager
    def keep_alive(self, proposal: Proposal) -> Iterator[None]:
        """Send the trial's heartbeat while the block runs (where the storage has one)."""
        yield

    def fail_worker(self, worker: str, why: str) -> list[int]:
        """Fail the RUNNING trials of ``worker`` (a dead local worker process) and queue
        their configurations again; their numbers."""
        return []

    def discard(self, proposal: Proposal, why: str) -> None:
        """Give back a proposal that will not be trained (the study's trial budget was
        taken meanwhile): it ends FAIL with ``why`` and its configuration stays queued."""
        self.tell(proposal, TrialRecord(number=proposal.number, state="FAIL",
                                        params=proposal.params.to_dict(),
                                        sampled=proposal.sampled, message=why))

    def publish(self, key: str, value: Any) -> None:
        """Keep ``value`` with the shared state, for workers that join it."""

    def claim_final(self, holder: dict) -> dict | None:
        """Claim the final model among all workers: ``None`` when this worker won, else the
        winner's ``holder``. A state nobody shares is always this worker's."""
        return None

    @abstractmethod
    def ask(self) -> Proposal:
        """The next trial to run (the recommended configuration comes first)."""

    @abstractmethod
    def should_prune(self, proposal: Proposal, step: int, val_accuracy: float) -> bool:
        """Record one epoch's validation accuracy; True when the trial should stop."""

    @abstractmethod
    def tell(self, proposal: Proposal, record: TrialRecord) -> None:
        """Store the finished trial (``record.state``: COMPLETE, PRUNED or FAIL)."""

    @abstractmethod
    def trials(self) -> list[TrialRecord]:
        """Every trial in the state (not waiting ones), ordered by number."""

    @abstractmethod
    def describe(self) -> dict:
        """What the report should say about the backend (sampler, pruner, storage)."""
