"""Result types of the measurements (BN shift, probes, LogME, similarity)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LayerShift", "ShiftProfile", "CurvePoint", "ProbeResult", "Measurements"]


@dataclass(frozen=True)
class LayerShift:
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

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ShiftProfile:
    layers: tuple[LayerShift, ...]
    early: float
    middle: float
    late: float
    overall: float

    def to_dict(self) -> dict:
        return {"early": self.early, "middle": self.middle, "late": self.late,
                "overall": self.overall, "layers": [l.to_dict() for l in self.layers]}

    @classmethod
    def from_dict(cls, d: dict) -> "ShiftProfile":
        return cls(tuple(LayerShift(**l) for l in d["layers"]), d["early"], d["middle"],
                   d["late"], d["overall"])


@dataclass(frozen=True)
class CurvePoint:
    fraction: float
    n_train: int
    accuracy: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ProbeResult:
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
        return {"accuracy": self.accuracy, "std": self.std, "folds": self.folds,
                "majority": self.majority, "curve_slope": self.curve_slope,
                "learning_curve": [p.to_dict() for p in self.learning_curve],
                "folds_requested": self.folds_requested, "n_unconverged": self.n_unconverged,
                "dims": self.dims, "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, d: dict) -> "ProbeResult":
        return cls(d["accuracy"], d["std"], d["folds"], d["majority"],
                   tuple(CurvePoint(**p) for p in d["learning_curve"]),
                   d.get("folds_requested", 0), d.get("n_unconverged", 0), d.get("dims", 0),
                   tuple(d.get("notes", ())))


@dataclass(frozen=True)
class Measurements:
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

    def to_dict(self) -> dict:
        return {"backbone": self.backbone, "input_size": self.input_size,
                "weights": self.weights, "n_images": self.n_images,
                "shift": self.shift.to_dict(), "probe": self.probe.to_dict(),
                "pixel_probe": self.pixel_probe.to_dict(), "logme": self.logme,
                "similarity": self.similarity, "transfer_gain": self.transfer_gain,
                "seconds": self.seconds, "cache_hit": self.cache_hit,
                "projection": [list(p) for p in self.projection],
                "projection_labels": list(self.projection_labels)}

    @classmethod
    def from_dict(cls, d: dict) -> "Measurements":
        return cls(d["backbone"], d["input_size"], d["weights"], d["n_images"],
                   ShiftProfile.from_dict(d["shift"]), ProbeResult.from_dict(d["probe"]),
                   ProbeResult.from_dict(d["pixel_probe"]), d["logme"], d["similarity"],
                   d["transfer_gain"], d["seconds"], d["cache_hit"],
                   tuple(tuple(p) for p in d.get("projection", [])),
                   tuple(d.get("projection_labels", [])))
