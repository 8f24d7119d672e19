"""Distance from ImageNet without ImageNet images.

A pretrained backbone's BatchNorm layers store ImageNet's per-channel mean and
variance of their inputs. Comparing them with the dataset's own statistics at
every BN layer gives a shift profile over depth.

Per channel ``c`` of a BN layer, with ImageNet's stored ``mu, var`` and the
dataset's ``m, v``, the Gaussian Wasserstein-2 distance normalised by ImageNet's
standard deviation ``sigma = sqrt(var + eps)`` (the unit the layer normalises by) is::

    d_c = sqrt(((m - mu) / sigma)^2 + ((sqrt(v) - sqrt(var)) / sigma)^2)

A layer's shift is the median of ``d_c`` over channels (robust to dead channels);
early / middle / late are means over the first, second and last third of the BN
layers in network order.
"""

from __future__ import annotations

import numpy as np

from advisor.measure._types import LayerShift, ShiftProfile

__all__ = ["channel_w2", "shift_profile"]


def channel_w2(mean: np.ndarray, var: np.ndarray, ref_mean: np.ndarray, ref_var: np.ndarray,
               eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-channel normalised W2 distance and its mean and std terms."""
    sigma = np.sqrt(np.asarray(ref_var, np.float64) + eps)
    mean_term = np.abs(np.asarray(mean, np.float64) - ref_mean) / sigma
    std_term = np.abs(np.sqrt(np.maximum(var, 0.0)) - np.sqrt(np.maximum(ref_var, 0.0))) / sigma
    return np.sqrt(mean_term**2 + std_term**2), mean_term, std_term


def shift_profile(bn) -> ShiftProfile:
    """Shift profile from :class:`advisor.measure._features.BNStats`."""
    layers = []
    denom = max(bn.n_layers - 1, 1)
    for k, name in enumerate(bn.names):
        d, mt, st = channel_w2(bn.mean[k], bn.var[k], bn.ref_mean[k], bn.ref_var[k], bn.eps[k])
        layers.append(LayerShift(name=name, index=int(bn.indices[k]),
                                 depth=round(bn.indices[k] / denom, 4),
                                 shift=float(np.median(d)), mean_term=float(np.median(mt)),
                                 std_term=float(np.median(st))))
    thirds = np.array_split(np.array([l.shift for l in layers]), 3)
    early, middle, late = (float(t.mean()) if t.size else 0.0 for t in thirds)
    overall = float(np.mean([l.shift for l in layers])) if layers else 0.0
    return ShiftProfile(tuple(layers), early, middle, late, overall)
