"""``measure``: one backbone on one dataset -> :class:`Measurements`."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from advisor.backbones import get_backbone, resolve_weights
from advisor.data import DEFAULT_MAX_PIXELS, DatasetIndex
from advisor.errors import DatasetError
from advisor.measure._cache import FeatureCache, content_fingerprint, default_cache_dir
from advisor.measure._features import FeaturePass, extract_features
from advisor.measure._logme import logme
from advisor.measure._pixels import pixel_features
from advisor.measure._probe import PROBE_C, probe
from advisor.measure._project import project_2d
from advisor.measure._sample import MAX_PROBE_IMAGES, stratified_rows
from advisor.measure._shift import shift_profile
from advisor.measure._types import DepthProbe, Measurements, ProbeResult, ShiftProfile

__all__ = ["measure", "ProgressFactory", "MAX_PROJECTION_POINTS"]

_DERIVED_VERSION = 2  # bump when probe/LogME/projection results change meaning (2: depth probes)

# progress("what", total) -> advance(n); None: no progress display
ProgressFactory = Callable[[str, int], Callable[[int], None]]
MAX_PROJECTION_POINTS = 2000
_DEFAULT = object()


def _advance(progress: ProgressFactory | None, what: str, total: int):
    return progress(what, total) if progress else None


def _depth_probe(b, n_layers: int, result: ProbeResult) -> DepthProbe:
    return DepthProbe(block=b.block, n_blocks=b.n_blocks, fraction=round(b.fraction, 4),
                      layer=b.name, index=b.index,
                      depth=round(b.index / max(n_layers - 1, 1), 4),
                      accuracy=result.accuracy, std=result.std, dims=result.dims,
                      notes=result.notes)


def _depth_probes(fp: FeaturePass, rows: np.ndarray, y: np.ndarray, seed: int,
                  final: ProbeResult, step) -> list[dict]:
    """The probe at each of ``fp.depth_bounds`` on the same rows and folds as the main
    probe, then the main probe itself at the last boundary (the pooled features).

    Only the accuracy on the whole training part is kept, so the learning curve's
    smaller fits are skipped (``fractions=(1.0,)``: the same folds and the same full
    fits, hence the same accuracy as with the curve)."""
    out = []
    for b, arr in zip(fp.depth_bounds, fp.depth_features):
        out.append(_depth_probe(b, fp.bn.n_layers, probe(arr[rows], y, seed=seed,
                                                         fractions=(1.0,))).to_dict())
        if step:
            step(1)
    if fp.boundaries:
        out.append(_depth_probe(fp.boundaries[-1], fp.bn.n_layers, final).to_dict())
    return out


def _derived(fp: FeaturePass, ok_files: list, labels: np.ndarray, train: np.ndarray, seed: int,
             progress: ProgressFactory | None) -> dict:
    """Probe, pixel probe, depth probes, LogME and 2-D projection: everything computed
    from features.

    The probes and LogME see at most about ``MAX_PROBE_IMAGES`` training images (a
    stratified, seeded sample above that, said in ``notes``; see ``advisor.measure._sample``).
    """
    sample = stratified_rows(labels[train], MAX_PROBE_IMAGES, seed)
    rows = np.flatnonzero(train)[sample.rows]
    x, y = fp.features[rows], labels[rows]
    step = _advance(progress, "Probes and LogME", 3 + len(fp.depth_bounds))
    feat_probe = probe(x, y, seed=seed)
    if step:
        step(1)
    depth = _depth_probes(fp, rows, y, seed, feat_probe, step)
    pix_probe = probe(pixel_features(fp.thumbs[rows]), y, seed=seed)
    if step:
        step(1)
    score = logme(x, y)
    if step:
        step(1)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(ok_files), min(len(ok_files), MAX_PROJECTION_POINTS), replace=False))
    proj = project_2d(fp.features[pick], seed=seed)
    return {"probe": feat_probe.to_dict(), "pixel_probe": pix_probe.to_dict(), "logme": float(score),
            "depth_probes": depth,
            "projection": [[round(float(a), 4), round(float(b), 4)] for a, b in proj],
            "projection_labels": [ok_files[i].item.label for i in pick],
            "notes": [sample.note("linear probes and LogME")] if sample.sampled else []}


def measure(index: DatasetIndex, *, backbone: str = "mobilenet_v2", weights: str = "imagenet",
            input_size: int | None = None, seed: int = 0, cache_dir=_DEFAULT,
            batch_size: int = 32, workers: int | None = None,
            max_pixels: int = DEFAULT_MAX_PIXELS, similarity=None,
            progress: ProgressFactory | None = None) -> tuple[FeaturePass, Measurements]:
    """Decode, extract (or load from the cache), then probes (pooled features, pixels,
    a few block ends), LogME and BN shift.

    ``similarity`` maps the overall BN shift to 0..1 (default: the calibrated
    :func:`advisor.recommend.similarity_from_shift`).
    """
    t0 = time.perf_counter()
    spec = get_backbone(backbone)
    size = int(spec.input_size if input_size is None else input_size)  # 0 is invalid, not "default"
    if not 32 <= size <= 1024:
        raise DatasetError("Input size out of range", expected="32..1024 pixels",
                           received=str(size), fix="pass --image-size 224 (or 96..512)")
    source = resolve_weights(spec, weights)
    cache = FeatureCache(default_cache_dir() if cache_dir is _DEFAULT else cache_dir)
    fp = None
    key = None
    if cache.root is not None:
        fingerprint = content_fingerprint(index.items, workers,
                                          _advance(progress, "Hashing files", len(index.items)))
        key = cache.key(fingerprint, spec.name, source.fingerprint(), size, max_pixels)
        fp = cache.load(key, index.root)
    hit = fp is not None
    if fp is None:
        fp = extract_features(index.items, spec, source, size, batch_size=batch_size,
                              workers=workers, max_pixels=max_pixels,
                              progress=_advance(progress, f"Features ({spec.name}, {size}px)",
                                                len(index.items)))
        if key is not None:
            cache.save(key, fp)

    ok_files = [f for f in fp.files if f.ok]
    if len(ok_files) == 0:
        kinds = Counter(f.error_kind for f in fp.files)
        first = fp.files[0]
        raise DatasetError(
            "No readable images", expected="at least two readable images per class",
            received=f"{len(fp.files)} files, none readable ({dict(kinds)}; e.g. "
                     f"{first.item.rel!r}: {first.error})",
            fix="replace or re-export the files; `tladvise` lists every bad file when some are readable")
    classes = sorted({f.item.label for f in ok_files})
    if len(classes) < 2:
        raise DatasetError("Fewer than two classes have readable images",
                           expected="two or more classes", received=f"only {classes}",
                           fix="replace the unreadable files (see the health findings)")
    labels = np.array([classes.index(f.item.label) for f in ok_files])
    train = np.array([f.item.split in (None, "train") for f in ok_files])
    if "train" not in index.splits:
        train[:] = True
    # the cap is part of the name only where it applies: smaller datasets keep their entries
    capped = f"|cap{MAX_PROBE_IMAGES}" if train.sum() > MAX_PROBE_IMAGES else ""
    derived_name = hashlib.sha1(
        f"{seed}|{PROBE_C}|{_DERIVED_VERSION}|{train.sum()}{capped}".encode()).hexdigest()[:16]
    derived = cache.load_derived(key, derived_name) if key is not None else None
    if derived is None:
        derived = _derived(fp, ok_files, labels, train, seed, progress)
        if key is not None:
            cache.save_derived(key, derived_name, derived)
    feat_probe = ProbeResult.from_dict(derived["probe"])
    pix_probe = ProbeResult.from_dict(derived["pixel_probe"])
    prof = shift_profile(fp.bn)
    if similarity is None:
        from advisor.recommend import similarity_from_shift as similarity
    m = Measurements(
        backbone=spec.name, input_size=size, weights=source.kind, n_images=int(len(ok_files)),
        shift=prof, probe=feat_probe, pixel_probe=pix_probe, logme=float(derived["logme"]),
        similarity=float(similarity(prof.overall)),
        transfer_gain=float(feat_probe.accuracy - pix_probe.accuracy),
        seconds=round(time.perf_counter() - t0, 3), cache_hit=hit,
        projection=tuple(tuple(p) for p in derived["projection"]),
        projection_labels=tuple(derived["projection_labels"]),
        notes=tuple(derived.get("notes", ())) + _no_bn_note(spec.name, prof),
        depth_probes=tuple(DepthProbe.from_dict(d) for d in derived.get("depth_probes", ())))
    return fp, m


def _no_bn_note(name: str, prof: ShiftProfile) -> tuple[str, ...]:
    """Said where the backbone has no BatchNorm layer (VGG16): no shift is measured."""
    if prof.layers:
        return ()
    return (f"{name} has no BatchNorm layers: its similarity to ImageNet is not measured "
            "(shift 0, similarity 1.0); below the large-dataset threshold the advice does not use it",)
