"""BN shift: the W2 formula, and the profile from generated statistics."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.measure._features import BNStats
from advisor.measure._shift import channel_w2, shift_profile


def test_w2_is_zero_for_identical_statistics_and_matches_closed_form():
    mu, var = np.array([0.0, 1.0, -2.0]), np.array([1.0, 4.0, 0.25])
    d, _, _ = channel_w2(mu, var, mu, var, eps=0.0)
    assert np.allclose(d, 0)
    # N(1, 4) vs N(0, 1): W2 = sqrt(1^2 + (2-1)^2) = sqrt(2), sigma = 1
    d, mt, st = channel_w2(np.array([1.0]), np.array([4.0]), np.array([0.0]), np.array([1.0]), eps=0.0)
    assert d[0] == pytest.approx(np.sqrt(2)) and mt[0] == 1 and st[0] == 1


def test_w2_is_normalised_by_the_reference_std():
    d1, _, _ = channel_w2(np.array([1.0]), np.array([1.0]), np.array([0.0]), np.array([1.0]), 0.0)
    d2, _, _ = channel_w2(np.array([10.0]), np.array([100.0]), np.array([0.0]), np.array([100.0]), 0.0)
    assert d1[0] == pytest.approx(d2[0])


def test_profile_orders_layers_and_summarises_thirds():
    rng = np.random.default_rng(0)
    n = 9
    ref_m = [rng.normal(size=8) for _ in range(n)]
    ref_v = [rng.uniform(0.5, 2, size=8) for _ in range(n)]
    # shift grows with depth: mean offset k * 0.1 sigma
    m = [ref_m[k] + 0.1 * k * np.sqrt(ref_v[k] + 1e-3) for k in range(n)]
    bn = BNStats(tuple(f"bn{k}" for k in range(n)), tuple(range(0, 90, 10)), 91, tuple(m),
                 tuple(ref_v), tuple(ref_m), tuple(ref_v), (1e-3,) * n)
    prof = shift_profile(bn)
    shifts = [l.shift for l in prof.layers]
    assert shifts == sorted(shifts)
    assert prof.early < prof.middle < prof.late
    assert prof.layers[-1].depth == pytest.approx(80 / 90, abs=1e-3)


def test_a_backbone_without_batchnorm_says_its_shift_is_not_measured(tiny_dataset, tmp_path):
    from advisor.data import scan_layout
    from advisor.measure import measure

    _, m = measure(scan_layout(tiny_dataset), backbone="vgg16", weights="none", input_size=32,
                   cache_dir=tmp_path / "cache")
    assert m.shift.layers == () and m.shift.overall == 0.0 and m.similarity == 1.0
    assert any("vgg16 has no BatchNorm layers" in n for n in m.notes)
    assert [d.layer for d in m.depth_probes][-1] == "block5_pool"
