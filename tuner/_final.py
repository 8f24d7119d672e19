"""The final model: test-split evaluation (once) and export.

Protocol: the chosen parameters are retrained on the train split with the trial
protocol (early stopping on val, best weights restored), so the shipped model is
the one whose validation accuracy the search saw; the test split is then used
exactly once. ``model.keras`` takes raw RGB images (uint8 or float 0..255) at
``input_size``, contains the backbone's preprocessing and ends in softmax.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from advisor.errors import DatasetError
from tuner._train import evaluate
from tuner._types import EpochRecord, TrialParams

if TYPE_CHECKING:
    from tuner._runner import TrialRunner, _Trained

__all__ = ["EXPORT_FORMATS", "TRAIN_PROTOCOL", "REFIT_PROTOCOL", "ClassMetrics", "Misclassified",
           "FinalResult", "finish_final"]

EXPORT_FORMATS = ("keras", "savedmodel", "tflite")
TRAIN_PROTOCOL = "train split, early stopping on val (best epoch restored); test used once"
REFIT_PROTOCOL = ("train + val splits, the search's epochs up to the best epoch (the best "
                  "trial's, or the median over the cross-validation folds when the top trials "
                  "were re-ranked; last state kept); test used once")


@dataclass(frozen=True)
class ClassMetrics:
    label: str
    precision: float
    recall: float
    f1: float
    support: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Misclassified:
    """A test image the final model got wrong (``path`` relative to the dataset)."""

    path: str
    true: str
    pred: str
    confidence: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class FinalResult:
    """Final training, test metrics and exported files."""

    params: TrialParams
    backbone: str
    weights: str
    classes: tuple[str, ...]
    input_size: int  # the exported model's input side
    val_accuracy: float
    epochs_run: int
    test_accuracy: float
    test_loss: float
    macro_f1: float
    n_test: int
    test_source: str
    per_class: tuple[ClassMetrics, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows: true class, columns: predicted
    misclassified: tuple[Misclassified, ...]
    exports: dict  # format -> path
    labels_path: str
    train_protocol: str = TRAIN_PROTOCOL
    mixed_precision: bool = False
    framing: str = "squash"  # how an image becomes the model's square input (labels.json)
    seconds: float = 0.0
    history: tuple[EpochRecord, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d.update(params=self.params.to_dict(), classes=list(self.classes),
                 per_class=[c.to_dict() for c in self.per_class],
                 confusion=[list(r) for r in self.confusion],
                 misclassified=[m.to_dict() for m in self.misclassified],
                 exports=dict(self.exports), history=[h.to_dict() for h in self.history],
                 notes=list(self.notes))
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "FinalResult":
        d = dict(d)
        d.update(params=TrialParams.from_dict(d["params"]), classes=tuple(d["classes"]),
                 per_class=tuple(ClassMetrics(**c) for c in d["per_class"]),
                 confusion=tuple(tuple(r) for r in d["confusion"]),
                 misclassified=tuple(Misclassified(**m) for m in d["misclassified"]),
                 history=tuple(EpochRecord(**h) for h in d.get("history", ())),
                 notes=tuple(d.get("notes", ())))
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def score_test(y: np.ndarray, probs: np.ndarray, classes: tuple[str, ...], files: tuple[str, ...]
                 ) -> tuple[tuple[ClassMetrics, ...], tuple, float, tuple[Misclassified, ...]]:
    """Per-class metrics, confusion matrix, macro-F1 and the misclassified files."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    labels = list(range(len(classes)))
    pred = probs.argmax(axis=1)
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    per_class = tuple(ClassMetrics(classes[i], float(p[i]), float(r[i]), float(f[i]), int(s[i]))
                      for i in labels)
    cm = confusion_matrix(y, pred, labels=labels)
    wrong = tuple(Misclassified(files[i], classes[y[i]], classes[pred[i]], float(probs[i, pred[i]]))
                  for i in np.flatnonzero(pred != y))
    return per_class, tuple(tuple(int(v) for v in row) for row in cm), float(np.mean(f)), wrong


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


def finish_final(runner: "TrialRunner", params: TrialParams, trained: "_Trained", out_dir: Path,
                 export: tuple[str, ...], t0: float, *, val_accuracy: float | None = None,
                 protocol: str = TRAIN_PROTOCOL) -> FinalResult:
    """Evaluate the trained network once on the test split and export it.
    ``val_accuracy``: the one to report when the final fit's own is not held out."""
    d = runner.data
    if len(d.y_test) == 0:
        raise DatasetError("The test split is empty", expected="at least one test image",
                           received=d.split_source.get("test", "?"),
                           fix="add images, or pass a test split folder")
    model = trained.net.model
    x_test = runner.split("test", trained.scratch)
    acc, loss, probs = evaluate(model, x_test.astype(np.float32), d.y_test)
    per_class, cm, macro_f1, wrong = score_test(d.y_test, probs, d.classes, d.files_test)

    out_dir.mkdir(parents=True, exist_ok=True)
    size = int(x_test.shape[1])
    labels_path = out_dir / "labels.json"
    labels_path.write_text(json.dumps({
        "classes": list(d.classes), "input_size": size, "backbone": runner.spec.name,
        "framing": d.framing,
        "input": f"RGB, uint8 or float 0..255, {size}x{size} framed by {d.framing!r} "
                 "(advisor.data.frame), preprocessing included in the model",
        "output": "softmax probabilities in the order of classes"}, indent=1))
    exports = export_model(model, out_dir, export)
    best = trained.best
    result = FinalResult(
        params=params, backbone=runner.spec.name,
        weights="random (from scratch)" if trained.scratch else runner.weights_source().kind,
        classes=d.classes, input_size=size,
        val_accuracy=best.accuracy if val_accuracy is None else val_accuracy,
        train_protocol=protocol,
        epochs_run=len(trained.history), test_accuracy=acc, test_loss=loss, macro_f1=macro_f1,
        n_test=len(d.y_test), test_source=d.split_source.get("test", ""), per_class=per_class,
        confusion=cm, misclassified=wrong, exports=exports, labels_path=str(labels_path),
        mixed_precision=trained.mixed_precision, framing=d.framing,
        seconds=round(time.perf_counter() - t0, 3),
        history=tuple(trained.history), notes=tuple(trained.notes))
    (out_dir / "final.json").write_text(json.dumps(result.to_dict(), indent=1))
    return result
