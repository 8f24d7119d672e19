"""Building a catalog backbone and finding its freeze boundaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from advisor.backbones._catalog import BackboneSpec
from advisor.backbones._weights import WeightsSource
from advisor.codec import Record, to_dict
from advisor.errors import InputError, WeightsError

__all__ = ["Boundary", "build_backbone", "preprocess_fn", "block_boundaries", "bn_layers",
           "set_bn_momentum"]


@dataclass(frozen=True)
class Boundary(Record):
    """A freeze boundary: layers ``0..index`` (inclusive) are frozen.

    ``index = -1`` (name ``"input"``) freezes nothing; the last boundary freezes all.
    ``block`` counts blocks from the input (0 = nothing frozen).
    """

    name: str
    index: int
    block: int
    n_blocks: int

    @property
    def fraction(self) -> float:
        return self.block / self.n_blocks if self.n_blocks else 0.0

    def to_dict(self) -> dict:
        """The fields, plus the derived ``fraction`` of blocks frozen."""
        return {**to_dict(self), "fraction": round(self.fraction, 4)}


def build_backbone(spec: BackboneSpec, input_size: int, weights: WeightsSource,
                   pooling: str | None = None) -> Any:
    """A ``keras.Model`` (no top) at ``input_size``, weights loaded by path."""
    import keras

    if input_size < spec.min_input_size:
        raise InputError(f"The input side {input_size} px is too small for {spec.name}",
                         expected=f"at least {spec.min_input_size} px",
                         received=f"{input_size} px",
                         fix=f"pass --image-size {spec.input_size} (its native side) "
                             f"or at least {spec.min_input_size}")
    ctor = getattr(keras.applications, spec.constructor)
    extra = {} if spec.alpha is None else {"alpha": spec.alpha}
    try:
        return ctor(include_top=False, weights=str(weights.path) if weights.path else None,
                    input_shape=(input_size, input_size, 3), pooling=pooling, **extra)
    except (ValueError, OSError) as e:
        raise WeightsError(f"Cannot load the weights into {spec.name}",
                           expected=f"no-top weights of {spec.name} ({spec.weights_file})",
                           received=f"{weights.path}: {str(e)[:200]}",
                           fix="pass the weights file that belongs to this backbone") from e


def preprocess_fn(spec: BackboneSpec):
    """The backbone's ``preprocess_input`` (float pixels 0..255 in, model input out)."""
    import importlib

    mod = importlib.import_module(f"keras.applications.{spec.preprocess_module}")
    return mod.preprocess_input


def _is_cut(model: Any, idx: int, pos: dict[int, int]) -> bool:
    """True when every layer after ``idx`` reads only from layers at or after ``idx``."""
    for layer in model.layers[idx + 1:]:
        for node in layer._inbound_nodes:
            for t in node.input_tensors:
                src = t._keras_history.operation
                if pos.get(id(src), -1) < idx:
                    return False
    return True


def block_boundaries(model: Any, spec: BackboneSpec) -> list[Boundary]:
    """Freeze boundaries: ``input`` (nothing frozen), each block end, the last layer."""
    pos = {id(layer): i for i, layer in enumerate(model.layers)}
    cuts = [i for i, layer in enumerate(model.layers)
            if spec.is_block_end(layer.name) and _is_cut(model, i, pos)]
    last = len(model.layers) - 1
    if not cuts or cuts[-1] != last:
        cuts.append(last)
    n = len(cuts)
    out = [Boundary("input", -1, 0, n)]
    out += [Boundary(model.layers[i].name, i, k + 1, n) for k, i in enumerate(cuts)]
    return out


def bn_layers(model: Any) -> list[Any]:
    import keras

    return [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]


def set_bn_momentum(model: Any, momentum: float) -> int:
    """Set every BatchNorm layer's momentum (0.999 in MobileNetV2 is too slow for
    training from scratch: moving statistics stay near init). Returns the count."""
    layers = bn_layers(model)
    for l in layers:
        l.momentum = momentum
    return len(layers)
