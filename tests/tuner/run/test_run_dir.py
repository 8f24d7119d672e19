"""Run directory, configuration, atomic results, importances, and resume rules."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from advisor.errors import ConfigError, InputError
from tuner.search._importance import param_importances
from tuner.run import SweepResult
from tuner.trial import TrialRecord
from tuner.search._space import SearchSpace
from advisor.io import write_json_atomic
from tuner.run import (SweepConfig, load_config, new_run_dir, redact_url, reproduce_command,
                       save_config)

N = 18


def config(**kw) -> SweepConfig:
    base = dict(dataset="/data/ds", dataset_fingerprint="abc", n_images=30, classes=("a", "b"),
                backbone="mobilenet_v2", weights="imagenet", input_size=160, test_split=None,
                max_images=None, seed=0, backend="optuna", storage=None, trials=30, epochs=10,
                patience=3, scenario=None, advice=None,
                space=SearchSpace.from_advice(None, N), export=("keras",))
    base.update(kw)
    return SweepConfig(**base)


def test_config_round_trip_and_changed_keys(tmp_path):
    c = config()
    save_config(tmp_path, c)
    assert load_config(tmp_path) == c
    other = replace(c, seed=1, input_size=128, trials=50, export=("keras", "tflite"))
    assert c.changed_keys(other) == ["input_size", "seed"]  # trials/export may change


def test_load_config_errors(tmp_path):
    with pytest.raises(InputError):
        load_config(tmp_path / "nothing")
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(InputError):
        load_config(tmp_path)


def test_write_json_atomic_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "results.json"
    write_json_atomic(target, {"a": [1, 2]})
    write_json_atomic(target, {"a": [3]})
    assert json.loads(target.read_text()) == {"a": [3]}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_new_run_dir_names_and_refuses_an_existing_sweep(tmp_path):
    a = new_run_dir(tmp_path / "my data", root=tmp_path / "runs")
    b = new_run_dir(tmp_path / "my data", root=tmp_path / "runs")
    assert a != b and a.parent == b.parent == tmp_path / "runs"
    assert a.name.endswith("-my-data")
    out = new_run_dir("x", out=tmp_path / "out")
    save_config(out, config())
    with pytest.raises(ConfigError):
        new_run_dir("x", out=out)


def test_redact_and_reproduce_command(tmp_path):
    assert redact_url("postgresql://me:secret@host/db") == "postgresql://me:***@host/db"
    assert redact_url("sqlite:///a/b.db") == "sqlite:///a/b.db"
    cmd = reproduce_command(config(scenario="partial_freeze", max_images=100,
                                   advice={"scenario": "x"}), tmp_path)
    for part in ("tltune /data/ds", "--trials 30", "--scenario partial_freeze",
                 "--max-images 100", "--seed 0", f"--advice {tmp_path / 'advice.json'}",
                 "--framing squash"):
        assert part in cmd
    assert "--framing auto" in reproduce_command(config(framing="auto"), tmp_path)


def record(n: int, sampled: dict, acc: float, state: str = "COMPLETE") -> TrialRecord:
    space = SearchSpace.from_advice(None, N)
    return TrialRecord(number=n, state=state, params=space.params(sampled).to_dict(),
                       sampled=sampled, val_accuracy=acc)


def test_importances_need_two_complete_trials_and_rank_the_parameter_that_matters():
    space = SearchSpace.from_advice(None, N)
    assert param_importances(space, [record(0, space.first(), 0.5)])[0] is None
    trials = []
    for i in range(12):  # accuracy depends on freeze depth only
        s = dict(space.first(), freeze_block=space.freeze_blocks[i % len(space.freeze_blocks)],
                 dropout=0.05 * (i % 7))
        trials.append(record(i, s, 0.3 + 0.03 * s["freeze_block"]))
    imp, note = param_importances(space, trials)
    assert imp is not None and max(imp, key=imp.get) == "freeze_block", note
    assert param_importances(space, [record(i, space.first(), 0.5) for i in range(3)])[0] is None


@pytest.mark.slow
def test_results_json_is_complete(done_sweep):
    assert done_sweep["returncode"] == 0, done_sweep["stderr"][-3000:]
    run: Path = done_sweep["run"]
    d = json.loads((run / "results.json").read_text())
    assert d["status"] == "done" and d["n_requested"] == 3 and d["n_finished"] == 3
    assert d["state_counts"] == {"COMPLETE": 3}
    for t in d["trials"]:
        assert set(t["params"]) >= {"freeze_block", "head_lr", "backbone_lr", "dropout",
                                    "augmentation", "label_smoothing", "batch_size", "epochs"}
        assert t["state"] == "COMPLETE" and 0.0 <= t["val_accuracy"] <= 1.0
        assert t["seconds"] > 0 and t["started"] and t["finished"]
        assert len(t["history"]) == t["epochs_run"] >= 1
        assert {"train_accuracy", "val_accuracy", "val_loss", "phase"} <= set(t["history"][0])
    search_best = max((t for t in d["trials"]),
                      key=lambda t: (t["val_accuracy"], -t["val_loss"], -t["number"]))
    # --rerank 5: the top trials were cross-validated, the final model is the choice
    assert d["rerank"]["search_best"] == search_best["number"]
    best = next(t for t in d["trials"] if t["number"] == d["rerank"]["chosen"])
    assert d["best"]["number"] == best["number"]
    assert d["best_curves"] == best["history"]
    assert d["data"]["split_source"] and d["data"]["counts"]["test"]
    assert d["command"].startswith("tltune ") and "--trials 3" in d["command"]
    assert d["config"]["space"]["freeze_blocks"] == [d["config"]["space"]["n_blocks"]]
    assert d["importances"] is not None or any("importances" in w or "same validation" in w
                                               for w in d["warnings"])
    assert {"test_accuracy", "macro_f1", "per_class", "confusion", "exports"} <= set(d["final"])
    assert {"prepare_s", "search_s", "final_s", "total_s", "trials_s"} <= set(d["timings"])
    # the default: trials in a worker process, final model refit on train + val
    restarts = d["timings"]["worker_restarts"]  # replaced between trials, never more often
    assert d["timings"]["worker_startup_s"] > 0 and 0 <= restarts <= len(d["trials"]) + 1
    assert d["final"]["train_protocol"].startswith("train + val")
    assert d["final"]["val_accuracy"] == d["best"]["val_accuracy"]
    assert any(n.startswith("refit on train + val") for n in d["final"]["notes"])
    assert json.loads(done_sweep["json"].read_text())["trials"] == d["trials"]
    assert SweepResult.from_dict(d).to_dict() == d
    assert (run / "config.json").is_file() and (run / "study.db").is_file()
    # --framing auto (the default) decided before the search, and everything follows it
    choice = d["config"]["framing_choice"]
    assert d["config"]["framing"] == "auto" and choice["framing"] in ("squash", "crop")
    assert d["data"]["framing"] == d["final"]["framing"] == choice["framing"]
    assert json.loads(Path(d["final"]["labels_path"]).read_text())["framing"] == choice["framing"]
    assert "framing_s" in d["timings"] and "--framing auto" in d["command"]
    assert f"Framing: {choice['reason']}" in " ".join(done_sweep["stdout"].split())


@pytest.mark.slow
def test_resume_refuses_a_changed_configuration(done_sweep):
    from tuner import tune

    run = done_sweep["run"]
    before = (run / "results.json").read_bytes()
    with pytest.raises(ConfigError) as e:
        tune(resume=run, seed=5, input_size=96)
    assert "seed" in e.value.what and "input_size" in e.value.what
    assert e.value.exit_code == 2
    with pytest.raises(ConfigError):
        tune(resume=run, scenario="full_finetune")
    with pytest.raises(ConfigError) as e:
        tune(resume=run, framing="crop")
    assert "framing" in e.value.what
    with pytest.raises(ConfigError, match="framing"):
        tune(done_sweep["dataset"], framing="pad")
    assert (run / "results.json").read_bytes() == before  # nothing written


@pytest.mark.slow
def test_resume_of_a_finished_sweep_runs_nothing(done_sweep, tmp_path):
    import shutil

    from tuner import tune

    run = tmp_path / "copy"
    shutil.copytree(done_sweep["run"], run)
    before = json.loads((run / "results.json").read_text())
    r = tune(resume=run)
    assert [t.to_dict() for t in r.trials] == before["trials"]
    assert r.final.to_dict() == before["final"] and r.sessions == 2
    assert r.rerank.to_dict() == before["rerank"]  # same candidates: the previous re-ranking is reused
    assert any("reused" in w for w in r.warnings)


def test_load_advice_accepts_tladvise_json_and_a_bare_advice(tmp_path):
    from tests.tuner.search.test_space import make_advice
    from tuner import load_advice

    adv = make_advice("partial_freeze", 12)
    wrapped, bare = tmp_path / "wrapped.json", tmp_path / "bare.json"
    wrapped.write_text(json.dumps({"schema_version": 1, "advice": adv.to_dict()}))
    bare.write_text(json.dumps(adv.to_dict()))
    assert load_advice(wrapped) == adv == load_advice(bare) == load_advice(adv)
    with pytest.raises(InputError):
        load_advice(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(InputError):
        load_advice(tmp_path / "bad.json")


def test_load_advice_reads_the_flat_freeze_keys_of_an_older_advice_file(tmp_path):
    from tests.tuner.search.test_space import make_advice
    from tuner import load_advice

    adv = make_advice("partial_freeze", 12)
    old = {k: v for k, v in adv.to_dict().items() if k != "freeze"}
    old.update(freeze_layer="block", freeze_index=10, freeze_block=12, n_blocks=18)
    (tmp_path / "old.json").write_text(json.dumps({"schema_version": 1, "advice": old}))
    assert load_advice(tmp_path / "old.json") == adv
    (tmp_path / "deep.json").write_text(json.dumps(dict(old, freeze_block=30)))  # > n_blocks
    with pytest.raises(InputError, match="holds no advice"):
        load_advice(tmp_path / "deep.json")


@pytest.mark.slow
def test_without_advice_or_scenario_the_advisor_runs_and_centres_the_search(tiny_images,
                                                                           tmp_path):
    from tuner import tune

    r = tune(tiny_images, trials=1, weights="none", input_size=64, epochs=1,
             out=tmp_path / "run")
    cfg = load_config(tmp_path / "run")
    assert cfg.advice_source == "advisor" and "advise_s" in r.timings
    saved = json.loads((tmp_path / "run" / "advice.json").read_text())["advice"]
    assert saved == r.advice.to_dict() == cfg.advice.to_dict()
    space = cfg.space
    assert space.scenario == r.advice.scenario and not space.forced
    assert r.trials[0].sampled == space.first()  # trial 0 is the advice's configuration
    if r.advice.scenario == "partial_freeze":
        assert r.trials[0].params["freeze_block"] == r.advice.freeze.code
    assert f"--advice {tmp_path / 'run' / 'advice.json'}" in r.command


def shift_finding(split: str) -> dict:
    return {"check": "split_shift", "severity": "warning", "message": "m",
            "classes": ["red"], "value": 0.92, "threshold": 0.7,
            "details": {"split": split, "auc": {"red": 0.92, "blue": 0.55}}}


def test_a_shifted_test_split_is_warned_about_only_when_it_is_the_test_split(tmp_path):
    from tuner._advice import advice_findings, split_shift_warning
    held_out = "stratified 15% of train, seed 0"
    w = split_shift_warning([shift_finding("val")], {"test": "folder val/", "val": held_out})
    assert w and "test split val/" in w and "0.92 in 'red'" in w and held_out in w
    assert split_shift_warning([shift_finding("val")],
                               {"test": "folder test/", "val": "folder val/"}) is None
    assert split_shift_warning([shift_finding("val")], {"test": held_out, "val": held_out}) \
        is None
    both = split_shift_warning([shift_finding("val"), shift_finding("test")],
                               {"test": "folder test/", "val": "folder val/"})
    assert "test split test/" in both and "neither does the validation split val/" in both
    f = tmp_path / "advice.json"
    other = dict(shift_finding("val"), check="leakage", details={})
    f.write_text(json.dumps({"advice": {}, "health": {"findings": [shift_finding("val"),
                                                                   other]}}))
    assert advice_findings(f) == [shift_finding("val")]
    for health in ({"scenario": "x"}, {"advice": {}, "health": {"findings": None}}):
        f.write_text(json.dumps(health))  # a bare advice dict, or no findings
        assert advice_findings(f) == [] == advice_findings(None)
    bad = dict(shift_finding("val"), details={"split": "val", "auc": {"red": "high"}})
    f.write_text(json.dumps({"advice": {}, "health": {"findings": [bad]}}))
    with pytest.raises(InputError, match="malformed split_shift finding"):
        advice_findings(f)


@pytest.mark.slow
def test_tune_records_and_announces_the_advisors_split_shift(tmp_path):
    from tests.conftest import write_image_folder
    from tests.tuner.search.test_space import make_advice
    from tuner import tune
    from tuner._advice import advice_findings, split_shift_warning
    ds = tmp_path / "ds"
    write_image_folder(ds, {"blue": 8, "red": 8}, size=48, split="train")
    write_image_folder(ds, {"blue": 5, "red": 5}, size=48, seed=1, split="val")
    advice = tmp_path / "advice.json"
    advice.write_text(json.dumps({"advice": make_advice("feature_extractor", 18).to_dict(),
                                  "health": {"findings": [shift_finding("val")]}}))
    events = []
    r = tune(ds, trials=1, advice=advice, test_split="val", weights="none", input_size=48,
             epochs=1, refit=False, out=tmp_path / "run", progress=events.append)
    (w,) = [w for w in r.warnings if "does not look like train/" in w]
    assert [e.message for e in events if e.kind == "warning"] == [w]
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert w in saved["warnings"]
    # the run's advice.json (what the reproduce command passes) keeps the finding
    kept = tmp_path / "run" / "advice.json"
    assert split_shift_warning(advice_findings(kept), r.data.split_source) == w
    # a resumed session (here: of a finished sweep) announces it again
    events.clear()
    again = tune(resume=tmp_path / "run", progress=events.append)
    assert [e.message for e in events if e.kind == "warning"] == [w]
    assert again.warnings.count(w) == 1
