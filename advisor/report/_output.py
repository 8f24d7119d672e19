"""Writing a rendered :class:`Document` to a folder: ``report.html`` and ``report.md``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from advisor.codec import Record
from advisor.errors import InputError
from advisor.report._doc import Document
from advisor.report._html import render_html
from advisor.report._markdown import render_markdown

__all__ = ["ReportPaths", "prepare_dir", "write_document"]


@dataclass(frozen=True)
class ReportPaths(Record):
    """Where a report was written. ``size``: bytes of the single-file ``report.html``."""

    html: Path
    md: Path
    size: int
    images: tuple[Path, ...] = ()  # the images beside report.md



def prepare_dir(out_dir: str | Path) -> Path:
    """``out_dir`` as an existing folder (created when missing)."""
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise InputError(f"Cannot write a report into {str(out)!r}",
                         expected="a folder (it is created when missing)",
                         received="a path that is a file",
                         fix="pass a folder path, e.g. --report ./report")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"Cannot create the report folder {str(out)!r}",
                         expected="a folder you can write to", received=str(e),
                         fix="choose another folder or fix its permissions") from e
    return out


def write_document(doc: Document, out_dir: str | Path) -> ReportPaths:
    """Write ``report.html`` (one self-contained file) and ``report.md`` with its images."""
    out = prepare_dir(out_dir)
    html_path = out / "report.html"
    html_path.write_text(render_html(doc), encoding="utf-8")
    md_path, images = render_markdown(doc, out)
    return ReportPaths(html=html_path, md=md_path, size=html_path.stat().st_size, images=images)
