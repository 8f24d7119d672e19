"""TensorFlow is an extra (``[cpu]`` or ``[gpu]``): say how to install it where it is missing,
and import it without its C++ start-up lines on the user's terminal."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import tempfile

from advisor.errors import ConfigError

__all__ = ["require_tensorflow"]

# TensorFlow's start-up lines, written by C++ straight to file descriptor 2. In TF 2.21 (the
# pinned version) they go through absl's pre-initialisation logger, which ignores
# TF_CPP_MIN_LOG_LEVEL
# (seen on AVX-512 CPUs, where oneDNN announces itself at import and, once per process, at
# the first float16 tensor: the activation cache's rows).
START_UP_NOISE = ("All log messages before absl::InitializeLog() is called",
                  "oneDNN custom operations are on", "cpu_feature_guard",
                  "This TensorFlow binary is optimized", "To enable the following instructions",
                  "oneDNN supports DT_HALF only on platforms with")


def require_tensorflow(*, threads: int = 0) -> None:
    """Raise a :class:`~advisor.errors.ConfigError` saying how to install TensorFlow
    when this environment has none; otherwise import it, once, keeping its start-up
    log lines off the terminal (any other line it writes is passed on). ``threads > 0``
    sets TensorFlow's intra-op pool to that many threads (inter-op: at most 2), which
    must happen before its first operation."""
    if importlib.util.find_spec("tensorflow") is None:
        raise ConfigError("TensorFlow is not installed",
                          expected="TensorFlow 2.16 or newer in this Python environment",
                          received="no module named tensorflow",
                          fix="pip install 'tltools[cpu]' (or 'tltools[gpu]' on a machine "
                              "with an NVIDIA GPU; from a checkout: pip install -e '.[cpu]')")
    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        with _filtered_stderr(START_UP_NOISE):
            tf = importlib.import_module("tensorflow")
            _set_threads(tf, threads)
            tf.zeros((1,), tf.float16)  # oneDNN's one-time DT_HALF notice falls in here
    else:  # TensorFlow raises a RuntimeError once it has run an operation
        _set_threads(sys.modules["tensorflow"], threads)


def _set_threads(tf, threads: int) -> None:
    if threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(max(1, min(2, threads)))


@contextlib.contextmanager
def _filtered_stderr(noise: tuple[str, ...]):
    """Send file descriptor 2 to a temporary file for the block, then write back every
    line that contains none of ``noise`` (also when the block raises)."""
    fd = 2  # where C++ writes, whatever sys.stderr is now
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), fd)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            tmp.seek(0)
            kept = [line for line in tmp.read().decode(errors="replace").splitlines(True)
                    if not any(n in line for n in noise)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
