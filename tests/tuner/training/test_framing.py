"""choose_framing: the probe compares framings on the same images and follows the evidence;
tune() records the choice, resumes with it and frames the data with it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from advisor.backbones import get_backbone, resolve_weights
from advisor.errors import ConfigError
from tuner.data import prepare_data
from tuner.training import FramingChoice, choose_framing

pytestmark = pytest.mark.slow

SPEC = get_backbone("mobilenet_v2")


def border_classes(root: Path, n: int = 16, size: tuple[int, int] = (192, 128),
                   seed: int = 0) -> Path:
    """Two classes told apart only by a 6-pixel frame (red or blue) around the same kind
    of noise, in ``size`` (width, height) images: squashing keeps the frame, cropping
    cuts it (at least 8 pixels per side at a 128-pixel short side)."""
    rng = np.random.default_rng(seed)
    for name, colour in (("red", (255, 0, 0)), ("blue", (0, 0, 255))):
        (root / name).mkdir(parents=True)
        for i in range(n):
            a = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            for sl in (np.s_[:6], np.s_[-6:], np.s_[:, :6], np.s_[:, -6:]):
                a[sl] = colour
            Image.fromarray(a).save(root / name / f"{i:02d}.png")
    return root


def framed(root: Path, **kw):
    """``prepare(framing)`` for :func:`choose_framing`."""
    data = {f: prepare_data(root, input_size=64, framing=f, **kw) for f in ("squash", "crop")}
    return data.__getitem__


def test_a_signal_in_the_border_keeps_squash(tmp_path: Path, imagenet_weights: Path) -> None:
    data = framed(border_classes(tmp_path / "ds"))
    c = choose_framing(data, SPEC, resolve_weights(SPEC, str(imagenet_weights)), seed=0)
    assert c.framing == "squash"
    assert c.accuracy["squash"] >= 0.95 and c.accuracy["crop"] <= 0.8  # crop: near chance
    assert c.difference == pytest.approx(c.accuracy["crop"] - c.accuracy["squash"])
    assert c.std_error > 0 and (c.folds, c.repeats) == (5, 3)
    n = len(data("squash").y_train) + len(data("squash").y_val)
    assert c.n_images == n  # train + val, never test
    assert "crop - squash" in c.reason and c.non_square == 1.0
    assert FramingChoice.from_dict(json.loads(json.dumps(c.to_dict()))) == c


def test_sampling_caps_the_images_and_mismatched_data_is_refused(tmp_path: Path) -> None:
    root = border_classes(tmp_path / "ds")
    data = framed(root)
    c = choose_framing(data, SPEC, resolve_weights(SPEC, "none"), max_images=12)
    assert c.n_images == 12
    other = prepare_data(root, input_size=64, framing="crop", seed=1)  # other splits
    with pytest.raises(ConfigError, match="different images"):
        choose_framing({"squash": data("squash"), "crop": other}.__getitem__, SPEC,
                       resolve_weights(SPEC, "none"))


def test_square_images_keep_squash_without_measuring(tmp_path: Path) -> None:
    root = border_classes(tmp_path / "ds", size=(128, 128))
    asked: list[str] = []

    def prepare(f: str):
        asked.append(f)
        return prepare_data(root, input_size=64, framing=f)

    c = choose_framing(prepare, SPEC, resolve_weights(SPEC, "none"))
    assert asked == ["squash"]  # crop is not even decoded
    assert c.framing == "squash" and c.accuracy == {} and c.non_square == 0.0
    assert "square" in c.reason and c.folds == 0


def test_too_few_images_to_cross_validate_keep_squash_and_say_why(tmp_path: Path) -> None:
    root = border_classes(tmp_path / "ds", n=16)
    for p in sorted((root / "blue").iterdir())[2:]:
        p.unlink()  # 2 blue images: after the test and val hold-outs, one or none is left
    data = framed(root)
    c = choose_framing(data, SPEC, resolve_weights(SPEC, "none"))
    assert c.framing == "squash" and c.accuracy == {} and "too few" in c.reason


def test_tune_records_the_probe_and_frames_every_split_with_its_choice(tmp_path: Path) -> None:
    from tuner import tune
    from tuner.run import load_config
    root = border_classes(tmp_path / "ds", n=12)
    kw = dict(trials=1, scenario="feature_extractor", weights="none", input_size=64,
              epochs=1, isolate=False)
    auto = tune(root, out=tmp_path / "auto", **kw)
    choice = load_config(tmp_path / "auto").framing_choice
    assert choice.non_square == 1.0 and set(choice.accuracy) == {"squash", "crop"}
    assert auto.config.framing == "auto" and auto.config.framing_choice == choice
    assert auto.data.framing == auto.final.framing == choice.framing
    forced = tune(root, out=tmp_path / "crop", framing="crop", **kw)
    assert forced.config.framing_choice is None and "framing_s" not in forced.timings
    assert forced.data.framing == "crop"
    labels = json.loads(Path(forced.final.labels_path).read_text())
    assert labels["framing"] == "crop"
