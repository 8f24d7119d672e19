"""Predict with an exported ``model.keras`` (and its ``labels.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from advisor.data import ImageReadError, decode_image
from advisor.errors import InputError
from tuner.final._metrics import INFERENCE_BATCH

__all__ = ["Prediction", "predict", "load_exported"]

_CHUNK = 256  # images decoded and predicted at a time


@dataclass(frozen=True)
class Prediction:
    """Top classes of one image; ``error`` says why an unreadable image has none."""

    path: str
    top: tuple[tuple[str, float], ...]
    error: str | None = None

    @property
    def label(self) -> str | None:
        return self.top[0][0] if self.top else None

    def to_dict(self) -> dict:
        return {"path": self.path, "top": [{"label": l, "prob": p} for l, p in self.top],
                "error": self.error}


def load_exported(model_path: str | Path):
    """``(keras model, classes, framing)`` from ``model.keras`` or the folder holding it;
    ``framing`` is how training framed its images (``"squash"`` for exports older than
    the ``framing`` key)."""
    import keras

    p = Path(model_path).expanduser()
    if p.is_dir():
        p = p / "model.keras"
    labels = p.parent / "labels.json"
    if not p.is_file() or not labels.is_file():
        raise InputError(f"No exported model at {model_path}",
                         expected="model.keras with labels.json beside it (written by tltune)",
                         received=f"{p} ({'found' if p.is_file() else 'missing'}), labels.json "
                                  f"({'found' if labels.is_file() else 'missing'})",
                         fix="pass the output folder of tltune or its model.keras")
    meta = json.loads(labels.read_text())
    classes = meta["classes"]
    model = keras.saving.load_model(p)
    n_out = model.output_shape[-1]
    if n_out != len(classes):
        raise InputError("labels.json does not match the model",
                         expected=f"{n_out} class names (the model's outputs)",
                         received=f"{len(classes)} in {labels}",
                         fix="use the labels.json exported with this model")
    return model, classes, meta.get("framing", "squash")


def predict(model_path: str | Path, images: list[Path], top: int = 3) -> list[Prediction]:
    """Top-``top`` classes of each image; unreadable images get ``error`` set."""
    from advisor.backbones import require_tensorflow

    require_tensorflow()
    model, classes, framing = load_exported(model_path)
    size = int(model.input_shape[1])
    top = max(1, min(top, len(classes)))
    out: list[Prediction] = []
    for start in range(0, len(images), _CHUNK):
        out += _predict_chunk(model, classes, size, framing, top,
                              images[start:start + _CHUNK])
    return out


def _predict_chunk(model, classes: list[str], size: int, framing: str, top: int,
                   images: list[Path]) -> list[Prediction]:
    out: list[Prediction | None] = []
    batch: list[np.ndarray] = []
    where: list[int] = []
    for path in images:
        path = Path(path)
        try:
            pixels = decode_image(path.read_bytes(), size, framing=framing).pixels
        except OSError as e:
            out.append(Prediction(str(path), (), f"cannot read the file: {e.strerror or e}"))
            continue
        except ImageReadError as e:
            out.append(Prediction(str(path), (), f"{e.kind}: {e.detail}"))
            continue
        where.append(len(out))
        out.append(None)
        batch.append(pixels)
    if batch:
        probs = np.asarray(model.predict(np.stack(batch).astype(np.float32),
                                         batch_size=INFERENCE_BATCH, verbose=0))
        for i, p in zip(where, probs):
            order = np.argsort(-p)[:top]
            out[i] = Prediction(str(images[i]), tuple((classes[j], float(p[j])) for j in order))
    return [p for p in out if p is not None]
