"""A tiny document model shared by the HTML and Markdown renderers.

The report builders (``_advice.py``, ``_sweep.py``) turn result objects into a
:class:`Document` of plain blocks; ``_html.py`` and ``_markdown.py`` only render
blocks. Every string in a block is plain text taken from the data: the renderers
escape it, builders never write markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

__all__ = ["Text", "Heading", "Bullets", "KeyValues", "Table", "Figure", "Figures", "Tile",
           "Gallery", "Code", "Callout", "Block", "Section", "Document"]


@dataclass(frozen=True)
class Text:
    """A paragraph. ``style``: ``""``, ``"muted"``, ``"warning"`` or ``"error"``."""

    text: str
    style: str = ""


@dataclass(frozen=True)
class Heading:
    """A heading inside a section."""

    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class KeyValues:
    """A two-column fact list (label, value)."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table:
    """A table of preformatted cells; ``align`` holds ``"l"`` or ``"r"`` per column."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: str = ""
    highlight: tuple[int, ...] = ()  # indices of rows to emphasise
    caption: str = ""

    def column_align(self, i: int) -> str:
        return self.align[i] if i < len(self.align) else "l"


@dataclass(frozen=True)
class Figure:
    """A plot as PNG bytes. ``name`` (from code, never from data) names its file in Markdown."""

    png: bytes
    name: str
    caption: str


@dataclass(frozen=True)
class Figures:
    """Figures shown side by side where the page is wide enough."""

    items: tuple[Figure, ...]


@dataclass(frozen=True)
class Tile:
    """One thumbnail (JPEG bytes) with a caption; ``image is None`` shows ``note`` instead."""

    image: bytes | None
    caption: str
    note: str = ""
    emphasis: str = ""  # e.g. "pred: roses" shown in red under the caption


@dataclass(frozen=True)
class Gallery:
    """Thumbnails; each group (e.g. a duplicate pair) is shown together in one box."""

    groups: tuple[tuple[Tile, ...], ...]
    more: int = 0  # how many further groups were left out


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Callout:
    """A framed box: the verdict (``level="verdict"``) or a finding (its severity)."""

    title: str
    level: str
    blocks: tuple["Block", ...] = ()
    badge: str = ""


Block = Union[Text, Heading, Bullets, KeyValues, Table, Figure, Figures, Gallery, Code, Callout]


@dataclass(frozen=True)
class Section:
    """A top-level section; ``key`` (from code) is its anchor."""

    key: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str
    sections: tuple[Section, ...]
    footer: str = ""
    meta: dict = field(default_factory=dict)
