"""``tladvise``: the command line of :func:`advisor.advise`, and of the pilot behind
``--verify`` (:func:`tuner.verify.verify_advice`, imported only when asked for)."""

from __future__ import annotations

import dataclasses
import os
import shlex
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from advisor.backbones import IMAGENET_INPUT_SIZE, backbone_names
from advisor.errors import InputError
from tlcli._app import command_line, new_app, quiet_libraries
from tlcli._errors import guarded

__all__ = ["app", "main"]

app = new_app("Measure an image dataset against ImageNet and recommend how to transfer a "
              "pretrained CNN: feature extractor, partial freeze, full fine-tune or from scratch.")


@app.command()
@guarded()
def tladvise(
    dataset: Path = typer.Argument(..., metavar="DATASET", help="Folder of class folders (root/<class>/*, or root/train|val|test/<class>/*) or a CSV manifest with path,label columns.", show_default=False),
    backbone: list[str] = typer.Option(["mobilenet_v2"], "--backbone", "-b", metavar="NAME", help=f"Backbone from the catalog ({', '.join(backbone_names())}). Repeat or comma-separate to rank several by probe accuracy and LogME."),
    weights: str = typer.Option("imagenet", metavar="imagenet|PATH|none", help="'imagenet' (keras cache, then download), a path to a no-top .h5 weights file, or 'none' (random init)."),
    image_size: Optional[int] = typer.Option(None, "--image-size", metavar="PX", help=f"Input side in pixels (default: the backbone's, {IMAGENET_INPUT_SIZE}; inception_v3 299)."),
    max_images: Optional[int] = typer.Option(None, "--max-images", metavar="N", help="Measure a stratified subsample of at most N images (faster on big sets)."),
    seed: int = typer.Option(0, metavar="INT", help="Seed for subsampling and probe folds."),
    json_out: Optional[Path] = typer.Option(None, "--json", metavar="FILE", help="Write the complete advice as JSON here (tltune --advice reads it)."),
    report: Optional[Path] = typer.Option(None, "--report", metavar="DIR", help="Write report.html and report.md into this folder."),
    large_per_class: float = typer.Option(1000.0, "--large-per-class", metavar="N", help="Median training images per class from which a dataset counts as large."),
    verify: bool = typer.Option(False, "--verify", help="Run a bounded pilot (a few minutes on a CPU): cross-fitted on up to 600 images, it measures what fine-tuning the top blocks gains over the feature extractor (with its standard error) and confirms or overturns the call."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", metavar="DIR", help="Feature cache folder (default $TL_CACHE_DIR or ~/.cache/tltools)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the feature cache."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or summary (errors still go to stderr)."),
) -> None:
    """Measure DATASET and recommend a transfer-learning scenario, with the numbers behind every reason."""
    from advisor import Thresholds, advise, render_advice, rich_progress
    from advisor.io import write_json_atomic
    from advisor.measure import default_cache_dir

    _check_options(json_out, max_images, large_per_class)
    quiet_libraries(optuna=verify)
    console = Console(quiet=quiet)
    with rich_progress(console, enabled=not quiet) as progress:
        result = advise(dataset, backbones=_backbone_list(backbone), weights=weights,
                        input_size=image_size, max_images=max_images, seed=seed,
                        cache_dir=None if no_cache else (cache_dir or default_cache_dir()),
                        thresholds=Thresholds(large_per_class=large_per_class),
                        progress=progress, command=command_line("tladvise"))
        if verify:
            from tuner.verify import verify_advice

            result = dataclasses.replace(result, verify=verify_advice(
                dataset, result, seed=seed, weights=weights, progress=progress))
    render_advice(result, console)
    if json_out is not None:
        write_json_atomic(json_out.expanduser(), result.to_dict(), indent=2)
        console.print(f"advice written to {escape(str(json_out))}")
    if report is not None:
        from advisor.report import write_advice_report

        console.print(f"report written to {escape(str(write_advice_report(result, report).html))}")
    console.print(f"next: [bold]{escape(_next_command(dataset, json_out))}[/bold]", highlight=False)


def _backbone_list(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        out += [s.strip() for s in v.split(",") if s.strip()]
    return out or ["mobilenet_v2"]


def _next_command(dataset: Path, json_out: Path | None) -> str:
    return f"tltune {shlex.quote(str(dataset))} --trials 30" + (
        f" --advice {shlex.quote(str(json_out))}" if json_out else "")


def _check_options(json_out: Path | None, max_images: int | None, large_per_class: float) -> None:
    """Refuse bad option values before any long work."""
    if json_out is not None:
        _check_writable(json_out, "the JSON output")
    if max_images is not None and max_images <= 0:
        raise InputError("--max-images must be positive", expected="an integer >= 4",
                         received=str(max_images), fix="raise it or leave it out")
    if large_per_class <= 0:
        raise InputError("--large-per-class must be positive", expected="e.g. 1000",
                         received=str(large_per_class), fix="pass a positive number")


def _check_writable(path: Path, what: str) -> None:
    """Fail before any long work if ``path`` cannot be written (missing folders are created)."""
    path = path.expanduser()
    if path.is_dir():
        raise InputError(f"{what} {str(path)!r} is a folder", expected="a file path",
                         received="an existing folder", fix=f"pass a file name, e.g. {path}/advice.json")
    parent = path.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"Cannot create the folder for {what}", expected="a writable location",
                         received=f"{str(parent)!r}: {e.strerror or e}",
                         fix="choose another path") from None
    if not os.access(parent, os.W_OK):
        raise InputError(f"Cannot write {what} {str(path)!r}", expected="a path in a writable folder",
                         received=f"folder {str(parent)!r} is not writable",
                         fix="choose another path or fix the folder's permissions")


def main() -> None:
    """Entry point of ``tladvise``."""
    app(prog_name="tladvise")


if __name__ == "__main__":
    main()
