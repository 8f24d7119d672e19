"""``tlreport``: re-render from the saved JSON, no training."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from advisor.report import write_advice_report
from tlcli.report import app

runner = CliRunner()


@pytest.fixture
def advice_dir(advice_result, tmp_path):
    paths = write_advice_report(advice_result, tmp_path / "adv")
    paths.html.unlink()
    paths.md.unlink()
    return tmp_path / "adv"


def test_rerenders_advice_from_json(advice_dir):
    res = runner.invoke(app, [str(advice_dir)])
    assert res.exit_code == 0, res.output
    assert (advice_dir / "report.html").is_file() and (advice_dir / "report.md").is_file()
    assert "report.html" in res.output


def test_rerenders_into_another_folder_with_its_own_json(advice_dir, tmp_path):
    res = runner.invoke(app, [str(advice_dir / "advice.json"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "report.html").is_file()
    saved = json.loads((tmp_path / "o" / "advice.json").read_text())
    assert saved == json.loads((advice_dir / "advice.json").read_text())


def test_rerenders_sweep_and_prefers_results_json(sweep_result, advice_dir):
    (advice_dir / "results.json").write_text(json.dumps(sweep_result.to_dict()))
    res = runner.invoke(app, [str(advice_dir)])
    assert res.exit_code == 0, res.output
    assert "Hyper-parameter sweep" in (advice_dir / "report.html").read_text(encoding="utf-8")
    res = runner.invoke(app, [str(advice_dir), "--kind", "advice"])
    assert res.exit_code == 0, res.output
    assert "Transfer-learning advice" in (advice_dir / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("content,expect", [
    (None, "No saved result"),
    ("{not json", "not valid JSON"),
    ("[1, 2]", "does not hold a JSON object"),
    ('{"a": 1}', "is not a saved"),
])
def test_bad_input_exits_2_and_says_how_to_fix(tmp_path, content, expect):
    if content is not None:
        (tmp_path / "advice.json").write_text(content)
    res = runner.invoke(app, [str(tmp_path)])
    assert res.exit_code == 2
    assert expect in res.output and "Fix:" in res.output


def test_missing_folder_exits_2(tmp_path):
    res = runner.invoke(app, [str(tmp_path / "nope")])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_other_schema_version_is_refused(advice_dir):
    d = json.loads((advice_dir / "advice.json").read_text())
    d["schema_version"] = 99
    (advice_dir / "advice.json").write_text(json.dumps(d))
    res = runner.invoke(app, [str(advice_dir)])
    assert res.exit_code == 2 and "schema version 99" in res.output
