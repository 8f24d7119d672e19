"""The LR finder in the sweep report: the loss curves of a
:class:`~tuner.training.LRFinding` (loss against learning rate on a log axis, raw and
smoothed, the suggestion and the valley marked; one panel per sweep) and a section of
its suggestions and the search ranges centred on them. The section is a
:class:`~advisor.report.Section`: the report's HTML and Markdown renderers both draw it.
"""

from __future__ import annotations

import io

from advisor.report import Block, Figure, Section, Table, Text, lr, num, plots
from tuner.training._lrcurve import DIVERGE_FACTOR, VALLEY_POINT, LRCurve, LRFinding

__all__ = ["RANGE_DECADES", "lr_finder_blocks", "lr_finder_figure", "lr_finder_section"]

RANGE_DECADES = 1.0  # width of the centred ranges the section shows
_RAW, _SMOOTH, _MARK, _SHADE = "#9bb7e0", "#2456a6", "#b3261e", "#1f7a3d"


def _panels(finding: LRFinding) -> list[tuple[str, LRCurve]]:
    out = [("Head (pooled features)", finding.head)]
    if finding.backbone is not None:
        out.append((f"Backbone after {finding.boundary} (block {finding.freeze_block})",
                    finding.backbone))
    return out


def lr_finder_figure(finding: LRFinding) -> bytes:
    """PNG of the sweeps: per panel the raw and smoothed loss against the learning rate
    (log axis), the valley shaded, the suggestion and minimum/10 marked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    panels = _panels(finding)
    w, h = plots.FIGSIZE
    fig = MplFigure(figsize=(w * (0.6 + 0.6 * len(panels)), h), dpi=plots.DPI)
    FigureCanvasAgg(fig)
    for i, (title, c) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        ax.set_title(title, fontsize=11, loc="left")
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("training loss" if i == 0 else "")
        ax.grid(True, color="#e3e7ee", linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        first, last = c.valley
        ax.axvspan(c.lrs[first], c.lrs[last], color=_SHADE, alpha=0.08, label="valley")
        ax.plot(c.lrs, c.raw_losses, color=_RAW, linewidth=0.9, label="loss per batch")
        ax.plot(c.lrs, c.losses, color=_SMOOTH, linewidth=2, label="smoothed")
        ax.axvline(c.suggestion, color=_MARK, linestyle="--", linewidth=1.5,
                   label=f"suggestion {lr(c.suggestion)}")
        ax.axvline(c.min_div10, color="#888", linestyle=":", linewidth=1.2,
                   label=f"minimum/10 {lr(c.min_div10)}")
        ax.set_xscale("log")
        # the scale of the smoothed curve: a diverging raw batch loss runs off the top
        lo, hi = min(min(c.raw_losses), min(c.losses)) * 0.9, max(c.losses) * 1.15
        ax.set_ylim(lo, hi if hi > lo else lo + 1.0)
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=plots.DPI)
    return buf.getvalue()


def _range_text(r: tuple[float, float] | None) -> str:
    return "\u2014" if r is None else f"{lr(r[0])} \u2013 {lr(r[1])}"


def lr_finder_blocks(finding: LRFinding, width_decades: float = RANGE_DECADES,
                     searched: tuple | None = None) -> tuple[Block, ...]:
    """The figure and the table of suggestions (suggestion, minimum/10, steps, seconds,
    the range ``width_decades`` wide centred on the suggestion, or the ranges the sweep
    ``searched``: ``(head_lr, backbone_lr)``), to put in any section."""
    ranges = searched if searched is not None else finding.ranges(width_decades)
    names = ("head_lr", "backbone_lr")
    rows = []
    for (_, c), name, r in zip(_panels(finding), names, ranges):
        rows.append((name, lr(c.suggestion), lr(c.min_div10), f"{c.steps} / {c.planned}"
                     + (" (diverged)" if c.diverged else ""), num(float(c.seconds), 1),
                     _range_text(r)))
    caption = (f"Suggestion: {round(VALLEY_POINT * 100)} % into the longest decreasing stretch "
               f"of the smoothed loss; a sweep stops when the smoothed loss exceeds "
               f"{DIVERGE_FACTOR:g}x its minimum. "
               + ("Range: the range the search sampled (head_lr widened to reach the "
                  "head's suggestion; backbone_lr keeps the advice's range). " if searched is not None
                  else f"Range: {width_decades:g} decade(s) centred on the suggestion. ")
               + f"Batch size {finding.batch_size}, augmentation "
               f"{finding.augmentation}, seed {finding.seed}; {num(float(finding.seconds), 1)} s "
               "in all.")
    blocks: list[Block] = [
        Figure(lr_finder_figure(finding), "lr_finder",
               "Training loss against the learning rate of each LR finder sweep"),
        Table(("Rate", "Suggestion", "Minimum/10", "Steps", "Seconds",
               "Searched range" if searched is not None
               else f"Centred range ({width_decades:g} decade)"), tuple(rows), "lrrrrr",
              caption=caption)]
    if finding.backbone is None:
        blocks.append(Text("Feature extractor: no backbone layer trains, so only the head "
                           "was swept.", "muted"))
    blocks += [Text(str(n), "muted") for n in finding.notes]
    return tuple(blocks)


def lr_finder_section(finding: LRFinding, width_decades: float = RANGE_DECADES,
                      searched: tuple | None = None) -> Section:
    """The "Learning-rate finder" section of ``finding`` (for the sweep report's sections)."""
    intro = Text(f"Before the search, a short sweep of exponentially increasing learning "
                 f"rates (one mini-batch per step, on the cached activations of "
                 f"{finding.backbone_name}) measured the training loss of the head"
                 + (f" and of the backbone's layers after {finding.boundary} (freeze block "
                    f"{finding.freeze_block} of {finding.n_blocks})."
                    if finding.backbone is not None else "."))
    return Section("lr_finder", "Learning-rate finder",
                   (intro, *lr_finder_blocks(finding, width_decades, searched)))

