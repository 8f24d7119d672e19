"""``tltune`` and ``tlpredict``: thin adapters over :func:`tuner.tune` and
:func:`tuner.final._predict.predict` (parse, call, render, map errors to exit codes:
0 ok, 2 bad input or configuration, 1 internal error, 130 interrupted)."""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from advisor.errors import TLError

__all__ = ["app", "predict_app", "main", "predict_main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None)
predict_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None)


class Backend(str, Enum):
    optuna = "optuna"
    kerastuner = "kerastuner"


class Framing(str, Enum):
    auto = "auto"
    squash = "squash"
    crop = "crop"


class Scenario(str, Enum):
    feature_extractor = "feature_extractor"
    partial_freeze = "partial_freeze"
    full_finetune = "full_finetune"
    from_scratch = "from_scratch"


def _quiet_libraries() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)


def _fail(console: Console, e: TLError) -> typer.Exit:
    console.print(f"[bold red]error:[/] {e.message}")
    return typer.Exit(e.exit_code)


@app.command(help="Search freeze depth, learning rates, dropout, augmentation, label "
                  "smoothing and batch size around the advisor's recommendation, then "
                  "retrain the best configuration, evaluate it once on the test split and "
                  "export it. results.json in the run directory is rewritten after every "
                  "trial; a killed sweep continues with --resume RUN_DIR.")
def tltune(
    dataset: Annotated[Optional[Path], typer.Argument(
        help="Dataset folder (<class>/<image> or train|val|test/<class>/<image>) or CSV "
             "manifest. Optional with --resume.", metavar="DATASET", show_default=False)
    ] = None,
    trials: Annotated[Optional[int], typer.Option(
        help="Number of finished trials (COMPLETE or PRUNED) the sweep ends with "
             "[default: 30].", show_default=False, min=1)] = None,
    backend: Annotated[Optional[Backend], typer.Option(
        help="Search backend: optuna (TPE + median pruning) or kerastuner (Bayesian "
             "oracle) [default: optuna].", show_default=False)] = None,
    advice: Annotated[Optional[Path], typer.Option(
        help="Advice JSON (tladvise --json FILE); without it and without --scenario the "
             "advisor runs first.", show_default=False)] = None,
    scenario: Annotated[Optional[Scenario], typer.Option(
        help="Force one scenario: search only its freeze range (see docs/search-space.md).",
        show_default=False)] = None,
    backbone: Annotated[Optional[str], typer.Option(
        help="Backbone: mobilenet_v2, efficientnet_b0 or resnet50 [default: the advice's, "
             "else mobilenet_v2].", show_default=False)] = None,
    weights: Annotated[Optional[str], typer.Option(
        help="imagenet, a weights file, or none (random) [default: imagenet].",
        show_default=False)] = None,
    image_size: Annotated[Optional[int], typer.Option(
        "--image-size", help="Input side in pixels [default: the advice's, else 160].",
        show_default=False)] = None,
    framing: Annotated[Optional[Framing], typer.Option(
        help="How an image becomes the square input: squash (resize the whole image, "
             "ignoring its aspect ratio), crop (keep the aspect ratio, central square of 87.5% "
             "of the shorter side, as ImageNet is evaluated), or auto: squash for square "
             "images, else whichever a linear probe on the train + val images scores higher "
             "[default: auto].", show_default=False)] = None,
    test_split: Annotated[Optional[str], typer.Option(
        help="Split folder to test on (e.g. val) when there is no test/ folder "
             "[default: test/ if present, else a held-out part of train].",
        show_default=False)] = None,
    seed: Annotated[Optional[int], typer.Option(
        help="Seed of the sampler, splits and training [default: 0].", show_default=False)
    ] = None,
    epochs: Annotated[Optional[int], typer.Option(
        help="Epochs per trial (with early stopping) [default: 10].", show_default=False,
        min=1)] = None,
    patience: Annotated[Optional[int], typer.Option(
        help="Early-stopping patience in epochs [default: 3].", show_default=False, min=1)
    ] = None,
    out: Annotated[Optional[Path], typer.Option(
        help="Run directory [default: runs/<timestamp>-<dataset>].", show_default=False)
    ] = None,
    resume: Annotated[Optional[Path], typer.Option(
        help="Continue the sweep in RUN_DIR: completed trials are kept, a trial that was "
             "running is marked FAIL; changed options are refused.", metavar="RUN_DIR",
        show_default=False)] = None,
    storage: Annotated[Optional[str], typer.Option(
        help="Optuna storage URL [default: sqlite:///RUN_DIR/study.db].", metavar="URL",
        show_default=False)] = None,
    max_images: Annotated[Optional[int], typer.Option(
        help="Use a stratified sample of at most this many images.", show_default=False,
        min=2)] = None,
    export: Annotated[Optional[str], typer.Option(
        help="Export formats of the final model, comma-separated: keras,savedmodel,tflite "
             "[default: keras].", show_default=False)] = None,
    json_out: Annotated[Optional[Path], typer.Option(
        "--json", help="Also write the full result (results.json content) to FILE.",
        metavar="FILE", show_default=False)] = None,
    refit: Annotated[Optional[bool], typer.Option(
        "--refit/--no-refit",
        help="Train the final model on train + val for the best trial's epochs (default), or "
             "on train alone with early stopping on val.", show_default=False)] = None,
    rerank: Annotated[Optional[int], typer.Option(
        help="Re-score the search's top N trials by 5-fold cross-validation on train + val "
             "and train the winner (for small validation sets, where the top trials tie; "
             "about 5 x N more trainings) [default: 0, off].", metavar="N",
        show_default=False, min=0)] = None,
    isolate: Annotated[bool, typer.Option(
        "--isolate/--no-isolate",
        help="Train in a worker process that is replaced when its memory grows, so memory "
             "stays flat over a long sweep; --no-isolate trains in this process.")] = True,
) -> None:
    from advisor.io import write_json_atomic
    from tuner import tune
    from tuner.report import SweepProgress, render_result, write_sweep_report

    # Wide tables also when the output is a file or a pipe.
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    err = Console(stderr=True, highlight=False)
    _quiet_libraries()
    exports = tuple(e.strip() for e in export.split(",") if e.strip()) if export else None
    try:
        with SweepProgress(console) as show:
            result = tune(dataset, trials=trials, backend=backend.value if backend else None,
                          advice=advice, scenario=scenario.value if scenario else None,
                          backbone=backbone, weights=weights, input_size=image_size,
                          test_split=test_split, seed=seed, out=out, resume=resume,
                          storage=storage, max_images=max_images, epochs=epochs,
                          patience=patience, export=exports, refit=refit, rerank=rerank,
                          framing=framing.value if framing else None, isolate=isolate,
                          progress=show)
    except TLError as e:
        raise _fail(err, e) from None
    except KeyboardInterrupt:
        err.print("[bold yellow]interrupted:[/] finished trials are saved; continue with "
                  "--resume RUN_DIR (the run directory printed above)")
        raise typer.Exit(130) from None
    render_result(result, console)

    report = write_sweep_report(result, result.run_dir)
    console.print(f"Report written to {report.html} ({report.size / 1024:.0f} KiB)")
    if json_out is not None:
        write_json_atomic(json_out, result.to_dict())
        console.print(f"JSON written to {json_out}")


@predict_app.command(help="Classify images with a model exported by tltune (model.keras "
                          "with labels.json beside it). Exit status 2 when the model or an "
                          "image cannot be read (the other images are still classified).")
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

    console = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tuner.final import predict

    try:
        preds = predict(model, images, top=top)
    except TLError as e:
        raise _fail(err, e) from None
    if as_json:
        typer.echo(json.dumps([p.to_dict() for p in preds], indent=1))
    else:
        t = Table("image", "prediction", "top classes")
        for p in preds:
            t.add_row(p.path, p.label or f"[red]{p.error}[/]",
                      ", ".join(f"{lab} {prob:.3f}" for lab, prob in p.top))
        console.print(t)
    if any(p.error for p in preds):
        raise typer.Exit(2)


def main() -> None:
    """Entry point of ``tltune``."""
    app()


def predict_main() -> None:
    """Entry point of ``tlpredict``."""
    predict_app()
