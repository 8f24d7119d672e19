"""Markdown renderer of a :class:`Document`: ``report.md`` with its images saved beside it.

Text from the data is HTML-escaped (Markdown viewers render raw HTML) and the
characters that would start Markdown syntax are backslash-escaped. Image files
get names made here (``report-fig-<name>.png``, ``report-img-<n>.jpg``), never
names taken from the data.
"""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path

from advisor.report._doc import (
    Block,
    Bullets,
    Callout,
    Code,
    Document,
    Figure,
    Figures,
    Gallery,
    Heading,
    KeyValues,
    Table,
    Text,
)

__all__ = ["md_escape", "render_markdown", "IMAGE_PREFIXES"]

IMAGE_PREFIXES = ("report-fig-", "report-img-")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MD_LEADING = re.compile(r"^(?:([#+>-])|(\d+)([.)])(?=\s|$))")
_GALLERY_COLUMNS = 6


def md_escape(text: object) -> str:
    """Plain text as Markdown text: no HTML, no emphasis, links or table breaks."""
    s = html.escape(str(text), quote=False)
    s = " ".join(_MD_SPECIAL.sub(r"\\\1", s).split())  # a newline would end a table row
    return _MD_LEADING.sub(_escape_leading, s)


def _escape_leading(m: re.Match) -> str:
    return "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3)


class _Writer:
    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.images: dict[str, Path] = {}  # content hash -> file written
        self.n_thumbs = 0

    def save(self, data: bytes, name: str, ext: str) -> str:
        key = hashlib.md5(data).hexdigest()
        if key not in self.images:
            if ext == "jpg":
                self.n_thumbs += 1
                name = f"report-img-{self.n_thumbs:03d}"
            path = self.out_dir / f"{name}.{ext}"
            path.write_bytes(data)
            self.images[key] = path
        return self.images[key].name

    def table(self, headers, rows, align="") -> list[str]:
        def cell_row(cells):
            return "| " + " | ".join(md_escape(c) for c in cells) + " |"

        rule = "|" + "|".join("---:" if i < len(align) and align[i] == "r" else "---"
                              for i in range(len(headers))) + "|"
        return [cell_row(headers), rule] + [cell_row(r) for r in rows] + [""]

    def figure(self, f: Figure) -> list[str]:
        name = self.save(f.png, "report-fig-" + re.sub(r"[^a-z0-9_-]", "_", f.name.lower()), "png")
        return [f"![{md_escape(f.caption)}]({name})", "", f"*{md_escape(f.caption)}*", ""]

    def gallery(self, g: Gallery) -> list[str]:
        cells: list[tuple[str, str]] = []
        for group in g.groups:
            for i, t in enumerate(group):
                cap = md_escape(t.caption) + (f" **{md_escape(t.emphasis)}**" if t.emphasis else "")
                if len(group) > 1:
                    cap = ("= " if i else "") + cap
                if t.image is None:
                    cells.append((f"*{md_escape(t.note or 'no image')}*", cap))
                else:
                    name = self.save(t.image, "", "jpg")
                    cells.append((f"![{md_escape(t.caption)}]({name})", cap))
        lines: list[str] = []
        for start in range(0, len(cells), _GALLERY_COLUMNS):
            chunk = cells[start:start + _GALLERY_COLUMNS]
            lines.append("| " + " | ".join(c[0] for c in chunk) + " |")
            lines.append("|" + "|".join(":---:" for _ in chunk) + "|")
            lines.append("| " + " | ".join(c[1] for c in chunk) + " |")
            lines.append("")
        if g.more:
            lines += [f"... and {g.more} more", ""]
        return lines

    def block(self, b: Block) -> list[str]:
        if isinstance(b, Text):
            t = md_escape(b.text)
            return [f"**{t}**" if b.style in ("warning", "error") else
                    (f"*{t}*" if b.style == "muted" else t), ""]
        if isinstance(b, Heading):
            return [f"#### {md_escape(b.text)}", ""]
        if isinstance(b, Bullets):
            return [f"- {md_escape(i)}" for i in b.items] + [""]
        if isinstance(b, KeyValues):
            return self.table(("", ""), b.items)
        if isinstance(b, Table):
            return self.table(b.headers, b.rows, b.align)
        if isinstance(b, Figure):
            return self.figure(b)
        if isinstance(b, Figures):
            return [line for f in b.items for line in self.figure(f)]
        if isinstance(b, Gallery):
            return self.gallery(b)
        if isinstance(b, Code):
            fence = "~~~~" if "```" in b.text else "```"
            return [fence + "sh", b.text, fence, ""]
        if isinstance(b, Callout):
            badge = f"[{md_escape(b.badge).upper()}] " if b.badge else ""
            inner = [line for x in b.blocks for line in self.block(x)]
            return [f"### {badge}{md_escape(b.title)}", ""] + inner
        raise TypeError(f"unknown block {type(b).__name__}")


def _clear_old_images(out_dir: Path) -> None:
    """Remove images a previous render of this folder wrote (only names this module makes)."""
    for p in out_dir.iterdir():
        if p.is_file() and p.name.startswith(IMAGE_PREFIXES) and p.suffix in (".png", ".jpg"):
            p.unlink()


def render_markdown(doc: Document, out_dir: Path, name: str = "report.md") -> tuple[Path, tuple[Path, ...]]:
    """Write ``out_dir/name`` and its images; returns the Markdown path and the image paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_old_images(out_dir)
    w = _Writer(out_dir)
    lines = [f"# {md_escape(doc.title)}", "", md_escape(doc.subtitle), ""]
    lines += [f"- [{md_escape(s.title)}](#{s.key})" for s in doc.sections] + [""]
    for s in doc.sections:
        lines += [f'<a id="{s.key}"></a>', "", f"## {md_escape(s.title)}", ""]
        for b in s.blocks:
            lines += w.block(b)
    if doc.footer:
        lines += ["---", "", f"*{md_escape(doc.footer)}*", ""]
    path = out_dir / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path, tuple(w.images.values())
