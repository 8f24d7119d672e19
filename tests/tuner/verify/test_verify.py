"""``tladvise --verify``: the cross-fitted pilot trains the call, its runner-up and the
gain pair for real on tiny generated data, judges the paired difference against its
standard error, and the CLI puts the result into the JSON, the terminal summary and
the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor import AdviceResult, PairedDifference, PilotRun, VerifyResult
from tests.conftest import write_image_folder
from tlcli.advise import app
from tuner.verify import call_from_evidence, verdict

pytestmark = pytest.mark.slow

SCENARIO_BLOCK = {"feature_extractor": 18, "full_finetune": 0, "from_scratch": -1}


@pytest.fixture(scope="module")
def colours(tmp_path_factory) -> Path:
    return write_image_folder(tmp_path_factory.mktemp("verify") / "ds",
                              {"blue": 10, "green": 10, "red": 10}, size=48)


def _diff(d: float, se: float) -> PairedDifference:
    return PairedDifference("a", "b", d, se, se, 0.0, 100, 1, 0.1)


def test_verdict_compares_the_paired_difference_with_its_standard_error() -> None:
    assert verdict(_diff(0.05, 0.02)) == "confirmed"
    assert verdict(_diff(-0.05, 0.02)) == "overturned"
    assert verdict(_diff(0.03, 0.02)) == "inconclusive"  # 0.03 < 2 * 0.02
    assert verdict(_diff(0.0, 0.0)) == "inconclusive"


def _evidence(acc: dict[str, float], se: float):
    return lambda a, b: PairedDifference(a, b, acc[a] - acc[b], se, se, 0, 600, 1, 0.1)


def test_the_evidence_decides_by_expected_regret_then_cost() -> None:
    runs = {"feature_extractor": PilotRun("feature_extractor", 18, "out_relu", 0.80, 10, 10.0),
            "partial_freeze": PilotRun("partial_freeze", 14, "block_14_add", 0.84, 14, 40.0)}
    clear = call_from_evidence(runs, _evidence({"feature_extractor": 0.80, "partial_freeze": 0.84}, 0.01))
    assert clear[0] == "partial_freeze" and clear[1].startswith("partial_freeze, the least")
    assert "feature_extractor 4.0 points (10 s)" in clear[1]
    worse = call_from_evidence(runs, _evidence({"feature_extractor": 0.83, "partial_freeze": 0.80}, 0.01))
    assert worse[0] == "feature_extractor" and "cannot separate" not in worse[1]
    tie = call_from_evidence(runs, _evidence({"feature_extractor": 0.80, "partial_freeze": 0.802}, 0.01))
    assert tie[0] == "feature_extractor" and "cannot separate" in tie[1]  # the faster one
    # a gain of 1.5 SE: the expected regret of not fine-tuning is above half a point
    lean = call_from_evidence(runs, _evidence({"feature_extractor": 0.80, "partial_freeze": 0.815}, 0.01))
    assert lean[0] == "partial_freeze"
    # a third option (the call) competes too
    runs["full_finetune"] = PilotRun("full_finetune", 0, "input", 0.87, 14, 90.0)
    three = call_from_evidence(runs, _evidence({"feature_extractor": 0.80, "partial_freeze": 0.84,
                                                "full_finetune": 0.87}, 0.01))
    assert three[0] == "full_finetune"


@pytest.fixture(scope="module")
def cli_run(colours: Path, tmp_path_factory) -> tuple:
    """One real ``tladvise --verify`` (default pilot budget) shared by the tests below."""
    tmp = tmp_path_factory.mktemp("verify-cli")
    out, report = tmp / "advice.json", tmp / "report"
    r = CliRunner().invoke(app, [str(colours), "--weights", "none", "--image-size", "64",
                                 "--no-cache", "--verify", "--json", str(out),
                                 "--report", str(report)],
                           env={"COLUMNS": "200"}, prog_name="tladvise")
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    assert r.exit_code == 0, r.output
    return r, json.loads(out.read_text()), report


def test_verify_returns_a_complete_cross_fitted_result(cli_run) -> None:
    _, d, _ = cli_run
    a = AdviceResult.from_dict(d).advice
    v = VerifyResult.from_dict(d["verify"])
    assert v.scenarios[0] == a.scenario
    assert set(v.scenarios) <= {a.scenario, "feature_extractor", "partial_freeze"}
    assert v.scenarios[1] == {"feature_extractor": "partial_freeze",
                              "partial_freeze": "feature_extractor"}.get(a.scenario, v.scenarios[1])
    # every image scored once (3 folds of 30); each fold trains on most of the other 20
    assert v.n_val == 30 and 12 <= v.n_train <= 20
    for run in (v.recommended, v.rival):
        assert 0.0 <= run.val_accuracy <= 1.0 and run.epochs_run >= 1 and run.seconds > 0
        if run.scenario == "partial_freeze":
            assert 0 < run.freeze_block < 18
        else:
            assert run.freeze_block == SCENARIO_BLOCK[run.scenario]
        assert (run.freeze_layer == "none (random init)") == (run.scenario == "from_scratch")
    # paired on the same images: the mean difference is the difference of the accuracies
    assert v.difference == pytest.approx(v.recommended.val_accuracy - v.rival.val_accuracy, abs=1e-4)
    assert v.standard_error >= 0 and v.verdict == verdict(
        PairedDifference("r", "s", v.difference, v.standard_error, 0, 0, 30, 1, 0))
    g = v.gain
    assert g is not None and g.n_images == 30 and g.repeats == 1 and g.se_runs == 0
    assert 0 < v.gain_block < 18 and -1 <= g.difference <= 1 and 0 <= g.discordant <= 1
    assert "cross-fitting" in v.scheme and v.budget["input_size"] == 128
    assert v.call in {"feature_extractor", "partial_freeze", a.scenario} and v.call_reason.startswith(v.call)
    assert v.explanation and v.seconds > 0
    assert {"verdict", "explanation", "scenarios", "n_train", "n_val", "seconds", "gain"} <= d["verify"].keys()


def test_cli_verify_writes_the_result_into_json_terminal_and_report(cli_run) -> None:
    r, d, report = cli_run
    v = d["verify"]
    assert "verify" not in d["extras"]  # a typed field, no longer an untyped extra
    assert v["verdict"] in ("confirmed", "overturned", "inconclusive")
    assert len(v["runs"]) == 2
    text = " ".join(r.output.split())
    assert f"Verification: {v['verdict']}" in text and "fine-tuning gain" in text
    md = (report / "report.md").read_text()
    assert "Verification run" in md and v["verdict"].capitalize() in md
    for acc in v["accuracies"].values():
        assert f"{acc:.3f}" in md
