"""The known defects of the real datasets in ../shared/data (see its README) are found.

Each dataset is scanned once per module (no model); skipped where ../shared is absent.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from advisor.data import scan_files, scan_layout
from advisor.health import HealthReport, HealthThresholds, find_issues

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


# The four newer datasets. Near copies that the README names but the default phash
# distance (4) does not reach are checked at 6, the distance docs/health-checks.md
# suggests for varied photos; every pair asserted here was looked at (the same scene).
VARIED = HealthThresholds(near_duplicate_distance=6)


def test_intel_scenes_bw_minority_odd_sizes_near_copy(scanned, report) -> None:
    r = report("intel_scenes")
    gray = one(r, "grayscale_as_rgb")
    assert (gray.details["n_gray_as_rgb"], gray.details["n_readable"]) == (124, 2400)
    assert gray.details["modes"] == {"RGB": 124} and "odd ones out" in gray.message
    by_class = Counter(p.split("/")[1] for p in gray.files)
    assert by_class.most_common(2) == [("street", 55), ("buildings", 24)]
    assert not r.by_check("grayscale_dataset")  # a minority, not a grayscale dataset
    odd = one(r, "odd_size")
    assert odd.details["dominant"] == [150, 150] and odd.count == 11
    assert odd.details["n_not_square"] == 11 and "11 of 2400" in odd.message
    assert {w for w, _ in odd.details["sizes"].values()} == {150}
    assert {h for _, h in odd.details["sizes"].values()} >= {110, 146}
    assert all(110 <= h <= 146 for _, h in odd.details["sizes"].values())
    assert not r.by_check("mixed_sizes") and not r.by_check("exact_duplicates")
    near = one(find_issues(*scanned("intel_scenes"), VARIED), "near_leakage")
    assert near.groups == (("train/sea/1345.jpg", "val/sea/20212.jpg"),)
    assert near.details["distances"] == [6]  # hence not at the default 4


def test_weather4_png_in_jpg_gray_modes_sizes_imbalance(report) -> None:
    r = report("weather4")
    wrong = one(r, "wrong_extension")
    assert wrong.details["formats"] == {
        "train/cloudy/cloudy131.jpg": ["PNG", "RGB"], "train/rain/rain136.jpg": ["PNG", "RGB"],
        "train/shine/shine127.jpg": ["PNG", "RGBA"],
        "train/sunrise/sunrise184.jpg": ["PNG", "RGB"]}
    l_mode = {p for f in r.by_check("odd_one_out") for p, (_, mode) in f.details["odd"].items()
              if mode == "L"}
    assert l_mode == {"train/cloudy/cloudy66.jpg", "val/cloudy/cloudy71.jpg"}
    gray = one(r, "grayscale_as_rgb")  # 23 with all channels within 3 levels, 5 B/W photos
    assert (gray.details["n_gray_as_rgb"], gray.details["n_readable"]) == (28, 992)
    assert gray.details["modes"] == {"RGB": 28} and gray.value == pytest.approx(28 / 992, abs=1e-4)
    assert not set(gray.files) & l_mode and not r.by_check("grayscale_dataset")
    sizes = one(r, "mixed_sizes")
    assert sizes.details["n_sizes"] == 443 and sizes.details["n_not_square"] == 974
    assert sizes.details["aspect_max"] == pytest.approx(3.11, abs=0.01)
    imb = one(r, "class_imbalance", split="train")
    assert imb.details["counts"] == {"cloudy": 203, "rain": 142, "shine": 172, "sunrise": 248}
    assert (imb.details["largest"], imb.details["smallest"]) == ("sunrise", "rain")
    # recoloured copies across the split that the curators' pixel-difference filter kept
    leak = one(r, "near_leakage")
    assert leak.count == 6 and leak.groups[0] == ("train/shine/shine9.jpg", "val/shine/shine20.jpg")
    assert not r.by_check("leakage")


def test_neu_steel_gray_dataset_and_exact_pair(report) -> None:
    r = report("neu_steel_defects")
    gray = one(r, "grayscale_dataset")
    assert gray.details == {"n_gray": 1800, "n_gray_as_rgb": 1800, "n_readable": 1800}
    assert one(r, "grayscale_as_rgb").details["modes"] == {"RGB": 1800}
    dup = one(r, "exact_duplicates")
    assert dup.groups == (("train/patches/patches_101.jpg", "train/patches/patches_105.jpg"),)
    assert not r.by_check("leakage") and not r.by_check("class_imbalance")
    assert not {"odd_size", "mixed_sizes", "small_images"} & {f.check for f in r.findings}


def test_bccd_imbalance_and_near_copies_across_the_split(scanned, report) -> None:
    r = report("bccd_wbc")
    imb = one(r, "class_imbalance", split="train")
    assert imb.details["counts"] == {"Eosinophil": 66, "Lymphocyte": 25, "Monocyte": 15,
                                     "Neutrophil": 155}
    assert (imb.details["largest"], imb.details["smallest"]) == ("Neutrophil", "Monocyte")
    assert imb.value == pytest.approx(155 / 15, abs=1e-3)
    val = one(r, "class_imbalance", split="val")
    assert val.details["counts"]["Monocyte"] == 5 and val.value == pytest.approx(52 / 5)
    n = "Neutrophil/BloodImage_00"
    leak = one(r, "near_leakage")  # the same cell in neighbouring slide images
    assert leak.groups == ((f"train/{n}231_1.jpg", f"val/{n}256_1.jpg"),
                           (f"train/{n}244_1.jpg", f"val/{n}247_1.jpg"),
                           (f"train/{n}276_1.jpg", f"val/{n}205_1.jpg"),
                           (f"train/{n}384_1.jpg", f"val/{n}393_1.jpg"))
    # the 4 val crops closest to a train crop in 16x16 mean difference (README's example first)
    closest = {(f"train/{n}386_1.jpg", f"val/{n}391_1.jpg"),
              ("train/Lymphocyte/BloodImage_00229_1.jpg", "val/Lymphocyte/BloodImage_00258_1.jpg"),
              (f"train/{n}384_1.jpg", f"val/{n}393_1.jpg"),
              (f"train/{n}231_1.jpg", f"val/{n}256_1.jpg")}
    wide = one(find_issues(*scanned("bccd_wbc"), VARIED), "near_leakage")
    assert closest <= set(wide.groups) and wide.count == 6
    assert not r.by_check("exact_duplicates") and not r.by_check("leakage")
    assert not {"odd_size", "mixed_sizes"} & {f.check for f in r.findings}  # all square


def test_checks_cost_little_next_to_the_scan(scanned) -> None:
    index, files = scanned("tf_flowers")
    find_issues(index, files)  # warm-up (imports, scipy-free)
    t0 = time.perf_counter()
    find_issues(index, files)
    assert time.perf_counter() - t0 < 1.0  # 3119 images: ~0.1 s measured on 2 busy cores
