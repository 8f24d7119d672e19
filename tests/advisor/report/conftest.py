"""Result objects for the report tests, built over a tiny real dataset on disk.

The numbers are realistic (the shapes ``advisor.advise`` and ``tltune`` produce);
the tests assert on what the renderers do with them, not on the numbers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from advisor import PairedDifference, PilotRun, VerifyResult
from advisor._result import AdviceResult, DatasetProfile
from advisor.data import scan_files, scan_layout
from advisor.health._types import Finding, HealthReport
from advisor.measure._types import CurvePoint, LayerShift, Measurements, ProbeResult, ShiftProfile
from advisor.recommend import Advice, Augmentation, FreezePlan, LRRange, Reason
from tests.conftest import write_image_folder

HOSTILE = "<img src=x onerror=alert(1)>"


def make_dataset(root: Path) -> Path:
    """train/val splits, a hostile class name, a leaked file, a duplicate and a broken file."""
    classes = {"ants": 9, HOSTILE: 8, "bees": 7}
    write_image_folder(root, classes, size=48, seed=1, split="train")
    write_image_folder(root, {k: 3 for k in classes}, size=48, seed=2, split="val")
    shutil.copy(root / "train" / "bees" / "img_000.png", root / "val" / "bees" / "leak.png")
    shutil.copy(root / "train" / "ants" / "img_001.png", root / "train" / "ants" / "copy.png")
    (root / "train" / "ants" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return root


def _profile(root: Path) -> tuple[DatasetProfile, list]:
    index = scan_layout(root)
    files = scan_files(index)
    ok = [f for f in files if f.ok]
    counts = {"all": {c: sum(f.item.label == c for f in ok) for c in index.classes}}
    for s in index.splits:
        counts[s] = {c: sum(f.item.label == c and f.item.split == s for f in ok)
                     for c in index.classes}
    per_class = list(counts["train"].values())
    profile = DatasetProfile(
        root=str(index.root), layout=index.layout, classes=index.classes, splits=index.splits,
        counts=counts, n_files=len(files), n_readable=len(ok),
        sizes={"min": [48, 48], "median": [48, 48], "max": [48, 48]}, modes={"RGB": len(ok)},
        formats={"PNG": len(ok)}, images_per_class_min=min(per_class),
        images_per_class_median=float(np.median(per_class)), notes=index.notes)
    return profile, files


def _measurements(backbone: str, labels: list[str], seed: int, acc: float) -> Measurements:
    rng = np.random.default_rng(seed)
    n_bn = 52
    layers = tuple(LayerShift(f"block_{i}_bn", index=3 * i + 2, depth=(i + 1) / (n_bn + 1),
                              shift=float(0.15 + 0.9 * (i / n_bn) ** 1.5 + rng.normal(0, 0.03)),
                              mean_term=0.2, std_term=0.1) for i in range(n_bn))
    curve = tuple(CurvePoint(f, int(60 * f), acc - 0.25 * (1 - f)) for f in (0.125, 0.25, 0.5, 1.0))
    pix = tuple(CurvePoint(f, int(60 * f), 0.45 + 0.1 * f) for f in (0.125, 0.25, 0.5, 1.0))
    centers = {c: rng.normal(0, 3, 2) for c in sorted(set(labels))}
    proj = tuple(tuple(float(v) for v in centers[c] + rng.normal(0, 1, 2)) for c in labels)
    return Measurements(
        backbone=backbone, input_size=224, weights="imagenet", n_images=len(labels),
        shift=ShiftProfile(layers, early=0.21, middle=0.48, late=0.92, overall=0.55),
        probe=ProbeResult(acc, 0.04, 5, 0.38, curve),
        pixel_probe=ProbeResult(0.55, 0.06, 5, 0.38, pix), logme=-0.412, similarity=0.64,
        transfer_gain=acc - 0.55, seconds=41.3, cache_hit=False, projection=proj,
        projection_labels=tuple(labels))


def make_advice_result(root: Path) -> AdviceResult:
    """An AdviceResult for the dataset of :func:`make_dataset`, with real findings on its files."""
    profile, files = _profile(root)
    broken = [f.item.rel for f in files if not f.ok]
    findings = (
        Finding("unreadable", "error", f"{len(broken)} file cannot be decoded and is left out",
                files=tuple(broken)),
        Finding("leakage", "error", "1 file in val is an exact copy of a file in train",
                groups=(("train/bees/img_000.png", "val/bees/leak.png"),), value=1.0,
                threshold=0.0),
        Finding("exact_duplicates", "info", "1 group of identical files in train",
                groups=(("train/ants/copy.png", "train/ants/img_001.png"),)),
        Finding("class_imbalance", "warning", f"classes range from 7 ({HOSTILE}) to 9 images",
                value=1.29, threshold=3.0, details={"smallest": HOSTILE, "largest": "ants"}),
        Finding("missing", "warning", "a listed file is gone",
                files=("train/ants/gone.png",) + tuple(f"train/ants/img_{i:03d}.png"
                                                       for i in range(14))),
    )
    health = HealthReport(findings, n_files=len(files), n_readable=profile.n_readable,
                          skipped=tuple(broken))
    labels = [f.item.label for f in files if f.ok]
    ms = (_measurements("mobilenet_v2", labels, 0, 0.86),
          _measurements("efficientnet_b0", labels, 1, 0.81))
    advice = Advice(
        scenario="partial_freeze", backbone="mobilenet_v2", input_size=224,
        freeze=FreezePlan(block=12, n_blocks=17, layer="block_12_add", index=110),
        head_lr=LRRange(1e-3, 1e-2), backbone_lr=LRRange(1e-5, 1e-4),
        augmentation=Augmentation("moderate", "horizontal", 0.1, 0.1, 0.1, "few images per class"),
        confidence=0.72,
        reasons=(Reason("similarity", "features are moderately close to ImageNet", 0.64, 0.5),
                 Reason("size", f"few images per class (smallest: {HOSTILE})", 8.0, 100.0),
                 Reason("late_shift", "late BN layers shift far from ImageNet", 0.92, 0.6)),
        what_would_change=("with 10x more images per class: full_finetune",
                           "similarity above 0.8: feature_extractor"),
        runner_up="feature_extractor", similarity=0.64, images_per_class=8.0)
    verify = VerifyResult(
        recommended=PilotRun("partial_freeze", 12, "block_12_add", 0.86, 6, 20.1),
        rival=PilotRun("feature_extractor", 17, "out_relu", 0.81, 4, 12.5),
        n_train=24, n_val=9, difference=0.05, standard_error=0.1195, verdict="inconclusive",
        explanation=f"Inconclusive: partial_freeze 0.860 vs feature_extractor 0.810 ({HOSTILE})",
        seconds=32.6, budget={"input_size": 128, "epochs": 6, "patience": 4,
                              "augmentation": "light"},
        split_source={"val": "val/ folder"},
        gain=PairedDifference("partial_b12", "feature_extractor", 0.05, 0.04, 0.035, 0.0, 30, 1, 0.12),
        gain_block=12, scheme="3-fold cross-fitting, seed 0")
    return AdviceResult(profile, health, ms, advice, seconds=63.2,
                        command=f"tladvise {root} --report out", verify=verify,
                        extras={"warnings": ["efficientnet_b0 had no ImageNet weights: measured "
                                             "with random weights"]})


# Module scope: rendering (plots, thumbnails) takes seconds on a busy 2-core machine.
# Tests must not change these; a test that deletes files builds its own dataset.
@pytest.fixture(scope="module")
def report_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("report") / "ds")


@pytest.fixture(scope="module")
def advice_result(report_dataset: Path) -> AdviceResult:
    return make_advice_result(report_dataset)


@pytest.fixture(scope="module")
def sweep_result(report_dataset: Path):
    """A finished sweep over the same dataset (a ``tuner.run.SweepResult``), for the tests
    that render both reports; built in ``tests/tuner/report/conftest.py``."""
    from tests.tuner.report.conftest import make_sweep_result

    return make_sweep_result(report_dataset, report_dataset.parent / "run")
