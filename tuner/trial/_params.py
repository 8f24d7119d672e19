"""What a trial is: its parameters, its epochs and its outcome (shared by the search,
which decides, and the runner, which trains)."""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor.codec import Record
from advisor.errors import ConfigError
from advisor.recommend import FreezePlan

__all__ = ["AUGMENTATION_LEVELS", "OPTIMIZERS", "SCHEDULES", "SGD_LR_SCALE", "head_phase_epochs",
           "phase_epochs", "gradual_stages", "stage_epochs", "GRADUAL_STAGES", "TrialParams", "EpochRecord", "TrialOutcome", "check_params"]

AUGMENTATION_LEVELS = ("off", "light", "moderate", "strong")
# Optimizers of the fine-tune phase: "adam" (AdamW when weight_decay > 0) and "sgd"
# (Nesterov momentum 0.9). The head phase always trains with Adam.
OPTIMIZERS = ("adam", "sgd")
# SGD's rate is this multiple of ``backbone_lr``, which is on Adam's scale, so that one
# searched range and one LR-finder suggestion serve both optimizers (SGD with momentum
# fine-tunes at roughly ten times Adam's rate; a convention, not a fitted value).
SGD_LR_SCALE = 10.0
# "at_once": every layer after the freeze boundary trains from the first fine-tune epoch;
# "gradual": the top block group first, then the next, down to the boundary (ULMFiT).
SCHEDULES = ("at_once", "gradual")
GRADUAL_STAGES = 3  # block groups a gradual schedule unfreezes, one after the other


def head_phase_epochs(epochs: int) -> int:
    """Epochs of the linear-probe (head) phase of a trial that fine-tunes: a third
    of its budget, at least one."""
    return max(1, epochs // 3)


@dataclass(frozen=True)
class TrialParams(Record):
    """One configuration to train.

    ``freeze_block``: the code of the trial's :class:`~advisor.recommend.FreezePlan`
    (what the search samples; :meth:`freeze_plan` reads it): the number of backbone
    blocks frozen, from 0 (nothing frozen: full fine-tune) to ``n_blocks`` (everything
    frozen: feature extractor); ``-1`` trains the same architecture from scratch
    (random weights, nothing frozen).
    ``backbone_lr`` is used for unfrozen backbone layers in the fine-tune phase, on
    Adam's scale (:attr:`finetune_lr` is the rate the optimizer gets).
    The fine-tune phase trains with ``optimizer`` (:data:`OPTIMIZERS`) and keras'
    decoupled ``weight_decay``; ``layer_decay`` < 1 gives each backbone block the rate
    ``finetune_lr * layer_decay ** (blocks between it and the top)`` (the head and the
    top block get the full rate); ``schedule`` (:data:`SCHEDULES`) unfreezes everything
    at once or block group by block group from the top.

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
    optimizer: str = "adam"
    weight_decay: float = 0.0
    layer_decay: float = 1.0
    schedule: str = "at_once"

    @property
    def finetune_lr(self) -> float:
        """The fine-tune phase's base rate: ``backbone_lr``, times :data:`SGD_LR_SCALE`
        for SGD."""
        return self.backbone_lr * (SGD_LR_SCALE if self.optimizer == "sgd" else 1.0)

    def freeze_plan(self, n_blocks: int) -> FreezePlan:
        """The freeze plan of :attr:`freeze_block` on a backbone of ``n_blocks`` blocks
        (a ``ValueError`` when it is out of range)."""
        return FreezePlan.from_code(self.freeze_block, n_blocks)


@dataclass(frozen=True)
class EpochRecord(Record):
    epoch: int
    phase: str  # "head" | "finetune" | "scratch"
    train_accuracy: float
    train_loss: float
    val_accuracy: float
    val_loss: float


@dataclass(frozen=True)
class TrialOutcome(Record):
    """What a trial run returns: its best validation accuracy and its history."""

    val_accuracy: float
    val_loss: float
    epochs_run: int
    seconds: float
    history: tuple[EpochRecord, ...] = ()
    notes: tuple[str, ...] = field(default=())
    n_val: int = 0  # validation images behind val_accuracy


def phase_epochs(params: TrialParams, all_frozen: bool) -> tuple[int, int]:
    """Planned epochs of the linear-probe (head) phase and of the fine-tune phase
    (see :class:`TrialParams`)."""
    if params.head_epochs is not None:
        return params.head_epochs, 0 if all_frozen else params.epochs
    if all_frozen:
        return params.epochs, 0
    n_head = head_phase_epochs(params.epochs)
    return n_head, max(1, params.epochs - n_head)


def gradual_stages(block: int, n_blocks: int, stages: int = GRADUAL_STAGES) -> tuple[int, ...]:
    """The freeze blocks of a gradual schedule down to ``block``: about equal block
    groups from the top, the last stage at ``block`` itself (one stage when fewer blocks
    are trainable than ``stages``)."""
    span = n_blocks - block
    k = max(1, min(stages, span))
    return tuple(n_blocks - round(span * (i + 1) / k) for i in range(k))


def stage_epochs(epochs: int, stages: int) -> tuple[int, ...]:
    """``epochs`` split over ``stages`` (at most one stage per epoch): equal shares, the
    remainder to the last stage, the one that trains the most layers."""
    k = max(1, min(stages, epochs))
    share = epochs // k
    return (share,) * (k - 1) + (epochs - share * (k - 1),)


def check_params(params: TrialParams, n_blocks: int, backbone: str) -> None:
    """A :class:`ConfigError` when ``params`` cannot train on a backbone of ``n_blocks``."""
    try:
        params.freeze_plan(n_blocks)
    except ValueError:
        raise ConfigError("freeze_block out of range", expected=f"-1 (scratch) .. {n_blocks}",
                          received=str(params.freeze_block),
                          fix=f"pick a block between 0 and {n_blocks} of {backbone}") from None
    bad = [k for k in ("head_lr", "backbone_lr") if not getattr(params, k) > 0]
    bad += [k for k in ("batch_size", "epochs", "patience") if getattr(params, k) < 1]
    bad += [k for k in ("head_epochs", "head_patience")
            if getattr(params, k) is not None and getattr(params, k) < 1]
    bad += [k for k in ("dropout", "label_smoothing") if not 0.0 <= getattr(params, k) < 1.0]
    bad += [k for k, ok in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES))
            if getattr(params, k) not in ok]
    if not 0.0 <= params.weight_decay < 1.0:
        bad.append("weight_decay")
    if not 0.0 < params.layer_decay <= 1.0:
        bad.append("layer_decay")
    if bad:
        raise ConfigError(f"Invalid trial parameters {bad}",
                          expected="positive learning rates, batch size, epochs and patience "
                                   "(head_epochs and head_patience too when set); "
                                   "dropout, label smoothing and weight decay in [0, 1); "
                                   f"layer_decay in (0, 1]; optimizer in {list(OPTIMIZERS)}, "
                                   f"schedule in {list(SCHEDULES)}",
                          received=str({k: getattr(params, k) for k in bad}),
                          fix="fix the search space")
