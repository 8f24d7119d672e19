"""Shared fixtures: the real data/weights folder (``../shared``) and tiny generated datasets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
# TensorFlow's C++ start-up lines, which no command may show
TF_NOISE = ("cpu_feature_guard", "absl::InitializeLog", "oneDNN custom operations",
            "This TensorFlow binary is optimized", "oneDNN supports DT_HALF")


def tf_noise(text: str) -> list[str]:
    """The lines of ``text`` that are TensorFlow start-up noise."""
    return [line for line in text.splitlines() if any(n in line for n in TF_NOISE)]


def shared_root() -> Path:
    return Path(os.environ.get("TL_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; skips the test where it is absent (CI requires it, see .ci/run)."""
    p = shared_root() / "data"
    if not (p / "hymenoptera").is_dir():
        pytest.skip(f"real datasets not available: {p} is absent (set TL_SHARED)")
    return p


@pytest.fixture(scope="session")
def imagenet_weights() -> Path:
    """Path of the real MobileNetV2 ImageNet weights; skips where absent."""
    name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    for p in (Path(home) / "models" / name, shared_root() / "weights" / name):
        if p.is_file():
            return p
    pytest.skip(f"real ImageNet weights not available ({name} not in keras cache or {shared_root()})")


def write_image_folder(root: Path, classes: dict[str, int], size: int = 32, seed: int = 0,
                       split: str | None = None) -> Path:
    """Write a tiny class-folder dataset of distinguishable generated PNGs."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    base = root / split if split else root
    for ci, (name, n) in enumerate(sorted(classes.items())):
        d = base / name
        d.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            arr = rng.integers(0, 60, size=(size, size, 3), dtype=np.uint8)
            arr[..., ci % 3] += np.uint8(120 + 20 * (ci // 3))  # class colour
            Image.fromarray(arr).save(d / f"img_{i:03d}.png")
    return root


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    """Two classes of 12 generated 32x32 images each."""
    return write_image_folder(tmp_path / "ds", {"red": 12, "green": 12})


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


def read_results(run: Path) -> dict | None:
    """A run directory's ``results.json``, or ``None`` before it is first written (it is
    replaced atomically, never read half-written)."""
    import json

    try:
        return json.loads((run / "results.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def subprocess_env(**extra: str) -> dict:
    import os

    from tuner.search import TEST_SLEEP_ENV

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


PG_URL_ENV = "TLTUNE_TEST_PG_URL"


@pytest.fixture
def pg_url() -> str:
    """URL of a real PostgreSQL server (``$TLTUNE_TEST_PG_URL``, e.g. from
    ``scripts/pg_server.sh url``) once a connection to it works; skips otherwise. Checked
    with psycopg (3): the driver SQLAlchemy 2.1 uses for ``postgresql://`` URLs."""
    url = os.environ.get(PG_URL_ENV, "")
    msg = "no PostgreSQL server: set TLTUNE_TEST_PG_URL (scripts/pg_server.sh start; .ci/run starts one)"
    if not url:
        pytest.skip(msg)
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=5).close()
    except Exception as e:  # noqa: BLE001 - driver missing, refused, bad password: all a skip
        pytest.skip(f"{msg} [{type(e).__name__}: {str(e).strip()[:200]}]")
    return url


@pytest.fixture
def pg_study_name() -> str:
    """A study name no other test (or earlier run against the same server) uses."""
    import uuid

    return f"test-{uuid.uuid4().hex}"
