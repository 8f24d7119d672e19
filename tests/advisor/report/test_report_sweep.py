"""The sweep report, rendered from the results.json dict (SweepResult.to_dict())."""

from __future__ import annotations

import copy

import pytest

from tuner.report import sweep_document, write_sweep_report
from advisor.report._doc import Callout, Figure, Figures, Gallery, Table, Text
from tests.advisor.report._inspect import Page, markdown_images
from tests.advisor.report.conftest import HOSTILE


def _blocks(doc, key):
    return next(s for s in doc.sections if s.key == key).blocks


def _figures(blocks):
    out = []
    for b in blocks:
        out += list(b.items) if isinstance(b, Figures) else ([b] if isinstance(b, Figure) else [])
    return out


@pytest.fixture(scope="module")
def doc(sweep_results):
    return sweep_document(sweep_results)


def test_document_has_every_part(doc, sweep_results):
    assert [s.key for s in doc.sections] == ["summary", "search", "test", "reproduce"]
    names = [f.name for f in _figures(_blocks(doc, "search"))]
    assert names == ["history", "importances", "freeze_depth", "head_lr", "backbone_lr",
                     "best_curves"]
    assert [f.name for f in _figures(_blocks(doc, "test"))] == ["confusion"]
    box = _blocks(doc, "summary")[0]
    assert box.level == "verdict" and f"#{sweep_results['best']['number']}" in str(box.blocks[0])


def test_trial_table_lists_every_trial_and_marks_the_best(doc, sweep_results):
    table = next(b for b in _blocks(doc, "search") if isinstance(b, Table))
    assert len(table.rows) == len(sweep_results["trials"])
    best = sweep_results["best"]["number"]
    assert [table.rows[i][0] for i in table.highlight] == [f"#{best}"]


def test_misclassified_images_show_true_and_predicted(doc, sweep_results):
    gallery = next(b for b in _blocks(doc, "test") if isinstance(b, Gallery))
    wrong = sweep_results["final"]["misclassified"]
    tiles = [g[0] for g in gallery.groups]
    assert len(tiles) == len(wrong)
    for t, m in zip(tiles, wrong):
        assert m["true"] in t.caption and m["pred"] in t.emphasis
    assert tiles[0].image is not None
    assert tiles[-1].image is None and tiles[-1].note == "file not found"


def test_per_class_table_reads_the_final_result(doc, sweep_results):
    table = next(b for b in _blocks(doc, "test") if isinstance(b, Table)
                 and b.headers[0] == "Class")
    assert [r[0] for r in table.rows] == [c["label"] for c in sweep_results["final"]["per_class"]]


def test_running_sweep_without_final_or_completed_trials(sweep_results):
    d = copy.deepcopy(sweep_results)
    d.update(status="running", final=None, importances=None, best=None, trials=[])
    doc = sweep_document(d)
    assert [s.key for s in doc.sections] == ["summary", "search", "reproduce"]
    assert isinstance(_blocks(doc, "summary")[0], Callout)
    assert isinstance(_blocks(doc, "search")[0], Text)


def test_sweep_result_object_and_dict_render_the_same(sweep_results, tmp_path):
    from tuner.run import SweepResult
    a = write_sweep_report(sweep_results, tmp_path / "a")
    b = write_sweep_report(SweepResult.from_dict(sweep_results), tmp_path / "b")
    assert a.html.read_text(encoding="utf-8") == b.html.read_text(encoding="utf-8")
    page = Page(a.html.read_text(encoding="utf-8"))
    assert all(u.startswith(("data:", "#")) for u in page.urls())
    assert HOSTILE in "".join(page.text) and not page.all("script")
    linked = markdown_images(a.md)
    assert linked and all((a.md.parent / n).is_file() for n in linked)


def test_cross_validation_table_when_the_top_trials_were_reranked(sweep_results):
    from advisor.report._doc import Heading

    d = copy.deepcopy(sweep_results)
    numbers = [t["number"] for t in d["trials"] if t.get("val_accuracy") is not None][:2]
    d["rerank"] = {"folds": 5, "seed": 0, "chosen": numbers[1], "search_best": numbers[0],
                   "seconds": 12.0, "rule": "most held-out images right",
                   "candidates": [{"number": n, "search_val_accuracy": 1.0, "cv_accuracy": a,
                                   "cv_loss": 0.2, "fold_correct": [9, 9], "fold_sizes": [10, 10],
                                   "fold_losses": [0.2, 0.2]} for n, a in zip(numbers, (0.9, 0.95))]}
    blocks = _blocks(sweep_document(d), "search")
    i = next(i for i, b in enumerate(blocks) if isinstance(b, Heading)
             and "Cross-validation" in b.text)
    table = next(b for b in blocks[i:] if isinstance(b, Table))
    assert [r[0] for r in table.rows] == [f"#{n}" for n in numbers]
    assert [table.rows[j][0] for j in table.highlight] == [f"#{numbers[1]}"]
    assert not any(isinstance(b, Heading) and "Cross-validation" in b.text
                   for b in _blocks(sweep_document(sweep_results), "search"))


def test_data_facts_name_the_framing_and_its_reason(sweep_results):
    from advisor.report._doc import KeyValues

    def framing_fact(results):
        blocks = _blocks(sweep_document(results), "reproduce")
        facts = dict(next(b for b in blocks if isinstance(b, KeyValues)).items)
        return facts.get("Framing")

    assert framing_fact(sweep_results) is None  # results older than framing: no line
    given = copy.deepcopy(sweep_results)
    given["data"]["framing"] = "crop"
    assert framing_fact(given) == "crop (given)"
    auto = copy.deepcopy(given)
    auto["config"]["framing_choice"] = {"framing": "crop", "reason": "crop (a probe said so)"}
    assert framing_fact(auto) == "crop (a probe said so)"
