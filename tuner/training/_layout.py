"""Where a backbone can be cut: its freeze boundaries at one input size and the shape
of the activation at each, measured once on random weights (no download needed)."""

from __future__ import annotations

from dataclasses import dataclass

from advisor.backbones import (BackboneSpec, Boundary, WeightsSource, block_boundaries,
                               build_backbone)

__all__ = ["BackboneLayout"]


@dataclass(frozen=True)
class BackboneLayout:
    """``boundaries``: ``[input, block 1, ..., all frozen]``; ``shapes``: activation
    shape (without the batch) per boundary name, and ``"pooled"``."""

    boundaries: tuple[Boundary, ...]
    shapes: dict[str, tuple[int, ...]]

    @property
    def n_blocks(self) -> int:
        return self.boundaries[-1].block

    @classmethod
    def measure(cls, spec: BackboneSpec, input_size: int) -> "BackboneLayout":
        import keras

        model = build_backbone(spec, input_size, WeightsSource("random", None))
        bounds = tuple(block_boundaries(model, spec))
        shapes = {b.name: tuple(model.layers[b.index].output.shape[1:])
                  for b in bounds if b.index >= 0}
        shapes["pooled"] = (int(model.output.shape[-1]),)
        del model
        keras.backend.clear_session()
        return cls(bounds, shapes)
