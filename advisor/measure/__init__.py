"""Measurements on extracted features: transferability (LogME), linear probes, projections."""

from advisor.measure._cache import FeatureCache, content_fingerprint, default_cache_dir
from advisor.measure._features import (DEPTH_FRACTIONS, BNStats, FeaturePass, depth_boundaries,
                                       extract_features)
from advisor.measure._logme import logme
from advisor.measure._measure import measure
from advisor.measure._pixels import pixel_features
from advisor.measure._probe import domain_auc, probe, probe_folds
from advisor.measure._project import project_2d
from advisor.measure._sample import MAX_PROBE_IMAGES, RowSample, stratified_rows
from advisor.measure._shift import channel_w2, shift_profile
from advisor.measure._types import (CurvePoint, DepthProbe, LayerShift, Measurements, ProbeResult,
                                    ShiftProfile)

__all__ = [
    "BNStats", "CurvePoint", "DEPTH_FRACTIONS", "DepthProbe", "FeatureCache", "FeaturePass",
    "LayerShift", "MAX_PROBE_IMAGES", "Measurements", "ProbeResult", "RowSample", "ShiftProfile",
    "channel_w2", "content_fingerprint", "default_cache_dir", "depth_boundaries", "domain_auc",
    "extract_features", "logme", "measure", "pixel_features", "probe", "probe_folds",
    "project_2d", "shift_profile", "stratified_rows",
]
