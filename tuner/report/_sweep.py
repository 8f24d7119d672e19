"""The sweep report: what ``tltune`` tried, what won, and how the final model does on test.

It reads the ``results.json`` dict (``SweepResult.to_dict()``), so re-rendering
needs neither TensorFlow nor the tuner.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from advisor.report import (DASH, Block, Bullets, Callout, Code, Document, Figure, Figures,
                            Gallery, Heading, KeyValues, ReportPaths, Section, Table, Text,
                            ThumbMaker, Tile, json_blocks, lr, num, plots, write_document)

__all__ = ["RESULTS_JSON", "sweep_document", "write_sweep_report"]

RESULTS_JSON = "results.json"
N_BEST_CURVES = 5
MAX_MISCLASSIFIED = 24
_LR_KEYS = ("head_lr", "backbone_lr")


def _acc(t: dict) -> float | None:
    v = t.get("val_accuracy")
    return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None


def _param(v: object) -> str:
    if isinstance(v, float):
        return lr(v) if 0 < abs(v) < 0.01 else num(v, 3)
    return num(v) if isinstance(v, int) and not isinstance(v, bool) else str(v)


def _numeric_param(trials: list[dict], key: str) -> bool:
    vals = [(t.get("sampled") or {}).get(key) for t in trials]
    return all(isinstance(v, (int, float)) and not isinstance(v, bool)
               for v in vals if v is not None)


def _scored(trials: list[dict]) -> list[dict]:
    """Trials with a validation accuracy (COMPLETE and PRUNED), by number."""
    return sorted((t for t in trials if t.get("state") in ("COMPLETE", "PRUNED")
                   and _acc(t) is not None), key=lambda t: t["number"])


def _final_metrics(final: dict) -> list[tuple[str, str]]:
    keys = (("test_accuracy", "Test accuracy"), ("macro_f1", "Test macro-F1"),
            ("test_loss", "Test loss"), ("n_test", "Test images"))
    return [(label, num(final[k])) for k, label in keys if final.get(k) is not None]


def _summary(d: dict) -> Section:
    best = d.get("best")
    final = d.get("final") or {}
    status = d.get("status", "?")
    facts = [("Status", status),
             ("Trials finished", f"{num(d.get('n_finished', 0))} of {num(d.get('n_requested', 0))}"),
             ("Trial states", ", ".join(f"{k} {v}" for k, v in (d.get("state_counts") or {}).items())
              or DASH)]
    blocks: list[Block] = []
    if best:
        best_facts = [("Best trial", f"#{best['number']}"),
                      ("Validation accuracy", num(_acc(best))),
                      *_final_metrics(final),
                      ("Epochs run", num(best.get("epochs_run", 0))), *facts]
        params = best.get("params") or {}
        rows = tuple((k, _param(v), "searched" if k in (best.get("sampled") or {}) else "fixed")
                     for k, v in params.items())
        inner: list[Block] = [KeyValues(tuple(best_facts)), Heading("Configuration"),
                              Table(("Parameter", "Value", ""), rows, "lrl")]
        blocks.append(Callout(f"Best configuration: validation accuracy {num(_acc(best))}",
                              "verdict", tuple(inner), badge="result"))
    else:
        blocks.append(Callout("No trial has completed yet", "warning", (KeyValues(tuple(facts)),),
                              badge=status))
    warnings = [str(w) for w in d.get("warnings") or ()]
    if d.get("killed_trials"):
        warnings.append(f"trials {', '.join(map(str, d['killed_trials']))} were left running by "
                        "a killed process and are marked FAIL")
    if warnings:
        blocks.append(Callout("Warnings", "warning", (Bullets(tuple(warnings)),), badge="warning"))
    return Section("summary", "Result", tuple(blocks))


def _search(d: dict) -> Section:
    trials = list(d.get("trials") or [])
    scored = _scored(trials)
    blocks: list[Block] = []
    if not scored:
        return Section("search", "Search", (Text("No trial has a validation accuracy yet.",
                                                  "muted"),))
    figs = [Figure(plots.optimisation_history([t["number"] for t in scored],
                                               [_acc(t) for t in scored]),
                   "history", "Validation accuracy of each finished trial, with the best so far")]
    imps = d.get("importances")
    if imps:
        figs.append(Figure(plots.importances({k: float(v) for k, v in imps.items()}),
                           "importances", "How much each searched parameter explains the "
                           "validation accuracy"))
    xs = [(t["params"].get("freeze_block"), _acc(t)) for t in scored
          if isinstance(t.get("params", {}).get("freeze_block"), (int, float))]
    if xs:
        figs.append(Figure(plots.scatter([x for x, _ in xs], [y for _, y in xs],
                                          "Accuracy against freeze depth",
                                          "frozen backbone blocks (-1 = from scratch)",
                                          "validation accuracy", integer_x=True),
                           "freeze_depth", "Validation accuracy against the number of frozen "
                           "blocks"))
    for key in _LR_KEYS:
        pts = [(t["params"].get(key), _acc(t)) for t in scored
               if isinstance(t.get("params", {}).get(key), (int, float))
               and key in (t.get("sampled") or {})]
        if pts:
            name = key.replace("_", " ").replace("lr", "learning rate")
            figs.append(Figure(plots.scatter([x for x, _ in pts], [y for _, y in pts],
                                              f"Accuracy against {name}", f"{name} (log scale)",
                                              "validation accuracy", log_x=True),
                               key, f"Validation accuracy against the {name}"))
    best = sorted((t for t in scored if t.get("history")), key=lambda t: -_acc(t))[:N_BEST_CURVES]
    curves = {f"trial #{t['number']} ({num(_acc(t))})":
              [(i + 1, float(h["val_accuracy"])) for i, h in enumerate(t["history"])
               if isinstance(h.get("val_accuracy"), (int, float))] for t in best}
    if any(curves.values()):
        figs.append(Figure(plots.epoch_curves(curves), "best_curves",
                           "Validation accuracy per epoch of the best trials"))
    blocks.append(Figures(tuple(figs)))
    keys: list[str] = []
    for t in trials:
        keys += [k for k in (t.get("sampled") or {}) if k not in keys]
    rows = tuple((f"#{t['number']}", t.get("state", "?"), num(_acc(t)),
                  num(t.get("epochs_run", 0)), num(float(t.get("seconds", 0.0)), 0),
                  *[_param((t.get("sampled") or {}).get(k, DASH)) for k in keys],
                  t.get("message", "") or "")
                 for t in sorted(trials, key=lambda t: t["number"]))
    best_no = (d.get("best") or {}).get("number")
    hl = tuple(i for i, t in enumerate(sorted(trials, key=lambda t: t["number"]))
               if t["number"] == best_no)
    blocks += [Heading("All trials"),
               Table(("Trial", "State", "Val. acc.", "Epochs", "Seconds",
                      *[k.replace("_", " ") for k in keys], "Note"), rows,
                     "llrrr" + "".join("r" if _numeric_param(trials, k) else "l" for k in keys)
                     + "l", highlight=hl,
                     caption="Searched values per trial; \u2014: not sampled in that trial "
                             "(the parameter does not apply).")]
    rr = d.get("rerank")
    if rr and rr.get("candidates"):
        rows = tuple((f"#{c['number']}", num(c["search_val_accuracy"]), num(c["cv_accuracy"]),
                      f"{sum(c['fold_correct'])} / {sum(c['fold_sizes'])}", num(c["cv_loss"]),
                      " ".join(f"{a}/{n}" for a, n in zip(c["fold_correct"], c["fold_sizes"])))
                     for c in rr["candidates"])
        hl = tuple(i for i, c in enumerate(rr["candidates"]) if c["number"] == rr["chosen"])
        blocks += [Heading("Cross-validation of the top trials"),
                   Text(f"The search's validation split was small, so its top "
                        f"{len(rr['candidates'])} trials were trained again on each fold of a "
                        f"{rr['folds']}-fold split of train + val; the final model uses the "
                        f"chosen one (#{rr['chosen']}; the search's best was "
                        f"#{rr['search_best']}). Rule: {rr.get('rule', '')}."),
                   Table(("Trial", "Search val. acc.", "CV acc.", "Right / held out",
                          "CV loss", "Per fold"), rows, "lrrrrl", highlight=hl,
                         caption=f"{num(float(rr.get('seconds', 0.0)), 0)} s; the test split "
                                 "is not used.")]
    return Section("search", "Search", tuple(blocks))


def _per_class_rows(final: dict) -> tuple[tuple[str, ...], ...]:
    pc: Any = final.get("per_class") or {}
    if isinstance(pc, dict):
        pc = [{"label": k, **v} for k, v in pc.items()]
    return tuple((str(r.get("label", r.get("class", "?"))), num(r.get("precision")),
                  num(r.get("recall")), num(r.get("f1")), num(r.get("support")))
                 for r in pc)


def _misclassified_gallery(final: dict, base: Path | None, thumbs: ThumbMaker) -> Gallery | None:
    items = list(final.get("misclassified") or [])
    if not items:
        return None
    tiles = []
    for m in items[:MAX_MISCLASSIFIED]:
        rel = str(m.get("path") or m.get("file") or "")
        p = Path(rel)
        if not p.is_absolute() and base is not None:
            p = base / rel
        t = thumbs(p)
        conf = m.get("confidence")
        pred = f"predicted {m.get('pred', '?')}" + (f" ({num(conf, 2)})" if conf is not None else "")
        tiles.append((Tile(t.data, f"true {m.get('true', '?')}: {Path(rel).name}", t.problem,
                           emphasis=pred),))
    return Gallery(tuple(tiles), more=max(0, len(items) - MAX_MISCLASSIFIED))


def _test(d: dict, thumbs: ThumbMaker) -> Section | None:
    final = d.get("final")
    if not final:
        return None
    facts = _final_metrics(final)
    if final.get("test_source"):
        facts.append(("Test images from", str(final["test_source"])))
    if final.get("backbone"):
        facts.append(("Model", f"{final['backbone']} ({final.get('weights', '?')}), "
                               f"{final.get('input_size', '?')} px input"))
    if final.get("val_accuracy") is not None:
        facts.append(("Validation accuracy (final training)", num(final["val_accuracy"])))
    if final.get("epochs_run") is not None:
        facts.append(("Epochs (final training)", num(final["epochs_run"])))
    if final.get("train_protocol"):
        facts.append(("Protocol", str(final["train_protocol"])))
    blocks: list[Block] = [KeyValues(tuple(facts))]
    blocks += [Text(str(n), "muted") for n in final.get("notes") or ()]
    classes = list(final.get("classes") or [])
    cm = final.get("confusion")
    if cm and classes:
        blocks.append(Figure(plots.confusion_matrix(cm, classes), "confusion",
                             "Confusion matrix on the test set (rows: true class, "
                             "colour: share of the true class)"))
    rows = _per_class_rows(final)
    if rows:
        blocks += [Heading("Per class"),
                   Table(("Class", "Precision", "Recall", "F1", "Support"), rows, "lrrrr")]
    root = (d.get("data") or {}).get("root") or (d.get("config") or {}).get("dataset")
    gallery = _misclassified_gallery(final, Path(root) if root else None, thumbs)
    if gallery is not None:
        blocks += [Heading("Misclassified test images"), gallery]
    elif "misclassified" in final:
        blocks.append(Text("No test image was misclassified.", "muted"))
    exports = dict(final.get("exports") or {})
    if final.get("labels_path"):
        exports["labels"] = final["labels_path"]
    if exports:
        blocks += [Heading("Exported files"),
                   Table(("Format", "Path"), tuple((k, str(v)) for k, v in exports.items()), "ll")]
    return Section("test", "Test results", tuple(blocks))


def _data(d: dict) -> list[Block]:
    data = d.get("data") or {}
    counts = data.get("counts") or {}
    classes = list(data.get("classes") or [])
    blocks: list[Block] = []
    facts = [("Dataset", str(data.get("root", DASH))),
             ("Input size", f"{data['input_size']} px" if data.get("input_size") else DASH)]
    choice = (d.get("config") or {}).get("framing_choice")
    if choice or data.get("framing"):
        facts.append(("Framing", choice["reason"] if choice else f"{data['framing']} (given)"))
    facts += [(f"{k} split", str(v)) for k, v in (data.get("split_source") or {}).items()]
    if data.get("skipped"):
        facts.append(("Files left out", num(len(data["skipped"]))))
    blocks.append(KeyValues(tuple(facts)))
    splits = [s for s in ("train", "val", "test") if s in counts]
    if classes and splits:
        rows = [(c, *[num(int(counts[s].get(c, 0))) for s in splits]) for c in classes]
        rows.append(("all classes", *[num(sum(int(v) for v in counts[s].values()))
                                      for s in splits]))
        blocks.append(Table(("Class", *splits), tuple(rows), "l" + "r" * len(splits),
                            highlight=(len(rows) - 1,)))
    blocks += [Text(str(n), "muted") for n in data.get("notes") or ()]
    return blocks


def _reproduce(d: dict) -> Section:
    blocks: list[Block] = [Text("This command runs the same sweep again (into a new run folder):",
                                "muted"), Code(d.get("command") or DASH)]
    if d.get("data"):
        blocks += [Heading("Data"), *_data(d)]
    config = {k: v for k, v in (d.get("config") or {}).items()
              if k not in ("advice", "space", "classes", "extra")}
    if config:
        blocks += [Heading("Configuration"), *json_blocks(config)]
    space = (d.get("config") or {}).get("space") or {}
    dims = space.get("dimensions") if isinstance(space, dict) else None
    if dims:
        blocks += [Heading("Search space"), *json_blocks(dims)]
    if d.get("timings"):
        timings = {k: v for k, v in d["timings"].items() if k != "previous_sessions"}
        blocks += [Heading("Timings"), *json_blocks(timings)]
    return Section("reproduce", "Reproduce", tuple(blocks))


def sweep_document(results: dict, *, thumbs: ThumbMaker | None = None) -> Document:
    """The sweep report as a :class:`Document`, from the ``results.json`` dict."""
    thumbs = thumbs or ThumbMaker()
    sections = [_summary(results), _search(results)]
    test = _test(results, thumbs)
    if test is not None:
        sections.append(test)
    sections.append(_reproduce(results))
    run_dir = str(results.get("run_dir", ""))
    root = (results.get("data") or {}).get("root") or (results.get("config") or {}).get("dataset")
    name = Path(str(root)).name if root else Path(run_dir).name
    return Document(title=f"Hyper-parameter sweep: {name}", subtitle=run_dir,
                    sections=tuple(sections),
                    footer="Written by tltune; re-render with: tlreport <run folder>")


def write_sweep_report(results: Any, out_dir: str | Path) -> ReportPaths:
    """Write ``report.html`` and ``report.md`` (+ images) for a sweep into ``out_dir``.

    ``results`` is a ``SweepResult`` (anything with ``to_dict()``) or its dict.
    """
    d = results.to_dict() if hasattr(results, "to_dict") else dict(results)
    return write_document(sweep_document(d), out_dir)

