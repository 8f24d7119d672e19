"""Blocks for JSON-like values whose shape the report does not know in advance
(e.g. an advice's ``extras``): scalars become fact lists, lists of records tables."""

from __future__ import annotations

import json

from advisor.report._doc import Block, Bullets, Heading, KeyValues, Table
from advisor.report._fmt import num

__all__ = ["json_blocks"]

_MAX_ROWS = 50


def _is_scalar(v: object) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def _cell(v: object) -> str:
    if isinstance(v, (list, tuple, dict)) and not v:
        return ""
    if _is_scalar(v):
        return num(v) if isinstance(v, (int, float)) or v is None else str(v)
    text = json.dumps(v, default=str)
    return text if len(text) <= 120 else text[:119] + "\u2026"


def _title(key: str) -> str:
    key = str(key)
    unit = " (s)" if key.endswith("_s") else ""
    key = key[:-2] if unit else key
    return key.replace("_", " ").strip().capitalize() + unit


def _numeric(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def json_blocks(value: object, depth: int = 0) -> list[Block]:
    """Blocks showing ``value``: dict -> facts (+ sub-headings), list of dicts -> table."""
    if isinstance(value, dict):
        scalars = [(_title(k), _cell(v)) for k, v in value.items() if _is_scalar(v)]
        blocks: list[Block] = [KeyValues(tuple(scalars))] if scalars else []
        for k, v in value.items():
            if _is_scalar(v):
                continue
            if depth >= 2:
                blocks.append(KeyValues(((_title(k), _cell(v)),)))
                continue
            blocks.append(Heading(_title(k)))
            blocks += json_blocks(v, depth + 1)
        return blocks
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(r, dict) for r in value):
            keys: list[str] = []
            for r in value:
                keys += [k for k in r if k not in keys]
            rows = tuple(tuple(_cell(r.get(k)) for k in keys) for r in value[:_MAX_ROWS])
            align = "".join("r" if all(_numeric(r.get(k)) for r in value
                                       if r.get(k) is not None) else "l" for k in keys)
            more = len(value) - _MAX_ROWS
            return [Table(tuple(_title(k) for k in keys), rows, align,
                          caption=f"... and {more} more rows" if more > 0 else "")]
        return [Bullets(tuple(_cell(v) for v in value[:_MAX_ROWS]))]
    return [KeyValues((("Value", _cell(value)),))]
