"""scan_layout on every layout it understands, hostile names, and every input it must
refuse (with a message that says what was expected, received, and how to fix it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from advisor.data import scan_layout, subsample
from advisor.errors import DatasetError, InputError


def put(path: Path, colour: tuple[int, int, int] = (200, 30, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), colour).save(path, "PNG")
    return path


def folder(root: Path, spec: dict[str, int], split: str | None = None) -> Path:
    for label, n in spec.items():
        for i in range(n):
            put((root / split if split else root) / label / f"{i}.png")
    return root


def assert_helpful(err: DatasetError) -> None:
    assert isinstance(err, InputError) and err.exit_code == 2
    assert err.expected and err.received and err.fix
    assert "Expected:" in err.message and "Fix:" in err.message


# ------------------------------------------------------------------ layouts

def test_flat(tmp_path: Path) -> None:
    idx = scan_layout(folder(tmp_path / "ds", {"b": 2, "a": 3}))
    assert (idx.layout, idx.classes, idx.splits) == ("flat", ("a", "b"), ())
    assert idx.counts(None) == {"a": 3, "b": 2} == idx.counts()
    assert {i.split for i in idx.items} == {None}
    assert idx.items[0].rel == "a/0.png" and idx.items[0].path.is_file()


def test_splits_with_valid_alias(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    folder(root, {"a": 3, "b": 3}, "train")
    folder(root, {"a": 1, "b": 2}, "valid")
    folder(root, {"a": 1, "b": 1}, "Test")
    idx = scan_layout(root)
    assert (idx.layout, idx.splits, idx.classes) == ("splits", ("train", "val", "test"), ("a", "b"))
    assert idx.counts("val") == {"a": 1, "b": 2} and idx.counts("test") == {"a": 1, "b": 1}
    assert [i.rel for i in idx.items if i.split == "val"] == ["valid/a/0.png", "valid/b/0.png",
                                                             "valid/b/1.png"]
    assert idx.notes == ()


def test_split_without_train_is_noted(tmp_path: Path) -> None:
    idx = scan_layout(folder(tmp_path / "ds", {"a": 2, "b": 2}, "val"))
    assert idx.splits == ("val",) and any("no train split" in n for n in idx.notes)


def test_two_folders_for_one_split(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    folder(root, {"a": 1, "b": 1}, "val")
    folder(root, {"a": 1, "b": 1}, "validation")
    with pytest.raises(DatasetError, match="same split") as e:
        scan_layout(root)
    assert_helpful(e.value)


def test_nested_files_take_the_class_folder_label(tmp_path: Path) -> None:
    root = folder(tmp_path / "ds", {"a": 1, "b": 1})
    put(root / "a" / "sub" / "deeper.png")
    idx = scan_layout(root)
    assert idx.counts() == {"a": 2, "b": 1}
    assert "a/sub/deeper.png" in {i.rel for i in idx.items}


def test_skipped_and_empty_are_recorded(tmp_path: Path) -> None:
    root = folder(tmp_path / "ds", {"a": 2, "b": 2}, "train")
    folder(root, {"a": 1, "b": 1}, "val")
    (root / "train" / "notes.md").write_text("x")
    (root / "train" / "a" / ".DS_Store").write_text("x")
    (root / "train" / ".cache").mkdir()
    put(root / "train" / ".cache" / "c" / "x.png")
    (root / "val" / "c").mkdir()
    os.symlink(root / "nowhere.png", root / "train" / "b" / "dangling.png")
    idx = scan_layout(root)
    skipped = {s.rel: s.reason for s in idx.skipped}
    assert skipped == {"train/notes.md": "file outside any class folder",
                       "train/a/.DS_Store": "hidden file",
                       "train/b/dangling.png": "broken symbolic link"}
    assert idx.empty_classes == ("val/c",)
    assert idx.classes == ("a", "b") and len(idx.items) == 6
    assert idx.to_dict()["skipped"][0].keys() == {"path", "reason"}


def test_manifest_with_missing_rows(tmp_path: Path) -> None:
    for i in range(3):
        put(tmp_path / "imgs" / f"{i}.png")
    (tmp_path / "list.csv").write_text(
        "Path,Label,Split\n"
        "imgs/0.png,cat,train\n"
        "imgs/1.png,dog,Training\n"
        "imgs/2.png,dog,valid\n"
        "imgs/missing.png,cat,train\n"
        ",cat,train\n"
        "imgs/0.png,cat,holdout\n")
    idx = scan_layout(tmp_path / "list.csv")
    assert (idx.layout, idx.classes, idx.splits) == ("csv", ("cat", "dog"), ("train", "val"))
    assert [(i.rel, i.label, i.split) for i in idx.items] == [
        ("imgs/0.png", "cat", "train"), ("imgs/1.png", "dog", "train"),
        ("imgs/2.png", "dog", "val")]
    reasons = {s.rel: s.reason for s in idx.skipped}
    assert reasons["imgs/missing.png"] == "listed in list.csv line 5 but not found"
    assert reasons["list.csv:6"] == "row without path or label"
    assert "unknown split 'holdout'" in reasons["imgs/0.png"]  # never silently training data
    assert idx.manifest == tmp_path / "list.csv"


def test_manifest_without_split_column(tmp_path: Path) -> None:
    put(tmp_path / "x.png")
    put(tmp_path / "y.png", (0, 0, 200))
    (tmp_path / "m.csv").write_text("path,label\nx.png,red\ny.png,blue\n")
    idx = scan_layout(tmp_path / "m.csv")
    assert idx.splits == () and idx.counts() == {"blue": 1, "red": 1}


def test_manifest_without_the_columns(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("file,class\nx.png,red\n")
    with pytest.raises(DatasetError, match="no 'path' and 'label' columns") as e:
        scan_layout(tmp_path / "m.csv")
    assert_helpful(e.value)
    assert "file" in e.value.received


def test_hostile_names(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    xss = "<img src=x onerror=alert(1)>"
    names = ["with space.png", "ünïcødé 图像.png", "-leading-dash.png", "quote'\"s.png"]
    try:
        put(tmp_path / "probe\nline.png")
        names.append("new\nline.png")
    except OSError:  # a filesystem without newlines in names
        pass
    for label in (xss, "-dash class"):
        for n in names:
            put(root / label / n)
    idx = scan_layout(root)
    assert idx.classes == tuple(sorted((xss, "-dash class")))
    assert idx.counts() == {xss: len(names), "-dash class": len(names)}
    rels = {i.rel for i in idx.items}
    assert f"{xss}/with space.png" in rels and f"-dash class/{names[1]}" in rels
    assert all(i.path.is_file() for i in idx.items)


# ------------------------------------------------------------------ refusals

def test_mixed_split_and_class_folders(tmp_path: Path) -> None:
    root = folder(tmp_path / "ds", {"a": 1, "b": 1}, "train")
    folder(root, {"cats": 1})
    with pytest.raises(DatasetError, match="mixes split folders") as e:
        scan_layout(root)
    assert_helpful(e.value)
    assert "cats" in e.value.received


def test_one_class(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="at least two classes") as e:
        scan_layout(folder(tmp_path / "ds", {"only": 3}))
    assert_helpful(e.value)
    assert "'only'" in e.value.received and "3 files" in e.value.received


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "ds" / "a").mkdir(parents=True)
    (tmp_path / "ds" / "b").mkdir()
    with pytest.raises(DatasetError, match="No image files") as e:
        scan_layout(tmp_path / "ds")
    assert_helpful(e.value)
    assert "2 empty class folders" in e.value.received


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist") as e:
        scan_layout(tmp_path / "nope")
    assert_helpful(e.value)


def test_file_instead_of_folder(tmp_path: Path) -> None:
    f = put(tmp_path / "one.png")
    with pytest.raises(DatasetError, match="is a file, not a dataset") as e:
        scan_layout(f)
    assert_helpful(e.value)
    assert ".png" in e.value.received


# ------------------------------------------------------------------ subsample

def test_subsample_is_stratified_and_seeded(tmp_path: Path) -> None:
    root = folder(tmp_path / "ds", {"a": 30, "b": 10}, "train")
    folder(root, {"a": 10, "b": 10}, "val")
    idx = scan_layout(root)
    sub = subsample(idx, 30, seed=1)
    assert len(sub.items) == 30
    assert sub.counts("train") == {"a": 15, "b": 5} and sub.counts("val") == {"a": 5, "b": 5}
    assert sub.items == subsample(idx, 30, seed=1).items != subsample(idx, 30, seed=2).items
    assert sub.classes == idx.classes and "stratified subsample" in sub.notes[-1]
    assert subsample(idx, None) is idx and subsample(idx, 1000) is idx
    with pytest.raises(DatasetError, match="too small") as e:
        subsample(idx, 3)
    assert_helpful(e.value)
