"""The one error boundary of every command.

A command body raises; :func:`guarded` turns what it raised into a line on stderr
and an exit status, the same way for ``tladvise``, ``tltune``, ``tlpredict`` and
``tlreport``:

* :class:`~advisor.errors.TLError`: its message (what, expected, received, fix),
  exit :attr:`~advisor.errors.TLError.exit_code` (2 bad input or configuration,
  1 internal);
* ``KeyboardInterrupt``: "interrupted" and the command's hint, exit 130;
* any other exception: "internal error" and how to see the traceback, exit 1. The
  traceback itself only with ``TL_DEBUG=1`` (then the exception propagates).

The command-line parser's own signals (``typer.Exit``, usage errors) pass through.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from advisor.errors import TLError

__all__ = ["DEBUG_ENV", "INTERRUPTED", "INTERNAL", "guarded", "debug"]

DEBUG_ENV = "TL_DEBUG"
INTERRUPTED = 130
INTERNAL = 1

F = TypeVar("F", bound=Callable[..., object])
_PASS_THROUGH = (typer.Exit, typer.Abort, typer.TyperException)


def debug() -> bool:
    """Whether ``TL_DEBUG`` asks for tracebacks."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def _say(markup: str) -> None:
    """One message on stderr, unwrapped (the terminal wraps it; logs and greps keep it whole)."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(markup)


def guarded(interrupted: str = "") -> Callable[[F], F]:
    """Decorate a command body with the shared error handling; ``interrupted`` is
    the hint shown after Ctrl-C (what was kept, how to continue)."""

    def wrap(body: F) -> F:
        @functools.wraps(body)
        def command(*args: object, **kwargs: object) -> object:
            try:
                return body(*args, **kwargs)
            except _PASS_THROUGH:
                raise
            except TLError as e:
                if debug():
                    traceback.print_exc(file=sys.stderr)
                _say(f"[bold red]error:[/] {escape(e.message)}")
                raise typer.Exit(e.exit_code) from None
            except KeyboardInterrupt:
                _say("[bold yellow]interrupted[/]" + (f": {escape(interrupted)}" if interrupted
                                                      else ""))
                raise typer.Exit(INTERRUPTED) from None
            except Exception as e:
                if debug():
                    raise
                _say(f"[bold red]internal error:[/] {escape(f'{type(e).__name__}: {e}')}\n"
                     f"This is a bug; rerun with {DEBUG_ENV}=1 for the traceback and report it.")
                raise typer.Exit(INTERNAL) from None

        return command  # type: ignore[return-value]

    return wrap
