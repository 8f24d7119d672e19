"""The advice report's views of the images: samples per class and the health findings
with their files."""

from __future__ import annotations

import random
from pathlib import Path

from advisor._result import AdviceResult
from advisor.errors import DatasetError
from advisor.health import Finding, HealthReport
from advisor.report._doc import Block, Callout, Gallery, Heading, KeyValues, Section, Table, Text, Tile
from advisor.report._fmt import num
from advisor.report._thumbs import ThumbMaker

__all__ = ["dataset_base", "health_section", "samples_section"]

SAMPLES_PER_CLASS = 6
MAX_CLASSES_SHOWN = 30
MAX_GROUPS_SHOWN = 6  # duplicate / leakage groups per finding
MAX_FILES_SHOWN = 12  # single files per finding
MAX_GROUP_SIZE = 4
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def dataset_base(root: str) -> Path:
    """Folder that dataset-relative paths are relative to (a CSV manifest's folder)."""
    p = Path(root)
    return p.parent if p.suffix.lower() == ".csv" else p


def samples_section(result: AdviceResult, thumbs: ThumbMaker, seed: int) -> Section:
    from advisor.data import scan_layout

    p = result.profile
    try:
        index = scan_layout(p.root)
    except DatasetError as e:
        return Section("samples", "Sample images", (
            Text(f"Sample images are not shown: the dataset cannot be read now ({e.what}).",
                 "warning"),))
    rng = random.Random(seed)
    blocks: list[Block] = []
    for c in p.classes[:MAX_CLASSES_SHOWN]:
        items = [i for i in index.items if i.label == c]
        train = [i for i in items if i.split in ("train", None)]
        pool = sorted(train or items, key=lambda i: i.rel)
        pick = rng.sample(pool, min(SAMPLES_PER_CLASS, len(pool)))
        tiles = []
        for it in sorted(pick, key=lambda i: i.rel):
            t = thumbs(it.path)
            tiles.append(Tile(t.data, Path(it.rel).name, t.problem))
        n = p.counts.get("all", {}).get(c, len(items))
        blocks += [Heading(f"{c} ({num(int(n))} images)"),
                   Gallery((tuple(tiles),)) if tiles else Text("no files", "muted")]
    if len(p.classes) > MAX_CLASSES_SHOWN:
        blocks.append(Text(f"... and {len(p.classes) - MAX_CLASSES_SHOWN} more classes", "muted"))
    return Section("samples", "Sample images", tuple(blocks))


def _finding_gallery(f: Finding, base: Path, thumbs: ThumbMaker) -> Gallery | None:
    def tile(rel: str) -> Tile:
        t = thumbs(base / rel)
        return Tile(t.data, rel, t.problem)

    if f.groups:
        groups = tuple(tuple(tile(r) for r in g[:MAX_GROUP_SIZE])
                       for g in f.groups[:MAX_GROUPS_SHOWN])
        return Gallery(groups, more=max(0, len(f.groups) - MAX_GROUPS_SHOWN))
    if f.files:
        return Gallery(tuple((tile(r),) for r in f.files[:MAX_FILES_SHOWN]),
                       more=max(0, len(f.files) - MAX_FILES_SHOWN))
    return None


def health_section(health: HealthReport, root: str, thumbs: ThumbMaker) -> Section:
    base = dataset_base(root)
    blocks: list[Block] = [KeyValues((("Files", num(health.n_files)),
                                      ("Readable", num(health.n_readable)),
                                      ("Left out of measurement", num(len(health.skipped)))))]
    findings = sorted(health.findings, key=lambda f: _SEVERITY_ORDER.get(f.severity, 3))
    if not findings:
        blocks.append(Text("The health checks found no problems."))
        return Section("health", "Dataset health", tuple(blocks))
    blocks.append(Table(("Check", "Severity", "Count", "Finding"),
                        tuple((f.check, f.severity, num(f.count), f.message) for f in findings),
                        align="llrl"))
    for f in findings:
        inner: list[Block] = [Text(f.message)]
        if f.value is not None:
            inner.append(Text(f"measured {num(f.value)}"
                              + (f", threshold {num(f.threshold)}" if f.threshold is not None else ""),
                              "muted"))
        details = [(str(k), num(v) if isinstance(v, (int, float)) else str(v))
                   for k, v in f.details.items() if isinstance(v, (str, int, float, bool))]
        if details:
            inner.append(KeyValues(tuple(details[:10])))
        gallery = _finding_gallery(f, base, thumbs)
        if gallery is not None:
            inner.append(gallery)
        title = f"{f.check.replace('_', ' ')}: {num(f.count)}"
        blocks.append(Callout(title, f.severity, tuple(inner), badge=f.severity))
    return Section("health", "Dataset health", tuple(blocks))
