"""What a runner's search trials share: one pretrained backbone, the head's layers and
the suffix views, built and compiled once and reset for every trial.

Building MobileNetV2 took 1.1 s of each fine-tuning trial at 224 px on 2 cores, and
compiling and tracing a suffix's train and test steps 1.5 s of each fine-tuning phase
(the first epoch's batch at 1.0 s, then 0.07 s). A kept view is compiled once per
optimizer with a tunable optimizer (:func:`~tuner.training._optim.tunable_optimizer`),
its dropout rate is a variable and label smoothing enters through the targets, so that
a later trial sets numbers instead of tracing again. Resetting restores the initial
weights, the dropout's random state and the optimizer's state: a trial's history does
not depend on the trials before it (``tests/tuner/training/test_kept.py``).
"""

from __future__ import annotations

from typing import Any

from advisor.backbones import BackboneSpec, Boundary, WeightsSource
from tuner.training._model import (Network, head_layers, seeded_backbone, suffix_view,
                                   whole_and_head)
from tuner.training._optim import compiled_for

__all__ = ["KeptBackbone", "rate_dropout"]


class _Held:
    """Holds a variable out of keras' tracking (not one of a layer's weights)."""

    __slots__ = ("var",)

    def __init__(self, var: Any) -> None:
        self.var = var


def rate_dropout(name: str = "head_dropout") -> Any:
    """A dropout layer whose rate is the variable ``layer.rate.var`` (set it between
    trials; keras' ``Dropout`` makes its rate a constant of the traced step). The same
    transform as keras' (keep with probability ``1 - rate``, scale by ``1 / (1 - rate)``);
    it has no weights, so ``get_weights`` of the models around it is unchanged."""
    import keras

    class RateDropout(keras.layers.Layer):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator()
            self.rate = _Held(keras.Variable(0.0, trainable=False, name="rate"))

        def call(self, inputs: Any, training: bool = False) -> Any:
            if not training:
                return inputs
            ops = keras.ops
            rate = ops.cast(self.rate.var, inputs.dtype)
            keep = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator,
                                        dtype=inputs.dtype) >= rate
            return ops.where(keep, inputs / (1 - rate), ops.zeros_like(inputs))

        def compute_output_shape(self, input_shape: Any) -> Any:
            return input_shape

    return RateDropout(name=name)


class KeptBackbone:
    """The search trials' network parts for one runner, built once (per input size,
    weights, seed and dtype policy; the head per class count) and given back reset.
    A final model (exported) builds a network of its own (:func:`build_network`)."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._backbone: Any = None
        self._initial: list = []
        self._top: tuple = ()
        self._top_key: tuple | None = None
        self._top_initial: tuple = ()
        self._models: tuple = ()  # (image model, head model) on the kept top
        self._views: dict[tuple[str, str], Any] = {}

    def get(self, spec: BackboneSpec, input_size: int, weights: WeightsSource, seed: int) -> Any:
        """The backbone, holding its initial weights."""
        import keras

        key = (spec.name, input_size, weights.fingerprint(), seed,
               keras.config.dtype_policy().name)
        if key != self._key:
            self._backbone = seeded_backbone(spec, input_size, weights, seed)
            self._key, self._initial = key, self._backbone.get_weights()
            self._top_key, self._views = None, {}
        else:
            self._backbone.set_weights(self._initial)
        return self._backbone

    def network(self, spec: BackboneSpec, input_size: int, weights: WeightsSource,
                n_classes: int, dropout: float, boundary: Boundary | None, *,
                seed: int) -> Network:
        """A trial's network on the kept parts, reset: what :func:`build_network` would
        build for these arguments, with its suffix views from :meth:`suffix`."""
        import keras

        backbone = self.get(spec, input_size, weights, seed)
        if self._top_key != (n_classes, seed):
            self._top = head_layers(n_classes, rate_dropout, seed)
            self._models = whole_and_head(spec, backbone, input_size, self._top)
            drop, dense = self._top[1], self._top[2]
            self._top_key, self._views = (n_classes, seed), {}
            self._top_initial = (dense.get_weights(), drop.seed_generator.state.numpy())
        else:
            keras.utils.set_random_seed(seed + 1)  # the global state a fresh build leaves
            drop, dense = self._top[1], self._top[2]
            dense.set_weights(self._top_initial[0])
            drop.seed_generator.state.assign(self._top_initial[1])
            backbone.trainable = False
        drop.rate.var.assign(dropout)
        net = Network(backbone, self._models[0], self._models[1], None, boundary, input_size,
                      self._top, kept=self)
        if boundary is not None:
            net.suffix = self.suffix(boundary, "adam")
        return net

    @property
    def compiled(self) -> int:
        """How many of the kept views have been compiled (by ``fit_phase(reuse=True)``)."""
        return sum(compiled_for(v) is not None for v in self._views.values())

    def suffix(self, boundary: Boundary, optimizer: str) -> Any | None:
        """The kept view from ``boundary``'s activation, one per optimizer (a keras model
        holds one compiled train step)."""
        key = (boundary.name, optimizer)
        if key not in self._views:
            self._views[key] = suffix_view(self._backbone, boundary, self._top)
        return self._views[key]
