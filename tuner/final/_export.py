"""The final model: test-split evaluation (once) and export.

Protocol: the chosen parameters are retrained on the train split with the trial
protocol (early stopping on val, best weights restored), so the shipped model is
the one whose validation accuracy the search saw; the test split is then used
exactly once. ``model.keras`` takes raw RGB images (uint8 or float 0..255) at
``input_size``, contains the backbone's preprocessing and ends in softmax.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from advisor.errors import DatasetError
from advisor.io import write_json_atomic
from tuner.data import PreparedData
from tuner.final._metrics import score_probs, score_test
from tuner.final._result import TRAIN_PROTOCOL, FinalResult
from tuner.trial import EpochRecord, TrialParams

__all__ = ["export_model", "finish_final"]


def export_model(model: Any, out_dir: Path, formats: tuple[str, ...]) -> dict[str, str]:
    """Write the requested formats; returns format -> path."""
    out: dict[str, str] = {}
    if "keras" in formats:
        path = out_dir / "model.keras"
        model.save(path)
        out["keras"] = str(path)
    saved = out_dir / "savedmodel"
    if "savedmodel" in formats or "tflite" in formats:
        model.export(str(saved), format="tf_saved_model", verbose=False)
        if "savedmodel" in formats:
            out["savedmodel"] = str(saved)
    if "tflite" in formats:
        import tensorflow as tf

        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
        path = out_dir / "model.tflite"
        path.write_bytes(converter.convert())
        out["tflite"] = str(path)
        if "savedmodel" not in formats:
            import shutil

            shutil.rmtree(saved, ignore_errors=True)
    return out


def finish_final(model: Any, data: PreparedData, probs: np.ndarray | None, input_size: int, *,
                 params: TrialParams,
                 backbone: str, weights: str, val_accuracy: float,
                 history: tuple[EpochRecord, ...], notes: tuple[str, ...],
                 mixed_precision: bool, out_dir: Path, export: tuple[str, ...], t0: float,
                 protocol: str = TRAIN_PROTOCOL) -> FinalResult:
    """Score the trained ``model``'s one pass over the test split (``probs``, its
    outputs for the test images at ``input_size``) and export it with its ``labels.json``."""
    d = data
    if len(d.y_test) == 0 or probs is None:
        raise DatasetError("The test split is empty", expected="at least one test image",
                           received=d.split_source.get("test", "?"),
                           fix="add images, or pass a test split folder")
    acc, loss = score_probs(probs, d.y_test)
    per_class, cm, macro_f1, wrong = score_test(d.y_test, probs, d.classes, d.files_test)

    out_dir.mkdir(parents=True, exist_ok=True)
    size = int(input_size)
    labels_path = out_dir / "labels.json"
    write_json_atomic(labels_path, {
        "classes": list(d.classes), "input_size": size, "backbone": backbone,
        "framing": d.framing,
        "input": f"RGB, uint8 or float 0..255, {size}x{size} framed by {d.framing!r} "
                 "(advisor.data.frame), preprocessing included in the model",
        "output": "softmax probabilities in the order of classes"}, fsync=False)
    exports = export_model(model, out_dir, export)
    result = FinalResult(
        params=params, backbone=backbone, weights=weights, classes=d.classes, input_size=size,
        val_accuracy=val_accuracy, train_protocol=protocol, epochs_run=len(history), test_accuracy=acc, test_loss=loss, macro_f1=macro_f1,
        n_test=len(d.y_test), test_source=d.split_source.get("test", ""), per_class=per_class,
        confusion=cm, misclassified=wrong, exports=exports, labels_path=str(labels_path),
        mixed_precision=mixed_precision, framing=d.framing,
        seconds=round(time.perf_counter() - t0, 3), history=tuple(history), notes=tuple(notes))
    write_json_atomic(out_dir / "final.json", result.to_dict(), fsync=False)
    return result
