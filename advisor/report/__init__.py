"""Reports people read: one self-contained HTML file (+ Markdown) per result.

The advice report is built here (:func:`write_advice_report`); the parts every report
is made of are public too, for the tuner's sweep report: the document blocks
(:class:`Document`, :class:`Section`, ...), :func:`write_document`, the number
formats, :func:`json_blocks`, :class:`ThumbMaker` and the :mod:`~advisor.report.plots`.
"""

from advisor.report import plots
from advisor.report._advice import ADVICE_JSON, advice_document, write_advice_report
from advisor.report._doc import (Block, Bullets, Callout, Code, Document, Figure, Figures,
                                 Gallery, Heading, KeyValues, Section, Table, Text, Tile)
from advisor.report._fmt import DASH, lr, num, pct, size
from advisor.report._generic import json_blocks
from advisor.report._output import ReportPaths, prepare_dir, write_document
from advisor.report._thumbs import ThumbMaker

__all__ = ["ADVICE_JSON", "DASH", "Block", "Bullets", "Callout", "Code", "Document", "Figure",
           "Figures", "Gallery", "Heading", "KeyValues", "ReportPaths", "Section", "Table",
           "Text", "ThumbMaker", "Tile", "advice_document", "json_blocks", "lr", "num", "pct",
           "plots", "prepare_dir", "size", "write_advice_report", "write_document"]
