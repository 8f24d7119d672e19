"""The split-shift check on hand-made features: a val/ class that does not look like
its train/ class is reported; a different class mix alone, or noise, is not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from advisor.data import scan_files, scan_layout
from advisor.errors import InputError
from advisor.health import HealthThresholds, SplitShift, find_issues
from advisor.health._data import HealthData
from tests.advisor.health.test_checks import fill

DIM = 32


def split_dataset(root: Path, counts: dict[tuple[str, str], int]) -> tuple:
    """16-px images, ``counts[(split, class)]`` of each, scanned: ``(index, files)``."""
    for k, ((split, cls), n) in enumerate(counts.items()):
        fill(root / split / cls, n, 100 * k, size=16)
    index = scan_layout(root)
    return index, scan_files(index, workers=2)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple:
    """train/ 12 cats + 40 dogs, val/ 30 cats + 6 dogs: so unlike a class mix that a
    probe pooling the classes would tell the splits apart with AUC 0.80."""
    return split_dataset(tmp_path_factory.mktemp("splits"),
                         {("train", "cat"): 12, ("train", "dog"): 40,
                          ("val", "cat"): 30, ("val", "dog"): 6})


def features(files, shift: dict[tuple[str, str], float], seed: int = 0) -> np.ndarray:
    """Cats and dogs far apart (so the class mix alone would be easy to see), plus
    ``shift`` added to the first 8 dimensions of the (split, class) groups it names."""
    rng = np.random.default_rng(seed)
    ok = [f for f in files if f.ok]
    x = rng.normal(size=(len(ok), DIM))
    for i, f in enumerate(ok):
        x[i, 8:16] += 4.0 * (f.item.label == "dog")
        x[i, :8] += shift.get((f.item.split, f.item.label), 0.0)
    return x


def split_findings(index, files, x, **t):
    th = HealthThresholds(input_size=16, **t)
    return find_issues(index, files, th, features=x).by_check("split_shift")


def test_shifted_class_is_reported_with_its_numbers(dataset) -> None:
    index, files = dataset
    found = split_findings(index, files, features(files, {("val", "cat"): 1.5}))
    assert len(found) == 1
    f = found[0]
    assert f.severity == "warning" and f.classes == ("cat",)
    assert f.details["split"] == "val" and f.details["images"]["cat"] == [12, 30]
    assert f.details["auc"]["cat"] > 0.9 and f.value == f.details["auc"]["cat"]
    assert f.details["auc"]["dog"] < 0.7 and f.threshold == 0.7
    assert "val/" in f.message and "'cat'" in f.message


def test_no_shift_and_a_different_class_mix_find_nothing(dataset) -> None:
    index, files = dataset
    for seed in range(3):
        assert split_findings(index, files, features(files, {}, seed)) == []


def test_threshold_decides(dataset) -> None:
    index, files = dataset
    x = features(files, {("val", "cat"): 0.8})
    auc = split_findings(index, files, x)[0].value
    assert 0.7 < auc < 0.99
    assert split_findings(index, files, x, split_shift_auc=0.99) == []


def test_too_few_images_in_a_class_are_not_judged(dataset) -> None:
    index, files = dataset
    x = features(files, {("val", "dog"): 3.0})  # 6 val dogs: judged at the default 5
    assert split_findings(index, files, x)[0].classes == ("dog",)
    assert split_findings(index, files, x, min_eval_images=10) == []
    assert split_findings(index, files, x, min_eval_images=1)[0].classes == ("dog",)


def test_without_features_nothing_is_measured(dataset) -> None:
    index, files = dataset
    assert find_issues(index, files, HealthThresholds(input_size=16)).by_check("split_shift") == []
    assert SplitShift().find_issues(HealthData(index, files)) == []


def test_features_must_match_the_files(dataset) -> None:
    index, files = dataset
    with pytest.raises(InputError, match="Features do not match"):
        HealthData(index, files, np.zeros((3, DIM)))


def test_layout_without_splits_finds_nothing(tmp_path: Path) -> None:
    fill(tmp_path / "cat", 10, 0, size=16)
    fill(tmp_path / "dog", 10, 100, size=16)
    index = scan_layout(tmp_path)
    files = scan_files(index, workers=2)
    x = np.random.default_rng(0).normal(size=(20, DIM))
    assert split_findings(index, files, x) == []


def test_threshold_range_is_checked() -> None:
    from advisor.errors import ConfigError

    with pytest.raises(ConfigError, match="split_shift_auc"):
        HealthThresholds(split_shift_auc=0.4).validate()


def test_a_class_of_one_image_is_skipped_even_when_the_threshold_allows_it(tmp_path) -> None:
    index, files = split_dataset(tmp_path, {("train", "cat"): 6, ("train", "dog"): 10,
                                            ("val", "cat"): 1, ("val", "dog"): 10})
    x = features(files, {("val", "cat"): 5.0, ("val", "dog"): 5.0})
    (f,) = split_findings(index, files, x, min_eval_images=1)
    assert f.classes == ("dog",) and set(f.details["auc"]) == {"dog"}


def test_manifest_rows_without_a_split_are_training_images(tmp_path) -> None:
    rows = ["path,label,split"]
    for cls, seed in (("cat", 0), ("dog", 100)):
        for i, p in enumerate(fill(tmp_path / "img" / cls, 24, seed, size=16)):
            split = "val" if i < 12 else ("train" if i < 18 else "")  # 6 + 6 unsplit rows
            rows.append(f"{p.relative_to(tmp_path).as_posix()},{cls},{split}")
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    index = scan_layout(tmp_path / "m.csv")
    files = scan_files(index, workers=2)
    (f,) = split_findings(index, files, features(files, {("val", "cat"): 3.0}))
    assert f.classes == ("cat",) and f.details["images"]["cat"] == [12, 12]
    assert f.message.startswith("The val split does not look like the train split")
