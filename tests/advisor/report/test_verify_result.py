"""``AdviceResult.verify``: the ``tladvise --verify`` result is a typed field, saved as
``verify`` in the JSON, read back from older files that kept it in ``extras["verify"]``,
and drawn by both renderers from the typed object."""

from __future__ import annotations

import dataclasses
import json

from rich.console import Console

from advisor import AdviceResult, VerifyResult, render_advice
from advisor.report import advice_document


def _keys(result: AdviceResult) -> list[str]:
    return [s.key for s in advice_document(result).sections]


def test_verify_result_round_trips_through_json(advice_result):
    v = advice_result.verify
    d = json.loads(json.dumps(v.to_dict()))
    assert d["scenarios"] == ["partial_freeze", "feature_extractor"]
    assert d["accuracies"] == {"partial_freeze": 0.86, "feature_extractor": 0.81}
    assert VerifyResult.from_dict(d) == v


def test_advice_json_holds_verify_as_a_field(advice_result):
    d = json.loads(json.dumps(advice_result.to_dict()))
    assert d["verify"]["verdict"] == "inconclusive" and "verify" not in d["extras"]
    assert AdviceResult.from_dict(d).verify == advice_result.verify
    bare = dataclasses.replace(advice_result, verify=None).to_dict()
    assert bare["verify"] is None and AdviceResult.from_dict(bare).verify is None


def test_an_older_file_with_extras_verify_still_loads(advice_result):
    d = json.loads(json.dumps(advice_result.to_dict()))
    d["extras"]["verify"] = d.pop("verify")  # as tladvise --json wrote it before
    old = AdviceResult.from_dict(d)
    assert old.verify == advice_result.verify and "verify" not in old.extras
    assert "verify" in _keys(old)


def test_an_extra_of_another_shape_stays_an_extra(advice_result):
    d = advice_result.to_dict()
    d["verify"] = None
    d["extras"]["verify"] = {"epochs": 2, "agrees": True}
    old = AdviceResult.from_dict(d)
    assert old.verify is None and old.extras["verify"] == {"epochs": 2, "agrees": True}
    assert "verify" not in _keys(old)  # shown with the other extras under "Run details"


def test_terminal_summary_draws_the_typed_result(advice_result):
    console = Console(record=True, width=200)
    render_advice(advice_result, console)
    text = " ".join(console.export_text().split())
    assert "Verification: inconclusive" in text
    assert "partial_freeze 0.860" in text and "feature_extractor 0.810" in text
    assert "9 images scored held-out (3-fold cross-fitting, seed 0), about 24 train per fold, 128px" in text
    assert "fine-tuning gain (partial freeze at block 12 minus feature extractor): +0.050 +- 0.040" in text


def test_report_shows_the_gain_with_its_interval(advice_result, tmp_path):
    from advisor.report._markdown import render_markdown

    path, _ = render_markdown(advice_document(advice_result), tmp_path)
    md = path.read_text()
    assert "Fine-tuning gain" in md and "+0.050 +- 0.040 (interval -0.030 .. +0.130)" in md
