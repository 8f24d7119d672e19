"""One pass over the images: decode once (threads), feed the backbone once, and
collect from that single forward pass the pooled features, the pooled activations
at a few block ends spread over the depth (for the depth-wise probes, see
:func:`depth_boundaries`) and the per-channel statistics of every BatchNorm layer's input (those from about
``STATS_BATCHES`` batches spread over the input order: a sample is enough for channel
means and variances, and their reductions cost a third of the forward).

Memory: the features and thumbnails are written row by row into two arrays allocated
once for every item (no per-batch list and no final concatenation, which held both
copies at once), and each thumbnail is copied out of its decoding thread's buffer at
once, so that no small per-image array outlives the decode. Per image the pass then
holds one feature row (D float32), one pooled row per probed depth (float32, in
arrays allocated the same way: 24 + 32 + 64 + 96 + 160 = 376 values for MobileNetV2,
0.3 D; 488 for EfficientNetB0; 3 328 for ResNet50, 1.6 D), one 16x16x3 uint8
thumbnail and its :class:`ScannedFile` record (about 1 KB of Python objects)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from advisor.backbones import BackboneSpec, Boundary, WeightsSource
from advisor.data import THUMB_SIZE, ImageItem, ScannedFile, iter_decoded

STATS_BATCHES = 16  # batches (of 32: ~512 images) behind the BatchNorm input statistics

__all__ = ["BNStats", "DEPTH_FRACTIONS", "FeaturePass", "depth_boundaries", "extract_features"]

#: Relative depths (fractions of the blocks) of the intermediate probes; the final
#: pooled features (fraction 1) are the last depth.
DEPTH_FRACTIONS = (1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6)


@dataclass(frozen=True)
class BNStats:
    """Per BN layer: the dataset's input mean/variance and ImageNet's stored ones."""

    names: tuple[str, ...]
    indices: tuple[int, ...]  # layer index in the backbone
    n_layers: int  # number of layers of the backbone (for relative depth)
    mean: tuple[np.ndarray, ...]
    var: tuple[np.ndarray, ...]
    ref_mean: tuple[np.ndarray, ...]
    ref_var: tuple[np.ndarray, ...]
    eps: tuple[float, ...]


@dataclass(frozen=True)
class FeaturePass:
    files: tuple[ScannedFile, ...]  # every file, readable or not, in input order
    ok: np.ndarray  # bool mask over files
    features: np.ndarray  # (n_ok, D) float32 pooled features
    thumbs: np.ndarray  # (n_ok, 16, 16, 3) uint8
    bn: BNStats
    boundaries: tuple[Boundary, ...]
    # pooled activations at a few block ends (``depth_bounds``, shallow first), one
    # (n_ok, C_k) float32 array each; the final features are not repeated here
    depth_features: tuple[np.ndarray, ...] = ()
    depth_bounds: tuple[Boundary, ...] = ()


def depth_boundaries(boundaries: Sequence[Boundary],
                     fractions: Sequence[float] = DEPTH_FRACTIONS) -> tuple[Boundary, ...]:
    """The block ends nearest each of ``fractions`` of the blocks (ties: the shallower),
    shallow first, without repeats; neither ``input`` nor the last boundary (the
    backbone's output, whose pooled features are :attr:`FeaturePass.features`)."""
    inner = [b for b in boundaries if 0 < b.block < b.n_blocks]
    picked: list[Boundary] = []
    for f in fractions:
        if not inner:
            break
        best = min(inner, key=lambda b: (abs(b.fraction - f), b.block))
        if best not in picked:
            picked.append(best)
    return tuple(sorted(picked, key=lambda b: b.block))


def _stats_model(backbone, depth_layers: Sequence[str] = ()):
    import keras

    from advisor.backbones import bn_layers

    bns = bn_layers(backbone)
    outs = [keras.layers.GlobalAveragePooling2D(name="tl_pool")(backbone.output)]
    for name in depth_layers:
        outs.append(keras.ops.mean(backbone.get_layer(name).output, axis=(1, 2)))
    for layer in bns:
        x = layer.input
        outs.append(keras.ops.mean(x, axis=(1, 2)))
        outs.append(keras.ops.mean(keras.ops.square(x), axis=(1, 2)))
    return keras.Model(backbone.input, outs), bns


def extract_features(items: Sequence[ImageItem], spec: BackboneSpec, weights: WeightsSource,
                     input_size: int, *, batch_size: int = 32, workers: int | None = None,
                     max_pixels: int | None = None,
                     progress: Callable[[int], None] | None = None) -> FeaturePass:
    """Decode every item once and run the backbone once over the readable ones."""
    import keras
    import tensorflow as tf

    from advisor.backbones import block_boundaries, build_backbone, preprocess_fn

    backbone = build_backbone(spec, input_size, weights)
    bounds = tuple(block_boundaries(backbone, spec))
    depths = depth_boundaries(bounds)
    model, bns = _stats_model(backbone, [b.name for b in depths])
    preprocess = preprocess_fn(spec)
    n_bn = len(bns)
    n_depth = len(depths)

    # the BatchNorm statistics need a sample, not every image: they come from every
    # stride-th batch (about STATS_BATCHES of them, spread over the whole input order);
    # the other batches skip their 2 reductions per BN layer (~a third of the forward)
    lean = keras.Model(model.input, model.outputs[:1 + n_depth])
    stride = max(1, math.ceil(math.ceil(len(items) / batch_size) / STATS_BATCHES))

    @tf.function(reduce_retracing=True)
    def forward(x):
        return model(preprocess(tf.cast(x, tf.float32)), training=False)

    @tf.function(reduce_retracing=True)
    def forward_lean(x):
        return lean(preprocess(tf.cast(x, tf.float32)), training=False)

    sums = [None] * (2 * n_bn)
    count = 0  # readable images fed to the model so far
    n_stats = 0  # of which in the BatchNorm statistics
    n_batches = 0
    # one row per item, filled in order; rows of unreadable files are never written
    # (their pages are never touched) and are cut off at the end
    feats = np.empty((len(items), int(model.outputs[0].shape[-1])), np.float32)
    depth_feats = [np.empty((len(items), int(o.shape[-1])), np.float32)
                   for o in model.outputs[1:1 + n_depth]]
    thumbs = np.empty((len(items), THUMB_SIZE, THUMB_SIZE, 3), np.uint8)
    files: list[ScannedFile] = []
    batch: list[np.ndarray] = []

    def flush():
        nonlocal count, n_stats, n_batches
        if not batch:
            return
        n = len(batch)
        x = np.stack(batch + [batch[-1]] * (batch_size - n))  # fixed shape: no retracing
        stats = n_batches % stride == 0
        n_batches += 1
        out = [o.numpy()[:n] for o in (forward if stats else forward_lean)(x)]
        feats[count:count + n] = out[0]
        for arr, o in zip(depth_feats, out[1:1 + n_depth]):
            arr[count:count + n] = o
        for k, o in enumerate(out[1 + n_depth:]):
            s = o.astype(np.float64).sum(axis=0)
            sums[k] = s if sums[k] is None else sums[k] + s
        n_stats += n if stats else 0
        count += n
        batch.clear()

    kw = {} if max_pixels is None else {"max_pixels": max_pixels}
    for sf, pixels, thumb in iter_decoded(items, input_size, workers=workers, **kw):
        files.append(sf)
        if sf.ok:
            thumbs[count + len(batch)] = thumb
            batch.append(pixels)
            if len(batch) == batch_size:
                flush()
        if progress:
            progress(1)
    flush()

    ok = np.array([f.ok for f in files], dtype=bool)
    means, variances = [], []
    for k in range(n_bn):
        if n_stats:
            m = sums[2 * k] / n_stats
            v = np.maximum(sums[2 * k + 1] / n_stats - m * m, 0.0)
        else:
            m = v = np.zeros(int(bns[k].moving_mean.shape[0]))
        means.append(m)
        variances.append(v)
    layer_pos = {id(l): i for i, l in enumerate(backbone.layers)}
    bn = BNStats(
        names=tuple(l.name for l in bns),
        indices=tuple(layer_pos[id(l)] for l in bns),
        n_layers=len(backbone.layers),
        mean=tuple(means), var=tuple(variances),
        ref_mean=tuple(np.asarray(l.moving_mean, dtype=np.float64) for l in bns),
        ref_var=tuple(np.asarray(l.moving_variance, dtype=np.float64) for l in bns),
        eps=tuple(float(l.epsilon) for l in bns),
    )
    features, thumb_arr = feats[:count], thumbs[:count]
    del model, lean, backbone

    keras.backend.clear_session()
    return FeaturePass(tuple(files), ok, features, thumb_arr, bn, bounds,
                       tuple(a[:count] for a in depth_feats), depths)
