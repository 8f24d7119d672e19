"""Reports people read: one self-contained HTML file (+ Markdown) for advice and for sweeps."""

from advisor.report._advice import advice_document, write_advice_report
from advisor.report._output import ReportPaths
from advisor.report._sweep import sweep_document, write_sweep_report

__all__ = ["ReportPaths", "advice_document", "sweep_document", "write_advice_report",
           "write_sweep_report"]
