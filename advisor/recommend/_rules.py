"""The decision rule: dataset size x similarity to ImageNet (x transferability)
-> one of four scenarios, with a freeze boundary, learning-rate ranges,
augmentation advice, a confidence and the numbers behind each reason.

See ``docs/advice-rule.md`` for the rule, its calibration and references.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType

from advisor.backbones import Boundary
from advisor.codec import Record
from advisor.measure._types import Measurements
from advisor.recommend._decision import (DECISION_FEATURES, FITTED_RULE, DecisionRule,
                                         boundary_at_fraction)
from advisor.recommend._freeze import FreezePlan
from advisor.recommend._types import Advice, Augmentation, LRRange, Reason

__all__ = ["LR_RANGES", "Thresholds", "similarity_from_shift", "normalised_gain",
           "recommend"]

# (head, backbone) learning-rate ranges per scenario: fine-tuning 10-100x below the
# head, everything at the head's rate from scratch, no backbone rate when it is frozen
# (docs/advice-rule.md). The pilot's fixed rule is their geometric middles.
LR_RANGES: MappingProxyType[str, tuple[LRRange, LRRange | None]] = MappingProxyType({
    "feature_extractor": (LRRange(1e-3, 1e-2), None),
    "partial_freeze": (LRRange(1e-3, 1e-2), LRRange(1e-5, 3e-4)),
    "full_finetune": (LRRange(1e-3, 1e-2), LRRange(1e-5, 1e-4)),
    "from_scratch": (LRRange(1e-3, 1e-2), LRRange(1e-3, 1e-2)),
})


@dataclass(frozen=True)
class Thresholds(Record):
    """Documented, overridable thresholds of the rule (see docs/advice-rule.md)."""

    large_per_class: float = 1000.0  # median train images per class at which data is "large"
    shift_midpoint: float = 0.24  # overall BN shift at which similarity = 0.5
    shift_steepness: float = 4.0  # similarity = 1 / (1 + (shift / midpoint) ** steepness)
    similar: float = 0.5  # similarity at or above which the data counts as ImageNet-like
    transferable_gain: float = 0.5  # normalised probe gain over pixels for "features transfer"
    size_margin_factor: float = 4.0  # a factor this far from the size threshold = full confidence


def similarity_from_shift(shift: float, t: Thresholds = Thresholds()) -> float:
    """Map the overall BN shift to a 0..1 similarity (1 = ImageNet-like)."""
    return float(1.0 / (1.0 + (max(shift, 0.0) / t.shift_midpoint) ** t.shift_steepness))


def normalised_gain(probe_acc: float, pixel_acc: float) -> float:
    """How much of the headroom above the pixel baseline the ImageNet features take."""
    return float((probe_acc - pixel_acc) / max(1.0 - pixel_acc, 1e-6))


def _augmentation(ipc: float, gray_fraction: float) -> Augmentation:
    if ipc < 100:
        level, rot, zoom = "strong", 0.15, 0.2
    elif ipc < 500:
        level, rot, zoom = "moderate", 0.1, 0.15
    else:
        level, rot, zoom = "light", 0.05, 0.1
    if gray_fraction > 0.5:
        return Augmentation(level, "none", rot, zoom, 0.2,
                            note=f"{gray_fraction:.0%} of images are grayscale content: no flips "
                                 "(medical and document images have a meaningful side); "
                                 "contrast jitter instead")
    return Augmentation(level, "horizontal", rot, zoom, 0.1,
                        note="horizontal flips assume left/right does not change the class")


def recommend(m: Measurements, *, images_per_class: float, boundaries: list[Boundary],
              gray_fraction: float = 0.0, thresholds: Thresholds | None = None,
              rule: DecisionRule | None = None) -> Advice:
    """Turn measurements into an :class:`Advice` (pure function, no I/O).

    Below ``thresholds.large_per_class`` images per class the fitted ``rule`` decides
    (default :data:`FITTED_RULE`); above it, the size x similarity x transfer table
    (no dev dataset is that large: those constants are priors, docs/advice-rule.md)."""
    t = thresholds or Thresholds()
    sim = m.similarity
    gain = normalised_gain(m.probe.accuracy, m.pixel_probe.accuracy)
    large = images_per_class >= t.large_per_class
    similar = sim >= t.similar
    transferable = gain >= t.transferable_gain
    reasons = [
        Reason("size", f"{images_per_class:.0f} training images per class (median) is "
               f"{'at or above' if large else 'below'} the {t.large_per_class:.0f} that counts as large",
               images_per_class, t.large_per_class),
        Reason("similarity", f"similarity to ImageNet {sim:.2f} from a mean BatchNorm shift of "
               f"{m.shift.overall:.3f} (early {m.shift.early:.3f}, middle {m.shift.middle:.3f}, "
               f"late {m.shift.late:.3f}); {'ImageNet-like' if similar else 'far from ImageNet'}",
               sim, t.similar),
        Reason("transfer", f"linear probe on ImageNet features {m.probe.accuracy:.3f} vs. "
               f"{m.pixel_probe.accuracy:.3f} on raw pixels: normalised gain {gain:.2f} "
               f"({'features transfer' if transferable else 'features add little over pixels'})",
               gain, t.transferable_gain),
        Reason("logme", f"LogME of the pooled features {m.logme:.3f} (higher is better)", m.logme, None),
    ]
    slope = m.probe.curve_slope
    reasons.append(Reason(
        "learning_curve", f"probe accuracy {'still rises' if slope > 0.01 else 'has levelled off'}: "
        f"{slope:+.3f} per doubling of the training data", slope, 0.01))

    bound: Boundary | None = None  # the partial-freeze boundary
    size_margin = abs(math.log(max(images_per_class, 1) / t.large_per_class)) / math.log(t.size_margin_factor)
    sim_margin = abs(sim - t.similar) / max(t.similar, 1 - t.similar)
    gain_margin = abs(gain - t.transferable_gain) / max(t.transferable_gain, 1 - t.transferable_gain)
    change: list[str] = []
    need = t.large_per_class
    confidence: float | None = None
    if not large:
        r = rule or FITTED_RULE
        x = r.value(m)
        fe = r.feature_extractor(m)
        op = "<" if r.side > 0 else ">"
        reasons.append(Reason(
            "decision", f"{DECISION_FEATURES[r.feature][1]}: {r.feature} = {x:.3f}; the rule "
            f"fitted leave-one-dataset-out on the ground truth (docs/ground-truth.md) calls the "
            f"feature extractor when {r.feature} {op} {r.threshold:.3g}, else {r.finetune}",
            x, r.threshold))
        if fe:
            scenario, runner_up = "feature_extractor", r.scenario
        else:
            scenario, runner_up = r.scenario, "feature_extractor"
            if scenario == "partial_freeze":
                bound = boundary_at_fraction(boundaries, r.fraction)
                reasons.append(Reason(
                    "freeze_boundary", f"freeze through {bound.name} (block {bound.block} of "
                    f"{bound.n_blocks}): {r.fraction:.0%} of the blocks, the depth the ground "
                    "truth measured", bound.fraction, None))
        other = "above" if (r.side > 0) == fe else "below"
        change.append(f"with {r.feature} {other} {r.threshold:.3g} (now {x:.3f}) this becomes "
                      f"{runner_up}")
        change.append(f"with about {need:.0f} images per class (now {images_per_class:.0f}) the "
                      "large-data rule applies (full_finetune or from_scratch)")
        change.append("tladvise --verify measures the fine-tuning gain on these images instead")
        confidence = r.confidence_fe if fe else r.confidence_finetune
        margins = []
    else:
        if similar or transferable:
            scenario = "full_finetune"
            runner_up = "feature_extractor" if similar else "from_scratch"
            margins = [size_margin, sim_margin if similar else gain_margin]
            change.append(f"with fewer than {need:.0f} images per class (now {images_per_class:.0f}) "
                          f"this becomes {'feature_extractor' if similar else 'partial_freeze'}")
            if not similar:
                change.append(f"with a normalised probe gain below {t.transferable_gain} (now {gain:.2f}) "
                              "this becomes from_scratch")
        else:
            scenario, runner_up = "from_scratch", "full_finetune"
            margins = [size_margin, sim_margin, gain_margin]
            change.append(f"with a normalised probe gain above {t.transferable_gain} (now {gain:.2f}) "
                          "this becomes full_finetune (fine-tune everything)")
            change.append(f"with fewer than {need:.0f} images per class this becomes partial_freeze")
    if slope > 0.01:
        change.append(f"the probe still gains {slope:+.3f} per doubling of data: more images would help")
    if confidence is None:
        confidence = 0.5 + 0.5 * min(1.0, min(margins))
    head, bb_lr = LR_RANGES[scenario]
    return Advice(
        scenario=scenario, backbone=m.backbone, input_size=m.input_size,
        freeze=FreezePlan.for_scenario(scenario, boundaries, partial=bound),
        head_lr=head, backbone_lr=bb_lr,
        augmentation=_augmentation(images_per_class, gray_fraction),
        confidence=round(confidence, 3), reasons=tuple(reasons),
        what_would_change=tuple(change), runner_up=runner_up, similarity=sim,
        images_per_class=float(images_per_class))
