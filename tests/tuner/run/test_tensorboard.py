"""TensorBoard logs of a real sweep, read back with TensorBoard's own event reader: one
folder per finished trial with its per-epoch scalars, its HParams session and outcome, and
the experiment's HParams configuration."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tuner import SweepResult, tune
from tuner.run import TENSORBOARD_DIR, TensorBoardLog
from tuner.trial import TrialParams

pytest.importorskip("tensorboard")

EPOCH_TAGS = {"accuracy/train": "train_accuracy", "accuracy/val": "val_accuracy",
              "loss/train": "train_loss", "loss/val": "val_loss"}


def _read(folder: Path):
    from tensorboard.backend.event_processing import plugin_event_accumulator

    acc = plugin_event_accumulator.EventAccumulator(str(folder))
    acc.Reload()
    return acc


def _scalars(acc, tag: str) -> dict[int, float]:
    from tensorboard.util import tensor_util

    return {e.step: float(tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)}


def _value(v) -> object:
    """A ``google.protobuf.Value`` (an HParams value) as Python."""
    return getattr(v, v.WhichOneof("kind"))


def _hparams(acc) -> dict:
    """The tag -> parsed HParams plugin data of one run."""
    from tensorboard.plugins.hparams import metadata

    content = acc.PluginTagToContent(metadata.PLUGIN_NAME)
    parse = {metadata.EXPERIMENT_TAG: metadata.parse_experiment_plugin_data,
             metadata.SESSION_START_INFO_TAG: metadata.parse_session_start_info_plugin_data,
             metadata.SESSION_END_INFO_TAG: metadata.parse_session_end_info_plugin_data}
    return {tag: parse[tag](c) for tag, c in content.items()}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> SweepResult:
    """A real 2-trial sweep in this process, as small as tune() goes: the smallest
    backbone, random weights, 32 px, 2 epochs, no refit."""
    from tests.conftest import write_image_folder

    base = tmp_path_factory.mktemp("tb")
    ds = write_image_folder(base / "ds", {"red": 12, "green": 12})
    return tune(ds, out=base / "run", trials=2, scenario="feature_extractor", weights="none",
                backbone="mobilenet_v2_035", input_size=32, epochs=2, framing="squash",
                refit=False, isolate=False)


@pytest.mark.slow
def test_every_finished_trial_has_its_scalars_and_hparams(sweep: SweepResult) -> None:
    from tensorboard.plugins.hparams import api_pb2, metadata

    root = Path(sweep.run_dir) / TENSORBOARD_DIR
    d = json.loads((Path(sweep.run_dir) / "results.json").read_text())
    assert d["tensorboard"] == str(root)
    finished = sweep.finished_trials
    assert len(finished) == 2
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == [
        f"trial_{t.number:04d}" for t in finished]
    for t in finished:
        folder = root / f"trial_{t.number:04d}"
        assert len(list(folder.glob("events.out.tfevents.*"))) == 1
        acc = _read(folder)
        assert t.history and len(t.history) == t.epochs_run
        for tag, key in EPOCH_TAGS.items():
            got = _scalars(acc, tag)
            assert sorted(got) == [h["epoch"] for h in t.history]
            for h in t.history:
                assert got[h["epoch"]] == pytest.approx(h[key], rel=1e-6)
        assert list(_scalars(acc, "best/val_accuracy").values()) == pytest.approx(
            [t.val_accuracy], rel=1e-6)
        assert list(_scalars(acc, "trial/epochs").values()) == [t.epochs_run]
        hp = _hparams(acc)
        start = hp[metadata.SESSION_START_INFO_TAG]
        assert start.group_name == f"trial_{t.number:04d}"
        values = {k: _value(v) for k, v in start.hparams.items()}
        assert values["state"] == t.state
        for k, v in t.params.items():
            if v is not None:
                assert values[k] == (pytest.approx(v) if isinstance(v, float) else v), k
        assert t.params["optimizer"] == values["optimizer"] == "adam"  # a newer field too
        assert hp[metadata.SESSION_END_INFO_TAG].status == api_pb2.STATUS_SUCCESS

    experiment = _hparams(_read(root))[metadata.EXPERIMENT_TAG]
    infos = {h.name: h for h in experiment.hparam_infos}
    for dim in sweep.config.space.dimensions():  # the searched ones, with their domains
        info = infos[dim.name]
        if dim.kind == "float":
            assert (info.domain_interval.min_value, info.domain_interval.max_value) == (
                dim.low, dim.high)
        else:
            assert sorted(_value(v) for v in info.domain_discrete.values) == sorted(dim.choices)
    assert {f for f in TrialParams.__dataclass_fields__} | {"state"} <= set(infos)
    assert infos["optimizer"].type == api_pb2.DATA_TYPE_STRING  # fixed: typed, no domain
    assert infos["epochs"].type == api_pb2.DATA_TYPE_FLOAT64
    assert "best/val_accuracy" in {m.name.tag for m in experiment.metric_infos}


@pytest.mark.slow
def test_a_trial_written_again_replaces_its_log_and_failed_trials_get_none(
        sweep: SweepResult, tmp_path: Path) -> None:
    t = sweep.finished_trials[0]
    log = TensorBoardLog(sweep.run_dir)
    folder = log.trial_dir(t.number)
    before = list(folder.glob("events.out.tfevents.*"))
    changed = replace(t, val_accuracy=0.125)
    assert log.write_trial(changed)
    after = list(folder.glob("events.out.tfevents.*"))
    assert len(before) == len(after) == 1
    assert list(_scalars(_read(folder), "best/val_accuracy").values()) == [0.125]
    assert log.write_trial(t)  # put back the recorded value for the other tests

    other = TensorBoardLog(tmp_path)
    assert not other.write_trial(replace(t, state="FAIL", number=99))
    assert not (tmp_path / TENSORBOARD_DIR).exists()
