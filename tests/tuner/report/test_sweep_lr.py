"""The LR finder's figure and report section, rendered to HTML and Markdown from an
:class:`~tuner.training.LRFinding` (built from synthetic loss curves: no training)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from advisor.report import Document, Figure, Section, Table, lr, write_document
from tests.advisor.report._inspect import Page, decode_data_uri, markdown_images
from tuner.report._sweep_lr import lr_finder_blocks, lr_finder_figure, lr_finder_section
from tuner.training import LRFinding
from tuner.training._lrcurve import curve_from_losses, sweep_lrs


def _curve(centre: float, steps: int, seed: int):
    """A finder-like curve: flat, falling towards ``centre``, exploding above it."""
    lrs = sweep_lrs((1e-7, 1.0), steps)
    x = np.log10(lrs / centre)
    clean = 0.7 - 0.5 / (1 + np.exp(-3 * (x + 1))) + np.where(x > 0.5, (x - 0.5) ** 2 * 4, 0)
    raw = clean + np.random.default_rng(seed).normal(0, 0.03, steps)
    return curve_from_losses(lrs, np.abs(raw), planned=steps, lr_range=(1e-7, 1.0),
                             beta=0.98 ** (100 / steps), seconds=1.25)


@pytest.fixture(scope="module")
def finding() -> LRFinding:
    return LRFinding(head=_curve(1e-2, 100, 0), backbone=_curve(1e-4, 40, 1), freeze_block=9,
                     n_blocks=18, boundary="block_8_add", backbone_name="mobilenet_v2",
                     augmentation="off", batch_size=32, seed=0, seconds=30.5,
                     notes=("activation cache hit: pooled features",))


@pytest.fixture(scope="module")
def section(finding) -> Section:
    return lr_finder_section(finding)  # renders the figure (seconds on a busy machine)


def _png_size(png: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(png)).size


def test_figure_has_one_panel_per_sweep(finding) -> None:
    both = _png_size(lr_finder_figure(finding))
    head_only = _png_size(lr_finder_figure(LRFinding.from_dict(
        {**finding.to_dict(), "backbone": None})))
    assert both[1] == head_only[1] and both[0] > head_only[0]


def test_section_tabulates_suggestions_and_centred_ranges(finding, section) -> None:
    s = section
    assert isinstance(s, Section) and s.key == "lr_finder"
    table = next(b for b in s.blocks if isinstance(b, Table))
    assert [r[0] for r in table.rows] == ["head_lr", "backbone_lr"]
    head, backbone = finding.ranges(1.0)
    assert table.rows[0][1] == lr(finding.head.suggestion)
    assert table.rows[1][1] == lr(finding.backbone.suggestion)
    assert table.rows[0][5] == f"{lr(head[0])} \u2013 {lr(head[1])}"
    assert table.rows[1][5] == f"{lr(backbone[0])} \u2013 {lr(backbone[1])}"
    assert [b.name for b in s.blocks if isinstance(b, Figure)] == ["lr_finder"]
    wide = next(b for b in lr_finder_blocks(finding, 2.0) if isinstance(b, Table))
    assert "2 decade" in wide.headers[-1] and wide.rows[0][5] == "{} \u2013 {}".format(
        *map(lr, finding.ranges(2.0)[0]))


def test_section_renders_to_html_and_markdown(finding, section, tmp_path: Path) -> None:
    doc = Document(title="LR finder", subtitle="", sections=(section,))
    paths = write_document(doc, tmp_path)
    html = paths.html.read_text(encoding="utf-8")
    page = Page(html)
    text = " ".join(page.text)
    for c in (finding.head, finding.backbone):
        assert lr(c.suggestion) in text and lr(c.min_div10) in text
    assert "block_8_add" in text and "Learning-rate finder" in text
    imgs = [a["src"] for a in page.all("img")]
    assert len(imgs) == 1 and decode_data_uri(imgs[0]).size[0] > 0
    md = paths.md.read_text(encoding="utf-8")
    assert lr(finding.head.suggestion) in md and lr(finding.backbone.suggestion) in md
    (name,) = markdown_images(paths.md)
    assert (tmp_path / name).is_file()


def test_feature_extractor_section_has_the_head_only(finding) -> None:
    fe = LRFinding.from_dict(json.loads(json.dumps({**finding.to_dict(), "backbone": None,
                                                    "boundary": None})))
    s = lr_finder_section(fe)
    table = next(b for b in s.blocks if isinstance(b, Table))
    assert [r[0] for r in table.rows] == ["head_lr"]
    assert any("only the head" in getattr(b, "text", "") for b in s.blocks)
