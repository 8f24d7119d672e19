"""The advice report: what ``tladvise`` decided, why, and what it measured."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from advisor._result import AdviceResult
from advisor.recommend import Advice
from advisor.report import plots
from advisor.report._dataset_views import health_section, samples_section
from advisor.report._doc import (
    Block,
    Bullets,
    Callout,
    Code,
    Document,
    Figure,
    Figures,
    Heading,
    KeyValues,
    Section,
    Table,
    Text,
)
from advisor.report._depth import boundary_depth as _boundary_depth  # noqa: F401 (tests)
from advisor.report._depth import depth_figure, depth_table
from advisor.report._fmt import DASH, lr, num, pct, size
from advisor.report._generic import json_blocks
from advisor.report._output import ReportPaths, prepare_dir, write_document
from advisor.report._thumbs import ThumbMaker
from advisor.report._verify import verify_section

__all__ = ["ADVICE_JSON", "SCENARIO_TITLES", "advice_document", "write_advice_report"]

ADVICE_JSON = "advice.json"
SCENARIO_TITLES = {
    "feature_extractor": "Feature extractor: freeze the whole backbone, train a new head",
    "partial_freeze": "Partial freeze: freeze the early blocks, fine-tune the rest",
    "full_finetune": "Full fine-tune: train every layer from ImageNet weights",
    "from_scratch": "Train from scratch: ImageNet weights do not help here",
}


def _scenario(name: str) -> str:
    return SCENARIO_TITLES.get(name, name)


def _freeze_text(a: Advice) -> str:
    f = a.freeze
    if f.scratch:
        return "nothing (random initialisation)"
    if f.none_frozen:
        return f"nothing: all {f.n_blocks} blocks are trained"
    if f.all_frozen:
        return f"the whole backbone (all {f.n_blocks} blocks); only the head is trained"
    return f"blocks 1..{f.block} of {f.n_blocks}, up to layer {f.layer} (index {f.index})"


def _augmentation_text(a: Advice) -> str:
    g = a.augmentation
    if g.level == "off":
        text = "off"
    else:
        text = (f"{g.level}: flip {g.flip.replace('_', ' ')}, rotation {g.rotation:g}, "
                f"zoom {g.zoom:g}, contrast {g.contrast:g}")
    return f"{text} ({g.note})" if g.note else text


def next_command(result: AdviceResult, advice_json: Path | None) -> str:
    """The ``tltune`` call that trains with this advice."""
    args = ["tltune", result.profile.root]
    if advice_json is not None:
        args += ["--advice", str(advice_json)]
    return " ".join(shlex.quote(a) for a in args)


def _verdict(result: AdviceResult, advice_json: Path | None) -> Section:
    a = result.advice
    facts = [
        ("Backbone", f"{a.backbone} at {a.input_size}\u00d7{a.input_size} px"),
        ("Frozen", _freeze_text(a)),
        ("Head learning rate", f"{lr(a.head_lr.low)} .. {lr(a.head_lr.high)}"),
        ("Backbone learning rate", f"{lr(a.backbone_lr.low)} .. {lr(a.backbone_lr.high)}"
         if a.backbone_lr else f"{DASH} (backbone not trained)"),
        ("Augmentation", _augmentation_text(a)),
        ("Confidence", pct(a.confidence, 0)),
        ("Runner-up", _scenario(a.runner_up)),
        ("Similarity to ImageNet", num(a.similarity, 2)),
        ("Images per class", num(a.images_per_class, 0)),
    ]
    reasons = Table(("Reason", "Value", "Threshold"),
                    tuple((r.text, num(r.value), num(r.threshold)) for r in a.reasons),
                    align="lrr")
    inner: list[Block] = [KeyValues(tuple(facts)), Heading("Why"), reasons]
    if a.what_would_change:
        inner += [Heading("What would change the call"), Bullets(tuple(a.what_would_change))]
    blocks: list[Block] = [Callout(_scenario(a.scenario), "verdict", tuple(inner),
                                   badge="recommendation")]
    warnings = [str(w) for w in result.extras.get("warnings", ()) or ()]
    if warnings:
        blocks.append(Callout("Warnings and fallbacks during this run", "warning",
                              (Bullets(tuple(warnings)),), badge="warning"))
    blocks += [Heading("Next step"), Code(next_command(result, advice_json))]
    return Section("verdict", "Recommendation", tuple(blocks))


def _dataset(result: AdviceResult) -> Section:
    p = result.profile
    splits = [s for s in p.counts if s != "all"] or ["all"]
    headers = ("Class",) + tuple(splits) + (("total",) if len(splits) > 1 else ())
    rows = []
    for c in p.classes:
        vals = [int(p.counts[s].get(c, 0)) for s in splits]
        rows.append((c, *[num(v) for v in vals], *([num(sum(vals))] if len(splits) > 1 else [])))
    totals = [sum(int(p.counts[s].get(c, 0)) for c in p.classes) for s in splits]
    rows.append(("all classes", *[num(v) for v in totals],
                 *([num(sum(totals))] if len(splits) > 1 else [])))
    facts = [
        ("Folder", p.root),
        ("Layout", p.layout),
        ("Classes", num(len(p.classes))),
        ("Files / readable", f"{num(p.n_files)} / {num(p.n_readable)}"),
        ("Image size min / median / max",
         " / ".join(size(p.sizes.get(k)) for k in ("min", "median", "max"))),
        ("Modes", ", ".join(f"{k} {num(v)}" for k, v in p.modes.items()) or DASH),
        ("Formats", ", ".join(f"{k} {num(v)}" for k, v in p.formats.items()) or DASH),
        ("Images per class min / median",
         f"{num(p.images_per_class_min)} / {num(float(p.images_per_class_median), 0)}"),
    ]
    blocks: list[Block] = [KeyValues(tuple(facts)),
                           Table(headers, tuple(rows), "l" + "r" * (len(headers) - 1),
                                 highlight=(len(rows) - 1,)),
                           Figure(plots.class_balance({s: p.counts[s] for s in splits}, p.classes),
                                  "class_balance", "Images per class and split")]
    blocks += [Text(n, "muted") for n in p.notes]
    return Section("dataset", "Dataset", tuple(blocks))


def _measurements(result: AdviceResult) -> Section:
    a = result.advice
    m = next((x for x in result.measurements if x.backbone == a.backbone), result.chosen)
    facts = [
        ("Backbone / weights", f"{m.backbone} ({m.weights}), {m.input_size} px"),
        ("Images measured", num(m.n_images)),
        ("Probe accuracy (backbone features)",
         f"{num(m.probe.accuracy)} \u00b1 {num(m.probe.std)} ({m.probe.folds}-fold)"),
        ("Probe accuracy (raw pixels)",
         f"{num(m.pixel_probe.accuracy)} \u00b1 {num(m.pixel_probe.std)}"),
        ("Transfer gain (features - pixels)", num(m.transfer_gain)),
        ("Majority-class accuracy", num(m.probe.majority)),
        ("Learning-curve slope (per doubling)", num(m.probe.curve_slope)),
        ("LogME", num(m.logme)),
        ("Similarity to ImageNet (0..1)", num(m.similarity)),
        ("BN shift early / middle / late / overall",
         " / ".join(num(v) for v in (m.shift.early, m.shift.middle, m.shift.late,
                                     m.shift.overall))),
        ("Time", f"{num(m.seconds, 1)} s" + (" (cached)" if m.cache_hit else "")),
    ]
    figs: list[Figure] = [f for f in (depth_figure(m, a),) if f is not None]
    curves = {f"{m.backbone} features": [(p.n_train, p.accuracy) for p in m.probe.learning_curve],
              "raw pixels (baseline)": [(p.n_train, p.accuracy)
                                        for p in m.pixel_probe.learning_curve]}
    if any(curves.values()):
        figs.append(Figure(plots.learning_curves(curves, m.probe.majority), "probe_curve",
                           "Linear-probe accuracy as the training set grows: ImageNet features "
                           "against the raw-pixel baseline"))
    if m.projection:
        figs.append(Figure(plots.projection(m.projection, m.projection_labels), "projection",
                           "The backbone's pooled features in two dimensions, one colour per class"))
    blocks: list[Block] = [KeyValues(tuple(facts))]
    notes = list(m.notes)
    notes += [f"features probe: {n}" for n in m.probe.notes]
    notes += [f"pixel probe: {n}" for n in m.pixel_probe.notes]
    blocks += [Text(n, "muted") for n in notes]
    if figs:
        blocks.append(Figures(tuple(figs)))
    depth = depth_table(m)
    if depth:
        blocks += [Heading("Probe accuracy by depth"), *depth]
    return Section("measurements", "Measurements", tuple(blocks))


def _ranking(result: AdviceResult) -> Section:
    rows = tuple((m.backbone, num(m.input_size), m.weights, num(m.probe.accuracy),
                  num(m.pixel_probe.accuracy), num(m.transfer_gain), num(m.logme),
                  num(m.similarity), num(m.shift.overall), num(m.seconds, 1))
                 for m in result.measurements)
    chosen = tuple(i for i, m in enumerate(result.measurements)
                   if m.backbone == result.advice.backbone)
    return Section("ranking", "Backbone ranking", (
        Table(("Backbone", "Input", "Weights", "Probe acc.", "Pixel acc.", "Gain", "LogME",
               "Similarity", "BN shift", "Seconds"), rows, "lrlrrrrrrr", highlight=chosen,
              caption="Best first; the highlighted row is the recommended backbone."),))


def _run(result: AdviceResult) -> Section:
    facts = [("Command", result.command or DASH), ("Seconds", num(float(result.seconds), 1))]
    blocks: list[Block] = [KeyValues(tuple(facts))]
    other = {k: v for k, v in result.extras.items() if k != "warnings"}
    if other:
        blocks += json_blocks(other)
    return Section("run", "Run details", tuple(blocks))


def advice_document(result: AdviceResult, *, advice_json: Path | None = None,
                    thumbs: ThumbMaker | None = None, seed: int = 0) -> Document:
    """The advice report as a :class:`Document` (renderer-independent)."""
    thumbs = thumbs or ThumbMaker()
    sections = [_verdict(result, advice_json), _dataset(result),
                samples_section(result, thumbs, seed),
                health_section(result.health, result.profile.root, thumbs),
                _measurements(result)]
    if len(result.measurements) > 1:
        sections.append(_ranking(result))
    if result.verify is not None:
        sections.append(verify_section(result.verify))
    sections.append(_run(result))
    name = Path(result.profile.root).name or result.profile.root
    return Document(title=f"Transfer-learning advice: {name}",
                    subtitle=result.profile.root, sections=tuple(sections),
                    footer="Written by tladvise; re-render with: tlreport <this folder>")


def write_advice_report(result: AdviceResult, out_dir: str | Path, *,
                        save_json: bool = True, seed: int = 0) -> ReportPaths:
    """Write ``report.html`` and ``report.md`` (+ images) for ``result`` into ``out_dir``.

    With ``save_json`` the result is also saved as ``advice.json`` there, so
    ``tlreport out_dir`` can re-render it and ``tltune --advice`` can read it.
    """
    out = prepare_dir(out_dir)
    advice_json = (out / ADVICE_JSON).resolve()
    if save_json:
        advice_json.write_text(json.dumps(result.to_dict(), indent=2, default=str),
                               encoding="utf-8")
    doc = advice_document(result, advice_json=advice_json, seed=seed)
    return write_document(doc, out)
