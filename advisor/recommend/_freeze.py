"""The freeze plan: how much of a pretrained backbone stays frozen, or a run from scratch.

One type for every place that speaks of freeze depth: the advice, the search space,
the trial parameters, the pilot and the renderers. A backbone's freeze boundaries
come from :func:`advisor.backbones.block_boundaries`: ``input`` (nothing frozen),
then each block end; the last one freezes everything.

The search samples freeze depth as one integer, the plan's :attr:`FreezePlan.code`
(``0..n_blocks`` frozen blocks, :data:`FreezePlan.SCRATCH_CODE` = -1 from scratch);
:attr:`FreezePlan.code` and :meth:`FreezePlan.from_code` are the only places that
write and read that encoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from advisor.backbones import Boundary
from advisor.codec import Record
from advisor.errors import ConfigError
from advisor.recommend._scenarios import SCENARIOS

__all__ = ["FreezePlan"]


@dataclass(frozen=True)
class FreezePlan(Record):
    """Blocks ``1..block`` of ``n_blocks`` frozen from the input: layers ``0..index``
    (through ``layer``) keep their pretrained weights, the rest train.

    ``block = 0`` (layer ``"input"``, index -1) freezes nothing: full fine-tune;
    ``block = n_blocks`` freezes everything: feature extractor. ``scratch``: the same
    architecture from random weights, nothing frozen (``block`` 0). ``layer = ""`` and
    ``index = None`` say the layer is not known (a plan made from a block count
    without the backbone's boundaries, e.g. by :meth:`rescaled`).
    """

    SCRATCH_CODE: ClassVar[int] = -1  # the code of a from-scratch plan (see from_code)

    block: int
    n_blocks: int
    layer: str = ""
    index: int | None = None
    scratch: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.block <= self.n_blocks:
            raise ValueError(f"freeze block {self.block} is outside 0..{self.n_blocks}")
        if self.scratch and self.block:
            raise ValueError(f"a from-scratch plan freezes nothing, not {self.block} blocks")
        if self.block == 0 and not self.layer and self.index is None:  # nothing frozen
            object.__setattr__(self, "layer", "input")
            object.__setattr__(self, "index", -1)

    # -- constructors -------------------------------------------------------------

    @classmethod
    def at(cls, boundary: Boundary) -> "FreezePlan":
        """Freeze through ``boundary`` (pretrained weights)."""
        return cls(boundary.block, boundary.n_blocks, boundary.name, boundary.index)

    @classmethod
    def from_scratch(cls, n_blocks: int) -> "FreezePlan":
        """Random initialisation, nothing frozen."""
        return cls(0, n_blocks, scratch=True)

    @classmethod
    def from_code(cls, code: int, n_blocks: int,
                  boundaries: Sequence[Boundary] | None = None) -> "FreezePlan":
        """The plan of the integer the search samples (inverse of :attr:`code`); with
        the backbone's ``boundaries`` it also knows the last frozen layer."""
        code = int(code)
        if code == cls.SCRATCH_CODE:
            return cls.from_scratch(n_blocks)
        if not 0 <= code <= n_blocks:
            raise ValueError(f"freeze code {code} is outside {cls.SCRATCH_CODE} (scratch) .. "
                             f"{n_blocks}")
        if boundaries is None:
            return cls(code, n_blocks)
        if boundaries[-1].block != n_blocks or len(boundaries) <= code:
            raise ValueError(f"the boundaries ({boundaries[-1].block} blocks) do not belong "
                             f"to a backbone of {n_blocks} blocks")
        return cls.at(boundaries[code])

    @classmethod
    def for_scenario(cls, scenario: str, boundaries: Sequence[Boundary] | int,
                     partial: "Boundary | FreezePlan | None" = None) -> "FreezePlan":
        """The plan that trains ``scenario`` on a backbone with these ``boundaries``
        (or this many blocks, when the layer names do not matter):
        feature_extractor freezes everything, full_finetune nothing, from_scratch
        starts from random weights and partial_freeze freezes through ``partial``."""
        bounds = None if isinstance(boundaries, int) else list(boundaries)
        n = boundaries if bounds is None else bounds[-1].block
        if scenario == "feature_extractor":
            return cls.from_code(n, n, bounds)
        if scenario == "full_finetune":
            return cls.from_code(0, n, bounds)
        if scenario == "from_scratch":
            return cls.from_scratch(n)
        if scenario == "partial_freeze":
            if partial is None:
                raise ValueError("a partial_freeze plan needs its boundary")
            plan = partial if isinstance(partial, FreezePlan) else cls.at(partial)
            if plan.n_blocks != n:
                raise ValueError(f"the partial boundary has {plan.n_blocks} blocks, not {n}")
            return plan

        raise ConfigError(f"Unknown scenario {scenario!r}", expected=f"one of {list(SCENARIOS)}",
                          received=repr(scenario), fix="use a scenario name from the advice")

    # -- what it says -------------------------------------------------------------

    @property
    def code(self) -> int:
        """The integer the search samples: the frozen block count, -1 from scratch."""
        return self.SCRATCH_CODE if self.scratch else self.block

    @property
    def all_frozen(self) -> bool:
        """Every block frozen: only the head trains (feature extractor)."""
        return not self.scratch and self.block == self.n_blocks

    @property
    def none_frozen(self) -> bool:
        """No block frozen (full fine-tune, or from scratch)."""
        return self.block == 0

    @property
    def partial(self) -> bool:
        """Some blocks frozen, some trained (partial freeze)."""
        return not self.scratch and 0 < self.block < self.n_blocks

    @property
    def trains_backbone(self) -> bool:
        """Some backbone layers train (everything but a feature extractor)."""
        return not self.all_frozen

    @property
    def fraction(self) -> float:
        """Frozen fraction of the blocks (0 from scratch)."""
        return self.block / self.n_blocks if self.n_blocks else 0.0

    @property
    def scenario(self) -> str:
        """The scenario this plan trains."""
        if self.scratch:
            return "from_scratch"
        if self.all_frozen:
            return "feature_extractor"
        return "full_finetune" if self.none_frozen else "partial_freeze"

    @property
    def label(self) -> str:
        """A short human label, e.g. ``"blocks 1..12 of 17 frozen"``."""
        if self.scratch:
            return "from scratch (random init)"
        if self.all_frozen:
            return f"all {self.n_blocks} blocks frozen"
        if self.none_frozen:
            return "nothing frozen"
        return f"blocks 1..{self.block} of {self.n_blocks} frozen"

    @property
    def short(self) -> str:
        """The plan in a table cell: ``"12/17"`` blocks frozen, or ``"scratch"``."""
        return "scratch" if self.scratch else f"{self.block}/{self.n_blocks}"

    @property
    def layer_label(self) -> str:
        """The last frozen layer; ``"none (random init)"`` from scratch."""
        return "none (random init)" if self.scratch else self.layer

    # -- changes --------------------------------------------------------------------

    def rescaled(self, n_blocks: int) -> "FreezePlan":
        """The same depth fraction on a backbone of ``n_blocks`` blocks (rounded; the
        layer is then not known). Itself when the block count is the same."""
        if n_blocks == self.n_blocks:
            return self
        if self.scratch:
            return FreezePlan.from_scratch(n_blocks)
        block = round(self.block / self.n_blocks * n_blocks) if self.n_blocks else 0
        return FreezePlan.from_code(block, n_blocks)

    def matches(self, boundaries: Sequence[Boundary]) -> bool:
        """True when this plan was made for a backbone with these boundaries (same
        block count, and the same layer at its block where the layer is known)."""
        if boundaries[-1].block != self.n_blocks or len(boundaries) <= self.block:
            return False
        return not self.layer or boundaries[self.block].name == self.layer
