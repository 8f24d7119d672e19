"""Each health check on small generated datasets with known, planted defects."""

from __future__ import annotations

import io
import json
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from advisor.data import ImageInfo, scan_files, scan_layout
from advisor.errors import ConfigError, InternalError
from advisor.health import (
    DEFAULT_CHECKS,
    SEVERITIES,
    Finding,
    HealthReport,
    HealthThresholds,
    find_issues,
)


# ---------------------------------------------------------------- generators


def smooth(seed: int, size: int = 48) -> Image.Image:
    """A smooth random picture: an upsampled 6x6 colour grid, distinct per seed
    (so phashes of different seeds are far apart and survive re-encoding)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(6, 6, 3), dtype=np.uint8)
    return Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC)


def fill(folder: Path, n: int, seed0: int, ext: str = ".png", size: int = 48) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = folder / f"img_{seed0 + i:04d}{ext}"
        smooth(seed0 + i, size).save(p)
        out.append(p)
    return out


def run(root: Path, thresholds: HealthThresholds | None = None, **scan_kw) -> HealthReport:
    """Scan and check ``root``; the generated images are 48 px, so unless a test says
    otherwise the backbone input is 48 px too (no small-image finding)."""
    index = scan_layout(root)
    t = thresholds if thresholds is not None else HealthThresholds(input_size=48)
    return find_issues(index, scan_files(index, workers=2, **scan_kw), t)


def only(report: HealthReport, check: str) -> Finding:
    found = report.by_check(check)
    assert len(found) == 1, (check, [f.message for f in report.findings])
    return found[0]


def checks(report: HealthReport) -> set[str]:
    return {f.check for f in report.findings}


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    """A balanced two-class, two-split dataset with no defect."""
    root = tmp_path / "clean"
    fill(root / "train" / "cat", 12, 0)
    fill(root / "train" / "dog", 12, 100)
    fill(root / "val" / "cat", 6, 200)
    fill(root / "val" / "dog", 6, 300)
    return root


# ---------------------------------------------------------------- tests


def test_clean_dataset_has_no_findings(clean: Path) -> None:
    report = run(clean)
    assert report.findings == ()
    assert (report.n_files, report.n_readable, report.skipped) == (36, 36, ())


def test_bad_files_are_reported_as_errors_and_skipped(clean: Path) -> None:
    cat = clean / "train" / "cat"
    buf = io.BytesIO()
    smooth(7, 64).save(buf, "JPEG", quality=90)
    (cat / "truncated.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    (cat / "zero.jpg").write_bytes(b"")
    (cat / "text.jpg").write_text("this is not a picture\n")
    (cat / "notes.txt").write_text("collected in 2021\n")
    smooth(8, 120).save(cat / "huge.png")  # 14,400 pixels: above the limit set below

    report = run(clean, max_pixels=10_000)
    assert only(report, "truncated").files == ("train/cat/truncated.jpg",)
    assert only(report, "empty_file").files == ("train/cat/zero.jpg",)
    assert set(only(report, "not_image").files) == {"train/cat/text.jpg", "train/cat/notes.txt"}
    bomb = only(report, "decompression_bomb")
    assert bomb.files == ("train/cat/huge.png",)
    assert "14,400" in bomb.details["reasons"]["train/cat/huge.png"]
    assert "'.txt'" in only(report, "not_image").details["reasons"]["train/cat/notes.txt"]
    for name in ("truncated", "empty_file", "not_image", "decompression_bomb"):
        f = only(report, name)
        assert f.severity == "error"
        assert str(len(f.files)) in f.message and all(repr(p) in f.message for p in f.files)
    assert sorted(report.skipped) == sorted(["train/cat/huge.png", "train/cat/notes.txt",
                                             "train/cat/text.jpg", "train/cat/truncated.jpg",
                                             "train/cat/zero.jpg"])
    assert (report.n_files, report.n_readable) == (41, 36)
    # skipped files do not count as class members
    assert not report.by_check("class_imbalance")


def test_tiny_images(clean: Path) -> None:
    smooth(9, 16).save(clean / "train" / "dog" / "icon.png")
    report = run(clean)
    f = only(report, "tiny_images")
    assert f.files == ("train/dog/icon.png",)
    assert (f.value, f.threshold, f.severity) == (16.0, 32.0, "info")
    assert f.details["sizes"] == {"train/dog/icon.png": [16, 16]}
    assert not run(clean, HealthThresholds(tiny_side=16, input_size=48)).by_check("tiny_images")


def test_exact_duplicates_within_a_split(clean: Path) -> None:
    src = clean / "train" / "cat" / "img_0000.png"
    shutil.copy(src, clean / "train" / "cat" / "copy1.png")
    shutil.copy(src, clean / "train" / "cat" / "copy2.png")
    f = only(run(clean), "exact_duplicates")
    assert f.groups == (("train/cat/copy1.png", "train/cat/copy2.png", "train/cat/img_0000.png"),)
    assert f.severity == "info" and f.count == 1 and f.details["n_redundant"] == 2


def test_leakage_exact_copy_across_splits(clean: Path) -> None:
    shutil.copy(clean / "train" / "dog" / "img_0100.png", clean / "val" / "dog" / "leaked.png")
    report = run(clean)
    f = only(report, "leakage")
    assert f.severity == "warning"
    assert f.groups == (("train/dog/img_0100.png", "val/dog/leaked.png"),)
    assert f.details["n_eval_files"] == 1
    assert "leakage" in f.message and "1 images" in f.message
    assert not report.by_check("exact_duplicates")  # one per split: not a within-split group


def test_conflicting_labels(clean: Path) -> None:
    shutil.copy(clean / "train" / "cat" / "img_0003.png", clean / "train" / "dog" / "which.png")
    f = only(run(clean), "conflicting_labels")
    assert f.severity == "warning"
    assert f.groups == (("train/cat/img_0003.png", "train/dog/which.png"),)
    assert f.details["labels"] == [["cat", "dog"]]


def test_near_duplicates_and_near_leakage(clean: Path) -> None:
    # a brightened copy: other bytes (other MD5), the same picture
    src = np.asarray(Image.open(clean / "train" / "cat" / "img_0001.png")).astype(np.int16)
    Image.fromarray(np.clip(src + 12, 0, 255).astype(np.uint8)).save(
        clean / "train" / "cat" / "brighter.png")
    img = Image.open(clean / "train" / "dog" / "img_0105.png")
    img.save(clean / "val" / "dog" / "recoded.jpg", quality=85)
    report = run(clean)
    near = only(report, "near_duplicates")
    assert near.groups == (("train/cat/brighter.png", "train/cat/img_0001.png"),)
    assert near.severity == "info" and near.threshold == 4.0
    assert all(d <= 4 for d in near.details["distances"])
    leak = only(report, "near_leakage")
    assert leak.groups == (("train/dog/img_0105.png", "val/dog/recoded.jpg"),)
    assert not report.by_check("leakage")  # not byte-identical
    # a zero distance keeps only identical hashes; the JPEG copy may drift a bit
    strict = run(clean, HealthThresholds(near_duplicate_distance=0, input_size=48))
    assert sum(f.count for f in strict.findings if f.check.startswith("near_")) <= 2


def test_exact_duplicates_are_not_near_duplicates(clean: Path) -> None:
    shutil.copy(clean / "train" / "cat" / "img_0002.png", clean / "train" / "cat" / "same.png")
    report = run(clean)
    assert report.by_check("exact_duplicates") and not report.by_check("near_duplicates")


def test_class_imbalance_per_split(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    fill(root / "train" / "a", 30, 0)
    fill(root / "train" / "b", 12, 100)
    fill(root / "val" / "a", 6, 200)
    fill(root / "val" / "b", 6, 300)
    f = only(run(root), "class_imbalance")
    assert f.severity == "warning" and f.details["split"] == "train"
    assert f.value == pytest.approx(2.5) and f.threshold == 1.5
    assert (f.details["largest"], f.details["smallest"]) == ("a", "b")
    assert "30" in f.message and "12" in f.message and "2.50" in f.message
    loose = HealthThresholds(imbalance_ratio=2.6, input_size=48)
    assert not run(root, loose).by_check("class_imbalance")


def test_small_and_missing_classes(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    fill(root / "train" / "a", 12, 0)
    fill(root / "train" / "b", 12, 100)
    fill(root / "train" / "rare", 3, 200)
    fill(root / "val" / "a", 6, 300)
    fill(root / "val" / "b", 2, 400)
    report = run(root)
    small = {f.details["split"]: f for f in report.by_check("small_classes")}
    assert set(small) == {"train", "val"}
    assert small["train"].classes == ("rare",) and small["train"].threshold == 10.0
    assert small["val"].classes == ("b",) and small["val"].threshold == 5.0
    missing = only(report, "class_missing")
    assert missing.classes == ("rare",) and missing.details == {"split": "val",
                                                                "present_in": ["train"]}
    assert missing.severity == "warning"


def test_class_whose_files_are_all_unreadable_is_missing(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    fill(root / "a", 12, 0)
    fill(root / "b", 12, 100)
    (root / "c").mkdir()
    (root / "c" / "x.jpg").write_bytes(b"")
    report = run(root)
    assert only(report, "class_missing").classes == ("c",)
    assert only(report, "empty_file").files == ("c/x.jpg",)


def test_grayscale_content_stored_as_rgb(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    for label, seed in (("a", 0), ("b", 100)):
        d = root / label
        d.mkdir(parents=True)
        for i in range(10):
            gray = smooth(seed + i).convert("L")
            if i < 7:
                gray.convert("RGB").save(d / f"rgb_{i}.png")  # three equal channels
            else:
                gray.save(d / f"l_{i}.png")  # honest 8-bit grayscale
    report = run(root)
    as_rgb = only(report, "grayscale_as_rgb")
    assert len(as_rgb.files) == 14 and all("/rgb_" in p for p in as_rgb.files)
    assert as_rgb.value == pytest.approx(0.7)
    ds = only(report, "grayscale_dataset")
    assert ds.value == 1.0 and ds.details["n_gray"] == 20 and ds.details["n_gray_as_rgb"] == 14


def test_a_few_gray_images_in_colour_data_are_not_a_gray_dataset(clean: Path) -> None:
    smooth(5).convert("L").convert("RGB").save(clean / "train" / "cat" / "bw.png")
    report = run(clean)
    assert only(report, "grayscale_as_rgb").files == ("train/cat/bw.png",)
    assert not report.by_check("grayscale_dataset")


def test_odd_one_out_format_and_extension(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    fill(root / "a", 24, 0, ext=".jpg")
    smooth(50).save(root / "a" / "other.jpeg")
    smooth(51).convert("P").save(root / "a" / "placeholder.gif")
    fill(root / "b", 24, 100, ext=".jpg")
    report = run(root)
    odd = only(report, "odd_one_out")
    assert odd.files == ("a/placeholder.gif",) and odd.classes == ("a",)
    assert odd.details["dominant"] == ["JPEG", "RGB"]
    assert odd.details["odd"] == {"a/placeholder.gif": ["GIF", "P"]}
    assert "1 of 26" in odd.message
    ext = only(report, "odd_extension")
    assert ext.files == ("a/other.jpeg",)  # the GIF is reported once, above
    assert {f.severity for f in (odd, ext)} == {"info"}


def test_odd_one_out_needs_a_clear_majority(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    fill(root / "a", 10, 0, ext=".jpg")
    smooth(51).convert("P").save(root / "a" / "placeholder.gif")  # 10 of 11 = 91% < 95%
    fill(root / "b", 10, 100, ext=".jpg")
    report = run(root)
    assert not report.by_check("odd_one_out") and not report.by_check("odd_extension")
    loose = HealthThresholds(odd_one_out_fraction=0.9, input_size=48)
    assert only(run(root, loose), "odd_one_out").files == ("a/placeholder.gif",)


def test_wrong_extension(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    fill(root / "a", 4, 0, ext=".jpg")
    smooth(60).save(root / "a" / "really_png.jpg", format="PNG")
    smooth(61).convert("RGBA").save(root / "a" / "rgba.jpeg", format="PNG")
    smooth(62).save(root / "a" / "really_jpeg.png", format="JPEG")
    smooth(63).save(root / "a" / "no_suffix", format="PNG")  # no extension: not judged
    fill(root / "b", 4, 100, ext=".png")
    f = only(run(root), "wrong_extension")
    assert f.files == ("a/really_jpeg.png", "a/really_png.jpg", "a/rgba.jpeg")
    assert f.details["formats"] == {"a/really_jpeg.png": ["JPEG", "RGB"],
                                    "a/really_png.jpg": ["PNG", "RGB"],
                                    "a/rgba.jpeg": ["PNG", "RGBA"]}
    assert f.severity == "info" and "3 files" in f.message


def test_odd_size_among_one_size(clean: Path) -> None:
    smooth(70, 48).crop((0, 0, 48, 40)).save(clean / "train" / "cat" / "cut.png")
    f = only(run(clean), "odd_size")
    assert f.files == ("train/cat/cut.png",) and f.details["dominant"] == [48, 48]
    assert f.details["sizes"] == {"train/cat/cut.png": [48, 40]}
    assert f.details["n_not_square"] == 1 and "1 of 37" in f.message


def test_mixed_sizes_only_when_shapes_vary(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    for label, seed in (("a", 0), ("b", 100)):
        (root / label).mkdir(parents=True)
        for i in range(6):  # squares of six sizes: only scaled, nothing to report
            smooth(seed + i, 40 + 8 * i).save(root / label / f"sq_{i}.png")
    t = HealthThresholds(input_size=48)
    assert not {"odd_size", "mixed_sizes"} & checks(run(root, t))
    smooth(7, 60).resize((90, 30)).save(root / "a" / "wide.png")
    smooth(8, 60).resize((30, 60)).save(root / "b" / "tall.png")
    f = only(run(root, t), "mixed_sizes")
    assert f.details["n_sizes"] == 8 and f.details["n_not_square"] == 2
    assert f.details["n_portrait"] == 1 and f.details["aspect_max"] == 3.0
    assert f.value == pytest.approx(2 / 14, abs=1e-4) and "2 of 14" in f.message


def test_small_images_against_the_backbone_input(clean: Path) -> None:
    f = only(run(clean, HealthThresholds()), "small_images")
    assert f.value == pytest.approx(224 / 48, rel=1e-3) and f.threshold == 2.0
    assert f.details["n_below_input"] == 36 and "x4.7" in f.message
    assert not run(clean, HealthThresholds(input_size=64)).by_check("small_images")


def test_skipped_paths_and_empty_class_folders(clean: Path) -> None:
    (clean / "train" / "README.md").write_text("about")
    (clean / "train" / "cat" / ".DS_Store").write_bytes(b"\0")
    (clean / "val" / "bird").mkdir()
    report = run(clean)
    reasons = {f.details["reason"]: f for f in report.by_check("skipped_paths")}
    assert reasons["file outside any class folder"].files == ("train/README.md",)
    assert reasons["hidden file"].files == ("train/cat/.DS_Store",)
    assert {f.severity for f in reasons.values()} == {"info"}
    empty = only(report, "empty_class_folder")
    assert empty.files == ("val/bird",) and empty.severity == "warning"


def test_manifest_rows_that_point_nowhere(tmp_path: Path) -> None:
    fill(tmp_path / "imgs", 24, 0)
    rows = ["path,label"] + [f"imgs/img_{i:04d}.png,{'ab'[i % 2]}" for i in range(24)]
    rows += ["imgs/gone.png,a", "imgs/also_gone.png,b"]
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    f = only(run(tmp_path / "m.csv"), "skipped_paths")
    assert f.severity == "warning" and f.details["reason"] == "listed in the manifest but not found"
    assert set(f.files) == {"imgs/gone.png", "imgs/also_gone.png"}


def test_findings_are_ordered_by_severity(clean: Path) -> None:
    (clean / "train" / "cat" / "zero.jpg").write_bytes(b"")
    shutil.copy(clean / "train" / "dog" / "img_0100.png", clean / "val" / "dog" / "leak.png")
    (clean / "train" / ".hidden").write_text("x")  # info, from a check that runs before leakage
    report = run(clean)
    ranks = [SEVERITIES.index(f.severity) for f in report.findings]
    assert ranks == sorted(ranks) and ranks[0] == 0 and 1 in ranks and 2 in ranks
    assert [f.check for f in report.by_severity("error")] == ["empty_file"]


def test_report_round_trips_through_json(clean: Path) -> None:
    (clean / "train" / "cat" / "zero.jpg").write_bytes(b"")
    shutil.copy(clean / "train" / "cat" / "img_0000.png", clean / "train" / "dog" / "x.png")
    report = run(clean)
    again = HealthReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report
    assert again.summary == report.summary and again.to_dict() == report.to_dict()


def test_health_never_opens_files(clean: Path) -> None:
    shutil.copy(clean / "train" / "dog" / "img_0100.png", clean / "val" / "dog" / "leak.png")
    index = scan_layout(clean)
    files = scan_files(index, workers=2)
    shutil.rmtree(clean)
    report = find_issues(index, files)
    assert only(report, "leakage").count == 1


def test_subsampled_files_are_accepted_foreign_files_are_not(clean: Path, tmp_path: Path) -> None:
    index = scan_layout(clean)
    files = scan_files(index, workers=2)
    assert find_issues(index, files[:10]).n_files == 10
    fill(tmp_path / "other" / "y", 2, 900)
    fill(tmp_path / "other" / "z", 2, 950)
    foreign = scan_files(scan_layout(tmp_path / "other"), workers=2)
    with pytest.raises(InternalError, match="not in the dataset index"):
        find_issues(index, files + foreign)


def test_thresholds_are_validated() -> None:
    assert HealthThresholds().validate() == HealthThresholds()
    for bad in ({"near_duplicate_distance": 64}, {"imbalance_ratio": 0.5},
                {"grayscale_fraction": 1.5}, {"min_train_images": 0}, {"tiny_side": "32"}):
        with pytest.raises(ConfigError) as e:
            HealthThresholds(**bad).validate()
        assert next(iter(bad)) in e.value.message and "Expected" in e.value.message
    with pytest.raises(ConfigError, match="Unknown health thresholds"):
        HealthThresholds.from_dict({"tiny": 3})
    t = HealthThresholds(tiny_side=8)
    assert HealthThresholds.from_dict(t.to_dict()) == t


def test_every_check_declares_what_it_produces(clean: Path) -> None:
    names = [n for c in DEFAULT_CHECKS for n in c.produces]
    assert len(names) == len(set(names))
    report = run(clean)
    assert checks(report) <= set(names)


def test_severity_is_checked() -> None:
    with pytest.raises(InternalError):
        Finding(check="x", severity="fatal", message="m")
    assert Finding(check="x", severity="info", message="m").count == 1


def test_info_fields_used_by_health_exist() -> None:
    # health reads only these ImageInfo fields; a rename in advisor.data must fail here
    used = {"md5", "width", "height", "mode", "format", "phash", "grayscale"}
    assert used <= set(ImageInfo.__dataclass_fields__)


def _png_header_only(w: int, h: int) -> bytes:
    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def test_bomb_at_the_default_limit(clean: Path) -> None:
    (clean / "val" / "cat" / "bomb.png").write_bytes(_png_header_only(50_000, 50_000))
    f = only(run(clean), "decompression_bomb")
    assert f.files == ("val/cat/bomb.png",) and "2,500,000,000" in f.message


def test_manifest_rows_with_unknown_splits_are_one_finding(tmp_path: Path) -> None:
    fill(tmp_path / "imgs", 26, 0)
    rows = ["path,label,split"] + [f"imgs/img_{i:04d}.png,{'ab'[i % 2]},train" for i in range(24)]
    rows += ["imgs/img_0024.png,a,holdout", "imgs/img_0025.png,b,dev"]
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    f = only(run(tmp_path / "m.csv"), "skipped_paths")
    assert f.severity == "warning" and f.details["reason"] == "unknown split in the manifest"
    assert f.files == ("imgs/img_0024.png", "imgs/img_0025.png")
