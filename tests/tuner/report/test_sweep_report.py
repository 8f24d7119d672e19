"""The sweep report, rendered from a SweepResult (and from a saved results.json)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from advisor.errors import InputError
from advisor.report import Callout, Figure, Figures, Gallery, Heading, KeyValues, Table, Text
from tests.advisor.report._inspect import Page, markdown_images
from tests.advisor.report.conftest import HOSTILE
from tuner.report import (load_sweep_result, render_saved_sweep, sweep_document,
                          write_sweep_report)
from tuner.search import CandidateScore, RerankResult
from tuner.training import FramingChoice


def _blocks(doc, key):
    return next(s for s in doc.sections if s.key == key).blocks


def _figures(blocks):
    out = []
    for b in blocks:
        out += list(b.items) if isinstance(b, Figures) else ([b] if isinstance(b, Figure) else [])
    return out


@pytest.fixture(scope="module")
def doc(sweep_result):
    return sweep_document(sweep_result)


def test_document_has_every_part(doc, sweep_result):
    assert [s.key for s in doc.sections] == ["summary", "search", "test", "reproduce"]
    names = [f.name for f in _figures(_blocks(doc, "search"))]
    assert names == ["history", "importances", "freeze_depth", "head_lr", "backbone_lr",
                     "best_curves"]
    assert [f.name for f in _figures(_blocks(doc, "test"))] == ["confusion"]
    box = _blocks(doc, "summary")[0]
    assert box.level == "verdict" and f"#{sweep_result.best.number}" in str(box.blocks[0])


def test_trial_table_lists_every_trial_and_marks_the_best(doc, sweep_result):
    table = next(b for b in _blocks(doc, "search") if isinstance(b, Table))
    assert len(table.rows) == len(sweep_result.trials)
    best = sweep_result.best.number
    assert [table.rows[i][0] for i in table.highlight] == [f"#{best}"]


def test_misclassified_images_show_true_and_predicted(doc, sweep_result):
    gallery = next(b for b in _blocks(doc, "test") if isinstance(b, Gallery))
    wrong = sweep_result.final.misclassified
    tiles = [g[0] for g in gallery.groups]
    assert len(tiles) == len(wrong)
    for t, m in zip(tiles, wrong):
        assert m.true in t.caption and m.pred in t.emphasis
    assert tiles[0].image is not None
    assert tiles[-1].image is None and tiles[-1].note == "file not found"


def test_per_class_table_reads_the_final_result(doc, sweep_result):
    table = next(b for b in _blocks(doc, "test") if isinstance(b, Table)
                 and b.headers[0] == "Class")
    assert [r[0] for r in table.rows] == [c.label for c in sweep_result.final.per_class]


def test_running_sweep_without_final_or_completed_trials(sweep_result):
    running = replace(sweep_result, status="running", final=None, importances=None, trials=())
    assert running.best is None
    doc = sweep_document(running)
    assert [s.key for s in doc.sections] == ["summary", "search", "reproduce"]
    assert isinstance(_blocks(doc, "summary")[0], Callout)
    assert isinstance(_blocks(doc, "search")[0], Text)


def test_saved_results_json_renders_like_the_result(sweep_result, tmp_path):
    a = write_sweep_report(sweep_result, tmp_path / "a")
    saved = tmp_path / "run" / "results.json"
    saved.parent.mkdir()
    saved.write_text(json.dumps(sweep_result.to_dict()), encoding="utf-8")
    assert load_sweep_result(saved.parent) == sweep_result  # from_dict(to_dict()) round trip
    b = render_saved_sweep(saved.parent, tmp_path / "b")
    assert a.html.read_text(encoding="utf-8") == b.html.read_text(encoding="utf-8")
    page = Page(a.html.read_text(encoding="utf-8"))
    assert all(u.startswith(("data:", "#")) for u in page.urls())
    assert HOSTILE in "".join(page.text) and not page.all("script")
    linked = markdown_images(a.md)
    assert linked and all((a.md.parent / n).is_file() for n in linked)


def test_saved_sweep_defaults_to_the_folder_of_its_file(sweep_result, tmp_path):
    saved = tmp_path / "out.json"
    saved.write_text(json.dumps(sweep_result.to_dict()), encoding="utf-8")
    paths = render_saved_sweep(saved)
    assert paths.html == tmp_path / "report.html" and paths.md.is_file()


@pytest.mark.parametrize("content,expect", [
    (None, "No results.json"),
    ("{not json", "not valid JSON"),
    ("[1, 2]", "is not a saved sweep result"),
    ('{"advice": {}, "profile": {}}', "is not a saved sweep result"),
    ('{"trials": [], "n_requested": 3, "config": {}}', "missing parts of a sweep result"),
])
def test_what_is_not_a_sweep_result_is_an_input_error(tmp_path, content, expect):
    if content is not None:
        (tmp_path / "results.json").write_text(content)
    with pytest.raises(InputError) as e:
        render_saved_sweep(tmp_path)
    assert e.value.exit_code == 2 and expect in e.value.what
    assert e.value.expected and e.value.received and e.value.fix


def test_missing_path_and_dict_sources(sweep_result, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_sweep_result(tmp_path / "nope")
    assert load_sweep_result(sweep_result.to_dict()) == sweep_result
    with pytest.raises(InputError, match="not a saved sweep result"):
        load_sweep_result({"a": 1})
    with pytest.raises(TypeError, match="SweepResult.from_dict"):
        sweep_document(sweep_result.to_dict())


def test_cross_validation_table_when_the_top_trials_were_reranked(sweep_result):
    numbers = [t.number for t in sweep_result.trials if t.val_accuracy is not None][:2]
    rr = RerankResult(folds=5, seed=0, chosen=numbers[1], search_best=numbers[0], seconds=12.0,
                      candidates=tuple(CandidateScore(n, 1.0, (9, c), (10, 10), (0.2, 0.2))
                                       for n, c in zip(numbers, (8, 10))))
    reranked = replace(sweep_result, rerank=rr)
    blocks = _blocks(sweep_document(reranked), "search")
    i = next(i for i, b in enumerate(blocks) if isinstance(b, Heading)
             and "Cross-validation" in b.text)
    table = next(b for b in blocks[i:] if isinstance(b, Table))
    assert [r[0] for r in table.rows] == [f"#{n}" for n in numbers]
    assert [table.rows[j][0] for j in table.highlight] == [f"#{numbers[1]}"]
    assert [r[2] for r in table.rows] == ["0.850", "0.950"]  # right / held out over the folds
    assert any(isinstance(b, Text) and rr.rule in b.text for b in blocks)
    assert not any(isinstance(b, Heading) and "Cross-validation" in b.text
                   for b in _blocks(sweep_document(sweep_result), "search"))


def test_data_facts_name_the_framing_and_its_reason(sweep_result):
    def framing_fact(result):
        blocks = _blocks(sweep_document(result), "reproduce")
        facts = dict(next(b for b in blocks if isinstance(b, KeyValues)).items)
        return facts.get("Framing")

    def with_framing(framing, choice=None):
        return replace(sweep_result, data=replace(sweep_result.data, framing=framing),
                       config=replace(sweep_result.config, framing_choice=choice))

    assert framing_fact(with_framing("")) is None  # no framing recorded: no line
    assert framing_fact(with_framing("crop")) == "crop (given)"
    choice = FramingChoice("crop", {}, 0.0, 0.0, 24, 0, 0, 0.0, note="a probe said so")
    assert framing_fact(with_framing("crop", choice)) == "crop (a probe said so)"


def test_the_terminal_table_shows_each_trial_as_its_freeze_plan(sweep_result) -> None:
    import dataclasses

    from rich.console import Console

    from tuner.report import trial_table
    from tuner.trial import TrialParams

    full = TrialParams(freeze_block=0, head_lr=1e-3, backbone_lr=1e-4).to_dict()
    sweep_result = dataclasses.replace(sweep_result, trials=tuple(
        dataclasses.replace(t, params={**full, **t.params}) for t in sweep_result.trials))
    console = Console(record=True, width=200)
    console.print(trial_table(sweep_result))
    text = console.export_text()
    n = sweep_result.config.space.n_blocks
    for t in sweep_result.trials:
        assert sweep_result.config.space.plan(t.params["freeze_block"]).short in text
    assert f"/{n}" in text
