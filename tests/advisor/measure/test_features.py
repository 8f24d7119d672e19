"""The single feature pass and its cache, on tiny generated images (random weights)."""

from __future__ import annotations

import numpy as np

from advisor.backbones import get_backbone, resolve_weights
from advisor.data import scan_layout
from advisor.measure import FeatureCache, content_fingerprint, extract_features, measure


def test_one_pass_gives_features_bn_stats_and_reports_bad_files(tiny_dataset):
    (tiny_dataset / "red" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    index = scan_layout(tiny_dataset)
    spec = get_backbone("mobilenet_v2")
    fp = extract_features(index.items, spec, resolve_weights(spec, "none"), 64, batch_size=8)
    assert len(fp.files) == 25 and fp.ok.sum() == 24
    bad = [f for f in fp.files if not f.ok]
    assert bad[0].item.rel == "red/broken.png" and bad[0].error_kind in ("not_image", "truncated", "unreadable")
    assert fp.features.shape == (24, 1280) and fp.thumbs.shape == (24, 16, 16, 3)
    assert len(fp.bn.names) == 52
    assert all(m.shape == r.shape for m, r in zip(fp.bn.mean, fp.bn.ref_mean))
    assert all((v >= 0).all() for v in fp.bn.var)
    assert fp.boundaries[0].name == "input" and fp.boundaries[-1].block == fp.boundaries[-1].n_blocks


def test_cache_round_trip_and_key(tiny_dataset, tmp_path):
    index = scan_layout(tiny_dataset)
    cache_dir = tmp_path / "cache"
    fp1, m1 = measure(index, weights="none", input_size=64, cache_dir=cache_dir)
    fp2, m2 = measure(index, weights="none", input_size=64, cache_dir=cache_dir)
    assert not m1.cache_hit and m2.cache_hit
    assert np.array_equal(fp1.features, fp2.features)
    assert m1.probe == m2.probe and m1.shift == m2.shift and m1.logme == m2.logme
    # probes, LogME and the projection are stored beside the features (warm runs skip them)
    assert len(list((cache_dir / "features").glob("*/derived-*.json"))) == 1
    assert [f.to_dict() for f in fp1.files] == [f.to_dict() for f in fp2.files]
    # the key follows the content: changing one file's bytes changes the fingerprint
    before = content_fingerprint(index.items)
    p = index.items[0].path
    p.write_bytes(p.read_bytes() + b"\0")
    assert content_fingerprint(index.items) != before
    # a different input size is another cache entry
    _, m3 = measure(scan_layout(tiny_dataset), weights="none", input_size=72, cache_dir=cache_dir)
    assert not m3.cache_hit


def test_cache_ignores_partial_entries(tmp_path):
    cache = FeatureCache(tmp_path)
    key = "0" * 32
    (tmp_path / "features" / key).mkdir(parents=True)
    (tmp_path / "features" / key / "features.npy").write_bytes(b"junk")
    assert cache.load(key, tmp_path) is None
