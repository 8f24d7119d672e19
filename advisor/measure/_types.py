"""Result types of the measurements (BN shift, probes, LogME, similarity)."""

from __future__ import annotations

from dataclasses import dataclass

from advisor.codec import Record, to_dict

__all__ = ["LayerShift", "ShiftProfile", "CurvePoint", "ProbeResult", "DepthProbe",
           "Measurements"]


@dataclass(frozen=True)
class LayerShift(Record):
    """Shift of the dataset's BN-input statistics from ImageNet's at one BN layer.

    ``shift`` is the median over channels of the Gaussian Wasserstein-2 distance
    divided by ImageNet's standard deviation; ``depth`` is the layer's relative
    position in the network (0 = input, 1 = output).
    """

    name: str
    index: int
    depth: float
    shift: float
    mean_term: float  # median |mean difference| / sigma
    std_term: float  # median |std ratio - 1|



@dataclass(frozen=True)
class ShiftProfile(Record):
    layers: tuple[LayerShift, ...]
    early: float
    middle: float
    late: float
    overall: float



@dataclass(frozen=True)
class CurvePoint(Record):
    fraction: float
    n_train: int
    accuracy: float



@dataclass(frozen=True)
class ProbeResult(Record):
    """Cross-validated logistic-regression probe on pooled features."""

    accuracy: float
    std: float
    folds: int
    majority: float  # accuracy of always predicting the largest class
    learning_curve: tuple[CurvePoint, ...]
    folds_requested: int = 0  # > folds when the smallest class forced fewer folds
    n_unconverged: int = 0  # logistic-regression fits that hit max_iter
    dims: int = 0  # feature dimensions the classifier saw (after any PCA)
    notes: tuple[str, ...] = ()  # fewer folds, PCA, non-convergence: said, never silent

    @property
    def curve_slope(self) -> float:
        """Accuracy gained per doubling of data over the last step of the curve."""
        import math

        if len(self.learning_curve) < 2:
            return 0.0
        a, b = self.learning_curve[-2], self.learning_curve[-1]
        return (b.accuracy - a.accuracy) / max(math.log2(b.n_train / max(a.n_train, 1)), 1e-9)

    def to_dict(self) -> dict:
        """The fields, plus the derived ``curve_slope``."""
        return {**to_dict(self), "curve_slope": self.curve_slope}


@dataclass(frozen=True)
class DepthProbe(Record):
    """The linear probe on the activations at one block end, globally average-pooled
    (Head2Toe, Evci et al. 2022; surgical fine-tuning, Lee et al. 2023): how much of
    the class information the first ``block`` blocks already make linearly readable.

    ``block`` / ``n_blocks`` / ``fraction`` / ``layer`` / ``index`` are those of the
    freeze boundary (:class:`advisor.backbones.Boundary`); ``depth`` is the layer's
    relative position in the network, on the same scale as :attr:`LayerShift.depth`.
    The last depth probe (``block == n_blocks``) is the main probe on the pooled
    features.
    """

    block: int
    n_blocks: int
    fraction: float
    layer: str
    index: int
    depth: float
    accuracy: float
    std: float
    dims: int  # channels at that block end (the probe's feature dimensions)
    notes: tuple[str, ...] = ()  # the probe's notes (fewer folds, non-convergence)


@dataclass(frozen=True)
class Measurements(Record):
    """Everything measured for one backbone on one dataset."""

    backbone: str
    input_size: int
    weights: str
    n_images: int
    shift: ShiftProfile
    probe: ProbeResult  # on the backbone's pooled features
    pixel_probe: ProbeResult  # same probe on tiny raw-pixel thumbnails (no ImageNet knowledge)
    logme: float
    similarity: float  # 0..1, see docs/advice-rule.md
    transfer_gain: float  # probe.accuracy - pixel_probe.accuracy
    seconds: float
    cache_hit: bool
    projection: tuple[tuple[float, float], ...] = ()  # 2-D PCA of features (for reports)
    projection_labels: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # e.g. probes and LogME on a sample of a large dataset
    # the probe at a few block ends, shallow first, the last one on the pooled features;
    # empty in results written before the depth probes existed
    depth_probes: tuple[DepthProbe, ...] = ()

    def depth_probe_at(self, block: int) -> DepthProbe | None:
        """The depth probe at block end ``block``, else the nearest measured one (ties:
        the shallower); ``None`` when there are none."""
        if not self.depth_probes:
            return None
        return min(self.depth_probes, key=lambda d: (abs(d.block - block), d.block))
