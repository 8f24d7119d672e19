"""The Search section of the sweep report: figures over the finished trials, the
table of every trial, and the cross-validation of the top trials when they were
re-ranked."""

from __future__ import annotations

from advisor.report import (DASH, Block, Figure, Figures, Heading, Section, Table, Text, num,
                            plots)
from tuner.report._sweep_parts import (accuracy, freeze_depth, is_numeric_param, param_text,
                                       scored)
from tuner.run import SweepResult
from tuner.search import RerankResult
from tuner.trial import TrialRecord

__all__ = ["search_section"]

N_BEST_CURVES = 5
_LR_KEYS = ("head_lr", "backbone_lr")


def _figures(result: SweepResult, done: list[TrialRecord]) -> list[Figure]:
    figs = [Figure(plots.optimisation_history([t.number for t in done],
                                               [accuracy(t) for t in done]),
                   "history", "Validation accuracy of each finished trial, with the best so far")]
    if result.importances:
        figs.append(Figure(plots.importances({k: float(v) for k, v in result.importances.items()}),
                           "importances", "How much each searched parameter explains the "
                           "validation accuracy"))
    xs = [(freeze_depth(t), accuracy(t)) for t in done if freeze_depth(t) is not None]
    if xs:
        figs.append(Figure(plots.scatter([x for x, _ in xs], [y for _, y in xs],
                                          "Accuracy against freeze depth",
                                          "frozen backbone blocks (-1 = from scratch)",
                                          "validation accuracy", integer_x=True),
                           "freeze_depth", "Validation accuracy against the number of frozen "
                           "blocks"))
    for key in _LR_KEYS:
        pts = [(t.params.get(key), accuracy(t)) for t in done
               if isinstance(t.params.get(key), (int, float)) and key in t.sampled]
        if pts:
            name = key.replace("_", " ").replace("lr", "learning rate")
            figs.append(Figure(plots.scatter([x for x, _ in pts], [y for _, y in pts],
                                              f"Accuracy against {name}", f"{name} (log scale)",
                                              "validation accuracy", log_x=True),
                               key, f"Validation accuracy against the {name}"))
    top = sorted((t for t in done if t.history), key=lambda t: -accuracy(t))[:N_BEST_CURVES]
    curves = {f"trial #{t.number} ({num(accuracy(t))})":
              [(i + 1, float(h["val_accuracy"])) for i, h in enumerate(t.history)
               if isinstance(h.get("val_accuracy"), (int, float))] for t in top}
    if any(curves.values()):
        figs.append(Figure(plots.epoch_curves(curves), "best_curves",
                           "Validation accuracy per epoch of the best trials"))
    return figs


def _trial_table(result: SweepResult) -> Table:
    trials = sorted(result.trials, key=lambda t: t.number)
    keys: list[str] = []
    for t in trials:
        keys += [k for k in t.sampled if k not in keys]
    several = len(result.workers) > 1
    rows = tuple((f"#{t.number}", t.state, num(accuracy(t)), num(t.epochs_run),
                  num(float(t.seconds), 0), *[param_text(t.sampled.get(k, DASH)) for k in keys],
                  *([t.worker or DASH] if several else []), t.message or "")
                 for t in trials)
    best = result.best
    hl = tuple(i for i, t in enumerate(trials) if best is not None and t.number == best.number)
    return Table(("Trial", "State", "Val. acc.", "Epochs", "Seconds",
                  *[k.replace("_", " ") for k in keys], *(["Worker"] if several else []),
                  "Note"), rows,
                 "llrrr" + "".join("r" if is_numeric_param(trials, k) else "l" for k in keys)
                 + ("l" if several else "") + "l", highlight=hl,
                 caption="Searched values per trial; \u2014: not sampled in that trial "
                         "(the parameter does not apply).")


def _rerank_blocks(rr: RerankResult) -> list[Block]:
    rows = tuple((f"#{c.number}", num(c.search_val_accuracy), num(c.accuracy),
                  f"{sum(c.fold_correct)} / {sum(c.fold_sizes)}", num(c.loss),
                  " ".join(f"{a}/{n}" for a, n in zip(c.fold_correct, c.fold_sizes)))
                 for c in rr.candidates)
    hl = tuple(i for i, c in enumerate(rr.candidates) if c.number == rr.chosen)
    return [Heading("Cross-validation of the top trials"),
            Text(f"The search's validation split was small, so its top "
                 f"{len(rr.candidates)} trials were trained again on each fold of a "
                 f"{rr.folds}-fold split of train + val; the final model uses the "
                 f"chosen one (#{rr.chosen}; the search's best was "
                 f"#{rr.search_best}). Rule: {rr.rule}."),
            Table(("Trial", "Search val. acc.", "CV acc.", "Right / held out",
                   "CV loss", "Per fold"), rows, "lrrrrl", highlight=hl,
                  caption=f"{num(float(rr.seconds), 0)} s; the test split is not used.")]


def search_section(result: SweepResult) -> Section:
    """What the search tried: figures, every trial, and the re-ranking when there was one."""
    done = scored(result.trials)
    if not done:
        return Section("search", "Search", (Text("No trial has a validation accuracy yet.",
                                                  "muted"),))
    blocks: list[Block] = [Figures(tuple(_figures(result, done))), Heading("All trials"),
                           _trial_table(result)]
    if result.rerank is not None and result.rerank.candidates:
        blocks += _rerank_blocks(result.rerank)
    return Section("search", "Search", tuple(blocks))
