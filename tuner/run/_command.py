"""The command line that runs a sweep again (storage URLs without their secrets)."""

from __future__ import annotations

import shlex
from pathlib import Path

from tuner.run._config import SweepConfig
from tuner.run._files import ADVICE_FILE
from tuner.storage import redact_url

__all__ = ["redact_url", "reproduce_command"]


def reproduce_command(config: SweepConfig, run_dir: Path) -> str:
    """The ``tltune`` command line that runs this sweep again (into a new run
    directory; the advice is read from ``run_dir/advice.json``)."""
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
    if config.study != "tltune":
        parts += ["--study", config.study]
    if config.workers > 1:
        parts += ["--workers", str(config.workers)]
    if config.heartbeat:
        parts += ["--heartbeat", str(config.heartbeat)]
    parts += ["--export", ",".join(config.export)]
    if not config.refit:
        parts.append("--no-refit")
    if config.rerank:
        parts += ["--rerank", str(config.rerank)]
    parts += ["--stall", str(config.stall)]
    if not config.lr_find:
        parts.append("--no-lr-find")
    return " ".join(shlex.quote(p) for p in parts)
