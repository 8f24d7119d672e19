"""Dataset health checks: one class per kind of issue, run by :func:`find_issues` on the
records of the one decoding pass (no file is opened again)."""

from advisor.health._balance import ClassImbalance, MissingClasses, SmallClasses
from advisor.health._base import HealthCheck
from advisor.health._content import (Grayscale, ImageSizes, OddOneOut, SmallImages,
                                     TinyImages, WrongExtension)
from advisor.health._data import HealthData
from advisor.health._duplicates import ConflictingLabels, ExactDuplicates, Leakage, NearDuplicates
from advisor.health._files import BadFiles, EmptyClassFolders, SkippedPaths
from advisor.health._splits import ClassShift, SplitShift, split_shift_aucs
from advisor.health._find import DEFAULT_CHECKS, find_issues
from advisor.health._thresholds import HealthThresholds
from advisor.health._types import SEVERITIES, Finding, HealthReport

__all__ = [
    "DEFAULT_CHECKS",
    "SEVERITIES",
    "BadFiles",
    "ClassShift",
    "ClassImbalance",
    "ConflictingLabels",
    "EmptyClassFolders",
    "ExactDuplicates",
    "Finding",
    "Grayscale",
    "HealthCheck",
    "HealthData",
    "HealthReport",
    "HealthThresholds",
    "ImageSizes",
    "Leakage",
    "MissingClasses",
    "NearDuplicates",
    "OddOneOut",
    "SkippedPaths",
    "SmallClasses",
    "SmallImages",
    "SplitShift",
    "TinyImages",
    "WrongExtension",
    "find_issues",
    "split_shift_aucs",
]
