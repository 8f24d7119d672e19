"""Checks on files that cannot be used: undecodable files, paths the layout left out,
empty class folders."""

from __future__ import annotations

from collections import defaultdict

from advisor.health._base import HealthCheck
from advisor.health._data import HealthData, listing
from advisor.health._types import Finding

__all__ = ["BadFiles", "SkippedPaths", "EmptyClassFolders"]

# error_kind of a ScannedFile -> (check name, words for the message)
_KINDS = {
    "empty": ("empty_file", "empty (0-byte) files"),
    "not_image": ("not_image", "files that are not images"),
    "truncated": ("truncated", "truncated images"),
    "unreadable": ("unreadable", "unreadable images"),
    "bomb": ("decompression_bomb", "possible decompression bombs (too many pixels)"),
}


class BadFiles(HealthCheck):
    """Files the decoding pass could not use, one finding per reason. They are reported
    and skipped (listed in ``HealthReport.skipped``); severity ``error``."""

    produces = tuple(name for name, _ in _KINDS.values())

    def find_issues(self, data: HealthData) -> list[Finding]:
        t = self._t()
        by_kind: dict[str, list] = defaultdict(list)
        for f in data.files:
            if not f.ok:
                by_kind[f.error_kind or "unreadable"].append(f)
        out = []
        for kind in sorted(by_kind, key=lambda k: list(_KINDS).index(k) if k in _KINDS else 99):
            bad = by_kind[kind]
            check, words = _KINDS.get(kind, (kind, f"files that failed with {kind!r}"))
            rels = [f.item.rel for f in bad]
            first = bad[0]
            out.append(Finding(
                check=check, severity="error",
                message=(f"{len(bad)} {words} are skipped: {listing(rels, t.max_listed)} "
                         f"(first reason: {first.error}). Remove or replace them."),
                files=tuple(rels), value=float(len(bad)),
                details={"reasons": {f.item.rel: f.error for f in bad}}))
        return out


def _reason_group(reason: str) -> tuple[str, str]:
    """Collapse per-line manifest reasons into one group; -> (group, severity)."""
    if reason.startswith("listed in") and reason.endswith("not found"):
        return "listed in the manifest but not found", "warning"
    if "unknown split" in reason:
        return "unknown split in the manifest", "warning"
    if reason in ("hidden file", "file outside any class folder"):
        return reason, "info"
    return reason, "warning"


class SkippedPaths(HealthCheck):
    """Paths the layout scan left out (``DatasetIndex.skipped``), one finding per reason:
    hidden files and files outside class folders are ``info``; manifest rows that point
    nowhere, rows without a label and broken links are ``warning``."""

    produces = ("skipped_paths",)

    def find_issues(self, data: HealthData) -> list[Finding]:
        t = self._t()
        groups: dict[tuple[str, str], list] = defaultdict(list)
        for s in data.index.skipped:
            groups[_reason_group(s.reason)].append(s)
        out = []
        for (reason, severity), paths in groups.items():
            rels = [p.rel for p in paths]
            out.append(Finding(
                check="skipped_paths", severity=severity,
                message=(f"{len(paths)} paths not used ({reason}): "
                         f"{listing(rels, t.max_listed)}."),
                files=tuple(rels), value=float(len(paths)),
                details={"reason": reason, "reasons": {p.rel: p.reason for p in paths}}))
        return out


class EmptyClassFolders(HealthCheck):
    """Class folders without any file (``DatasetIndex.empty_classes``): a class the
    model will never see there. Severity ``warning``."""

    produces = ("empty_class_folder",)

    def find_issues(self, data: HealthData) -> list[Finding]:
        empty = data.index.empty_classes
        if not empty:
            return []
        return [Finding(
            check="empty_class_folder", severity="warning",
            message=(f"{len(empty)} class folders have no files: "
                     f"{listing(list(empty), self._t().max_listed)}. "
                     "Add images or remove the folders."),
            files=tuple(empty), value=float(len(empty)))]
