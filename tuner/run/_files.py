"""The run directory: its files, how it is created, and reading them back.

Layout of ``runs/<timestamp>-<dataset>/`` (or ``--out DIR``)::

    config.json     everything that defines the search (compared on --resume)
    advice.json     the advice the space is centred on, if any, and the advisor's
                    split_shift findings ({"advice": ..., "health": {"findings": [...]}})
    study.db        the Optuna study (SQLite; --storage URL puts it elsewhere)
    kerastuner/     the KerasTuner oracle state and trial records (that backend)
    results.json    SweepResult.to_dict(), rewritten atomically after every trial
    tensorboard/    TensorBoard logs: trial_NNNN/ per finished trial (TensorBoardLog)
    model/          the final model (FinalResult)
    cache/          decoded images and cached features of the runner
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

from advisor.errors import ConfigError, InputError
from advisor.io import write_json_atomic
from tuner.run._config import SweepConfig
from tuner.run._result import SweepResult

__all__ = ["CONFIG_FILE", "RESULTS_FILE", "ADVICE_FILE", "dataset_fingerprint", "new_run_dir",
           "load_config", "save_config", "load_results", "write_results"]

CONFIG_FILE = "config.json"
RESULTS_FILE = "results.json"
ADVICE_FILE = "advice.json"


def dataset_fingerprint(index: Any) -> str:
    """Content-free id of a scanned dataset: every file's path, label, split and size."""
    h = hashlib.sha1()
    for it in sorted(index.items, key=lambda i: i.rel):
        try:
            size = it.path.stat().st_size
        except OSError:
            size = -1
        h.update(f"{it.rel}\0{it.label}\0{it.split}\0{size}\n".encode())
    return h.hexdigest()[:16]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "dataset"


def _never_searched(run: Path) -> bool:
    """A run directory whose sweep stopped before its search began (its configuration has
    no search space yet and it holds no results): nothing in it is lost by starting over."""
    try:
        stored = json.loads((run / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(stored, dict) and stored.get("space") is None
            and not (run / RESULTS_FILE).exists())


def new_run_dir(dataset: str | Path, out: str | Path | None = None, root: str | Path = "runs"
                ) -> Path:
    """Create the run directory: ``out``, or ``root/<timestamp>-<dataset name>``."""
    if out is not None:
        run = Path(out)
        if (run / CONFIG_FILE).exists() and not _never_searched(run):
            raise ConfigError(f"{run} already holds a sweep",
                              expected="a new or empty directory for --out",
                              received=f"{run / CONFIG_FILE} exists",
                              fix=f"continue it with --resume {run}, or pass another --out")
        run.mkdir(parents=True, exist_ok=True)
        return run
    base = f"{time.strftime('%Y%m%d-%H%M%S')}-{_slug(Path(dataset).resolve().name)}"
    for i in range(1000):
        run = Path(root) / (base if i == 0 else f"{base}-{i + 1}")
        try:
            run.mkdir(parents=True)
            return run
        except FileExistsError:
            continue
    raise ConfigError("Cannot create a new run directory", expected="a free name under runs/",
                      received=str(Path(root) / base), fix="pass --out DIR")


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise InputError(f"No {what} in {path.parent}", expected=f"{path}",
                         received="no such file",
                         fix="pass the run directory printed by tltune (runs/<time>-<name>)"
                         ) from e
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"Cannot read {path}", expected=f"the {what} written by tltune",
                         received=str(e)[:200], fix="check the file, or start a new sweep") from e


def save_config(run_dir: Path, config: SweepConfig) -> None:
    write_json_atomic(Path(run_dir) / CONFIG_FILE, config.to_dict())


def load_config(run_dir: str | Path) -> SweepConfig:
    d = _read_json(Path(run_dir) / CONFIG_FILE, "sweep configuration")
    try:
        return SweepConfig.from_dict(d)
    except TypeError as e:
        raise ConfigError(f"{Path(run_dir) / CONFIG_FILE} is not a tltune configuration",
                          expected="the config.json written by tltune",
                          received=str(e)[:200], fix="resume the run directory tltune printed"
                          ) from e


def write_results(run_dir: Path, result: SweepResult) -> None:
    """``results.json``, rewritten atomically (after every trial)."""
    write_json_atomic(Path(run_dir) / RESULTS_FILE, result.to_dict())


def load_results(run_dir: str | Path) -> SweepResult | None:
    """The ``results.json`` of a run, or ``None`` before its first write."""
    p = Path(run_dir) / RESULTS_FILE
    if not p.is_file():
        return None
    d = _read_json(p, "results")
    try:
        return SweepResult.from_dict(d)
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"{p} is not a tltune results file",
                         expected="the results.json written by tltune",
                         received=f"{type(e).__name__}: {e}"[:200],
                         fix="pass the run directory tltune printed") from e
