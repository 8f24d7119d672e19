"""Fixtures of the training tests."""

from __future__ import annotations

import pytest

from tests.conftest import write_image_folder
from tuner.data import prepare_data


@pytest.fixture(scope="module")
def data32(tmp_path_factory):
    """Three generated colour classes of 12 images, prepared at 32 px."""
    root = write_image_folder(tmp_path_factory.mktemp("rgb") / "ds",
                              {"blue": 12, "green": 12, "red": 12}, size=40)
    return prepare_data(root, input_size=32, seed=0)
