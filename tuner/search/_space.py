"""The search space, centred on the advisor's recommendation.

Freeze depth is a categorical over candidate block boundaries. The candidates are
every block within ``window`` blocks of the recommended one plus a coarse grid
(every ``window`` blocks) over the rest of the scenario's neighbourhood, so blocks
near the recommendation are denser among the candidates and get more of the
sampler's mass; the recommended configuration itself is tried first. See
``docs/search-space.md`` for how each scenario maps to its freeze range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from advisor.codec import Record, to_dict
from advisor.errors import ConfigError
from advisor.recommend import SCENARIOS, Advice, FreezePlan
from tuner.search._freeze import freeze_range
from tuner.training import NO_FLIP
from tuner.trial import AUGMENTATION_LEVELS, OPTIMIZERS, SCHEDULES, TrialParams, gradual_stages

__all__ = ["Dimension", "SearchSpace", "DEFAULT_EPOCHS", "DEFAULT_PATIENCE"]

DEFAULT_EPOCHS = 10
DEFAULT_PATIENCE = 3
# Learning-rate ranges used where the advice gives none (or there is no advice).
# Deliberately wider than the rule's table (advisor.recommend.LR_RANGES): without
# advice there is no prior to centre on, so the search covers more of the scale.
_HEAD_LR = (1e-4, 1e-2)
_BACKBONE_LR = {"finetune": (1e-5, 1e-3), "scratch": (1e-4, 1e-2)}
_DROPOUT = (0.0, 0.5)
_LABEL_SMOOTHING = (0.0, 0.2)
_BATCH_SIZES = (16, 32, 64)
# The fine-tune recipe's choices (docs/search-space.md). Weight decay is keras'
# decoupled one (each step shrinks a weight by rate x decay); 0 is plain Adam / SGD.
# Layer decay 1.0 is "off"; at 0.75 the deepest of MobileNetV2's 18 blocks trains at
# 0.75**17 = 0.8 % of the top block's rate.
_WEIGHT_DECAYS = (0.0, 0.005, 0.05)
_LAYER_DECAYS = (1.0, 0.9, 0.75)
_RECIPE = ("optimizers", "weight_decays", "layer_decays", "schedules")


@dataclass(frozen=True)
class Dimension(Record):
    """One searched parameter, described independently of any backend.

    ``kind`` is ``"float"`` (``low``..``high``, ``log`` scale or not) or
    ``"categorical"`` (``choices``). ``needs_unfrozen``: only sampled when the
    trial's freeze depth leaves some backbone layers trainable.
    """

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()
    needs_unfrozen: bool = False


def _geomean(lo: float, hi: float) -> float:
    return float(math.sqrt(lo * hi))


@dataclass(frozen=True)
class SearchSpace(Record):
    """What the tuner searches, and the configuration it tries first (``centre``).

    ``freeze_blocks``: candidate freeze depths as the codes of
    :class:`~advisor.recommend.FreezePlan` (``n_blocks`` = everything frozen, 0 =
    nothing frozen, -1 = from scratch; :meth:`plan` reads one). Ranges are
    ``(low, high)``; a range with ``low == high`` or a single choice is fixed, not
    searched. The fine-tune recipe (``optimizers``, ``weight_decays``, ``layer_decays``,
    ``schedules``) is searched only for trials that train backbone layers;
    :meth:`classic` fixes it to Adam, no decay, everything unfrozen at once.
    """

    scenario: str | None
    forced: bool
    n_blocks: int
    recommended_block: int
    freeze_blocks: tuple[int, ...]
    head_lr: tuple[float, float]
    backbone_lr: tuple[float, float]
    dropout: tuple[float, float] = _DROPOUT
    augmentation: tuple[str, ...] = AUGMENTATION_LEVELS[:3]
    label_smoothing: tuple[float, float] = _LABEL_SMOOTHING
    batch_sizes: tuple[int, ...] = _BATCH_SIZES
    # the classic recipe by default, so that a space stored before these were searched
    # loads as the space it was; from_advice searches them
    optimizers: tuple[str, ...] = ("adam",)
    weight_decays: tuple[float, ...] = (0.0,)
    layer_decays: tuple[float, ...] = (1.0,)
    schedules: tuple[str, ...] = ("at_once",)
    epochs: int = DEFAULT_EPOCHS
    patience: int = DEFAULT_PATIENCE
    centre: TrialParams | None = None
    notes: tuple[str, ...] = field(default=())

    @classmethod
    def from_advice(cls, advice: Advice | None, n_blocks: int, scenario: str | None = None, *,
                    epochs: int = DEFAULT_EPOCHS, patience: int = DEFAULT_PATIENCE) -> "SearchSpace":
        """The space centred on ``advice`` (or on ``scenario``), for a backbone of
        ``n_blocks`` blocks. ``scenario`` forces one scenario's freeze range only."""
        if scenario is not None and scenario not in SCENARIOS:
            raise ConfigError(f"Unknown scenario {scenario!r}", expected=f"one of {list(SCENARIOS)}",
                              received=repr(scenario), fix="pass --scenario with one of those names")
        if n_blocks < 2:
            raise ConfigError("The backbone has too few freeze boundaries to search freeze depth",
                              expected="n_blocks >= 2", received=str(n_blocks),
                              fix="use a backbone from the catalog")
        if epochs < 1 or patience < 1:
            raise ConfigError("Epochs and patience must be positive",
                              expected="epochs >= 1 and patience >= 1",
                              received=f"epochs={epochs}, patience={patience}",
                              fix="pass --epochs with a positive number")
        centre_scenario = scenario or (advice.scenario if advice else None)
        n = n_blocks
        centre, blocks, notes = freeze_range(advice, n, scenario, centre_scenario)

        head_lr = (advice.head_lr.low, advice.head_lr.high) if advice else _HEAD_LR
        scratch_like = centre_scenario == "from_scratch"
        # A fine-tuning range does not suit training from scratch, and vice versa.
        advice_fits = advice is not None and (advice.scenario == "from_scratch") == scratch_like
        if advice_fits and advice.backbone_lr is not None:
            backbone_lr = (advice.backbone_lr.low, advice.backbone_lr.high)
        else:
            backbone_lr = _BACKBONE_LR["scratch" if scratch_like else "finetune"]
        for name, (lo, hi) in (("head_lr", head_lr), ("backbone_lr", backbone_lr)):
            if not 0 < lo <= hi:
                raise ConfigError(f"The advice's {name} range is not usable on a log scale",
                                  expected="0 < low <= high", received=f"({lo}, {hi})",
                                  fix="re-run tladvise or edit the advice file")

        level = advice.augmentation.level if advice else "light"
        if level not in AUGMENTATION_LEVELS:
            raise ConfigError(f"Unknown augmentation level {level!r} in the advice",
                              expected=f"one of {list(AUGMENTATION_LEVELS)}", received=repr(level),
                              fix="re-run tladvise or edit the advice file")
        i = AUGMENTATION_LEVELS.index(level)
        augmentation = AUGMENTATION_LEVELS[max(0, i - 1):i + 2]
        if advice is not None and advice.augmentation.flip == "none":
            augmentation = tuple(a if a == "off" else a + NO_FLIP for a in augmentation)
            level = level if level == "off" else level + NO_FLIP
            notes.append("no flips in any augmentation level: " + advice.augmentation.note)

        centre_params = TrialParams(
            freeze_block=centre, head_lr=_geomean(*head_lr), backbone_lr=_geomean(*backbone_lr),
            dropout=0.2, augmentation=level, label_smoothing=0.1, batch_size=32,
            epochs=epochs, patience=patience)
        return cls(scenario=centre_scenario, forced=scenario is not None, n_blocks=n,
                   recommended_block=centre, freeze_blocks=tuple(blocks), head_lr=head_lr,
                   backbone_lr=backbone_lr, augmentation=tuple(augmentation),
                   optimizers=OPTIMIZERS, weight_decays=_WEIGHT_DECAYS,
                   layer_decays=_LAYER_DECAYS, schedules=SCHEDULES, epochs=epochs,
                   patience=patience, centre=centre_params, notes=tuple(notes))

    # -- what backends read -------------------------------------------------------

    def dimensions(self) -> list[Dimension]:
        """The searched (non-fixed) parameters."""
        dims: list[Dimension] = []
        if len(self.freeze_blocks) > 1:
            dims.append(Dimension("freeze_block", "categorical", choices=self.freeze_blocks))
        if self.head_lr[0] < self.head_lr[1]:
            dims.append(Dimension("head_lr", "float", *self.head_lr, log=True))
        if self.any_unfrozen and self.backbone_lr[0] < self.backbone_lr[1]:
            dims.append(Dimension("backbone_lr", "float", *self.backbone_lr, log=True,
                                  needs_unfrozen=True))
        if self.dropout[0] < self.dropout[1]:
            dims.append(Dimension("dropout", "float", *self.dropout))
        if len(self.augmentation) > 1:
            dims.append(Dimension("augmentation", "categorical", choices=self.augmentation))
        if self.label_smoothing[0] < self.label_smoothing[1]:
            dims.append(Dimension("label_smoothing", "float", *self.label_smoothing))
        if len(self.batch_sizes) > 1:
            dims.append(Dimension("batch_size", "categorical", choices=self.batch_sizes))
        if self.any_unfrozen:
            for name, choices in (("optimizer", self.optimizers),
                                  ("weight_decay", self.weight_decays),
                                  ("layer_decay", self.layer_decays),
                                  ("schedule", self.schedules)):
                if len(choices) > 1:
                    dims.append(Dimension(name, "categorical", choices=choices,
                                          needs_unfrozen=True))
        return dims

    def classic(self) -> "SearchSpace":
        """This space with the fine-tune recipe of tltune before it searched one: Adam,
        no weight or layer decay, every layer after the boundary unfrozen at once."""
        return replace(self, **{f: getattr(SearchSpace, f) for f in _RECIPE})

    def centred(self, head_lr: tuple[float, float] | None,
                backbone_lr: tuple[float, float] | None, why: str | None = None
                ) -> "SearchSpace":
        """This space with its learning-rate ranges replaced (``None`` keeps one), the
        first configuration at their geometric means, and ``why`` among its notes."""
        head = head_lr or self.head_lr
        bb = backbone_lr or self.backbone_lr
        for name, (lo, hi) in (("head_lr", head), ("backbone_lr", bb)):
            if not 0 < lo <= hi:
                raise ConfigError(f"A {name} range is not usable on a log scale",
                                  expected="0 < low <= high", received=f"({lo}, {hi})",
                                  fix="pass ranges with positive bounds")
        centre = (replace(self.centre, head_lr=_geomean(*head), backbone_lr=_geomean(*bb))
                  if self.centre is not None else None)
        return replace(self, head_lr=head, backbone_lr=bb, centre=centre,
                       notes=self.notes + ((why,) if why else ()))

    def cached_blocks(self) -> tuple[int, ...]:
        """The freeze blocks whose activations trials train on: the candidates, and the
        stages of their gradual schedules when those are searched."""
        blocks = list(self.freeze_blocks)
        if "gradual" in self.schedules:
            for b in self.freeze_blocks:
                if self.is_unfrozen(b):
                    blocks += gradual_stages(self.plan(b).block, self.n_blocks)
        return tuple(dict.fromkeys(blocks))

    def plan(self, freeze_block: int) -> FreezePlan:
        """The freeze plan of one candidate code of :attr:`freeze_blocks`."""
        return FreezePlan.from_code(freeze_block, self.n_blocks)

    @property
    def any_unfrozen(self) -> bool:
        return any(self.is_unfrozen(b) for b in self.freeze_blocks)

    def is_unfrozen(self, freeze_block: int) -> bool:
        """True when the code ``freeze_block`` leaves backbone layers to train."""
        return self.plan(freeze_block).trains_backbone

    def fixed_values(self) -> dict[str, Any]:
        """Values of the parameters that are not searched."""
        c = self.centre or TrialParams(self.freeze_blocks[-1], _geomean(*self.head_lr),
                                       _geomean(*self.backbone_lr))
        return {"freeze_block": self.freeze_blocks[0], "head_lr": self.head_lr[0],
                "backbone_lr": c.backbone_lr if self.backbone_lr[0] < self.backbone_lr[1]
                else self.backbone_lr[0],
                "dropout": self.dropout[0], "augmentation": self.augmentation[0],
                "label_smoothing": self.label_smoothing[0], "batch_size": self.batch_sizes[0],
                "optimizer": self.optimizers[0], "weight_decay": self.weight_decays[0],
                "layer_decay": self.layer_decays[0], "schedule": self.schedules[0]}

    def params(self, sampled: dict[str, Any]) -> TrialParams:
        """The full :class:`TrialParams` of a trial from its sampled values."""
        values = self.fixed_values()
        values.update(sampled)
        return TrialParams(freeze_block=int(values["freeze_block"]),
                           head_lr=float(values["head_lr"]),
                           backbone_lr=float(values["backbone_lr"]),
                           dropout=float(values["dropout"]),
                           augmentation=str(values["augmentation"]),
                           label_smoothing=float(values["label_smoothing"]),
                           batch_size=int(values["batch_size"]),
                           optimizer=str(values["optimizer"]),
                           weight_decay=float(values["weight_decay"]),
                           layer_decay=float(values["layer_decay"]),
                           schedule=str(values["schedule"]),
                           epochs=self.epochs, patience=self.patience)

    def sampled_of(self, params: TrialParams) -> dict[str, Any]:
        """The searched values of ``params`` (what a backend would have sampled)."""
        p = params.to_dict()
        return {d.name: p[d.name] for d in self.dimensions()
                if not d.needs_unfrozen or self.is_unfrozen(params.freeze_block)}

    def first(self) -> dict[str, Any]:
        """The sampled values of the recommended configuration (tried first)."""
        if self.centre is None:
            return {}
        c = self.centre
        if c.freeze_block not in self.freeze_blocks:  # e.g. a space narrowed by hand
            near = min(self.freeze_blocks, key=lambda b: (abs(b - self.recommended_block), b))
            c = replace(c, freeze_block=near)
        return self.sampled_of(c)

    def to_dict(self) -> dict:
        """The fields, plus the searched ``dimensions`` (for the reader of a config)."""
        return {**to_dict(self), "dimensions": [d.to_dict() for d in self.dimensions()]}
