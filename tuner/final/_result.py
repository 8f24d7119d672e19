"""What the final model is (test metrics, exported files; :class:`FinalResult`) and what
trains it (:class:`FinalRequest`). The protocol: the chosen parameters are retrained
(on train + val for the search's epochs, or on train with early stopping on val), and
the test split is used exactly once."""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor.codec import Record
from advisor.errors import ConfigError
from tuner.trial import REFIT_FROM_SEARCH, EpochRecord, TrialParams

__all__ = ["EXPORT_FORMATS", "TRAIN_PROTOCOL", "REFIT_PROTOCOL", "ClassMetrics", "Misclassified",
           "FinalResult", "FinalRequest", "check_exports"]

EXPORT_FORMATS = ("keras", "savedmodel", "tflite")
TRAIN_PROTOCOL = "train split, early stopping on val (best epoch restored); test used once"
REFIT_PROTOCOL = ("train + val splits, the search's epochs up to the best epoch (the best "
                  "trial's, or the median over the cross-validation folds when the top trials "
                  "were re-ranked; last state kept); test used once")


@dataclass(frozen=True)
class ClassMetrics(Record):
    label: str
    precision: float
    recall: float
    f1: float
    support: int



@dataclass(frozen=True)
class Misclassified(Record):
    """A test image the final model got wrong (``path`` relative to the dataset)."""

    path: str
    true: str
    pred: str
    confidence: float



@dataclass(frozen=True)
class FinalResult(Record):
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
    exports: dict[str, str]  # format -> path
    labels_path: str
    train_protocol: str = TRAIN_PROTOCOL
    mixed_precision: bool = False
    framing: str = "squash"  # how an image becomes the model's square input (labels.json)
    seconds: float = 0.0
    history: tuple[EpochRecord, ...] = ()
    notes: tuple[str, ...] = field(default=())


def check_exports(export: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``export`` as a tuple, or a :class:`ConfigError` for an empty or unknown format."""
    unknown = [e for e in export if e not in EXPORT_FORMATS]
    if unknown or not export:
        raise ConfigError(f"Unknown export format(s) {unknown}",
                          expected=f"one or more of {list(EXPORT_FORMATS)}",
                          received=str(list(export)),
                          fix="pass --export keras,savedmodel,tflite or a subset")
    return tuple(export)


@dataclass(frozen=True)
class FinalRequest(Record):
    """What to train, evaluate and export as the final model.

    Without ``refit_epochs``: the trial protocol (train split, early stopping on val).
    With it (``{"head": n, "finetune": m}`` or ``{"scratch": n}``, see
    :func:`~tuner.trial.refit_epochs`): train on train + val for exactly those epochs,
    keeping the last state; ``search_val`` is then the validation accuracy the search
    saw, and ``refit_from`` says in the final notes where the epoch counts came from.
    """

    params: TrialParams
    out_dir: str
    export: tuple[str, ...] = ("keras",)
    refit_epochs: dict[str, int] | None = None
    search_val: float | None = None
    refit_from: str = REFIT_FROM_SEARCH
