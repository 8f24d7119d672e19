"""``advise``: scan, measure and recommend in one call."""

from __future__ import annotations

import time
from pathlib import Path

from advisor._profile import build_profile
from advisor._result import AdviceResult
from advisor.data import DEFAULT_MAX_PIXELS, DatasetIndex, ScannedFile, scan_files, scan_layout, subsample
from advisor.health import HealthReport, HealthThresholds, find_issues
from advisor.measure._measure import _DEFAULT, ProgressFactory, measure
from advisor.recommend import Thresholds, recommend, similarity_from_shift

__all__ = ["scan", "advise"]


def scan(path: str | Path, *, max_images: int | None = None, seed: int = 0,
         max_pixels: int = DEFAULT_MAX_PIXELS, thresholds: HealthThresholds | None = None,
         progress: ProgressFactory | None = None,
         ) -> tuple[DatasetIndex, list[ScannedFile], HealthReport]:
    """Find and open every file (no model): the index, scanned files and health report."""
    index = subsample(scan_layout(path), max_images, seed)
    files = scan_files(index, max_pixels=max_pixels,
                       progress=progress("Scanning", len(index.items)) if progress else None)
    return index, files, find_issues(index, files, thresholds)


def advise(path: str | Path, *, backbones: tuple[str, ...] | list[str] | str = ("mobilenet_v2",),
           weights: str = "imagenet", input_size: int | None = None,
           max_images: int | None = None, seed: int = 0, cache_dir=_DEFAULT,
           max_pixels: int = DEFAULT_MAX_PIXELS, thresholds: Thresholds | None = None,
           health_thresholds: HealthThresholds | None = None,
           progress: ProgressFactory | None = None, command: str = "") -> AdviceResult:
    """Measure the dataset at ``path`` and recommend a transfer scenario.

    Several ``backbones`` are ranked by linear-probe accuracy (then LogME); the
    advice is given for the best one. ``weights`` applies to every backbone.
    """
    from advisor.backbones import require_tensorflow

    require_tensorflow()
    t0 = time.perf_counter()
    t = thresholds or Thresholds()
    names = [backbones] if isinstance(backbones, str) else list(backbones)
    index = subsample(scan_layout(path), max_images, seed)
    runs = []
    for name in names:
        fp, m = measure(index, backbone=name, weights=weights, input_size=input_size, seed=seed,
                        cache_dir=cache_dir, max_pixels=max_pixels,
                        similarity=lambda s: similarity_from_shift(s, t), progress=progress)
        runs.append((fp, m))
    runs.sort(key=lambda r: (r[1].probe.accuracy, r[1].logme), reverse=True)
    fp, best = runs[0]
    files = list(fp.files)
    ht = health_thresholds or HealthThresholds(input_size=best.input_size)
    health = find_issues(index, files, ht, features=fp.features)
    profile = build_profile(index, files)
    ok = [f for f in files if f.ok]
    gray = sum(f.info.grayscale for f in ok) / max(len(ok), 1)
    advice = recommend(best, images_per_class=profile.images_per_class_median,
                       boundaries=list(fp.boundaries), gray_fraction=gray, thresholds=t)
    extras = {"thresholds": t.to_dict(), "gray_fraction": round(gray, 4)}
    return AdviceResult(profile=profile, health=health, measurements=tuple(m for _, m in runs),
                        advice=advice, seconds=round(time.perf_counter() - t0, 3),
                        command=command, extras=extras)
