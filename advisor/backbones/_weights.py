"""Where pretrained weights come from: an explicit path, the keras cache, or the
normal keras download. Offline without weights is a clear :class:`WeightsError`."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from advisor.backbones._catalog import BackboneSpec
from advisor.codec import Record
from advisor.errors import WeightsError

__all__ = ["WeightsSource", "keras_cache_dir", "resolve_weights", "RANDOM"]

RANDOM = ("none", "random", "scratch")


@dataclass(frozen=True)
class WeightsSource(Record):
    """Resolved weights: ``kind`` is ``path``, ``cache``, ``download`` or ``random``."""

    kind: str
    path: Path | None

    @property
    def pretrained(self) -> bool:
        return self.path is not None

    def fingerprint(self) -> str:
        """Short content id of the weights (for cache keys)."""
        if self.path is None:
            return "random"
        st = self.path.stat()
        return hashlib.sha1(f"{self.path.name}:{st.st_size}:{int(st.st_mtime)}".encode()).hexdigest()[:12]



def keras_cache_dir() -> Path:
    """``$KERAS_HOME/models`` (``~/.keras/models`` by default)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def _download(spec: BackboneSpec) -> Path:
    import keras  # lazy: only needed when a download is attempted

    path = keras.utils.get_file(spec.weights_file, spec.weights_url, cache_subdir="models")
    return Path(path)


def resolve_weights(spec: BackboneSpec, weights: str | os.PathLike | None = "imagenet") -> WeightsSource:
    """Find the no-top ImageNet weights of ``spec``.

    ``weights`` is ``"imagenet"`` (cache, then download), a file path, or
    ``"none"`` for random initialisation.
    """
    if weights is None or str(weights).lower() in RANDOM:
        return WeightsSource("random", None)
    if str(weights).lower() != "imagenet":
        p = Path(weights).expanduser()
        if not p.is_file():
            raise WeightsError(f"The weights file {str(p)!r} does not exist",
                               expected=f"an HDF5 weights file for {spec.name} (no top)",
                               received="a missing path",
                               fix=f"pass the path of {spec.weights_file}, or omit --weights")
        return WeightsSource("path", p.resolve())
    cached = keras_cache_dir() / spec.weights_file
    if cached.is_file():
        return WeightsSource("cache", cached)
    try:
        return WeightsSource("download", _download(spec))
    except Exception as e:  # keras raises a bare Exception on URL failures
        raise WeightsError(
            f"ImageNet weights for {spec.name} are not available offline and the download failed",
            expected=f"{spec.weights_file} in {keras_cache_dir()} or a reachable {spec.weights_url}",
            received=f"{type(e).__name__}: {str(e)[:200]}",
            fix=f"copy the file to {cached} (or set KERAS_HOME), pass --weights PATH, "
                "or use --weights none for random initialisation") from e
