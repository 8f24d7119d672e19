"""Terminal rendering of advisor results (rich)."""

from advisor._render._terminal import render_advice, rich_progress

__all__ = ["render_advice", "rich_progress"]
