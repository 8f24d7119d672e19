"""fit_final: the trial protocol retrained, one test evaluation, exports that load and
predict raw images exactly like the evaluated model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from advisor.errors import ConfigError
from tests.conftest import write_image_folder
from tests.tuner.conftest import trial_params
from tuner.data import prepare_data
from tuner.final import FinalRequest, FinalResult
from tuner.training import TrialRunner

pytestmark = pytest.mark.slow


params = trial_params


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = write_image_folder(tmp_path_factory.mktemp("final") / "ds",
                              {"blue": 14, "green": 14, "red": 10}, size=40)
    return prepare_data(root, input_size=32, seed=0)


def _load(path: Path):
    import keras

    return keras.saving.load_model(path)


@pytest.mark.filterwarnings("ignore::UserWarning:tensorflow.lite.python.interpreter")
def test_final_model_exports_and_matches_its_evaluation(data, tmp_path: Path) -> None:
    r = TrialRunner(data, weights="none", seed=0)
    p = params(r.n_blocks - 1, augmentation="light")
    trial = r.run(p)
    res = r.fit_final(FinalRequest(p, str(tmp_path / "model"),
                                   export=("keras", "savedmodel", "tflite")))

    # the shipped model is the one the trial protocol selected
    assert res.val_accuracy == trial.val_accuracy and res.history == trial.history
    assert res.n_test == len(data.y_test) and res.test_source == data.split_source["test"]
    assert res.classes == data.classes and res.input_size == 32
    assert sum(map(sum, res.confusion)) == res.n_test
    assert [c.support for c in res.per_class] == [int((data.y_test == i).sum())
                                                 for i in range(data.n_classes)]

    out = tmp_path / "model"
    assert set(res.exports) == {"keras", "savedmodel", "tflite"}
    assert (out / "savedmodel" / "saved_model.pb").is_file()
    labels = json.loads((out / "labels.json").read_text())
    assert labels["classes"] == list(data.classes) and labels["input_size"] == 32
    assert FinalResult.from_dict(json.loads((out / "final.json").read_text())) == res
    assert FinalResult.from_dict(res.to_dict()) == res

    # model.keras takes raw uint8 images and reproduces the reported test evaluation
    model = _load(out / "model.keras")
    assert tuple(model.input_shape[1:]) == (32, 32, 3)
    probs = np.asarray(model.predict(data.x_test, verbose=0))
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    pred = probs.argmax(axis=1)
    assert float(np.mean(pred == data.y_test)) == pytest.approx(res.test_accuracy)
    cm = np.zeros((data.n_classes,) * 2, int)
    np.add.at(cm, (data.y_test, pred), 1)
    assert cm.tolist() == [list(r) for r in res.confusion]
    wrong = {m.path: m for m in res.misclassified}
    assert set(wrong) == {f for f, ok in zip(data.files_test, pred == data.y_test) if not ok}
    for i, f in enumerate(data.files_test):
        if f in wrong:
            assert wrong[f].confidence == pytest.approx(probs[i].max(), abs=1e-5)

    # the TFLite export gives the same probabilities
    import tensorflow as tf

    interp = tf.lite.Interpreter(model_path=res.exports["tflite"])
    interp.allocate_tensors()
    inp, outp = interp.get_input_details()[0], interp.get_output_details()[0]
    interp.set_tensor(inp["index"], data.x_test[:1].astype(np.float32))
    interp.invoke()
    assert np.allclose(interp.get_tensor(outp["index"]), probs[:1], atol=1e-4)


def test_feature_extractor_final_with_real_weights(tmp_path: Path, imagenet_weights: Path) -> None:
    root = write_image_folder(tmp_path / "ds", {"blue": 30, "green": 30, "red": 30}, size=40)
    d = prepare_data(root, input_size=64, val_fraction=0.3, seed=0)
    r = TrialRunner(d, weights=str(imagenet_weights), seed=0)
    p = params(r.n_blocks, head_lr=3e-3, epochs=30, patience=30)
    res = r.fit_final(FinalRequest(p, str(tmp_path / "m")))
    assert res.test_accuracy >= 0.8  # chance is 0.33
    # the trial trains a head alone, the final fit the whole network: same result
    assert r.run(p).history == res.history
    assert res.macro_f1 == pytest.approx(np.mean([c.f1 for c in res.per_class]))
    model = _load(tmp_path / "m" / "model.keras")
    pred = np.asarray(model.predict(d.x_test, verbose=0)).argmax(axis=1)
    assert float(np.mean(pred == d.y_test)) == pytest.approx(res.test_accuracy)


def test_unknown_export_format_is_refused_before_training(data, tmp_path: Path) -> None:
    r = TrialRunner(data, weights="none")
    with pytest.raises(ConfigError, match="export"):
        r.fit_final(FinalRequest(params(0), str(tmp_path / "m"), export=("keras", "onnx")))
    assert not (tmp_path / "m").exists()


def test_refit_trains_on_train_plus_val_for_the_given_epochs(data, tmp_path: Path) -> None:
    from tuner.final import REFIT_PROTOCOL
    from tuner.trial import refit_epochs

    r = TrialRunner(data, weights="none", seed=0, cache_dir=tmp_path / "cache")
    p = params(r.n_blocks - 2, epochs=4, patience=1)
    trial = r.run(p)
    plan = refit_epochs([h.to_dict() for h in trial.history])
    assert plan is not None and plan["head"] >= 1
    res = r.fit_final(FinalRequest(p, str(tmp_path / "model"), refit_epochs=plan,
                                   search_val=trial.val_accuracy))
    assert res.train_protocol == REFIT_PROTOCOL and res.val_accuracy == trial.val_accuracy
    # exactly the planned epochs, no early stop, on train + val
    assert [h.phase for h in res.history] == (["head"] * plan["head"]
                                              + ["finetune"] * plan.get("finetune", 0))
    assert any("refit on train + val" in n for n in res.notes)
    merged = data.with_val_in_train()
    assert len(merged.y_train) == len(data.y_train) + len(data.y_val)
    assert merged.fingerprint != data.fingerprint
    assert merged.files_train[-len(data.files_val):] == data.files_val
    assert res.n_test == len(data.y_test)  # the test split is untouched
    # fixed epochs: a plan longer than patience allows still runs in full
    res2 = r.fit_final(FinalRequest(p, str(tmp_path / "m2"),
                                    refit_epochs={"head": 3, "finetune": 2}))
    assert [h.phase for h in res2.history] == ["head"] * 3 + ["finetune"] * 2
