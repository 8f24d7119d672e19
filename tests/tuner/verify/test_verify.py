"""``tladvise --verify``: the pilot trains the call and its runner-up for real on tiny
generated data, judges the difference against its standard error, and the CLI puts
the result into the JSON, the terminal summary and the report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor import VerifyResult, advise
from tests.conftest import write_image_folder
from tlcli.advise import app
from tuner.verify import PilotBudget, verdict, verify_advice

pytestmark = pytest.mark.slow

SCENARIO_BLOCK = {"feature_extractor": 18, "full_finetune": 0, "from_scratch": -1}


@pytest.fixture(scope="module")
def colours(tmp_path_factory) -> Path:
    return write_image_folder(tmp_path_factory.mktemp("verify") / "ds",
                              {"blue": 10, "green": 10, "red": 10}, size=48)


def test_verdict_compares_the_difference_with_its_standard_error() -> None:
    v, diff, se = verdict(0.9, 0.7, 200)
    assert v == "confirmed"
    assert diff == pytest.approx(0.2) and se == pytest.approx(math.sqrt((0.09 + 0.21) / 200))
    assert verdict(0.7, 0.9, 200)[0] == "overturned"
    assert verdict(0.80, 0.78, 100)[0] == "inconclusive"  # 0.02 < 2 * 0.058
    assert verdict(1.0, 1.0, 10)[0] == "inconclusive"
    # the same difference becomes real with enough validation images
    assert verdict(0.80, 0.78, 20000)[0] == "confirmed"


def test_verify_returns_a_complete_result(colours: Path) -> None:
    result = advise(colours, weights="none", input_size=64, cache_dir=None)
    a = result.advice
    budget = PilotBudget(input_size=64, max_train=None, epochs=1, head_epochs=2, finetune_epochs=1)
    v = verify_advice(colours, result, budget=budget, weights="none", seed=0)
    assert isinstance(v, VerifyResult)
    assert v.scenarios == (a.scenario, a.runner_up)
    assert v.n_train + v.n_val == 30 and v.n_val == 6  # flat layout: a stratified 20%
    for run in (v.recommended, v.rival):
        assert 0.0 <= run.val_accuracy <= 1.0 and run.epochs_run >= 1 and run.seconds > 0
        if run.scenario == "partial_freeze":
            assert 0 < run.freeze_block < 18
        else:
            assert run.freeze_block == SCENARIO_BLOCK[run.scenario]
        assert (run.freeze_layer == "none (random init)") == (run.scenario == "from_scratch")
    expect = verdict(v.recommended.val_accuracy, v.rival.val_accuracy, v.n_val)
    assert (v.verdict, v.difference, v.standard_error) == (
        expect[0], round(expect[1], 4), round(expect[2], 4))
    assert v.explanation and v.seconds > 0 and v.budget["input_size"] == 64
    d = json.loads(json.dumps(v.to_dict()))
    assert d["accuracies"] == {a.scenario: v.recommended.val_accuracy,
                               a.runner_up: v.rival.val_accuracy}
    assert {"verdict", "explanation", "scenarios", "n_train", "n_val", "seconds"} <= d.keys()


def test_cli_verify_writes_the_result_into_json_and_report(colours: Path, tmp_path: Path) -> None:
    out, report = tmp_path / "advice.json", tmp_path / "report"
    r = CliRunner().invoke(app, [str(colours), "--weights", "none", "--image-size", "64",
                                 "--no-cache", "--verify", "--json", str(out),
                                 "--report", str(report)],
                           env={"COLUMNS": "200"}, prog_name="tladvise")
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text())
    v = d["verify"]
    assert "verify" not in d["extras"]  # a typed field, no longer an untyped extra
    assert v["scenarios"] == [d["advice"]["scenario"], d["advice"]["runner_up"]]
    assert v["verdict"] in ("confirmed", "overturned", "inconclusive")
    assert v["n_val"] == 6 and len(v["runs"]) == 2
    text = " ".join(r.output.split())
    assert f"Verification: {v['verdict']}" in text
    md = (report / "report.md").read_text()
    assert "Verification run" in md and v["verdict"].capitalize() in md
    for acc in v["accuracies"].values():
        assert f"{acc:.3f}" in md
