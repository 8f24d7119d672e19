"""Choosing how images become the backbone's square input (``--framing auto``).

``squash`` resizes the whole image and distorts its aspect ratio; ``crop`` keeps the
aspect ratio and takes the central square of 87.5 % of the shorter side, the way the
ImageNet backbones were evaluated (:func:`advisor.data.frame`).

* Square images: ``squash`` distorts nothing, and ``crop`` could only cut the borders,
  so ``auto`` keeps ``squash`` without measuring (when at most half of the probed
  images are non-square).
* Otherwise the tuner measures, on the images the search may use (train + validation,
  never test): pooled ImageNet features of each framing, and the same linear probe as
  the advisor's (:func:`advisor.measure.probe_folds`) on the same stratified folds,
  repeated with several seeds. The framing with the higher mean accuracy wins; a tie
  keeps ``squash``.

``benchmarks/framing_probe.py`` prints the choice on the real datasets and, as a
diagnostic the choice never sees, each framing's probe accuracy on their test splits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from advisor.codec import Record, to_dict
from advisor.errors import ConfigError
from tuner.data import stratified_sample

__all__ = ["FramingChoice", "choose_framing", "MAX_PROBE_IMAGES"]

MAX_PROBE_IMAGES = 1000  # stratified sample of train + val probed per framing
FOLDS = 5
REPEATS = 3


@dataclass(frozen=True)
class FramingChoice(Record):
    """The framing chosen for a sweep, and the probe accuracies behind it."""

    framing: str
    accuracy: dict[str, float]  # mean probe accuracy over all folds, per framing
    difference: float  # crop minus squash, mean over the paired folds
    std_error: float  # of ``difference`` (Nadeau-Bengio correction for overlapping folds)
    n_images: int
    folds: int
    repeats: int
    seconds: float
    non_square: float = 0.0  # share of the probed images whose width and height differ
    note: str = ""  # why no probe ran, when none did

    @property
    def reason(self) -> str:
        """The choice and its numbers, e.g. for ``Framing: <reason>``."""
        if self.note:
            return f"{self.framing} ({self.note})"
        other = "squash" if self.framing == "crop" else "crop"
        return (f"{self.framing} ({self.non_square:.0%} of the images are not square; a linear "
                f"probe on {self.n_images} train + val images scored "
                f"{self.accuracy[self.framing]:.3f}, against {self.accuracy[other]:.3f} with "
                f"{other}; {self.repeats} x {self.folds}-fold, crop - squash = "
                f"{100 * self.difference:+.1f} ± {100 * self.std_error:.1f} points)")

    def to_dict(self) -> dict:
        """The fields, plus the ``reason`` in words."""
        return {**to_dict(self), "reason": self.reason}


def _non_square(root, files: list[str]) -> float:
    """Share of ``files`` (relative to ``root``) whose stored width and height differ;
    files Pillow cannot open any more are left out."""
    from pathlib import Path

    from PIL import Image

    shapes = []
    for f in files:
        try:
            with Image.open(Path(root) / f) as im:
                shapes.append(im.size[0] != im.size[1])
        except OSError:
            continue
    return float(np.mean(shapes)) if shapes else 0.0


def _pooled_features(x: np.ndarray, spec, weights, seed: int, batch_size: int = 32
                     ) -> np.ndarray:
    import keras

    from tuner.training._model import build_prefix

    model = build_prefix(spec, int(x.shape[1]), weights, [], seed)
    out = []
    for i in range(0, len(x), batch_size):
        y = model(x[i:i + batch_size].astype(np.float32), training=False)
        out.append(np.asarray(y[-1] if isinstance(y, (list, tuple)) else y))
    del model
    keras.backend.clear_session()
    return np.concatenate(out).astype(np.float64)


def choose_framing(prepare: Callable[[str], Any], spec, weights, *, seed: int = 0,
                   max_images: int = MAX_PROBE_IMAGES, probe_square: bool = False
                   ) -> FramingChoice:
    """Keep ``squash`` for square images, else probe each framing's features and pick
    the better one.

    ``prepare(framing)`` returns the :class:`~tuner.data._prepare.PreparedData` of the dataset
    framed that way (same files, same splits); ``crop`` is prepared only when the probe
    runs. ``spec`` and ``weights`` are the backbone and its resolved weights source.
    Only the train and validation rows are used. ``probe_square=True`` probes square
    images too and lets the probe choose (a diagnostic: ``benchmarks/framing_probe.py``).
    """
    from advisor.measure import probe_folds

    t0 = time.perf_counter()
    ref = prepare("squash")
    y = np.concatenate([ref.y_train, ref.y_val])
    files = ref.files_train + ref.files_val
    rows = stratified_sample(y, max_images, seed, salt="framing")
    y = y[rows]
    non_square = _non_square(ref.root, [files[i] for i in rows])

    def unmeasured(note: str) -> FramingChoice:
        return FramingChoice(framing="squash", accuracy={}, difference=0.0, std_error=0.0,
                             n_images=int(len(rows)), folds=0, repeats=0,
                             seconds=round(time.perf_counter() - t0, 3),
                             non_square=non_square, note=note)

    if non_square <= 0.5 and not probe_square:
        return unmeasured(f"not measured: {1 - non_square:.0%} of {len(rows)} train + val "
                          "images are square, so squash keeps them whole without distortion "
                          "and crop could only cut their borders")
    smallest = int(np.bincount(y, minlength=ref.n_classes).min())
    if smallest < 2:
        return unmeasured(f"not measured: a class has {smallest} train + val image(s), too "
                          "few to cross-validate a probe")
    data = {"squash": ref, "crop": prepare("crop")}
    if data["crop"].files_train + data["crop"].files_val != files:
        raise ConfigError("The framings' data hold different images",
                          expected="the same files in the same order",
                          received="'crop' differs from 'squash'",
                          fix="prepare both with the same split arguments")
    acc: dict[str, np.ndarray] = {}
    for f, d in data.items():
        feats = _pooled_features((d.x_train + d.x_val).read(rows), spec, weights, seed)
        acc[f] = np.concatenate([probe_folds(feats, y, folds=FOLDS, seed=seed + r)
                                 for r in range(REPEATS)])
    diff = acc["crop"] - acc["squash"]
    k = len(diff) // REPEATS
    # Folds share training images, so their differences are correlated; the corrected
    # variance (Nadeau & Bengio 2003) adds test/train size to the 1/J of independent draws.
    se = float(np.sqrt((1 / len(diff) + 1 / (k - 1)) * diff.var(ddof=1)))
    mean = {f: float(a.mean()) for f, a in acc.items()}
    return FramingChoice(framing="crop" if mean["crop"] > mean["squash"] else "squash",
                         accuracy=mean, difference=float(diff.mean()), std_error=se,
                         n_images=int(len(rows)), folds=int(k), repeats=REPEATS,
                         seconds=round(time.perf_counter() - t0, 3), non_square=non_square)
