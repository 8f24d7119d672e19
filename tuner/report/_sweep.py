"""The sweep report: what ``tltune`` tried, what won, and how the final model does on test.

It renders a :class:`~tuner.run.SweepResult` (``SweepResult.from_dict`` of a saved
``results.json`` re-renders without TensorFlow or training). The sections: Result
(here), Search (:mod:`._sweep_search`), Test results (:mod:`._sweep_final`) and
Reproduce (here).
"""

from __future__ import annotations

from pathlib import Path

from advisor.report import (DASH, Block, Bullets, Callout, Code, Document, Heading, KeyValues,
                            ReportPaths, Section, Table, Text, ThumbMaker, json_blocks, num,
                            write_document)
from tuner.data import DataSummary
from tuner.report._sweep_final import final_section
from tuner.report._sweep_parts import accuracy, final_metrics, param_text
from tuner.report._sweep_lr import lr_finder_section
from tuner.report._sweep_search import search_section
from tuner.run import RESULTS_FILE, SweepConfig, SweepResult

__all__ = ["RESULTS_JSON", "sweep_document", "write_sweep_report"]

RESULTS_JSON = RESULTS_FILE
# Config fields the Reproduce section leaves out of its Configuration block: the advice
# and the space have their own reports and block, the classes are in the data table, the
# LR finder's curves in its section.
_CONFIG_LEFT_OUT = ("advice", "space", "classes", "extra", "lr_finding")


def _summary(result: SweepResult) -> Section:
    best = result.best
    facts = [("Status", result.status),
             ("Trials finished", f"{num(result.n_finished)} of {num(result.n_requested)}"),
             ("Trial states", ", ".join(f"{k} {v}" for k, v in result.state_counts.items())
              or DASH)]
    if result.device is not None:
        facts.append(("Device", result.device.summary))
    if len(result.workers) > 1 or result.search.get("shared"):
        facts.append(("Workers", ", ".join(f"{w} ({num(n)} trials)"
                                           for w, n in result.workers.items()) or DASH))
        facts.append(("Study", f"{result.config.study} in {result.search.get('storage')}"))
    if result.stopped is not None:
        facts.append(("Stopped early", result.stopped.reason))
    if result.final_by is not None:
        facts.append(("Final model", f"trained by worker {result.final_by.get('worker')} in "
                                     f"{result.final_by.get('run_dir')}"))
    blocks: list[Block] = []
    if best is not None:
        best_facts = [("Best trial", f"#{best.number}"),
                      ("Validation accuracy", num(accuracy(best))),
                      *(final_metrics(result.final) if result.final else ()),
                      ("Epochs run", num(best.epochs_run)), *facts]
        rows = tuple((k, param_text(v), "searched" if k in best.sampled else "fixed")
                     for k, v in best.params.items())
        inner: list[Block] = [KeyValues(tuple(best_facts)), Heading("Configuration"),
                              Table(("Parameter", "Value", ""), rows, "lrl")]
        blocks.append(Callout(f"Best configuration: validation accuracy {num(accuracy(best))}",
                              "verdict", tuple(inner), badge="result"))
    else:
        blocks.append(Callout("No trial has completed yet", "warning", (KeyValues(tuple(facts)),),
                              badge=result.status))
    warnings = [str(w) for w in result.warnings]
    if result.killed_trials:
        warnings.append(f"trials {', '.join(map(str, result.killed_trials))} were left running "
                        "by a killed process and are marked FAIL")
    if warnings:
        blocks.append(Callout("Warnings", "warning", (Bullets(tuple(warnings)),), badge="warning"))
    return Section("summary", "Result", tuple(blocks))


def _data(data: DataSummary, config: SweepConfig) -> list[Block]:
    facts = [("Dataset", str(data.root or DASH)),
             ("Input size", f"{data.input_size} px" if data.input_size else DASH)]
    choice = config.framing_choice
    if choice or data.framing:
        facts.append(("Framing", choice.reason if choice else f"{data.framing} (given)"))
    facts += [(f"{k} split", str(v)) for k, v in data.split_source.items()]
    if data.skipped:
        facts.append(("Files left out", num(len(data.skipped))))
    blocks: list[Block] = [KeyValues(tuple(facts))]
    splits = [s for s in ("train", "val", "test") if s in data.counts]
    if data.classes and splits:
        rows = [(c, *[num(int(data.counts[s].get(c, 0))) for s in splits]) for c in data.classes]
        rows.append(("all classes", *[num(sum(int(v) for v in data.counts[s].values()))
                                      for s in splits]))
        blocks.append(Table(("Class", *splits), tuple(rows), "l" + "r" * len(splits),
                            highlight=(len(rows) - 1,)))
    blocks += [Text(str(n), "muted") for n in data.notes]
    return blocks


def _reproduce(result: SweepResult) -> Section:
    blocks: list[Block] = [Text("This command runs the same sweep again (into a new run folder):",
                                "muted"), Code(result.command or DASH)]
    if result.data is not None:
        blocks += [Heading("Data"), *_data(result.data, result.config)]
    config = {k: v for k, v in result.config.to_dict().items() if k not in _CONFIG_LEFT_OUT}
    if config:
        blocks += [Heading("Configuration"), *json_blocks(config)]
    dims = result.config.space.dimensions() if result.config.space is not None else []
    if dims:
        blocks += [Heading("Search space"), *json_blocks([d.to_dict() for d in dims])]
    if result.timings:  # free-form: seconds per stage
        timings = {k: v for k, v in result.timings.items() if k != "previous_sessions"}
        blocks += [Heading("Timings"), *json_blocks(timings)]
    return Section("reproduce", "Reproduce", tuple(blocks))


def _dataset_root(result: SweepResult) -> str:
    return (result.data.root if result.data is not None else "") or result.config.dataset


def sweep_document(result: SweepResult, *, thumbs: ThumbMaker | None = None) -> Document:
    """The sweep report of ``result`` as a :class:`~advisor.report.Document`."""
    if not isinstance(result, SweepResult):
        raise TypeError(f"sweep_document renders a SweepResult, got {type(result).__name__} "
                        "(load a results.json dict with SweepResult.from_dict)")
    root = _dataset_root(result)
    sections = [_summary(result), search_section(result)]
    c = result.config
    if c.lr_finding is not None:
        sp = c.space
        searched = (sp.head_lr, sp.backbone_lr if c.lr_finding.backbone else None) if sp else None
        # backbone_lr keeps the advice's range (tuner._stages._widen_on_lr_finder)
        sections.append(lr_finder_section(c.lr_finding, searched=searched))
    if result.final is not None:
        sections.append(final_section(result.final, root, thumbs or ThumbMaker()))
    sections.append(_reproduce(result))
    run_dir = str(result.run_dir or "")
    name = Path(str(root)).name if root else Path(run_dir).name
    return Document(title=f"Hyper-parameter sweep: {name}", subtitle=run_dir,
                    sections=tuple(sections),
                    footer="Written by tltune; re-render with: tlreport <run folder>")


def write_sweep_report(result: SweepResult, out_dir: str | Path) -> ReportPaths:
    """Write ``report.html`` and ``report.md`` (+ images) for ``result`` into ``out_dir``."""
    return write_document(sweep_document(result), out_dir)
