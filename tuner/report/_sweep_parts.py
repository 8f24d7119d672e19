"""Small readings of a :class:`~tuner.run.SweepResult` that several sections of the
sweep report share: a trial's accuracy, a parameter value as text, the freeze depth,
the final model's test metrics."""

from __future__ import annotations

import math

from advisor.report import lr, num
from tuner.final import FinalResult
from tuner.trial import TrialRecord

__all__ = ["accuracy", "final_metrics", "freeze_depth", "is_numeric_param", "param_text",
           "scored"]


def accuracy(t: TrialRecord) -> float | None:
    """The trial's validation accuracy, or ``None`` when it has none (or not a finite one)."""
    v = t.val_accuracy
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


def freeze_depth(t: TrialRecord) -> int | float | None:
    """The number of frozen backbone blocks the trial trained with (-1: from scratch),
    or ``None`` when its parameters do not say. The report's only reading of a freeze
    depth."""
    v = t.params.get("freeze_block")
    return v if isinstance(v, (int, float)) else None


def param_text(v: object) -> str:
    """A parameter value as the tables show it (learning rates in scientific notation)."""
    if isinstance(v, float):
        return lr(v) if 0 < abs(v) < 0.01 else num(v, 3)
    return num(v) if isinstance(v, int) and not isinstance(v, bool) else str(v)


def is_numeric_param(trials: list[TrialRecord], key: str) -> bool:
    """Whether every sampled value of ``key`` is a number (right-aligned column)."""
    vals = [t.sampled.get(key) for t in trials]
    return all(isinstance(v, (int, float)) and not isinstance(v, bool)
               for v in vals if v is not None)


def scored(trials: tuple[TrialRecord, ...] | list[TrialRecord]) -> list[TrialRecord]:
    """Trials with a validation accuracy (COMPLETE and PRUNED), by number."""
    return sorted((t for t in trials if t.state in ("COMPLETE", "PRUNED")
                   and accuracy(t) is not None), key=lambda t: t.number)


def final_metrics(final: FinalResult) -> list[tuple[str, str]]:
    """The final model's test metrics as (label, value) facts."""
    facts = (("Test accuracy", final.test_accuracy), ("Test macro-F1", final.macro_f1),
             ("Test loss", final.test_loss), ("Test images", final.n_test))
    return [(label, num(v)) for label, v in facts if v is not None]
