"""What every command shares besides its error boundary: how its app is made and how
the libraries beneath it are kept quiet."""

from __future__ import annotations

import os
import shlex
import sys

import typer

__all__ = ["new_app", "quiet_libraries", "command_line"]


def new_app(help: str | None = None, *, no_args_is_help: bool = False) -> typer.Typer:
    """A one-command typer app with the project's settings (no shell completion, plain
    help text)."""
    return typer.Typer(add_completion=False, rich_markup_mode=None, help=help,
                       no_args_is_help=no_args_is_help)


def quiet_libraries(*, optuna: bool = False) -> None:
    """Silence TensorFlow's C++ start-up logs (before it is imported) and, with
    ``optuna``, Optuna's per-trial INFO lines (the progress bar shows them)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if optuna:
        import optuna as _optuna

        _optuna.logging.set_verbosity(_optuna.logging.WARNING)


def command_line(prog: str) -> str:
    """The command as typed (``prog`` and this process's arguments, shell-quoted)."""
    return " ".join([prog, *(shlex.quote(a) for a in sys.argv[1:])])
