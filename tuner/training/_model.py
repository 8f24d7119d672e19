"""The trained network: preprocessing layer, backbone, new head, and the views of
it that train on cached activations (``head`` on pooled features, ``suffix`` on the
activation at a freeze boundary). All views share the same layer objects, so
whatever one trains, the exported ``model`` contains."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from advisor.backbones import BackboneSpec, Boundary, WeightsSource, build_backbone, preprocess_fn
from advisor.errors import InternalError

__all__ = ["Network", "preprocess_affine", "preprocess_layer", "build_prefix", "build_network",
           "head_layers", "suffix_view", "whole_and_head", "seeded_backbone"]


def preprocess_affine(spec: BackboneSpec) -> tuple[np.ndarray, np.ndarray]:
    """``(W, b)`` with ``preprocess_fn(spec)(x) == x @ W + b`` per pixel.

    Measured from the backbone's own ``preprocess_input`` (so the exported model
    contains exactly that preprocessing as built-in layers) and checked to be affine.
    """
    fn = preprocess_fn(spec)
    probe = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]], np.float32)
    out = np.asarray(fn(probe.copy()[None, None])[0, 0], dtype=np.float64)
    b = out[0]
    w = (out[1:] - b) / 255.0  # row i: effect of input channel i
    rng = np.random.default_rng(0)
    check = rng.uniform(0, 255, size=(1, 8, 8, 3)).astype(np.float32)
    want = np.asarray(fn(check.copy()), dtype=np.float64)
    if not np.allclose(check.astype(np.float64) @ w + b, want, atol=1e-3):
        raise InternalError(f"The preprocessing of {spec.name} is not a per-pixel affine map",
                            expected="preprocess_input = scale/offset/channel permutation",
                            received=f"module keras.applications.{spec.preprocess_module}",
                            fix="add an explicit preprocessing layer for this backbone")
    return w.astype(np.float32), b.astype(np.float32)


def preprocess_layer(spec: BackboneSpec) -> Any:
    """A built-in keras layer equal to the backbone's ``preprocess_input``
    (a saved model then loads without custom objects)."""
    import keras

    w, b = preprocess_affine(spec)
    diag = np.diag(w)
    if np.allclose(w, np.diag(diag)) and np.allclose(diag, diag[0]) and np.allclose(b, b[0]):
        return keras.layers.Rescaling(float(diag[0]), offset=float(b[0]), name="preprocess")
    conv = keras.layers.Conv2D(3, 1, name="preprocess", trainable=False)
    conv.build((None, None, None, 3))
    conv.set_weights([w[None, None], b])
    return conv


@dataclass
class Network:
    """One trial's keras objects (released together after the trial)."""

    backbone: Any | None  # keras.Model: preprocessed image -> last feature map
    model: Any | None  # raw RGB 0..255 image -> class probabilities (exported)
    head: Any  # pooled features -> probabilities
    suffix: Any | None  # activation at ``boundary`` -> probabilities (cached fine-tuning)
    boundary: Boundary | None
    input_size: int
    top: tuple = ()  # (pooling, dropout, dense): the head's layers, shared by every view
    kept: Any = None  # the KeptBackbone whose layers and views these are (search trials)

    def suffix_at(self, boundary: Boundary, optimizer: str = "adam") -> Any | None:
        """The view that trains on the activation at ``boundary`` (:attr:`suffix` when it is
        the network's own; a kept network's view compiled for ``optimizer``, which
        ``fit_phase(reuse=True)`` trains without a new trace); ``None`` for the input and
        last boundaries."""
        if self.kept is not None:
            return self.kept.suffix(boundary, optimizer)
        if self.boundary is not None and boundary.name == self.boundary.name:
            return self.suffix
        return suffix_view(self.backbone, boundary, self.top)

    def freeze_through(self, index: int) -> None:
        """Layers ``0..index`` frozen, later ones trainable; BatchNorm always frozen
        (inference mode), as the fine-tuning recipe requires."""
        import keras

        self.backbone.trainable = True
        for i, layer in enumerate(self.backbone.layers):
            bn = isinstance(layer, keras.layers.BatchNormalization)
            layer.trainable = i > index and not bn


def seeded_backbone(spec: BackboneSpec, input_size: int, weights: WeightsSource, seed: int) -> Any:
    """The backbone with ``weights``; the same seed gives the same random initialisation
    in every build (``weights="none"``)."""
    import keras

    keras.utils.set_random_seed(seed)
    return build_backbone(spec, input_size, weights)


def build_prefix(spec: BackboneSpec, input_size: int, weights: WeightsSource,
                 boundaries: list[str], seed: int, backbone: Any | None = None) -> Any:
    """The frozen part as one model: raw image -> ``[activation at each of
    boundaries..., pooled features]``. Reuses ``backbone`` when given (it must still
    hold its initial weights)."""
    import keras

    if backbone is None:
        backbone = seeded_backbone(spec, input_size, weights, seed)
    outs = [backbone.get_layer(b).output for b in boundaries] + [backbone.output]
    inp = keras.Input((input_size, input_size, 3), name="image")
    feats = keras.Model(backbone.input, outs)(preprocess_layer(spec)(inp))
    feats = list(feats) if isinstance(feats, (list, tuple)) else [feats]
    pooled = keras.layers.GlobalAveragePooling2D()(feats[-1])
    return keras.Model(inp, feats[:-1] + [pooled])


def head_layers(n_classes: int, dropout: float | Callable[[], Any], seed: int) -> tuple:
    """``(pooling, dropout, dense)``, seeded by ``seed`` alone (``seed + 1``, so that the
    head's initial weights differ from a random backbone's). ``dropout``: a rate, or a
    function that makes the dropout layer (a kept network's, whose rate is a variable),
    called where keras' would be made, so that the draws are the same."""
    import keras

    keras.utils.set_random_seed(seed + 1)
    gap = keras.layers.GlobalAveragePooling2D(name="pool")
    drop = (keras.layers.Dropout(dropout, name="head_dropout")
            if isinstance(dropout, (int, float)) else dropout())
    dense = keras.layers.Dense(n_classes, activation="softmax", dtype="float32", name="head")
    return gap, drop, dense


def build_network(spec: BackboneSpec, input_size: int, weights: WeightsSource, n_classes: int,
                  dropout: float, boundary: Boundary | None, *, seed: int,
                  head_only: bool = False, n_features: int | None = None) -> Network:
    """Build backbone + head. ``boundary`` (not ``input``/last) also builds ``suffix``:
    the layers after the boundary re-called on a ``keras.Input`` of its activation.
    ``head_only`` builds just the head on ``n_features`` pooled features (a feature
    extractor trial on cached features needs no backbone). The head's initial
    weights depend only on ``seed``, with or without the backbone (search trials get
    theirs from :class:`~tuner.training._kept.KeptBackbone`)."""
    import keras

    backbone = None if head_only else seeded_backbone(spec, input_size, weights, seed)
    gap, drop, dense = top = head_layers(n_classes, dropout, seed)
    if head_only:
        feat = keras.Input((n_features,), name="pooled")
        return Network(None, None, keras.Model(feat, dense(drop(feat)), name="head_model"),
                       None, None, input_size)
    model, head = whole_and_head(spec, backbone, input_size, top)
    suffix = suffix_view(backbone, boundary, top) if boundary is not None else None
    return Network(backbone, model, head, suffix, boundary, input_size, top)


def whole_and_head(spec: BackboneSpec, backbone: Any, input_size: int, top: tuple
                   ) -> tuple[Any, Any]:
    """The image model (raw RGB -> probabilities; the backbone frozen) and the head model
    (pooled features -> probabilities), sharing the ``top`` layers."""
    import keras

    gap, drop, dense = top
    backbone.trainable = False
    inp = keras.Input((input_size, input_size, 3), name="image")
    # no training=False here: from scratch BatchNorm must train; when fine-tuning,
    # BN layers are set trainable=False, which keras runs in inference mode
    out = dense(drop(gap(backbone(preprocess_layer(spec)(inp)))))
    model = keras.Model(inp, out, name=f"{spec.name}_classifier")
    feat = keras.Input((backbone.output.shape[-1],), name="pooled")
    return model, keras.Model(feat, dense(drop(feat)), name="head_model")


def suffix_view(backbone: Any, boundary: Boundary, top: tuple) -> Any | None:
    """Boundary activation -> probabilities, sharing the backbone's later layers and the
    head (``None`` for the input and last boundaries)."""
    import keras

    if not 0 <= boundary.index < len(backbone.layers) - 1:
        return None
    gap, drop, dense = top
    # keras clones the graph from this intermediate tensor: a model whose input
    # is the boundary activation, sharing the backbone's later layers
    cut = backbone.get_layer(boundary.name).output
    tail = keras.Model(cut, backbone.output)
    s_in = keras.Input(cut.shape[1:], name=f"activation_{boundary.block}")
    return keras.Model(s_in, dense(drop(gap(tail(s_in)))), name=f"suffix_{boundary.block}")
