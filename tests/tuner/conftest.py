"""Fixtures of the tuner tests: a tiny generated dataset (3 colour classes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write_image_folder


@pytest.fixture(scope="session")
def tiny_images(tmp_path_factory) -> Path:
    """Three classes of 10 generated 48x48 images (flat layout)."""
    return write_image_folder(tmp_path_factory.mktemp("tiny") / "ds",
                              {"blue": 10, "green": 10, "red": 10}, size=48)
