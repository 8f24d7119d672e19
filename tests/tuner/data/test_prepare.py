"""prepare_data: splits (folders, stratified hold-outs), bad files, fingerprint, disk cache."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from advisor.errors import ConfigError, DatasetError
from tests.conftest import write_image_folder
from tuner.data import prepare_data

CLASSES = {"blue": 20, "green": 15, "red": 10}


@pytest.fixture
def flat(tmp_path: Path) -> Path:
    return write_image_folder(tmp_path / "flat", CLASSES, size=24)


@pytest.fixture
def split_dirs(tmp_path: Path) -> Path:
    root = tmp_path / "splits"
    write_image_folder(root, {"a": 12, "b": 8}, size=24, split="train", seed=1)
    write_image_folder(root, {"a": 5, "b": 5}, size=24, split="val", seed=2)
    return root


def _labels(data, split: str) -> Counter:
    return Counter(data.classes[i] for i in getattr(data, f"y_{split}"))


def test_flat_layout_holds_out_stratified_test_and_val(flat: Path) -> None:
    d = prepare_data(flat, input_size=20, val_fraction=0.2, test_fraction=0.2, seed=0)
    assert d.classes == ("blue", "green", "red")
    assert d.x_train.dtype == np.uint8 and d.x_train.shape[1:] == (20, 20, 3)
    for c, n in CLASSES.items():
        n_test = round(n * 0.2)
        n_val = round((n - n_test) * 0.2)
        assert _labels(d, "test")[c] == n_test
        assert _labels(d, "val")[c] == n_val
        assert _labels(d, "train")[c] == n - n_test - n_val
    files = d.files_train + d.files_val + d.files_test
    assert len(set(files)) == len(files) == sum(CLASSES.values())
    assert d.split_source["test"] == "stratified 20% of train, seed 0"
    assert "stratified 20%" in d.split_source["val"] and "seed 0" in d.split_source["val"]
    # each row's label matches its class folder
    for split in ("train", "val", "test"):
        for f, y in zip(getattr(d, f"files_{split}"), getattr(d, f"y_{split}")):
            assert f.split("/")[0] == d.classes[y]


def test_splits_are_reproducible_with_the_seed_and_change_with_it(flat: Path) -> None:
    a = prepare_data(flat, input_size=16, seed=3)
    b = prepare_data(flat, input_size=16, seed=3)
    c = prepare_data(flat, input_size=16, seed=4)
    assert a.files_test == b.files_test and a.files_val == b.files_val
    assert np.array_equal(a.x_train, b.x_train) and a.fingerprint == b.fingerprint
    assert (a.files_test, a.files_val) != (c.files_test, c.files_val)
    assert a.fingerprint != c.fingerprint


def test_val_folder_is_val_and_test_comes_from_train(split_dirs: Path) -> None:
    d = prepare_data(split_dirs, input_size=16, seed=0)
    assert d.split_source["val"] == "folder val/"
    assert d.split_source["test"].startswith("stratified 20% of train")
    assert all(f.startswith("val/") for f in d.files_val)
    assert all(f.startswith("train/") for f in d.files_test + d.files_train)
    assert _labels(d, "val") == {"a": 5, "b": 5}
    assert _labels(d, "test") == {"a": round(12 * 0.2), "b": round(8 * 0.2)}


def test_test_split_names_the_folder_used_as_test(split_dirs: Path) -> None:
    d = prepare_data(split_dirs, input_size=16, test_split="val", seed=0)
    assert d.split_source["test"] == "folder val/"
    assert all(f.startswith("val/") for f in d.files_test) and len(d.files_test) == 10
    assert all(f.startswith("train/") for f in d.files_val)
    assert d.split_source["val"].startswith("stratified 20% of train")


def test_test_folder_wins_and_conflicting_test_split_is_refused(split_dirs: Path) -> None:
    write_image_folder(split_dirs, {"a": 3, "b": 3}, size=24, split="test", seed=3)
    d = prepare_data(split_dirs, input_size=16)
    assert d.split_source == {"test": "folder test/", "val": "folder val/", "train": "folder train/"}
    assert len(d.files_test) == 6
    with pytest.raises(ConfigError, match="test/ folder"):
        prepare_data(split_dirs, input_size=16, test_split="val")


def test_missing_test_split_folder_is_a_dataset_error(flat: Path) -> None:
    with pytest.raises(DatasetError, match="No val/ folder"):
        prepare_data(flat, input_size=16, test_split="val")


def test_bad_files_are_reported_not_raised(flat: Path) -> None:
    (flat / "red" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (flat / "red" / "empty.jpg").write_bytes(b"")
    d = prepare_data(flat, input_size=16)
    reasons = {s.rel: s.reason for s in d.skipped}
    assert reasons["red/empty.jpg"].startswith("empty")
    assert "red/broken.png" in reasons
    used = d.files_train + d.files_val + d.files_test
    assert "red/broken.png" not in used and len(used) == sum(CLASSES.values())
    assert {"path": "red/empty.jpg", "reason": reasons["red/empty.jpg"]} in d.summary().to_dict()["skipped"]


def test_summary_is_json_without_arrays(flat: Path) -> None:
    d = prepare_data(flat, input_size=16)
    js = json.loads(json.dumps(d.summary().to_dict()))
    assert js["counts"]["train"] == d.counts("train")
    assert "x_train" not in js and js["fingerprint"] == d.fingerprint


def test_fingerprint_follows_content_and_input_size(flat: Path) -> None:
    a = prepare_data(flat, input_size=16)
    assert prepare_data(flat, input_size=20).fingerprint != a.fingerprint
    from PIL import Image

    Image.new("RGB", (24, 24), (1, 2, 3)).save(flat / "blue" / "img_000.png")
    assert prepare_data(flat, input_size=16).fingerprint != a.fingerprint


def test_cache_dir_reuses_decoded_arrays(flat: Path, tmp_path: Path) -> None:
    a = prepare_data(flat, input_size=16, cache_dir=tmp_path / "c")
    b = prepare_data(flat, input_size=16, cache_dir=tmp_path / "c")
    assert any("reused" in n for n in b.notes) and not any("reused" in n for n in a.notes)
    assert np.array_equal(a.x_val, b.x_val) and np.array_equal(a.y_test, b.y_test)
    assert (a.fingerprint, a.files_train, a.split_source) == (b.fingerprint, b.files_train,
                                                              b.split_source)
    (flat / "green" / "img_001.png").unlink()  # the file list changed: decode again
    c = prepare_data(flat, input_size=16, cache_dir=tmp_path / "c")
    assert not any("reused" in n for n in c.notes) and c.fingerprint != a.fingerprint


def test_framing_changes_pixels_and_fingerprint_not_files(tmp_path: Path) -> None:
    from PIL import Image

    root = tmp_path / "wide"
    for c, colour in (("a", (200, 0, 0)), ("b", (0, 0, 200))):
        (root / c).mkdir(parents=True)
        for i in range(6):
            arr = np.zeros((20, 60, 3), np.uint8)
            arr[:] = colour
            arr[:, :20] = (0, 255, 0)  # a green left third: squash keeps it, crop cuts it
            Image.fromarray(arr).save(root / c / f"{i}.png")
    sq = prepare_data(root, input_size=16, cache_dir=tmp_path / "c")
    cr = prepare_data(root, input_size=16, framing="crop", cache_dir=tmp_path / "c")
    assert (sq.framing, cr.framing) == ("squash", "crop")
    assert sq.files_train == cr.files_train and np.array_equal(sq.y_val, cr.y_val)
    assert sq.fingerprint != cr.fingerprint
    assert sq.x_train[:, :, 0, 1].min() > 200 and cr.x_train[..., 1].max() < 50
    again = prepare_data(root, input_size=16, framing="crop", cache_dir=tmp_path / "c")
    assert any("reused" in n for n in again.notes) and again.framing == "crop"
    assert np.array_equal(again.x_train, cr.x_train) and cr.summary().framing == "crop"
    with pytest.raises(ConfigError, match="framing"):
        prepare_data(root, input_size=16, framing="pad")


def test_bad_fractions_are_config_errors(flat: Path) -> None:
    with pytest.raises(ConfigError):
        prepare_data(flat, val_fraction=0.0)
    with pytest.raises(ConfigError):
        prepare_data(flat, test_fraction=1.0)
