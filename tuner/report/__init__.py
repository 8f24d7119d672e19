"""What a sweep shows people: live progress and tables in the terminal, and the
sweep report (one self-contained HTML file and its Markdown), rendered from a
:class:`~tuner.run.SweepResult`; :func:`render_saved_sweep` re-renders a saved
``results.json`` (what ``tlreport`` calls)."""

from tuner.report._saved import is_sweep_result, load_sweep_result, render_saved_sweep
from tuner.report._sweep import RESULTS_JSON, sweep_document, write_sweep_report
from tuner.report._terminal import SweepProgress, fmt_seconds, render_result, trial_table

__all__ = ["RESULTS_JSON", "SweepProgress", "fmt_seconds", "is_sweep_result",
           "load_sweep_result", "render_result", "render_saved_sweep", "sweep_document",
           "trial_table", "write_sweep_report"]
