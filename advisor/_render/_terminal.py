"""Render an :class:`AdviceResult` in the terminal, and a rich progress factory."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from advisor._result import AdviceResult
from advisor._verify import VerifyResult

__all__ = ["render_advice", "rich_progress"]

_SEV_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


@contextlib.contextmanager
def rich_progress(console: Console, enabled: bool = True) -> Iterator:
    """Yield a progress factory ``(what, total) -> advance`` backed by one rich Progress."""
    if not enabled:
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console, transient=False) as prog:
        def factory(what: str, total: int):
            task = prog.add_task(escape(what), total=total)
            return lambda n=1: prog.advance(task, n)

        yield factory


def render_advice(result: AdviceResult, console: Console) -> None:
    a, m, p, h = result.advice, result.chosen, result.profile, result.health
    head = (f"[bold]{a.scenario}[/bold]  (confidence {a.confidence:.2f}; runner-up {a.runner_up})\n"
            f"backbone {escape(a.backbone)} at {a.input_size}px; "
            + (f"{a.freeze.label}\n" if a.freeze.scratch else
               f"freeze through [bold]{escape(a.freeze.layer)}[/bold] (layer {a.freeze.index}, "
               f"block {a.freeze.block}/{a.freeze.n_blocks})\n")
            + f"head lr {a.head_lr.low:g}..{a.head_lr.high:g}"
            + (f", backbone lr {a.backbone_lr.low:g}..{a.backbone_lr.high:g}" if a.backbone_lr else "")
            + f"; augmentation {a.augmentation.level} (flip {a.augmentation.flip})")
    console.print(Panel(head, title="Recommendation", border_style="green"))
    t = Table(title="Why", show_header=True, header_style="bold")
    t.add_column("reason")
    t.add_column("value", justify="right")
    t.add_column("threshold", justify="right")
    for r in a.reasons:
        t.add_row(escape(r.text), "" if r.value is None else f"{r.value:.3g}",
                  "" if r.threshold is None else f"{r.threshold:.3g}")
    console.print(t)
    for c in a.what_would_change:
        console.print(f"  [dim]•[/dim] {escape(c)}")
    if result.verify is not None:
        _render_verify(result.verify, console)

    d = Table(title=f"Dataset ({escape(p.layout)} layout, {p.n_readable}/{p.n_files} readable)",
              header_style="bold")
    d.add_column("class")
    splits = [s for s in p.counts if s != "all"] or ["all"]
    for s in splits:
        d.add_column(s, justify="right")
    for c in p.classes:
        d.add_row(escape(c), *[str(p.counts[s].get(c, 0)) for s in splits])
    console.print(d)
    console.print(f"  image sizes min {p.sizes['min']} median {p.sizes['median']} max {p.sizes['max']}; "
                  f"modes {escape(str(p.modes))}")

    if len(result.measurements) > 1:
        r = Table(title="Backbone ranking", header_style="bold")
        for col in ("backbone", "probe acc", "LogME", "similarity"):
            r.add_column(col, justify="right" if col != "backbone" else "left")
        for mm in result.measurements:
            r.add_row(mm.backbone, f"{mm.probe.accuracy:.3f}", f"{mm.logme:.3f}", f"{mm.similarity:.2f}")
        console.print(r)

    hl = Table(title=f"Health ({h.n_readable}/{h.n_files} readable)", header_style="bold")
    hl.add_column("severity")
    hl.add_column("check")
    hl.add_column("n", justify="right")
    hl.add_column("finding")
    for f in h.findings:
        hl.add_row(f"[{_SEV_STYLE.get(f.severity, '')}]{f.severity}[/]", f.check, str(f.count),
                   escape(f.message))
    if h.findings:
        console.print(hl)
        console.print("  [dim]every file of every finding is listed in --json and --report[/dim]")
    else:
        console.print("[green]Health: no issues found[/green]")
    if m.depth_probes:
        depth = sorted(m.depth_probes, key=lambda d: d.block)
        steps = "  ".join(f"b{d.block} {d.accuracy:.2f}" for d in depth)
        console.print(f"  probe accuracy by depth (block of {depth[-1].n_blocks}): {steps}  "
                      f"[dim](majority {m.probe.majority:.2f})[/dim]")
    hit = " (features from cache)" if m.cache_hit else ""
    console.print(f"[dim]measured {m.n_images} images in {result.seconds:.1f}s{hit}[/dim]")
    for n in m.notes:
        console.print(f"[dim]  {escape(n)}[/dim]")
    for w in result.extras.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {escape(str(w))}")


_VERDICT_STYLE = {"confirmed": "green", "overturned": "red", "inconclusive": "yellow"}


def _render_verify(v: VerifyResult, console: Console) -> None:
    """The ``tladvise --verify`` pilot (``result.verify``)."""
    accs = "   ".join(f"{escape(s)} [bold]{acc:.3f}[/bold]" for s, acc in v.accuracies.items())
    gain = ""
    if v.gain is not None:
        lo, hi = v.gain.interval()
        gain = (f"\nfine-tuning gain (partial freeze at block {v.gain_block} minus feature "
                f"extractor): [bold]{v.gain.difference:+.3f}[/bold] +- {v.gain.se:.3f} "
                f"(interval {lo:+.3f} .. {hi:+.3f})")
    if v.call:
        gain += f"\nmeasured call: [bold]{escape(v.call_reason)}[/bold]"
    body = (f"{accs}{gain}\n{escape(v.explanation)}\n"
            f"[dim]{v.n_val} images scored held-out ({escape(v.scheme) or 'validation'}), about "
            f"{v.n_train} train per fold, {v.budget.get('input_size', '?')}px, {v.seconds:.0f}s[/dim]")
    style = _VERDICT_STYLE.get(v.verdict, "")
    console.print(Panel(body, title=f"Verification: [{style}]{v.verdict}[/]", border_style=style))
