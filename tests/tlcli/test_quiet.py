"""The commands show their own output, not TensorFlow's C++ start-up logs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, tf_noise, write_image_folder


@pytest.mark.slow
def test_tladvise_prints_no_tensorflow_log_lines(tmp_path: Path) -> None:
    ds = write_image_folder(tmp_path / "ds", {"a": 12, "b": 12}, size=40)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    p = subprocess.run([sys.executable, "-m", "tlcli.advise", str(ds), "--weights", "none",
                        "--image-size", "32", "--no-cache"], capture_output=True, text=True,
                       cwd=REPO, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "next: tltune" in p.stdout
    assert tf_noise(p.stdout + p.stderr) == []
