"""The run directory: configuration, study storage, results; resume checks.

Layout of ``runs/<timestamp>-<dataset>/`` (or ``--out DIR``)::

    config.json     everything that defines the search (compared on --resume)
    advice.json     the advice the space is centred on, if any, and the advisor's
                    split_shift findings ({"advice": ..., "health": {"findings": [...]}})
    study.db        the Optuna study (SQLite; --storage URL puts it elsewhere)
    kerastuner/     the KerasTuner oracle state and trial records (that backend)
    results.json    SweepResult.to_dict(), rewritten atomically after every trial
    model/          the final model (FinalResult)
    cache/          decoded images and cached features of the runner
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from advisor.errors import ConfigError, InputError

__all__ = ["SweepConfig", "RESUMABLE_KEYS", "dataset_fingerprint", "new_run_dir",
           "load_config", "save_config", "write_json_atomic", "load_results",
           "write_results", "redact_url", "reproduce_command"]

CONFIG_FILE = "config.json"
RESULTS_FILE = "results.json"
ADVICE_FILE = "advice.json"
# Keys that may differ on --resume: they say when to stop and what to export,
# not what is searched.
RESUMABLE_KEYS = ("trials", "export", "refit", "rerank")


@dataclass(frozen=True)
class SweepConfig:
    """Everything that defines a sweep; stored as ``config.json``."""

    dataset: str
    dataset_fingerprint: str
    n_images: int
    classes: tuple[str, ...]
    backbone: str
    weights: str
    input_size: int
    test_split: str | None
    max_images: int | None
    seed: int
    backend: str
    storage: str | None
    trials: int
    epochs: int
    patience: int
    scenario: str | None
    advice: dict | None
    space: dict
    export: tuple[str, ...] = ("keras",)
    refit: bool = True  # final model on train + val (else: train, early stopping on val)
    rerank: int | None = None  # top trials re-scored by cross-validation (0 or None: off)
    advice_source: str = ""
    # How images become squares (advisor.data.frame): "squash", "crop", or "auto" (chosen
    # by tuner._framing before the search, recorded in framing_choice). Stored configs
    # older than this field were squashed.
    framing: str = "squash"
    framing_choice: dict | None = None  # FramingChoice.to_dict() of an "auto" framing
    version: int = 1
    extra: dict = field(default_factory=dict)

    @property
    def resolved_framing(self) -> str:
        """The framing the images are decoded with ("squash" or "crop")."""
        if self.framing == "auto":
            return (self.framing_choice or {}).get("framing", "squash")
        return self.framing

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["classes"], d["export"] = list(self.classes), list(self.export)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SweepConfig":
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["classes"] = tuple(kw.get("classes", ()))
        kw["export"] = tuple(kw.get("export", ("keras",)))
        return cls(**kw)

    def changed_keys(self, other: "SweepConfig") -> list[str]:
        """Keys whose values differ (JSON-normalised), except :data:`RESUMABLE_KEYS`."""
        a, b = _normal(self.to_dict()), _normal(other.to_dict())
        return sorted(k for k in a if k not in RESUMABLE_KEYS and k not in ("advice_source",)
                      and a.get(k) != b.get(k))


def _normal(d: dict) -> dict:
    return json.loads(json.dumps(d, sort_keys=True))


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


def new_run_dir(dataset: str | Path, out: str | Path | None = None, root: str | Path = "runs"
                ) -> Path:
    """Create the run directory: ``out``, or ``root/<timestamp>-<dataset name>``."""
    if out is not None:
        run = Path(out)
        if (run / CONFIG_FILE).exists():
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


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write JSON to ``path`` so that readers never see a partial file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, default=str)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


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


def write_results(run_dir: Path, result: Any) -> None:
    write_json_atomic(Path(run_dir) / RESULTS_FILE, result.to_dict())


def load_results(run_dir: str | Path) -> dict | None:
    p = Path(run_dir) / RESULTS_FILE
    return _read_json(p, "results") if p.is_file() else None


def redact_url(url: str | None) -> str | None:
    """A storage URL with any password replaced by ``***``."""
    if url is None:
        return None
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


def reproduce_command(config: SweepConfig, run_dir: Path) -> str:
    """The ``tltune`` command line that runs this sweep again (into a new run
    directory; the advice is read from ``run_dir/advice.json``)."""
    import shlex

    parts = ["tltune", config.dataset, "--trials", str(config.trials),
             "--backend", config.backend, "--backbone", config.backbone,
             "--weights", config.weights, "--image-size", str(config.input_size),
             "--seed", str(config.seed), "--epochs", str(config.epochs),
             "--patience", str(config.patience), "--framing", config.framing]
    if config.advice is not None:
        parts += ["--advice", str(Path(run_dir) / ADVICE_FILE)]
    if config.scenario:
        parts += ["--scenario", config.scenario]
    if config.test_split:
        parts += ["--test-split", config.test_split]
    if config.max_images:
        parts += ["--max-images", str(config.max_images)]
    if config.storage:
        parts += ["--storage", redact_url(config.storage)]
    parts += ["--export", ",".join(config.export)]
    if not config.refit:
        parts.append("--no-refit")
    if config.rerank:
        parts += ["--rerank", str(config.rerank)]
    return " ".join(shlex.quote(p) for p in parts)
