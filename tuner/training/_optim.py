"""The fine-tune phase's optimizer: Adam (AdamW with weight decay) or SGD with Nesterov
momentum, with optional per-layer rates (layer-wise learning-rate decay).

Keras has no per-variable learning rate; :class:`_Scaled` multiplies the rate each
variable's update step receives by that variable's factor (the weight decay, which keras
applies apart from the update, keeps the base rate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from advisor.backbones import Boundary

__all__ = ["OptimizerSpec", "make_optimizer", "tunable_optimizer", "retune", "compiled_for",
           "layer_rate_scales", "SGD_MOMENTUM"]

SGD_MOMENTUM = 0.9


@dataclass(frozen=True)
class OptimizerSpec:
    """What the fine-tune phase trains with: ``name`` (``adam`` or ``sgd``), keras'
    decoupled ``weight_decay`` and the per-variable rate factors ``scales``
    (``id(variable) -> factor``; variables not in it train at the base rate)."""

    name: str = "adam"
    weight_decay: float = 0.0
    scales: dict[int, float] | None = None

    @property
    def label(self) -> str:
        if self.name == "adam":
            return "AdamW" if self.weight_decay else "Adam"
        return f"SGD (Nesterov, momentum {SGD_MOMENTUM})"


def _scaled_class(base: type) -> type:
    class _Scaled(base):  # type: ignore[misc, valid-type]
        """``base`` whose update step runs at ``learning_rate * factor`` per variable."""

        def __init__(self, *args: Any, scales: dict[int, float], **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._by_object = dict(scales)
            self._by_key: dict[Any, float] = {}

        def build(self, variables: Sequence[Any]) -> None:
            super().build(variables)
            # the backend hands update_step its own variable objects: key them the
            # way the optimizer itself does
            self._by_key = {self._var_key(v): self._by_object[id(v)]
                            for v in variables if id(v) in self._by_object}

        def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> Any:
            factor = self._by_key.get(self._var_key(variable), 1.0)
            if factor != 1.0:
                learning_rate = learning_rate * factor
            return super().update_step(gradient, variable, learning_rate)

    _Scaled.__name__ = f"LayerScaled{base.__name__}"
    return _Scaled


def _base(name: str) -> tuple[type, dict]:
    import keras

    if name == "sgd":
        return keras.optimizers.SGD, dict(momentum=SGD_MOMENTUM, nesterov=True)
    return keras.optimizers.Adam, {}


def make_optimizer(spec: OptimizerSpec, lr: float) -> Any:
    """A keras optimizer of ``spec`` at base rate ``lr``."""
    import keras

    base, kw = _base(spec.name)
    if spec.name == "adam" and spec.weight_decay:
        base = keras.optimizers.AdamW
    if spec.name == "sgd" or spec.weight_decay:
        kw["weight_decay"] = spec.weight_decay or None
    if spec.scales:
        return _scaled_class(base)(lr, scales=spec.scales, **kw)
    return base(lr, **kw)


def layer_rate_scales(backbone: Any, boundaries: Sequence[Boundary], decay: float
                      ) -> dict[int, float]:
    """``id(variable) -> decay ** d`` for the backbone's weights, ``d`` the number of
    blocks between the variable's block and the top one (the top block and layers after
    the last boundary get 1; so does the head, which is not in the backbone)."""
    if decay >= 1.0:
        return {}
    cuts = [b for b in boundaries if b.index >= 0]  # block k ends at layer cuts[k-1].index
    n = cuts[-1].block if cuts else 0
    out: dict[int, float] = {}
    k = 0
    for i, layer in enumerate(backbone.layers):
        while k < len(cuts) and cuts[k].index < i:
            k += 1
        block = cuts[k].block if k < len(cuts) else n  # the block layer i belongs to
        factor = decay ** (n - block)
        for v in layer.weights:
            out[id(v)] = factor
    return out


def _tunable_class(base: type) -> type:
    import keras

    class _Tunable(base):  # type: ignore[misc, valid-type]
        """``base`` whose learning rate, weight decay and per-variable rate factors are
        variables: :func:`retune` sets them for another trial, and a train step traced
        once serves every trial (a plain optimizer's weight decay and factors are
        constants of the trace)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.weight_decay = keras.Variable(0.0, trainable=False, name="weight_decay")
            self._factor_of: dict[int, Any] = {}  # id(model variable) -> factor variable
            self._factor_by_key: dict[Any, Any] = {}

        def build(self, variables: Sequence[Any]) -> None:
            super().build(variables)
            for v in variables:
                f = self.add_variable((), initializer="ones", name="rate_factor")
                self._factor_of[id(v)] = f
                self._factor_by_key[self._var_key(v)] = f

        def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> Any:
            f = self._factor_by_key.get(self._var_key(variable))
            if f is not None:
                learning_rate = learning_rate * keras.ops.cast(f, learning_rate.dtype)
            return super().update_step(gradient, variable, learning_rate)

        def tune(self, spec: OptimizerSpec, lr: float) -> None:
            self.learning_rate = lr
            self.weight_decay.assign(spec.weight_decay)
            scales = spec.scales or {}
            for vid, f in self._factor_of.items():
                f.assign(scales.get(vid, 1.0))

    _Tunable.__name__ = f"Tunable{base.__name__}"
    return _Tunable


def tunable_optimizer(spec: OptimizerSpec, lr: float) -> Any:
    """An optimizer of ``spec.name`` that trains like :func:`make_optimizer`'s (AdamW at
    weight decay 0 is Adam) with its hyperparameters in variables, for a model compiled
    once and trained by many trials (:func:`retune`). Its factors exist once it is built
    (``remember`` in :func:`retune` sets them)."""
    base, kw = _base(spec.name)
    opt = _tunable_class(base)(lr, **kw)
    opt.tune(spec, lr)
    return opt


@dataclass
class _Compiled:
    """What a model compiled with a tunable optimizer keeps: the optimizer's name and
    its state as built (zero moments, step 0)."""

    name: str
    initial: list


def compiled_for(model: Any) -> str | None:
    """The optimizer name a model was compiled for by :func:`retune` (``None``: never)."""
    state = getattr(model, "_tl_compiled", None)
    return None if state is None else state.name


def retune(model: Any, spec: OptimizerSpec, lr: float, *, remember: bool = False) -> bool:
    """Ready ``model`` (compiled with :func:`tunable_optimizer`) for a new trial of
    ``spec`` at ``lr`` without compiling it again: its optimizer's state reset and its
    hyperparameters set. False when it was not compiled for ``spec.name`` (compile it,
    build it, then call ``retune(..., remember=True)`` to record its initial state)."""
    state = getattr(model, "_tl_compiled", None)
    if not remember and (state is None or state.name != spec.name):
        return False
    opt = model.optimizer
    inner = getattr(opt, "inner_optimizer", opt)  # under a loss-scale optimizer
    if remember:
        model._tl_compiled = _Compiled(spec.name, [v.numpy() for v in opt.variables])
    else:
        for v, x in zip(opt.variables, state.initial):
            v.assign(x)
    inner.tune(spec, lr)
    return True
