"""The advice report's view over the backbone's depth: the BN-shift profile with the
recommended freeze boundary, and the linear probes at a few block ends beside it (on a
second axis of the same figure, and in a small table)."""

from __future__ import annotations

from advisor.measure._types import Measurements
from advisor.recommend._types import Advice
from advisor.report import plots
from advisor.report._doc import Figure, Table, Text
from advisor.report._fmt import num

__all__ = ["boundary_depth", "depth_figure", "depth_table"]


def boundary_depth(m: Measurements, a: Advice) -> float | None:
    """Relative depth of the recommended freeze boundary on the shift plot."""
    f = a.freeze
    if f.scratch:
        return None
    layers = sorted(m.shift.layers, key=lambda l: l.index)
    if f.none_frozen or not layers:
        return 0.0
    if f.all_frozen:
        return 1.0
    if f.index is None:  # the layer is not known
        return None
    before = [l for l in layers if l.index <= f.index]
    after = [l for l in layers if l.index > f.index]
    if not before:
        return 0.0
    if not after:
        return 1.0
    return (before[-1].depth + after[0].depth) / 2


def depth_figure(m: Measurements, a: Advice) -> Figure | None:
    """The BN shift by depth (frozen part shaded) with the depth probes' accuracy on a
    second axis; ``None`` without BN layers."""
    if not m.shift.layers:
        return None
    layers = sorted(m.shift.layers, key=lambda l: l.depth)
    label = ("frozen: " + ("nothing" if a.freeze.none_frozen
                           else f"blocks 1..{a.freeze.block} of {a.freeze.n_blocks}"))
    probes = [(d.depth, d.accuracy, d.std) for d in sorted(m.depth_probes, key=lambda d: d.depth)]
    png = plots.shift_profile([l.depth for l in layers], [l.shift for l in layers],
                              boundary_depth(m, a), label, probes,
                              m.probe.majority if probes else None)
    caption = ("How far the dataset's BatchNorm input statistics are from ImageNet's, layer by "
               "layer; the shaded part is frozen")
    if probes:
        caption += ("; right axis: linear-probe accuracy on the pooled activations at "
                    "a few block ends (band: \u00b1 one standard deviation over the folds)")
    return Figure(png, "bn_shift", caption)


def depth_table(m: Measurements) -> list:
    """The depth probes as a table (shallow first) with their notes; empty without them."""
    if not m.depth_probes:
        return []
    rows = tuple((f"{d.block} of {d.n_blocks}", d.layer, num(d.fraction, 2), num(d.depth, 2),
                  num(d.dims), f"{num(d.accuracy)} \u00b1 {num(d.std)}")
                 for d in sorted(m.depth_probes, key=lambda d: d.block))
    table = Table(("Block end", "Layer", "Blocks", "Layer depth", "Dims", "Probe accuracy"),
                  rows, "llrrrr",
                  caption="Linear probe on the pooled activations at a few block ends (same "
                          "images and folds as the main probe; the last row is the main probe). "
                          f"Majority class: {num(m.probe.majority)}.")
    notes = [Text(f"depth probe at {d.layer}: {n}", "muted")
             for d in m.depth_probes if d.block < d.n_blocks for n in d.notes]
    return [table, *notes]
