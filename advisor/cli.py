"""``tladvise``: a thin adapter from the command line to :func:`advisor.advise`.

Parse, call the library, render, map errors to exit codes
(0 ok, 2 bad input, 1 internal error, 130 interrupted).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from advisor.errors import InputError, TLError

app = typer.Typer(add_completion=False, rich_markup_mode=None,
                  help="Measure an image dataset against ImageNet and recommend how to transfer a "
                       "pretrained CNN: feature extractor, partial freeze, full fine-tune or from scratch.")


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


def _backbone_list(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        out += [s.strip() for s in v.split(",") if s.strip()]
    return out or ["mobilenet_v2"]


@app.command()
def main_command(
    dataset: Path = typer.Argument(..., metavar="DATASET", help="Folder of class folders (root/<class>/*, or root/train|val|test/<class>/*) or a CSV manifest with path,label columns.", show_default=False),
    backbone: list[str] = typer.Option(["mobilenet_v2"], "--backbone", "-b", metavar="NAME", help="Backbone from the catalog (mobilenet_v2, efficientnet_b0, resnet50). Repeat or comma-separate to rank several by probe accuracy and LogME."),
    weights: str = typer.Option("imagenet", metavar="imagenet|PATH|none", help="'imagenet' (keras cache, then download), a path to a no-top .h5 weights file, or 'none' (random init)."),
    image_size: Optional[int] = typer.Option(None, "--image-size", metavar="PX", help="Input side in pixels (default: the backbone's, 224)."),
    max_images: Optional[int] = typer.Option(None, "--max-images", metavar="N", help="Measure a stratified subsample of at most N images (faster on big sets)."),
    seed: int = typer.Option(0, metavar="INT", help="Seed for subsampling and probe folds."),
    json_out: Optional[Path] = typer.Option(None, "--json", metavar="FILE", help="Write the complete advice as JSON here (tltune --advice reads it)."),
    report: Optional[Path] = typer.Option(None, "--report", metavar="DIR", help="Write report.html and report.md into this folder."),
    large_per_class: float = typer.Option(1000.0, "--large-per-class", metavar="N", help="Median training images per class from which a dataset counts as large."),
    verify: bool = typer.Option(False, "--verify", help="Run a bounded pilot (a few minutes on a CPU) that trains the recommended scenario and its closest rival on a subsample, and confirm or overturn the call."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", metavar="DIR", help="Feature cache folder (default $TL_CACHE_DIR or ~/.cache/tltools)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the feature cache."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or summary (errors still go to stderr)."),
) -> None:
    """Measure DATASET and recommend a transfer-learning scenario, with the numbers behind every reason."""
    console = Console(stderr=False, quiet=quiet)
    err = Console(stderr=True)
    try:
        from advisor._advise import advise
        from advisor._render import render_advice, rich_progress
        from advisor.measure._cache import default_cache_dir
        from advisor.recommend import Thresholds

        if json_out is not None:
            _check_writable(json_out, "the JSON output")
        if max_images is not None and max_images <= 0:
            raise InputError("--max-images must be positive", expected="an integer >= 4",
                             received=str(max_images), fix="raise it or leave it out")
        if large_per_class <= 0:
            raise InputError("--large-per-class must be positive", expected="e.g. 1000",
                             received=str(large_per_class), fix="pass a positive number")
        cache = None if no_cache else (cache_dir or default_cache_dir())
        command = "tladvise " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        with rich_progress(console, enabled=not quiet) as progress:
            result = advise(dataset, backbones=_backbone_list(backbone), weights=weights,
                            input_size=image_size, max_images=max_images, seed=seed,
                            cache_dir=cache, thresholds=Thresholds(large_per_class=large_per_class),
                            progress=progress, command=command)
            if verify:
                import dataclasses

                from tuner.verify._verify import verify_advice

                v = verify_advice(dataset, result, seed=seed, weights=weights, progress=progress)
                result = dataclasses.replace(result, extras={**result.extras, "verify": v.to_dict()})
        render_advice(result, console)
        if json_out is not None:
            json_out.expanduser().write_text(json.dumps(result.to_dict(), indent=2))
            console.print(f"advice written to {json_out}")
        if report is not None:
            from advisor.report import write_advice_report

            paths = write_advice_report(result, report)
            console.print(f"report written to {paths.html}")
        next_cmd = f"tltune {shlex.quote(str(dataset))} --trials 30" + (
            f" --advice {shlex.quote(str(json_out))}" if json_out else "")
        console.print(f"next: [bold]{next_cmd}[/bold]", highlight=False)
    except TLError as e:
        err.print(f"[bold red]error:[/bold red] {_esc(e.message)}", highlight=False)
        raise typer.Exit(e.exit_code) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None
    except Exception as e:  # last-resort boundary: report, exit 1 (TL_DEBUG=1 shows the traceback)
        if os.environ.get("TL_DEBUG"):
            raise
        err.print(f"[bold red]internal error:[/bold red] {_esc(f'{type(e).__name__}: {e}')}\n"
                  "This is a bug; rerun with TL_DEBUG=1 for the traceback and report it.", highlight=False)
        raise typer.Exit(1) from None


def _esc(s: str) -> str:
    from rich.markup import escape

    return escape(s)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
