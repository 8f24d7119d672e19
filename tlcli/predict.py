"""``tlpredict``: the command line of :func:`tuner.predict` (a table or ``--json``;
exit status 2 when the model or an image cannot be read)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from tlcli._app import new_app, quiet_libraries
from tlcli._errors import guarded

__all__ = ["app", "main"]

app = new_app(no_args_is_help=True)
UNREADABLE = 2  # exit status when an image could not be classified


@app.command(help="Classify images with a model exported by tltune (model.keras "
                  "with labels.json beside it). Exit status 2 when the model or an "
                  "image cannot be read (the other images are still classified).")
@guarded()
def tlpredict(
    model: Annotated[Path, typer.Argument(
        help="model.keras, or the folder holding it (RUN_DIR/model).", metavar="MODEL",
        show_default=False)],
    images: Annotated[list[Path], typer.Argument(
        help="Image files.", metavar="IMAGE", show_default=False)],
    top: Annotated[int, typer.Option(help="How many classes to show per image.", min=1)] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")
    ] = False,
) -> None:
    from rich.table import Table

    quiet_libraries()
    from tuner import predict

    preds = predict(model, images, top=top)
    if as_json:
        typer.echo(json.dumps([p.to_dict() for p in preds], indent=1))
    else:
        table = Table("image", "prediction", "top classes")
        for p in preds:
            label = escape(p.label) if p.label else f"[red]{escape(str(p.error))}[/]"
            table.add_row(escape(p.path), label,
                          escape(", ".join(f"{lab} {prob:.3f}" for lab, prob in p.top)))
        Console(highlight=False).print(table)
    if any(p.error for p in preds):
        raise typer.Exit(UNREADABLE)


def main() -> None:
    """Entry point of ``tlpredict``."""
    app(prog_name="tlpredict")


if __name__ == "__main__":
    main()
