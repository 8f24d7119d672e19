"""Find the images of a dataset and their labels.

Three layouts are understood:

* ``root/<class>/<image>`` (``flat``)
* ``root/<split>/<class>/<image>`` with any subset of ``train``, ``val``, ``test``
  (``splits``; ``valid`` and ``validation`` are read as ``val``)
* a CSV manifest with columns ``path,label`` (and optionally ``split``), paths
  relative to the CSV file (``csv``)
"""

from __future__ import annotations

import csv
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from advisor.errors import DatasetError

__all__ = [
    "IMAGE_EXTENSIONS",
    "SPLIT_ALIASES",
    "ImageItem",
    "SkippedPath",
    "DatasetIndex",
    "scan_layout",
    "subsample",
]

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp",
     ".ppm", ".pgm", ".pbm", ".pnm"}
)
SPLIT_ALIASES = {"train": "train", "training": "train", "val": "val", "valid": "val",
                 "validation": "val", "test": "test", "testing": "test"}


@dataclass(frozen=True)
class ImageItem:
    """One candidate image file with its label and split (``None`` when unsplit)."""

    path: Path
    rel: str
    label: str
    split: str | None

    def to_dict(self) -> dict:
        return {"path": self.rel, "label": self.label, "split": self.split}


@dataclass(frozen=True)
class SkippedPath:
    """A path that is not used, with the reason (reported, never silently dropped)."""

    rel: str
    reason: str

    def to_dict(self) -> dict:
        return {"path": self.rel, "reason": self.reason}


@dataclass(frozen=True)
class DatasetIndex:
    """The files of a dataset as found on disk, before any file is opened."""

    root: Path
    layout: str
    items: tuple[ImageItem, ...]
    classes: tuple[str, ...]
    splits: tuple[str, ...]
    skipped: tuple[SkippedPath, ...] = ()
    empty_classes: tuple[str, ...] = ()
    manifest: Path | None = None
    notes: tuple[str, ...] = field(default=())

    def counts(self, split: str | None = "*") -> dict[str, int]:
        """Images per class, for one split (``"*"``: all splits)."""
        c = Counter(i.label for i in self.items if split == "*" or i.split == split)
        return {k: c.get(k, 0) for k in self.classes}

    def to_dict(self) -> dict:
        return {
            "root": str(self.root),
            "layout": self.layout,
            "classes": list(self.classes),
            "splits": list(self.splits),
            "n_files": len(self.items),
            "skipped": [s.to_dict() for s in self.skipped],
            "empty_classes": list(self.empty_classes),
            "notes": list(self.notes),
        }


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _class_files(class_dir: Path, root: Path, skipped: list[SkippedPath]) -> list[Path]:
    files: list[Path] = []
    for p in sorted(class_dir.rglob("*")):
        if any(part.startswith(".") for part in p.relative_to(class_dir).parts):
            if p.is_file():
                skipped.append(SkippedPath(_rel(p, root), "hidden file"))
            continue
        if p.is_file():
            files.append(p)
        elif p.is_symlink() and not p.exists():
            skipped.append(SkippedPath(_rel(p, root), "broken symbolic link"))
    return files


def _scan_class_dirs(base: Path, root: Path, split: str | None, skipped: list[SkippedPath],
                     empty: list[str]) -> list[ImageItem]:
    items: list[ImageItem] = []
    for entry in sorted(base.iterdir()):
        if entry.name.startswith("."):
            if entry.is_file():
                skipped.append(SkippedPath(_rel(entry, root), "hidden file"))
            continue
        if entry.is_file():
            skipped.append(SkippedPath(_rel(entry, root), "file outside any class folder"))
            continue
        files = _class_files(entry, root, skipped)
        if not files:
            empty.append(entry.name if split is None else f"{split}/{entry.name}")
            continue
        items += [ImageItem(f, _rel(f, root), entry.name, split) for f in files]
    return items


def _scan_csv(manifest: Path) -> DatasetIndex:
    root = manifest.parent.resolve()
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"Cannot read the manifest {manifest}", expected="a UTF-8 CSV file",
                           received=str(e), fix="check the file's permissions and encoding") from e
    reader = csv.DictReader(text.splitlines())
    cols = [c.strip().lower() for c in (reader.fieldnames or [])]
    if "path" not in cols or "label" not in cols:
        raise DatasetError(
            f"The manifest {manifest} has no 'path' and 'label' columns",
            expected="a header line 'path,label' (optionally ',split')",
            received=f"columns {cols or 'none'}",
            fix="add the header line and one row per image")
    items: list[ImageItem] = []
    skipped: list[SkippedPath] = []
    for n, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        rel, label = row.get("path", ""), row.get("label", "")
        if not rel or not label:
            skipped.append(SkippedPath(f"{manifest.name}:{n}", "row without path or label"))
            continue
        split = None
        if row.get("split"):
            split = SPLIT_ALIASES.get(row["split"].lower())
            if split is None:  # an unknown split must not silently become training data
                skipped.append(SkippedPath(
                    rel, f"line {n}: unknown split {row['split']!r} "
                         f"(expected one of {', '.join(sorted(SPLIT_ALIASES))})"))
                continue
        p = (root / rel) if not Path(rel).is_absolute() else Path(rel)
        if not p.is_file():
            skipped.append(SkippedPath(rel, f"listed in {manifest.name} line {n} but not found"))
            continue
        items.append(ImageItem(p, _rel(p, root), label, split))
    return _finish(root, "csv", items, skipped, [], manifest)


def _finish(root: Path, layout: str, items: list[ImageItem], skipped: list[SkippedPath],
            empty: list[str], manifest: Path | None = None) -> DatasetIndex:
    if not items:
        raise DatasetError(
            f"No image files found in {root}",
            expected="class folders with images: root/<class>/<image> or root/train/<class>/<image>",
            received=f"{len(skipped)} skipped paths, {len(empty)} empty class folders",
            fix="point to the folder that holds one subfolder per class")
    classes = tuple(sorted({i.label for i in items}))
    if len(classes) < 2:
        raise DatasetError(
            "Classification needs at least two classes",
            expected="two or more class folders with images",
            received=f"one class ({classes[0]!r}) with {len(items)} files",
            fix="add a folder per class, or point to the parent folder")
    splits = tuple(s for s in ("train", "val", "test") if any(i.split == s for i in items))
    notes = []
    if splits and "train" not in splits:
        notes.append("no train split: every split is treated as training data for measurement")
    empty_classes = tuple(e for e in empty)
    return DatasetIndex(root=root, layout=layout, items=tuple(items), classes=classes,
                        splits=splits, skipped=tuple(skipped), empty_classes=empty_classes,
                        manifest=manifest, notes=tuple(notes))


def scan_layout(path: str | Path) -> DatasetIndex:
    """Find every candidate image file under ``path`` and its label.

    Raises :class:`DatasetError` for a missing path, an empty dataset, a single class
    or an unreadable manifest. Files are not opened here.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise DatasetError(f"The dataset path {str(p)!r} does not exist",
                           expected="a folder of class folders, or a CSV manifest",
                           received="a path that is not there",
                           fix="check the spelling, or pass the folder's absolute path")
    if p.is_file():
        if p.suffix.lower() == ".csv":
            return _scan_csv(p)
        raise DatasetError(f"{str(p)!r} is a file, not a dataset",
                           expected="a folder of class folders, or a .csv manifest",
                           received=f"a {p.suffix or 'extensionless'} file",
                           fix="pass the folder that contains one subfolder per class")
    root = p.resolve()
    try:
        subdirs = [d for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")]
    except PermissionError as e:
        raise DatasetError(f"Cannot list {root}", expected="a readable folder",
                           received=str(e), fix="check the folder's permissions") from e
    skipped: list[SkippedPath] = []
    empty: list[str] = []
    split_dirs = [d for d in subdirs if d.name.lower() in SPLIT_ALIASES]
    if split_dirs:
        others = [d.name for d in subdirs if d.name.lower() not in SPLIT_ALIASES]
        if others:
            raise DatasetError(
                f"{root} mixes split folders and other folders",
                expected="either only split folders (train/val/test) or only class folders",
                received=f"splits {[d.name for d in split_dirs]} and also {others[:5]}",
                fix="move the class folders into train/, or rename the split folders")
        seen: dict[str, Path] = {}
        for d in split_dirs:
            split = SPLIT_ALIASES[d.name.lower()]
            if split in seen:
                raise DatasetError(f"Two folders name the same split {split!r}",
                                   expected="one folder per split",
                                   received=f"{seen[split].name!r} and {d.name!r}",
                                   fix="merge or rename one of them")
            seen[split] = d
        items: list[ImageItem] = []
        for split in ("train", "val", "test"):
            if split in seen:
                items += _scan_class_dirs(seen[split], root, split, skipped, empty)
        return _finish(root, "splits", items, skipped, empty)
    items = _scan_class_dirs(root, root, None, skipped, empty)
    return _finish(root, "flat", items, skipped, empty)


def subsample(index: DatasetIndex, max_images: int | None, seed: int = 0) -> DatasetIndex:
    """Stratified subsample of at most ``max_images`` items (per split and class)."""
    if max_images is None or max_images >= len(index.items):
        return index
    if max_images < 2 * len(index.classes):
        raise DatasetError("--max-images is too small for a stratified sample",
                           expected=f"at least 2 images per class ({2 * len(index.classes)})",
                           received=str(max_images), fix="raise --max-images or leave it out")
    groups: dict[tuple, list[ImageItem]] = defaultdict(list)
    for it in index.items:
        groups[(it.split or "", it.label)].append(it)
    rng = random.Random(seed)
    frac = max_images / len(index.items)
    keep: list[ImageItem] = []
    for key in sorted(groups):
        g = groups[key]
        n = max(1, round(len(g) * frac))
        keep += rng.sample(g, min(n, len(g)))
    keep.sort(key=lambda i: i.rel)
    note = f"stratified subsample of {len(keep)} of {len(index.items)} files (seed {seed})"
    return DatasetIndex(root=index.root, layout=index.layout, items=tuple(keep),
                        classes=index.classes, splits=index.splits, skipped=index.skipped,
                        empty_classes=index.empty_classes, manifest=index.manifest,
                        notes=index.notes + (note,))
