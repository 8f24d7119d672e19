"""Number formatting shared by the report builders (fixed decimals so columns align)."""

from __future__ import annotations

import math

__all__ = ["num", "pct", "lr", "size", "DASH"]

DASH = "\u2014"


def num(x: object, digits: int = 3) -> str:
    """A number for a table cell; ``None``/NaN give a dash."""
    if x is None or isinstance(x, bool):
        return DASH if x is None else str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if not isinstance(x, float):
        return str(x)
    if not math.isfinite(x):
        return DASH
    if x != 0 and abs(x) < 10 ** -digits:
        return f"{x:.2e}"
    if abs(x) >= 10_000:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def pct(x: float | None, digits: int = 1) -> str:
    return DASH if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f} %"


def lr(x: float | None) -> str:
    return DASH if x is None else f"{x:.1e}"


def size(wh: object) -> str:
    """``[w, h]`` as ``w x h``."""
    if isinstance(wh, (list, tuple)) and len(wh) == 2:
        return f"{wh[0]}\u00d7{wh[1]}"
    return DASH if wh is None else str(wh)
