"""TensorFlow is an extra (``[cpu]`` or ``[gpu]``): say how to install it where it is missing."""

from __future__ import annotations

import importlib.util

from advisor.errors import ConfigError

__all__ = ["require_tensorflow"]


def require_tensorflow() -> None:
    """Raise a :class:`~advisor.errors.ConfigError` saying how to install TensorFlow
    when this environment has none (without importing it)."""
    if importlib.util.find_spec("tensorflow") is None:
        raise ConfigError("TensorFlow is not installed",
                          expected="TensorFlow 2.16 or newer in this Python environment",
                          received="no module named tensorflow",
                          fix="pip install 'tltools[cpu]' (or 'tltools[gpu]' on a machine "
                              "with an NVIDIA GPU; from a checkout: pip install -e '.[cpu]')")
