"""The command line that runs a sweep again, and storage URLs without their secrets."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tuner.run._config import SweepConfig
from tuner.run._files import ADVICE_FILE

__all__ = ["redact_url", "reproduce_command"]


def redact_url(url: str | None) -> str | None:
    """A storage URL with any password replaced by ``***``."""
    if url is None:
        return None
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


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
    parts += ["--export", ",".join(config.export)]
    if not config.refit:
        parts.append("--no-refit")
    if config.rerank:
        parts += ["--rerank", str(config.rerank)]
    return " ".join(shlex.quote(p) for p in parts)
