"""The Test results section of the sweep report: the final model's metrics on the
test split, its confusion matrix, per-class scores, misclassified images and the
exported files."""

from __future__ import annotations

from pathlib import Path

from advisor.report import (Block, Figure, Gallery, Heading, KeyValues, Section, Table, Text,
                            ThumbMaker, Tile, num, plots)
from tuner.final import FinalResult
from tuner.report._sweep_parts import final_metrics

__all__ = ["MAX_MISCLASSIFIED", "final_section"]

MAX_MISCLASSIFIED = 24


def _facts(final: FinalResult) -> list[tuple[str, str]]:
    facts = final_metrics(final)
    if final.test_source:
        facts.append(("Test images from", str(final.test_source)))
    if final.backbone:
        facts.append(("Model", f"{final.backbone} ({final.weights}), "
                               f"{final.input_size} px input"))
    if final.val_accuracy is not None:
        facts.append(("Validation accuracy (final training)", num(final.val_accuracy)))
    if final.epochs_run is not None:
        facts.append(("Epochs (final training)", num(final.epochs_run)))
    if final.train_protocol:
        facts.append(("Protocol", str(final.train_protocol)))
    return facts


def _misclassified_gallery(final: FinalResult, base: Path | None,
                           thumbs: ThumbMaker) -> Gallery | None:
    items = final.misclassified
    if not items:
        return None
    tiles = []
    for m in items[:MAX_MISCLASSIFIED]:
        p = Path(m.path)
        if not p.is_absolute() and base is not None:
            p = base / m.path
        t = thumbs(p)
        pred = f"predicted {m.pred}" + (f" ({num(m.confidence, 2)})"
                                        if m.confidence is not None else "")
        tiles.append((Tile(t.data, f"true {m.true}: {Path(m.path).name}", t.problem,
                           emphasis=pred),))
    return Gallery(tuple(tiles), more=max(0, len(items) - MAX_MISCLASSIFIED))


def final_section(final: FinalResult, dataset_root: str | None, thumbs: ThumbMaker) -> Section:
    """The final model on the test split; misclassified paths are relative to
    ``dataset_root``."""
    blocks: list[Block] = [KeyValues(tuple(_facts(final)))]
    blocks += [Text(str(n), "muted") for n in final.notes]
    if final.confusion and final.classes:
        blocks.append(Figure(plots.confusion_matrix(final.confusion, final.classes), "confusion",
                             "Confusion matrix on the test set (rows: true class, "
                             "colour: share of the true class)"))
    rows = tuple((c.label, num(c.precision), num(c.recall), num(c.f1), num(c.support))
                 for c in final.per_class)
    if rows:
        blocks += [Heading("Per class"),
                   Table(("Class", "Precision", "Recall", "F1", "Support"), rows, "lrrrr")]
    gallery = _misclassified_gallery(final, Path(dataset_root) if dataset_root else None, thumbs)
    if gallery is not None:
        blocks += [Heading("Misclassified test images"), gallery]
    else:
        blocks.append(Text("No test image was misclassified.", "muted"))
    exports = dict(final.exports)
    if final.labels_path:
        exports["labels"] = final.labels_path
    if exports:
        blocks += [Heading("Exported files"),
                   Table(("Format", "Path"), tuple((k, str(v)) for k, v in exports.items()), "ll")]
    return Section("test", "Test results", tuple(blocks))
