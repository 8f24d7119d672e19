"""Which precision a run trains in: mixed float16 where TensorFlow sees a GPU."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from advisor.errors import ConfigError

__all__ = ["PRECISIONS", "gpu_available", "use_mixed_precision", "precision_scope"]

PRECISIONS = ("auto", "mixed", "float32")


def gpu_available() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


@contextlib.contextmanager
def precision_scope(mixed: bool) -> Iterator[None]:
    import keras

    old = keras.mixed_precision.dtype_policy()
    if mixed:
        keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(old)


def use_mixed_precision(precision: str) -> bool:
    """Whether ``precision`` (``"auto"``, ``"mixed"`` or ``"float32"``) trains in mixed
    float16: ``"auto"`` does when TensorFlow sees a GPU."""
    if precision not in PRECISIONS:
        raise ConfigError("Unknown precision", expected='"auto", "mixed" or "float32"',
                          received=repr(precision), fix='leave it at "auto"')
    return gpu_available() if precision == "auto" else precision == "mixed"
