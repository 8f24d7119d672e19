"""Report plots: matplotlib with the Agg canvas, one size for all, returned as PNG bytes.

Every plot has a title and labelled axes. Labels from the data (class names) go
through :func:`_label` so a ``$`` cannot switch on mathtext and a leading ``_``
cannot hide a legend entry.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["FIGSIZE", "DPI", "class_balance", "shift_profile", "learning_curves", "projection",
           "optimisation_history", "importances", "scatter", "epoch_curves", "confusion_matrix"]

FIGSIZE = (6.4, 3.8)  # inches; every plot uses it so the report's figures line up
DPI = 100
_COLORS = ("#2456a6", "#e07b00", "#1f7a3d", "#b3261e", "#7a3db3", "#00838f", "#8d6e63",
           "#c2185b", "#607d8b", "#9e9d24")


def _label(text: object, limit: int = 40) -> str:
    s = str(text).replace("\n", " ")
    s = s if len(s) <= limit else s[:limit - 1] + "\u2026"
    s = s.replace("$", r"\$")
    return "\u200b" + s if s.startswith("_") else s


def _new(title: str, xlabel: str, ylabel: str, figsize: tuple[float, float] = FIGSIZE):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=12, loc="left")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, color="#e3e7ee", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _color(i: int) -> str:
    return _COLORS[i % len(_COLORS)]


def class_balance(counts: Mapping[str, Mapping[str, int]], classes: Sequence[str]) -> bytes:
    """Grouped bars: images per class, one bar per split."""
    fig, ax = _new("Images per class", "class", "images")
    splits = list(counts)
    x = np.arange(len(classes))
    width = 0.8 / max(len(splits), 1)
    for i, split in enumerate(splits):
        vals = [counts[split].get(c, 0) for c in classes]
        ax.bar(x + (i - (len(splits) - 1) / 2) * width, vals, width, label=_label(split),
               color=_color(i))
    ax.set_xticks(x, [_label(c, 18) for c in classes],
                  rotation=30 if len(classes) > 6 else 0, ha="right" if len(classes) > 6 else "center",
                  fontsize=9 if len(classes) <= 20 else 6)
    if len(splits) > 1:
        ax.legend(title="split", fontsize=9)
    return _png(fig)


def shift_profile(depths: Sequence[float], shifts: Sequence[float], boundary: float | None,
                  boundary_label: str,
                  probes: Sequence[tuple[float, float, float]] = (),
                  majority: float | None = None) -> bytes:
    """BN shift over relative depth, with the frozen part shaded up to ``boundary``.

    ``probes`` (``(depth, accuracy, std)`` per probed block end) adds the linear-probe
    accuracy at those depths on a second y axis (0..1, right), with the
    ``majority``-class accuracy as a dotted line."""
    title = ("BN shift from ImageNet and probe accuracy, by depth" if probes
             else "BatchNorm statistics shift from ImageNet, by depth")
    fig, ax = _new(title, "relative depth in the backbone (0 = input, 1 = output)",
                   "normalised W2 shift")
    ax.plot(depths, shifts, marker="o", markersize=3, color=_color(0), label="BN layer shift")
    if boundary is not None:
        ax.axvspan(0, boundary, color="#9bb7e0", alpha=0.25, label=boundary_label)
        ax.axvline(boundary, color=_color(3), linestyle="--", linewidth=1.5,
                   label="recommended freeze boundary")
    ax.set_xlim(0, 1)
    ax.set_ylim(bottom=0)
    handles, labels = ax.get_legend_handles_labels()
    if probes:
        xs, ys, sd = (np.asarray(v, dtype=float) for v in zip(*probes))
        acc = ax.twinx()
        acc.spines["top"].set_visible(False)
        acc.fill_between(xs, np.clip(ys - sd, 0, 1), np.clip(ys + sd, 0, 1), color=_color(1),
                         alpha=0.15, linewidth=0)
        acc.plot(xs, ys, marker="s", markersize=4, color=_color(1),
                 label="linear-probe accuracy (right)")
        if majority is not None:
            acc.axhline(majority, color="#888", linestyle=":", label="majority class (right)")
        acc.set_ylim(0, 1.02)
        acc.set_ylabel("cross-validated probe accuracy")
        h2, l2 = acc.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
        ax = acc  # the legend goes on the top axes, above both plots
    ax.legend(handles, labels, fontsize=8 if probes else 9, loc="upper left")
    return _png(fig)


def learning_curves(curves: Mapping[str, Sequence[tuple[float, float]]],
                    majority: float | None) -> bytes:
    """Probe accuracy against training images, one line per feature set."""
    fig, ax = _new("Linear-probe learning curve", "training images (log scale)",
                   "cross-validated accuracy")
    for i, (name, pts) in enumerate(curves.items()):
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="o", color=_color(i), label=_label(name))
    if majority is not None:
        ax.axhline(majority, color="#888", linestyle=":", label="majority class")
    ax.set_xscale("log", base=2)
    ns = sorted({int(x) for pts in curves.values() for x, _ in pts})
    if ns:
        ax.set_xticks(ns, [str(n) for n in ns])
        ax.minorticks_off()
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=9, loc="lower right")
    return _png(fig)


def projection(points: Sequence[Sequence[float]], labels: Sequence[str]) -> bytes:
    """2-D projection of the features, coloured by class."""
    fig, ax = _new("Backbone features, 2-D projection (PCA)", "component 1", "component 2")
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    labels = list(labels)
    for i, cls in enumerate(sorted(set(labels))):
        m = np.array([lab == cls for lab in labels])
        ax.scatter(pts[m, 0], pts[m, 1], s=12, alpha=0.75, color=_color(i), label=_label(cls, 24))
    if len(set(labels)) <= 12:
        ax.legend(fontsize=8, markerscale=1.5, loc="center left", bbox_to_anchor=(1.0, 0.5),
                  frameon=False)
    return _png(fig)


def optimisation_history(numbers: Sequence[int], values: Sequence[float]) -> bytes:
    """Each trial's validation accuracy, with the best-so-far line."""
    fig, ax = _new("Optimisation history", "trial number", "validation accuracy")
    ax.scatter(numbers, values, color=_color(0), s=22, label="trial", zorder=3)
    if values:
        best = np.maximum.accumulate(np.asarray(values, dtype=float))
        ax.step(numbers, best, where="post", color=_color(3), label="best so far")
    ax.legend(fontsize=9, loc="lower right")
    return _png(fig)


def importances(values: Mapping[str, float]) -> bytes:
    """Horizontal bars of parameter importances, largest on top."""
    fig, ax = _new("Hyper-parameter importance", "importance (share of variance)", "parameter")
    items = sorted(values.items(), key=lambda kv: kv[1])
    ax.barh([_label(k) for k, _ in items], [v for _, v in items], color=_color(0))
    ax.grid(True, axis="x", color="#e3e7ee")
    ax.grid(False, axis="y")
    return _png(fig)


def scatter(xs: Sequence[float], ys: Sequence[float], title: str, xlabel: str, ylabel: str,
            log_x: bool = False, integer_x: bool = False) -> bytes:
    """One trial per point."""
    from matplotlib.ticker import MaxNLocator

    fig, ax = _new(title, xlabel, ylabel)
    ax.scatter(xs, ys, color=_color(0), s=26, alpha=0.8)
    if log_x and xs and min(xs) > 0:
        ax.set_xscale("log")
    if integer_x:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _png(fig)


def epoch_curves(curves: Mapping[str, Sequence[tuple[int, float]]]) -> bytes:
    """Validation accuracy per epoch for a few trials."""
    fig, ax = _new("Learning curves of the best trials", "epoch", "validation accuracy")
    for i, (name, pts) in enumerate(curves.items()):
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="o", markersize=3, color=_color(i), label=_label(name))
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=9, loc="lower right")
    return _png(fig)


def confusion_matrix(matrix: Sequence[Sequence[int]], classes: Sequence[str]) -> bytes:
    """Heatmap of a confusion matrix (colour: share of the true class, text: counts)."""
    n = len(classes)
    side = 5.0 if n <= 12 else min(0.3 * n + 1.5, 10.0)
    fig, ax = _new("Confusion matrix (test set)", "predicted class", "true class",
                   figsize=(FIGSIZE[0], side))
    m = np.asarray(matrix, dtype=float).reshape(n, n)
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.grid(False)
    ticks = [_label(c, 16) for c in classes]
    fs = 9 if n <= 12 else 6
    ax.set_xticks(range(n), ticks, rotation=45 if n > 3 else 0, ha="right" if n > 3 else "center",
                  fontsize=fs)
    ax.set_yticks(range(n), ticks, fontsize=fs)
    if n <= 20:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center", fontsize=fs,
                        color="white" if share[i, j] > 0.5 else "#1d2330")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of true class")
    return _png(fig)

