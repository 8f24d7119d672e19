"""Terminal rendering of a sweep (rich): live progress and the final tables.

Renderers only read :class:`~tuner.search.SweepEvent` and
:class:`~tuner.run.SweepResult`; they compute nothing.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tuner.final import FinalResult
from tuner.run import SweepResult
from tuner.search import RerankResult, SweepEvent
from tuner.trial import TrialRecord

__all__ = ["SweepProgress", "trial_table", "render_result", "fmt_seconds"]


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "?"
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _acc(v: float | None) -> str:
    return "-" if v is None else f"{v:.4f}"


class SweepProgress:
    """A ``progress`` callback for :func:`tuner.tune` that draws a rich progress bar
    (trial n of N, best so far, ETA) and prints one line per finished trial."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                                  TimeElapsedColumn(), console=console, transient=True)
        self._task: Any = None

    def __enter__(self) -> "SweepProgress":
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.__exit__(*exc)

    def __call__(self, ev: SweepEvent) -> None:
        if ev.kind == "start":
            self.console.print(f"Run directory: [bold]{ev.message}[/]")
            return
        if ev.kind == "framing":
            self.console.print(f"Framing: {escape(ev.message)}")
            return
        if ev.kind == "warning":
            self.console.print(f"[yellow]Warning:[/] {escape(ev.message)}")
            return
        if ev.kind == "note":
            self.console.print(f"[dim]{escape(ev.message)}[/]")
            return
        if self._task is None:
            self._task = self._progress.add_task("trials", total=ev.n_requested,
                                                 completed=ev.n_finished, info="")
        best = f"best {ev.best.val_accuracy:.4f} (#{ev.best.number})" if ev.best else "best -"
        info = f"{best}  ETA {fmt_seconds(ev.eta_s)}"
        if ev.kind == "trial_start":
            desc = f"trial #{ev.trial} ({ev.n_finished + 1} of {ev.n_requested})"
            self._progress.update(self._task, description=desc, info=info,
                                  completed=ev.n_finished)
        elif ev.kind == "epoch":
            self._progress.update(self._task, info=f"{info}  epoch {ev.epoch}: "
                                                   f"val {ev.val_accuracy:.4f}")
        elif ev.kind == "trial_end" and ev.record is not None:
            r = ev.record
            self._progress.update(self._task, completed=ev.n_finished, info=info)
            self.console.print(f"trial #{r.number:<3d} {r.state:<8s} val_acc {_acc(r.val_accuracy)}"
                               f"  freeze {r.params['freeze_block']:>3}  {fmt_seconds(r.seconds)}"
                               f"  [{ev.n_finished}/{ev.n_requested}, {best}]"
                               + (f"  on {escape(ev.message)}" if ev.message else ""))
        elif ev.kind == "rerank_run":
            self._progress.update(self._task, description=f"cross-validating trial #{ev.trial}",
                                  info=ev.message)
        elif ev.kind == "final_start":
            self._progress.update(self._task, description=f"final fit of trial #{ev.trial}",
                                  info="")
        elif ev.kind == "final_end":
            self._progress.update(self._task, description="done", info="")


def trial_table(result: SweepResult) -> Table:
    """One row per trial: state, parameters, best val accuracy, epochs, time."""
    best = result.best
    t = Table(title=f"Trials ({result.n_finished} finished of {result.n_requested} requested)")
    for col, just in (("#", "right"), ("state", "left"), ("freeze", "right"),
                      ("head lr", "right"), ("backbone lr", "right"), ("dropout", "right"),
                      ("aug", "left"), ("smooth", "right"), ("batch", "right"),
                      ("val acc", "right"), ("epochs", "right"), ("time", "right")):
        t.add_column(col, justify=just)
    several = len(result.workers) > 1
    if several:
        t.add_column("worker", justify="left")
    space = result.config.space
    for r in result.trials:
        p = r.params
        unfrozen = space is None or space.is_unfrozen(p["freeze_block"])
        frozen = space.plan(p["freeze_block"]).short if space else str(p["freeze_block"])
        t.add_row(str(r.number), r.state, frozen, f"{p['head_lr']:.2e}",
                  f"{p['backbone_lr']:.2e}" if unfrozen else "-", f"{p['dropout']:.2f}",
                  p["augmentation"], f"{p['label_smoothing']:.2f}", str(p["batch_size"]),
                  _acc(r.val_accuracy), str(r.epochs_run), fmt_seconds(r.seconds),
                  *([r.worker] if several else []), style="bold green" if best is not None and r.number == best.number else None)
    return t


def _best_lines(best: TrialRecord | None, final: FinalResult | None,
                rerank: RerankResult | None = None) -> list[str]:
    lines: list[str] = []
    if rerank is not None:
        scores = ", ".join(f"#{c.number} {c.accuracy:.4f}" for c in rerank.candidates)
        lines.append(f"Cross-validation ({rerank.folds}-fold, train + val) of the top "
                     f"{len(rerank.candidates)} trials: {scores}; chosen #{rerank.chosen}")
    if best is not None:
        lines.append(f"Best trial #{best.number}: val accuracy {best.val_accuracy:.4f}, "
                     f"params {best.sampled}")
    if final is not None:
        lines.append(f"Final model: test accuracy {final.test_accuracy:.4f}, macro-F1 "
                     f"{final.macro_f1:.4f} on {final.n_test} test images ({final.test_source})")
        for fmt, path in final.exports.items():
            lines.append(f"  exported {fmt}: {path}")
    return lines


def render_result(result: SweepResult, console: Console) -> None:
    """Print the trial table, the best trial, the final metrics and warnings."""
    console.print(trial_table(result))
    for line in _best_lines(result.best, result.final, result.rerank):
        console.print(line)
    if result.device is not None:
        console.print(f"Trained on: {escape(result.device.summary)}")
    if len(result.workers) > 1:
        console.print("Workers: " + ", ".join(f"{w} ({n} trials)"
                                              for w, n in result.workers.items()))
    if result.final_by is not None:
        console.print(f"Final model: trained by worker {result.final_by.get('worker')} in "
                      f"{result.final_by.get('run_dir')} (it claimed it first); this run "
                      "holds the search only")
    if result.stopped is not None:
        console.print(f"Stopped early: {escape(result.stopped.reason)}")
    if result.importances:
        imp = ", ".join(f"{k} {v:.2f}" for k, v in result.importances.items())
        console.print(f"Parameter importances: {imp}")
    for w in result.warnings:
        console.print(f"[yellow]note:[/] {w}")
    console.print(f"Run directory: {result.run_dir}  (results.json, config.json)")
    console.print(f"Reproduce: {result.command}")
