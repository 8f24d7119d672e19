"""Duplicate checks: exact copies (same MD5) and near copies (close perceptual hashes),
within a split, across splits (leakage), and under different labels."""

from __future__ import annotations

from collections import defaultdict

from advisor.data import ScannedFile
from advisor.health._base import HealthCheck
from advisor.health._data import HealthData, split_key
from advisor.health._types import Finding

__all__ = ["ExactDuplicates", "Leakage", "ConflictingLabels", "NearDuplicates"]

_SPLIT_ORDER = {"train": 0, "val": 1, "test": 2}


def _ordered(group: tuple[ScannedFile, ...] | list[ScannedFile]) -> tuple[str, ...]:
    """Paths of a group, train first, then by path."""
    return tuple(f.item.rel for f in sorted(
        group, key=lambda f: (_SPLIT_ORDER.get(f.item.split or "", 9), f.item.rel)))


def _show(groups: list[tuple[str, ...]], n: int) -> str:
    shown = "; ".join(" = ".join(repr(p) for p in g) for g in groups[:n])
    return shown + (f"; and {len(groups) - n} more" if len(groups) > n else "")


class ExactDuplicates(HealthCheck):
    """Files with identical bytes (same MD5) inside one split: they weigh double in
    training or in the score. Severity ``info``; the value is the number of groups."""

    produces = ("exact_duplicates",)

    def find_issues(self, data: HealthData) -> list[Finding]:
        groups: list[tuple[str, ...]] = []
        per_split: dict[str, int] = defaultdict(int)
        for g in data.md5_groups:
            by_split: dict[str, list[ScannedFile]] = defaultdict(list)
            for f in g:
                by_split[split_key(f)].append(f)
            for s, members in by_split.items():
                if len(members) > 1:
                    groups.append(_ordered(members))
                    per_split[s] += 1
        if not groups:
            return []
        groups.sort()
        n_files = sum(len(g) for g in groups)
        where = ", ".join(f"{n} in {s}" for s, n in sorted(per_split.items()))
        return [Finding(
            check="exact_duplicates", severity="info",
            message=(f"{len(groups)} groups of exact duplicates within a split ({where}; "
                     f"{n_files} files, {n_files - len(groups)} redundant): "
                     f"{_show(groups, self._t().max_listed)}. Keep one file of each group."),
            groups=tuple(groups), value=float(len(groups)),
            details={"per_split": dict(per_split), "n_redundant": n_files - len(groups)})]


class Leakage(HealthCheck):
    """The same bytes in two splits: the validation/test score is measured partly on
    training images. Severity ``warning``; the value is the number of groups."""

    produces = ("leakage",)

    def find_issues(self, data: HealthData) -> list[Finding]:
        groups = sorted(_ordered(g) for g in data.md5_groups
                        if len({split_key(f) for f in g}) > 1)
        if not groups:
            return []
        lookup = {f.item.rel: f for g in data.md5_groups for f in g}
        n_eval = sum(1 for g in groups for p in g if lookup[p].item.split not in ("train", None))
        return [Finding(
            check="leakage", severity="warning",
            message=(f"{len(groups)} images are exact copies across splits (leakage; "
                     f"{n_eval} evaluation files are also training files): "
                     f"{_show(groups, self._t().max_listed)}. The held-out score is "
                     "optimistic; remove the copies from val/test."),
            groups=tuple(groups), value=float(len(groups)),
            details={"n_eval_files": n_eval})]


class ConflictingLabels(HealthCheck):
    """The same bytes under two or more labels: at most one label can be right.
    Severity ``warning``; the value is the number of groups."""

    produces = ("conflicting_labels",)

    def find_issues(self, data: HealthData) -> list[Finding]:
        conflicts = []
        for g in data.md5_groups:
            labels = sorted({f.item.label for f in g})
            if len(labels) > 1:
                conflicts.append((_ordered(g), labels))
        if not conflicts:
            return []
        conflicts.sort()
        groups = [c[0] for c in conflicts]
        return [Finding(
            check="conflicting_labels", severity="warning",
            message=(f"{len(groups)} images appear under more than one label: "
                     f"{_show(groups, self._t().max_listed)}. Decide on one label and "
                     "delete the other copies."),
            groups=tuple(groups), value=float(len(groups)),
            details={"labels": [c[1] for c in conflicts]})]


class NearDuplicates(HealthCheck):
    """Different files whose perceptual hashes differ in at most
    ``near_duplicate_distance`` of 64 bits (resized, re-encoded, recoloured copies).
    Pairs inside a split are ``near_duplicates``, pairs across splits ``near_leakage``;
    both ``info``: a phash match is a candidate to look at, not a proof (on uniform
    domains such as chest X-rays different images can be 4 bits apart)."""

    produces = ("near_duplicates", "near_leakage")

    def find_issues(self, data: HealthData) -> list[Finding]:
        t = self._t()
        k = t.near_duplicate_distance
        within, across = [], []
        for p in data.near_pairs(k):
            (across if split_key(p.a) != split_key(p.b) else within).append(p)
        out = []
        for name, pairs, what, todo in (
                ("near_duplicates", within, "near-duplicate pairs within a split",
                 "look at them and keep one of each pair"),
                ("near_leakage", across, "near-duplicate pairs across splits (possible leakage)",
                 "look at them; if they are the same scene, keep both in one split")):
            if not pairs:
                continue
            groups = [_ordered([p.a, p.b]) for p in pairs]
            n_diff = sum(1 for p in pairs if p.a.item.label != p.b.item.label)
            out.append(Finding(
                check=name, severity="info",
                message=(f"{len(pairs)} {what} (phash distance <= {k} of 64 bits"
                         f"{f', {n_diff} with different labels' if n_diff else ''}): "
                         f"{_show(groups, t.max_listed)}. {todo[0].upper()}{todo[1:]}."),
                groups=tuple(groups), value=float(len(pairs)), threshold=float(k),
                details={"distances": [p.distance for p in pairs],
                         "different_labels": n_diff}))
        return out
