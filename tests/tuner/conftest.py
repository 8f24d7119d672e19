"""Fixtures of the tuner tests: a tiny generated dataset (3 colour classes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write_image_folder
from tuner.search import TEST_SLEEP_ENV
from tuner.trial import TrialParams


def trial_params(fb: int, **kw) -> TrialParams:
    """Parameters of a tiny trial (augmentation off, 2 epochs): freeze ``fb`` blocks,
    ``kw`` overrides."""
    base = dict(freeze_block=fb, head_lr=1e-2, backbone_lr=1e-3, augmentation="off",
                batch_size=16, epochs=2, patience=5)
    base.update(kw)
    return TrialParams(**base)


@pytest.fixture(scope="session")
def tiny_images(tmp_path_factory) -> Path:
    """Three classes of 10 generated 48x48 images (flat layout)."""
    return write_image_folder(tmp_path_factory.mktemp("tiny") / "ds",
                              {"blue": 10, "green": 10, "red": 10}, size=48)


def tltune_argv() -> list[str]:
    """The installed ``tltune`` command (``pip install -e . --no-deps``), or its entry
    point run by this interpreter where the script is not installed."""
    import shutil
    import sys

    script = Path(sys.executable).parent / "tltune"
    if script.is_file():
        return [str(script)]
    found = shutil.which("tltune")
    return [found] if found else [sys.executable, "-c", "from tlcli.tune import main; main()"]


def subprocess_env(**extra: str) -> dict:
    import os

    env = {k: v for k, v in os.environ.items() if k != TEST_SLEEP_ENV}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", **extra)
    return env


@pytest.fixture(scope="session")
def done_sweep(tiny_images, tmp_path_factory) -> dict:
    """A finished 3-trial sweep, run by the real ``tltune`` command in a subprocess
    (feature extractor, 64 px, random weights, 2 epochs, top trials re-ranked by
    cross-validation). Returns paths and output."""
    import subprocess

    base = tmp_path_factory.mktemp("sweep")
    run, js = base / "run", base / "out.json"
    argv = tltune_argv() + [str(tiny_images), "--trials", "3", "--scenario", "feature_extractor",
                            "--weights", "none", "--image-size", "64", "--epochs", "2",
                            "--rerank", "5", "--out", str(run), "--json", str(js)]
    p = subprocess.run(argv, capture_output=True, text=True, env=subprocess_env(), timeout=900)
    return {"run": run, "json": js, "returncode": p.returncode, "stdout": p.stdout,
            "stderr": p.stderr, "dataset": tiny_images}
