"""Types shared by the search (deciding) and the trial runner (running)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["AUGMENTATION_LEVELS", "head_phase_epochs", "TrialParams", "EpochRecord",
           "TrialOutcome"]

AUGMENTATION_LEVELS = ("off", "light", "moderate", "strong")


def head_phase_epochs(epochs: int) -> int:
    """Epochs of the linear-probe (head) phase of a trial that fine-tunes: a third
    of its budget, at least one."""
    return max(1, epochs // 3)


@dataclass(frozen=True)
class TrialParams:
    """One configuration to train.

    ``freeze_block``: number of backbone blocks frozen, from 0 (nothing frozen: full
    fine-tune) to ``n_blocks`` (everything frozen: feature extractor); ``-1`` trains
    the same architecture from scratch (random weights, nothing frozen).
    ``backbone_lr`` is used for unfrozen backbone layers in the fine-tune phase.

    By default ``epochs`` is the whole budget: a feature extractor spends it on the
    head, a fine-tuning trial spends a third on the head (:func:`head_phase_epochs`)
    and the rest fine-tuning. With ``head_epochs`` set, the head phase has its own
    budget instead (up to ``head_epochs`` epochs, early-stopped with
    ``head_patience``, default ``patience``) and ``epochs`` is the fine-tune phase's
    alone; a feature extractor then trains for ``head_epochs``. From scratch always
    trains ``epochs``.
    """

    freeze_block: int
    head_lr: float
    backbone_lr: float
    dropout: float = 0.2
    augmentation: str = "light"
    label_smoothing: float = 0.0
    batch_size: int = 32
    epochs: int = 10
    patience: int = 3
    head_epochs: int | None = None
    head_patience: int | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict) -> "TrialParams":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    phase: str  # "head" | "finetune" | "scratch"
    train_accuracy: float
    train_loss: float
    val_accuracy: float
    val_loss: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TrialOutcome:
    """What a trial run returns: its best validation accuracy and its history."""

    val_accuracy: float
    val_loss: float
    epochs_run: int
    seconds: float
    history: tuple[EpochRecord, ...] = ()
    notes: tuple[str, ...] = field(default=())
    n_val: int = 0  # validation images behind val_accuracy

    def to_dict(self) -> dict:
        return {"val_accuracy": self.val_accuracy, "val_loss": self.val_loss,
                "epochs_run": self.epochs_run, "seconds": self.seconds, "n_val": self.n_val,
                "history": [h.to_dict() for h in self.history], "notes": list(self.notes)}
