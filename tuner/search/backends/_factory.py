"""The one place where a backend is chosen by name."""

from __future__ import annotations

import importlib
from pathlib import Path

from advisor.errors import ConfigError
from tuner.search._space import SearchSpace
from tuner.search.backends._base import SearchBackend
from tuner.storage import StudyStorage, get_storage

__all__ = ["BACKENDS", "get_backend"]

# name -> (module, class); imported only when chosen (KerasTuner imports TensorFlow).
BACKENDS = {
    "optuna": ("tuner.search.backends._optuna", "OptunaBackend"),
    "kerastuner": ("tuner.search.backends._kerastuner", "KerasTunerBackend"),
}


def get_backend(name: str, space: SearchSpace, *, seed: int, run_dir: str | Path,
                storage: StudyStorage | str | None = None, **options) -> SearchBackend:
    """Instantiate the backend ``name`` (``optuna`` or ``kerastuner``); ``storage``: where
    its state lives (a URL is checked by :func:`tuner.storage.get_storage`)."""
    key = name.lower().replace("-", "").replace("_", "")
    if key == "keras" or key == "kt":
        key = "kerastuner"
    if key not in BACKENDS:
        raise ConfigError(f"Unknown search backend {name!r}", expected=f"one of {list(BACKENDS)}",
                          received=repr(name), fix="pass --backend optuna or --backend kerastuner")
    module, cls = BACKENDS[key]
    backend_cls = getattr(importlib.import_module(module), cls)
    if isinstance(storage, str):
        storage = get_storage(run_dir, storage)
    if storage is not None and storage.shared and not backend_cls.shareable:
        raise ConfigError(f"The {key} backend keeps its state in the run directory only",
                          expected="--backend optuna for --storage, --study or --workers",
                          received=f"--backend {key} with {storage.location}",
                          fix="drop --storage / --workers, or use --backend optuna")
    return backend_cls(space, seed=seed, run_dir=run_dir, storage=storage, **options)
