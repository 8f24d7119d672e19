"""What a sweep shows people: live progress and tables in the terminal, and the
sweep report (one self-contained HTML file and its Markdown)."""

from tuner.report._sweep import RESULTS_JSON, sweep_document, write_sweep_report
from tuner.report._terminal import SweepProgress, fmt_seconds, render_result, trial_table

__all__ = ["RESULTS_JSON", "SweepProgress", "fmt_seconds", "render_result", "sweep_document",
           "trial_table", "write_sweep_report"]
