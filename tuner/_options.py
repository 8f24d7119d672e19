"""What a user asks of a sweep: :class:`SweepOptions`, validated once where it enters."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.data import AUTO_FRAMING, check_framing
from advisor.errors import ConfigError, InputError
from advisor.recommend import Advice
from tuner.final import check_exports
from tuner.search import SearchSpace, check_stall

__all__ = ["SweepOptions", "DEFAULT_TRIALS", "DEFAULT_BACKEND", "DEFAULT_BACKBONE",
           "DEFAULT_WEIGHTS", "DEFAULT_FRAMING"]

DEFAULT_TRIALS = 30
DEFAULT_BACKEND = "optuna"
DEFAULT_BACKBONE = "mobilenet_v2"
DEFAULT_WEIGHTS = "imagenet"
DEFAULT_FRAMING = AUTO_FRAMING
# Options that say when to stop and what to export, not what is searched: a resumed
# sweep may change them (SweepConfig.RESUMABLE_KEYS); ``out``, ``resume``, ``cache_dir``
# and ``isolate`` say where and how it runs.
# ``storage`` is compared without its password (tuner._shared), ``workers``, ``heartbeat``
# and ``finalize`` say how the study is worked on, not what it searches.
_NOT_COMPARED = ("path", "out", "resume", "cache_dir", "isolate", "trials", "export", "refit",
                 "rerank", "storage", "workers", "heartbeat", "finalize", "stall")


@dataclass(frozen=True)
class SweepOptions:
    """The options of :func:`tuner.tune`; ``None`` means "the stored value" when
    resuming and the default otherwise.

    New sweep defaults: ``trials=30``, ``backend="optuna"``, ``backbone`` from the
    advice (else ``mobilenet_v2``), ``weights="imagenet"``, ``input_size`` from the
    advice (else :data:`~tuner.data.DEFAULT_INPUT_SIZE`), ``seed=0``, ``epochs=10``,
    ``patience=3``, ``export=("keras",)``, ``framing="auto"``, ``refit=True``,
    ``rerank=0``, ``stall=10``, ``lr_find=True``. Without ``advice`` and ``scenario`` the advisor runs first; with
    ``scenario`` alone it does not (the scenario fixes the freeze range).

    ``resume=RUN_DIR`` continues a sweep: any option other than ``trials``,
    ``export``, ``refit`` and ``rerank`` that differs from the stored configuration
    is a :class:`~advisor.errors.ConfigError` naming the changed keys. ``space``
    replaces the derived search space (benchmarks). ``stall=K`` stops the search once K
    finished trials in a row did not beat the best by more than its validation SE
    (``0``: run all ``trials``; :mod:`tuner.search._stopping`). ``lr_find`` runs the LR
    finder (:func:`tuner.find_lr`) before the search and widens the head's learning-rate
    range to reach its suggestion (the backbone's suggestion is reported, not used). ``refit`` trains the final model
    on train + val for the best trial's epochs up to its best one (``False``: train
    only, early stopping on val). ``rerank=N`` re-scores the search's top ``N`` trials
    by 5-fold cross-validation on train + val (:mod:`tuner.search`). ``isolate``
    (default) trains in a worker process that is replaced when its memory grows;
    ``False`` trains in this process.

    Several workers, one study (:mod:`tuner.storage`, ``docs/distributed.md``):
    ``storage`` is an Optuna RDB URL (default ``$TLTUNE_STORAGE``, else the run
    directory's SQLite file); ``study`` names a study in it that the first worker
    creates and later ones join (default ``"tltune"``, which is never joined);
    ``workers=K`` runs K local worker processes on one study (a journal file in the run
    directory unless ``storage`` is given); ``heartbeat`` is the seconds between a
    trial's heartbeats on a shared URL storage (default 60; a trial silent for twice
    that is failed and its configuration tried again). ``finalize=True`` with
    ``resume=RUN_DIR`` trains, evaluates and exports the final model of the study as it
    stands, without more trials.
    """

    path: str | Path | None = None
    trials: int | None = None
    backend: str | None = None
    advice: Advice | str | Path | None = None
    scenario: str | None = None
    backbone: str | None = None
    weights: str | None = None
    input_size: int | None = None
    test_split: str | None = None
    seed: int | None = None
    out: str | Path | None = None
    resume: str | Path | None = None
    storage: str | None = None
    max_images: int | None = None
    epochs: int | None = None
    patience: int | None = None
    export: tuple[str, ...] | None = None
    space: SearchSpace | None = None
    cache_dir: str | Path | None = None
    refit: bool | None = None
    rerank: int | None = None
    framing: str | None = None
    isolate: bool = True
    study: str | None = None
    workers: int | None = None
    heartbeat: int | None = None
    finalize: bool = False
    stall: int | None = None
    lr_find: bool | None = None

    @classmethod
    def of(cls, path: str | Path | None = None, options: "SweepOptions | None" = None,
           **overrides: Any) -> "SweepOptions":
        """``options`` (or the defaults) with ``path`` and ``overrides``, checked."""
        base = options or cls()
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ConfigError(f"Unknown sweep option(s) {unknown}",
                              expected=f"some of {sorted(names)}", received=str(unknown),
                              fix="see help(tuner.SweepOptions)")
        if path is not None:
            overrides["path"] = path
        if overrides.get("export") is not None:
            overrides["export"] = tuple(overrides["export"])
        return dataclasses.replace(base, **overrides).checked()

    def checked(self) -> "SweepOptions":
        """``self``, or the :class:`~advisor.errors.InputError` of its first bad value."""
        if self.path is None and self.resume is None:
            raise InputError("No dataset given", expected="a dataset folder or CSV manifest",
                             received="nothing",
                             fix="run `tltune ./dataset` (or --resume RUN_DIR)")
        if self.trials is not None and self.trials < 1:
            raise ConfigError("The number of trials must be positive", expected="--trials >= 1",
                              received=str(self.trials), fix="pass --trials 30, for example")
        if self.rerank is not None and self.rerank < 0:
            raise ConfigError("The number of trials to re-rank must not be negative",
                              expected="0 (off) or the number of top trials to re-score",
                              received=str(self.rerank),
                              fix="pass --rerank 5, or --rerank 0 to turn it off")
        for name, value, fix in (("workers", self.workers, "pass --workers 2, for example"),
                                 ("heartbeat", self.heartbeat, "pass --heartbeat 60")):
            if value is not None and value < 1:
                raise ConfigError(f"--{name} must be positive", expected=f"--{name} >= 1",
                                  received=str(value), fix=fix)
        if self.stall is not None:
            check_stall(self.stall)
        if self.finalize and self.resume is None:
            raise ConfigError("--finalize needs the run directory of the sweep",
                              expected="--finalize RUN_DIR", received="no run directory",
                              fix="pass --finalize RUN_DIR (a run directory tltune printed)")
        if self.study is not None and not self.study.strip():
            raise ConfigError("The study name is empty", expected="--study NAME",
                              received=repr(self.study), fix="pass --study my-sweep")
        if self.framing is not None:
            check_framing(self.framing, allow_auto=True)
        if self.export is not None:
            check_exports(self.export)
        return self

    def compared(self, advice: Advice | None) -> dict[str, Any]:
        """The options a resumed sweep must not change, as set by the user (``advice``:
        the loaded advice, compared by value)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if f.name not in _NOT_COMPARED and getattr(self, f.name) is not None}
        if "advice" in out:
            out["advice"] = advice.to_dict() if advice else None
        if "space" in out:
            out["space"] = self.space.to_dict()
        return out
