"""The advice report: content read from the result objects, one self-contained file."""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil

import pytest
from advisor._result import AdviceResult
from advisor.recommend import Advice, FreezePlan
from advisor.report import ReportPaths, advice_document, write_advice_report
from advisor.report._advice import _boundary_depth, _freeze_text
from advisor.report._doc import Callout, Figure, Figures, Gallery, Table, Text
from advisor.report.plots import DPI, FIGSIZE
from advisor.report._thumbs import MAX_SIDE
from tests.advisor.report._inspect import Page, decode_data_uri, markdown_images
from tests.advisor.report.conftest import HOSTILE, make_advice_result, make_dataset


@pytest.fixture(scope="module")
def doc(advice_result):
    return advice_document(advice_result)


@pytest.fixture(scope="module")
def written(advice_result, tmp_path_factory):
    return write_advice_report(advice_result, tmp_path_factory.mktemp("out"))


def _section(doc, key):
    return next(s for s in doc.sections if s.key == key)


def _find(blocks, kind):
    out = []
    for b in blocks:
        if isinstance(b, kind):
            out.append(b)
        if isinstance(b, Callout):
            out += _find(b.blocks, kind)
        if isinstance(b, Figures):
            out += _find(b.items, kind)
    return out


def test_document_has_every_part(advice_result, doc):
    keys = [s.key for s in doc.sections]
    assert keys == ["verdict", "dataset", "samples", "health", "measurements", "ranking",
                    "verify", "run"]
    verdict = _section(doc, "verdict")
    box = verdict.blocks[0]
    assert isinstance(box, Callout) and box.level == "verdict"
    reasons = _find(box.blocks, Table)[0]
    assert [r[0] for r in reasons.rows] == [r.text for r in advice_result.advice.reasons]
    assert all(r[1] != "\u2014" and r[2] != "\u2014" for r in reasons.rows)
    figures = [f.name for f in _find(_section(doc, "measurements").blocks, Figure)]
    assert figures == ["bn_shift", "probe_curve", "projection"]


def test_next_command_names_the_saved_advice(advice_result, written):
    page = Page(written.html.read_text(encoding="utf-8"))
    code = "".join(page.text).split("tltune ", 1)[1].split("\n")[0]
    saved = (written.html.parent / "advice.json").resolve()
    assert str(saved) in code and advice_result.profile.root in code
    assert AdviceResult.from_dict(json.loads(saved.read_text())).to_dict() == advice_result.to_dict()


def test_findings_show_the_files_involved(advice_result, doc):
    boxes = {b.title.split(":")[0]: b for b in _section(doc, "health").blocks
             if isinstance(b, Callout)}
    assert set(boxes) == {f.check.replace("_", " ") for f in advice_result.health.findings}
    leak = _find(boxes["leakage"].blocks, Gallery)[0]
    assert len(leak.groups) == 1 and len(leak.groups[0]) == 2
    assert all(t.image is not None for t in leak.groups[0])  # side by side, both shown
    broken = _find(boxes["unreadable"].blocks, Gallery)[0].groups[0][0]
    assert broken.image is None and "truncated" in broken.note
    missing = _find(boxes["missing"].blocks, Gallery)[0]
    n_files = len(next(f for f in advice_result.health.findings if f.check == "missing").files)
    assert len(missing.groups) + missing.more == n_files and missing.more > 0
    assert missing.groups[0][0].image is None and missing.groups[0][0].note == "file not found"
    # errors first
    severities = [b.level for b in _section(doc, "health").blocks if isinstance(b, Callout)]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)


def test_samples_per_class_are_real_thumbnails(advice_result, doc):
    galleries = _find(_section(doc, "samples").blocks, Gallery)
    assert len(galleries) == len(advice_result.profile.classes)
    for g in galleries:
        tiles = g.groups[0]
        assert 0 < len(tiles) <= 6
        for t in tiles:
            if t.image is not None:
                w, h = decode_data_uri("data:image/jpeg;base64,"
                                       + base64.b64encode(t.image).decode()).size
                assert max(w, h) == MAX_SIDE


def test_without_verify_and_with_one_backbone(advice_result):
    r = dataclasses.replace(advice_result, measurements=advice_result.measurements[:1],
                            extras={}, verify=None)
    keys = [s.key for s in advice_document(r).sections]
    assert "ranking" not in keys and "verify" not in keys


def test_boundary_marks_the_frozen_part(advice_result):
    m, a = advice_result.chosen, advice_result.advice
    layers = sorted(m.shift.layers, key=lambda l: l.index)
    d = _boundary_depth(m, a)
    last_frozen = max(l.depth for l in layers if l.index <= a.freeze.index)
    first_trained = min(l.depth for l in layers if l.index > a.freeze.index)
    assert last_frozen < d < first_trained
    n = a.freeze.n_blocks
    full = dataclasses.replace(a, scenario="full_finetune", freeze=FreezePlan(0, n))
    assert _boundary_depth(m, full) == 0.0
    fe = dataclasses.replace(a, scenario="feature_extractor",
                             freeze=FreezePlan(n, n, "out_relu", 10_000))
    assert _boundary_depth(m, fe) == 1.0
    scratch = dataclasses.replace(a, scenario="from_scratch", freeze=FreezePlan.from_scratch(n))
    assert _boundary_depth(m, scratch) is None


def test_frozen_text_names_the_plan(advice_result):
    a = advice_result.advice
    n = a.freeze.n_blocks
    assert _freeze_text(a) == "blocks 1..12 of 17, up to layer block_12_add (index 110)"
    assert _freeze_text(dataclasses.replace(a, scenario="full_finetune", freeze=FreezePlan(0, n))
                        ) == "nothing: all 17 blocks are trained"
    assert _freeze_text(dataclasses.replace(a, scenario="feature_extractor",
                                            freeze=FreezePlan(n, n))).startswith("the whole backbone")
    assert _freeze_text(dataclasses.replace(a, scenario="from_scratch",
                                            freeze=FreezePlan.from_scratch(n))
                        ) == "nothing (random initialisation)"


def test_written_html_is_one_self_contained_file(written):
    paths = written
    assert isinstance(paths, ReportPaths)
    html = paths.html.read_text(encoding="utf-8")
    assert paths.size == paths.html.stat().st_size == len(html.encode("utf-8"))
    page = Page(html)
    assert not page.all("script") and not page.all("link")
    assert page.urls() and all(u.startswith(("data:", "#")) for u in page.urls())
    imgs = page.all("img")
    figs = [decode_data_uri(i["src"]) for i in imgs if i["src"].startswith("data:image/png")]
    assert {f.size for f in figs} == {(int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI))}
    text = "".join(page.text)
    assert HOSTILE in text
    assert HOSTILE not in html  # only its escaped form is in the source


def test_markdown_images_exist_beside_it(written):
    linked = markdown_images(written.md)
    assert linked
    assert all((written.md.parent / name).is_file() and "/" not in name for name in linked)
    assert {p.name for p in written.images} == set(linked)


def test_rerender_leaves_no_stale_images(advice_result, written, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(written.html.parent, out)
    m = dataclasses.replace(advice_result.chosen, projection=(), projection_labels=())
    again = write_advice_report(dataclasses.replace(advice_result, measurements=(m,)), out)
    on_disk = {p.name for p in out.iterdir() if p.suffix in (".png", ".jpg")}
    assert on_disk == {p.name for p in again.images}
    assert len(on_disk) < len(written.images)


def test_report_renders_when_the_dataset_is_gone(tmp_path):
    result = make_advice_result(make_dataset(tmp_path / "ds"))
    shutil.rmtree(tmp_path / "ds")
    paths = write_advice_report(result, tmp_path / "out")
    samples = _section(advice_document(result), "samples").blocks
    assert isinstance(samples[0], Text) and samples[0].style == "warning"
    assert paths.html.is_file() and paths.md.is_file()


def test_json_roundtrip_of_the_result(advice_result):
    d = json.loads(json.dumps(advice_result.to_dict()))
    back = AdviceResult.from_dict(d)
    assert back.to_dict() == advice_result.to_dict()
    assert isinstance(back.advice, Advice) and back.profile.classes == advice_result.profile.classes


@pytest.mark.shared
def test_tf_flowers_report_stays_under_5_mb(shared_data, tmp_path):
    """Real photos: 6 thumbnails per class plus the real cross-split duplicate pairs."""
    import hashlib
    from collections import defaultdict

    from advisor.data import scan_layout
    from advisor.health._types import Finding

    root = shared_data / "tf_flowers"
    index = scan_layout(root)
    by_md5 = defaultdict(list)
    for it in index.items:
        by_md5[hashlib.md5(it.path.read_bytes()).hexdigest()].append(it)
    leaks = tuple(tuple(i.rel for i in g) for g in by_md5.values()
                  if len({i.split for i in g}) > 1)
    assert leaks, "tf_flowers has cross-split copies (see shared/data/README.md)"
    base = make_advice_result(make_dataset(tmp_path / "tiny"))
    counts = {s: index.counts(s) for s in index.splits}
    counts["all"] = index.counts("*")
    profile = dataclasses.replace(base.profile, root=str(root), classes=index.classes,
                                  splits=index.splits, counts=counts, n_files=len(index.items),
                                  n_readable=len(index.items))
    labels = [i.label for i in index.items[:600]]
    m = dataclasses.replace(base.chosen, projection=tuple((float(k % 17), float(k % 13))
                                                          for k in range(len(labels))),
                            projection_labels=tuple(labels))
    health = dataclasses.replace(base.health, findings=(
        Finding("leakage", "error", f"{len(leaks)} files in val are copies of train files",
                groups=leaks),))
    result = dataclasses.replace(base, profile=profile, health=health, measurements=(m,))
    paths = write_advice_report(result, tmp_path / "out")
    assert paths.size < 5 * 1024 * 1024
    page = Page(paths.html.read_text(encoding="utf-8"))
    n_thumbs = sum(i["src"].startswith("data:image/jpeg") for i in page.all("img"))
    assert n_thumbs == 6 * len(index.classes) + sum(len(g) for g in leaks)
