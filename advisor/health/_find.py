"""``find_issues``: run every health check on one scan and collect a report."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from advisor.data import DatasetIndex, ScannedFile
from advisor.errors import InternalError
from advisor.health._balance import ClassImbalance, MissingClasses, SmallClasses
from advisor.health._base import HealthCheck
from advisor.health._content import (Grayscale, ImageSizes, OddOneOut, SmallImages,
                                     TinyImages, WrongExtension)
from advisor.health._data import HealthData
from advisor.health._duplicates import ConflictingLabels, ExactDuplicates, Leakage, NearDuplicates
from advisor.health._files import BadFiles, EmptyClassFolders, SkippedPaths
from advisor.health._splits import SplitShift
from advisor.health._thresholds import HealthThresholds
from advisor.health._types import SEVERITIES, Finding, HealthReport

__all__ = ["DEFAULT_CHECKS", "find_issues"]

DEFAULT_CHECKS: tuple[type[HealthCheck], ...] = (
    BadFiles, SkippedPaths, EmptyClassFolders,
    Leakage, SplitShift, ConflictingLabels, ExactDuplicates, NearDuplicates,
    ClassImbalance, SmallClasses, MissingClasses,
    TinyImages, SmallImages, ImageSizes, Grayscale, OddOneOut, WrongExtension,
)


def _validate(index: DatasetIndex, files: Sequence[ScannedFile]) -> None:
    known = {i.rel for i in index.items}
    for f in files:
        if not isinstance(f, ScannedFile):
            raise InternalError("find_issues got something that is not a scanned file",
                                expected="ScannedFile records from advisor.data.scan_files",
                                received=type(f).__name__)
        if f.item.rel not in known:
            raise InternalError("find_issues got a file that is not in the dataset index",
                                expected="files scanned from the same DatasetIndex",
                                received=repr(f.item.rel),
                                fix="scan the index you pass (after any subsampling)")


def find_issues(index: DatasetIndex, files: Sequence[ScannedFile],
                thresholds: HealthThresholds | None = None, *,
                checks: Sequence[type[HealthCheck]] | None = None,
                features: np.ndarray | None = None) -> HealthReport:
    """Run the health checks on the results of one decoding pass; never opens a file.

    ``files`` are the :class:`ScannedFile` records of ``index`` (all or a subsample).
    Findings are ordered error, warning, info. Files that could not be decoded are
    listed in ``HealthReport.skipped``. ``features``: the measuring pass's pooled
    features, one row per readable file, for the checks that need them (split shift).
    """
    t = (thresholds if thresholds is not None else HealthThresholds()).validate()
    _validate(index, files)
    data = HealthData(index, files, features)
    findings: list[Finding] = []
    for check in (checks if checks is not None else DEFAULT_CHECKS):
        findings += check(t).find_issues(data)
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: rank[f.severity])
    return HealthReport(findings=tuple(findings), n_files=len(data.files),
                        n_readable=len(data.readable),
                        skipped=tuple(f.item.rel for f in data.files if not f.ok))
