"""The known defects of the real datasets in ../shared/data (see its README) are found.

Each dataset is scanned once per module (no model); skipped where ../shared is absent.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from advisor.data import scan_files, scan_layout
from advisor.health import HealthReport, find_issues

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def scanned(shared_data: Path):
    cache: dict[str, tuple] = {}

    def get(name: str):
        if name not in cache:
            index = scan_layout(shared_data / name)
            cache[name] = (index, scan_files(index))
        return cache[name]

    return get


@pytest.fixture(scope="module")
def report(scanned):
    cache: dict[str, HealthReport] = {}

    def get(name: str) -> HealthReport:
        if name not in cache:
            cache[name] = find_issues(*scanned(name))
        return cache[name]

    return get


def one(report: HealthReport, check: str, **details):
    found = [f for f in report.by_check(check)
             if all(f.details.get(k) == v for k, v in details.items())]
    assert len(found) == 1, (check, details, [f.message for f in report.findings])
    return found[0]


def test_hymenoptera_placeholder_and_odd_extension(report) -> None:
    r = report("hymenoptera")
    odd = one(r, "odd_one_out")
    assert odd.files == ("train/ants/imageNotFound.gif",) and odd.classes == ("ants",)
    assert odd.details["odd"]["train/ants/imageNotFound.gif"] == ["GIF", "P"]
    assert "300x300" in odd.message
    assert one(r, "odd_extension").files == ("train/ants/formica.jpeg",)
    assert not r.by_severity("error") and not r.by_check("leakage")


def test_tf_flowers_leakage_and_mild_imbalance(report) -> None:
    r = report("tf_flowers")
    leak = one(r, "leakage")
    assert set(leak.groups) == {
        ("train/sunflowers/14889392928_9742aed45b_m.jpg",
         "val/sunflowers/15066430311_fb57fa92b0_m.jpg"),
        ("train/sunflowers/15069459615_7e0fd61914_n.jpg",
         "val/sunflowers/15072973261_73e2912ef2_n.jpg"),
    }
    assert leak.severity == "warning"
    imb = one(r, "class_imbalance", split="train")
    assert (imb.details["largest"], imb.details["smallest"]) == ("dandelion", "daisy")
    assert imb.value == pytest.approx(643 / 418, abs=1e-3)
    assert "643" in imb.message and "418" in imb.message
    assert not r.by_check("grayscale_dataset")  # a colour dataset with a few B/W photos


def test_chest_xray_grayscale_duplicates_imbalance(report) -> None:
    r = report("chest_xray")
    gray = one(r, "grayscale_dataset")
    assert gray.details["n_gray_as_rgb"] == gray.details["n_readable"] == 1624
    assert one(r, "grayscale_as_rgb").details["modes"] == {"RGB": 1624}
    dup = one(r, "exact_duplicates")
    assert dup.count == 7 and all(len(g) == 2 for g in dup.groups)
    assert all(len({p.split("/")[0] for p in g}) == 1 for g in dup.groups)  # within a split
    imb = one(r, "class_imbalance", split="train")
    assert imb.details["counts"] == {"NORMAL": 257, "PNEUMONIA": 743}
    assert not r.by_check("leakage")


def test_eurosat_small_tiles_and_imbalance(report) -> None:
    r = report("eurosat5")
    small = one(r, "small_images")
    assert small.details["median_side"] == 64 and small.value == pytest.approx(3.5)
    assert "x3.5" in small.message
    imb = one(r, "class_imbalance", split="train")
    assert min(imb.details["counts"].values()) == 160
    assert max(imb.details["counts"].values()) == 240
    assert not r.by_check("tiny_images")  # 64 px is small, not tiny


def test_checks_cost_little_next_to_the_scan(scanned) -> None:
    index, files = scanned("tf_flowers")
    find_issues(index, files)  # warm-up (imports, scipy-free)
    t0 = time.perf_counter()
    find_issues(index, files)
    assert time.perf_counter() - t0 < 1.0  # 3119 images: ~0.1 s measured on 2 busy cores
