"""Scores of a trained model: accuracy and loss, per-class metrics, the confusion matrix."""

from __future__ import annotations

from typing import Any

import numpy as np

from tuner.final._result import ClassMetrics, Misclassified

__all__ = ["INFERENCE_BATCH", "score_probs", "evaluate", "score_test"]

# Rows per batch of every inference pass (the activation cache, validation, test, predict).
# At 128 a validation batch set a deep trial's peak: on 2 cores, 128 px, freeze block 1 at
# batch 16, a trial peaked at 1583 MiB with 128, 1379 with 64 and 1188 with 32; 64, the
# cache pass's batch, keeps any suffix's validation under that pass's peak, at no time
# measurable at 224 px (docs/training-recipe.md).
INFERENCE_BATCH = 64


def score_probs(probs: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Accuracy and mean cross-entropy (no smoothing, no weights) of class probabilities."""
    if not len(y):
        return 0.0, 0.0
    acc = float(np.mean(probs.argmax(axis=1) == y))
    loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, 1.0))))
    return acc, loss


def evaluate(model: Any, x: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Accuracy, mean cross-entropy (no smoothing, no weights) and probabilities."""
    probs = np.asarray(model.predict(x, batch_size=INFERENCE_BATCH, verbose=0), dtype=np.float64)
    return (*score_probs(probs, y), probs)


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
