"""The depth probes in the reports: a second axis on the BN-shift figure, a table, the
terminal summary and the JSON."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pytest
from PIL import Image

from advisor._result import AdviceResult
from advisor.measure import DepthProbe
from advisor.report import advice_document, write_advice_report
from advisor.report._doc import Figure, Figures, Heading, Table
from advisor.report.plots import DPI, FIGSIZE
from tests.advisor.report._inspect import Page

# (block, layer, channels, accuracy) of 17 blocks, as MobileNetV2-like block ends
_PROBES = [(3, "block_2_add", 24, 0.52), (6, "block_5_add", 32, 0.61), (8, "block_7_add", 64, 0.7),
           (11, "block_10_project_BN", 96, 0.77), (14, "block_13_project_BN", 160, 0.83),
           (17, "out_relu", 1280, 0.86)]


@pytest.fixture(scope="module")
def with_depth(advice_result) -> AdviceResult:
    m = advice_result.measurements[0]
    probes = tuple(DepthProbe(b, 17, round(b / 17, 4), name, 9 * b, round(9 * b / 153, 4), acc,
                              0.03, dims, ("3 folds instead of 5",) if b == 3 else ())
                   for b, name, dims, acc in reversed(_PROBES))  # any order in, shallow first out
    m = dataclasses.replace(m, depth_probes=probes)
    return dataclasses.replace(advice_result, measurements=(m,) + advice_result.measurements[1:])


@pytest.fixture(scope="module")
def measurements_section(with_depth):
    return next(s for s in advice_document(with_depth).sections if s.key == "measurements")


def _orange_pixels(png: bytes) -> int:
    """Pixels of the probe line's colour (#e07b00) in a figure."""
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int((np.abs(a - [0xE0, 0x7B, 0x00]).sum(axis=-1) < 40).sum())


def test_table_lists_the_depth_probes_shallow_first(measurements_section):
    blocks = list(measurements_section.blocks)
    at = next(i for i, b in enumerate(blocks)
              if isinstance(b, Heading) and b.text == "Probe accuracy by depth")
    table = blocks[at + 1]
    assert isinstance(table, Table)
    assert [r[1] for r in table.rows] == [p[1] for p in _PROBES]
    assert table.rows[0][0] == "3 of 17" and table.rows[-1][-1] == "0.860 \u00b1 0.030"
    assert [r[4] for r in table.rows] == [f"{p[2]:,}" for p in _PROBES]
    # the probe's own notes are said, never silent
    assert any("block_2_add" in getattr(b, "text", "") and "3 folds" in b.text
               for b in blocks[at + 2:])


def test_shift_figure_gets_the_probe_accuracy_axis(advice_result, measurements_section):
    def shift_png(blocks):
        figs = [f for b in blocks if isinstance(b, Figures) for f in b.items]
        return next(f for f in figs if f.name == "bn_shift")

    with_probes = shift_png(measurements_section.blocks)
    without = shift_png(next(s for s in advice_document(advice_result).sections
                             if s.key == "measurements").blocks)
    assert isinstance(with_probes, Figure) and "probe accuracy" in with_probes.caption
    assert "probe" not in without.caption
    size = (int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI))
    assert Image.open(io.BytesIO(with_probes.png)).size == size  # lines up with the others
    assert _orange_pixels(with_probes.png) > 200 and _orange_pixels(without.png) == 0


def test_without_depth_probes_the_measurements_are_unchanged(advice_result):
    section = next(s for s in advice_document(advice_result).sections if s.key == "measurements")
    assert not any(isinstance(b, Heading) and "depth" in b.text for b in section.blocks)


def test_written_report_and_json_carry_the_depth_probes(with_depth, tmp_path):
    paths = write_advice_report(with_depth, tmp_path / "out")
    text = "".join(Page(paths.html.read_text(encoding="utf-8")).text)
    md = paths.md.read_text(encoding="utf-8")
    for page in (text, md):
        assert "Probe accuracy by depth" in page and "0.520 \u00b1 0.030" in page
    assert "block_2_add" in text and "block\\_2\\_add" in md  # Markdown escapes the _
    saved = json.loads((paths.html.parent / "advice.json").read_text())
    assert len(saved["measurements"][0]["depth_probes"]) == len(_PROBES)
    back = AdviceResult.from_dict(saved)
    assert back.chosen.depth_probes == with_depth.chosen.depth_probes
    assert back.measurements[1].depth_probes == ()


def test_terminal_summary_lists_probe_accuracy_by_depth(with_depth, advice_result):
    from rich.console import Console

    from advisor._render import render_advice

    def render(result) -> str:
        console = Console(record=True, width=160, color_system=None)
        render_advice(result, console)
        return console.export_text()

    out = render(with_depth)
    line = next(l for l in out.splitlines() if "probe accuracy by depth" in l)
    assert "block of 17" in line and "b17 0.86" in line and "majority 0.38" in line
    assert "probe accuracy by depth" not in render(advice_result)
