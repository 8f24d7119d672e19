"""predict(): exported model + labels.json on image files of any size; bad files reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from advisor.data import decode_image
from advisor.errors import InputError
from tests.conftest import write_image_folder
from tuner.data import prepare_data
from tuner.final import FinalRequest, Prediction, predict
from tuner.training import TrialRunner
from tuner.trial import TrialParams

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("predict")
    root = write_image_folder(base / "ds", {"blue": 10, "green": 10, "red": 10}, size=40)
    data = prepare_data(root, input_size=32, seed=0)
    r = TrialRunner(data, weights="none", seed=0)
    r.fit_final(FinalRequest(TrialParams(freeze_block=r.n_blocks, head_lr=1e-2, backbone_lr=1e-3,
                                         augmentation="off", epochs=2), str(base / "model")))
    return {"dir": base / "model", "root": root, "classes": data.classes}


def test_top_classes_match_the_model(exported: dict) -> None:
    import keras

    files = sorted(exported["root"].glob("*/img_00[0-2].png"))
    preds = predict(exported["dir"], files, top=2)
    assert [p.path for p in preds] == [str(f) for f in files]
    model = keras.saving.load_model(exported["dir"] / "model.keras")
    x = np.stack([decode_image(f.read_bytes(), 32).pixels for f in files]).astype(np.float32)
    probs = np.asarray(model.predict(x, verbose=0))
    for p, row in zip(preds, probs):
        assert p.error is None and len(p.top) == 2
        assert [lab for lab, _ in p.top] == [exported["classes"][i] for i in np.argsort(-row)[:2]]
        assert [pr for _, pr in p.top] == pytest.approx(sorted(row, reverse=True)[:2], abs=1e-6)
        assert p.label == p.top[0][0]


def test_any_size_and_mode_is_resized_and_top_is_clipped(exported: dict, tmp_path: Path) -> None:
    a = tmp_path / "wide.jpg"
    Image.new("RGB", (90, 50), (10, 200, 10)).save(a)
    b = tmp_path / "gray.png"
    Image.new("L", (20, 33), 128).save(b)
    preds = predict(exported["dir"] / "model.keras", [a, b], top=10)
    for p in preds:
        assert len(p.top) == 3 and sum(pr for _, pr in p.top) == pytest.approx(1.0, abs=1e-5)
        assert {lab for lab, _ in p.top} == set(exported["classes"])


def test_bad_files_are_reported_in_order(exported: dict, tmp_path: Path) -> None:
    good = next(exported["root"].glob("red/*.png"))
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    missing = tmp_path / "missing.jpg"
    preds = predict(exported["dir"], [junk, good, missing])
    assert [Path(p.path).name for p in preds] == ["junk.png", good.name, "missing.jpg"]
    assert preds[0].error and preds[0].top == () and preds[0].label is None
    assert preds[1].error is None and preds[1].top
    assert preds[2].error.startswith("cannot read")
    assert json.loads(json.dumps(preds[0].to_dict()))["error"] == preds[0].error
    assert isinstance(preds[1], Prediction)


def test_missing_model_or_mismatched_labels_are_input_errors(exported: dict, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="No exported model"):
        predict(tmp_path, [])
    copy = tmp_path / "m"
    shutil.copytree(exported["dir"], copy)
    (copy / "labels.json").write_text(json.dumps({"classes": ["only", "two"]}))
    with pytest.raises(InputError, match="labels.json does not match"):
        predict(copy, [])


def test_images_are_framed_as_in_training(exported: dict, tmp_path: Path) -> None:
    import keras

    assert json.loads((exported["dir"] / "labels.json").read_text())["framing"] == "squash"
    # A model whose output follows the mean colour, so framing shows in its probabilities.
    inp = keras.Input((32, 32, 3))
    dense = keras.layers.Dense(3, activation="softmax")
    model = keras.Model(inp, dense(keras.layers.GlobalAveragePooling2D()(inp)))
    dense.set_weights([np.eye(3, dtype=np.float32) / 50, np.zeros(3, np.float32)])
    folder = tmp_path / "m"
    folder.mkdir()
    model.save(folder / "model.keras")
    classes = ["r", "g", "b"]
    wide = tmp_path / "wide.png"
    a = np.zeros((30, 90, 3), np.uint8)
    a[:] = (255, 0, 0)
    a[:, 30:60] = (0, 255, 0)  # green centre, red sides
    Image.fromarray(a).save(wide)
    probs = {f: np.asarray(model.predict(decode_image(wide.read_bytes(), 32, framing=f)
                                         .pixels[None].astype(np.float32), verbose=0))[0]
             for f in ("squash", "crop")}
    assert probs["squash"].argmax() == 0 and probs["crop"].argmax() == 1
    for meta, f in (({"framing": "crop"}, "crop"), ({"framing": "squash"}, "squash"),
                    ({}, "squash")):  # an export older than the key was squashed
        (folder / "labels.json").write_text(json.dumps({"classes": classes, **meta}))
        got = dict(predict(folder, [wide], top=3)[0].top)
        assert got == pytest.approx(dict(zip(classes, probs[f].tolist())), abs=1e-5)
