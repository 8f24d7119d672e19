"""``tltune``: the command line of :func:`tuner.tune` (live progress, the result tables,
the sweep report, and ``--json``)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from tlcli._app import new_app, quiet_libraries
from tuner.data import DEFAULT_INPUT_SIZE
from tlcli._errors import guarded

__all__ = ["app", "main"]

app = new_app(no_args_is_help=True)


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


@app.command(help="Search freeze depth, learning rates, dropout, augmentation, label "
                  "smoothing and batch size around the advisor's recommendation, then "
                  "retrain the best configuration, evaluate it once on the test split and "
                  "export it. results.json in the run directory is rewritten after every "
                  "trial; a killed sweep continues with --resume RUN_DIR.")
@guarded(interrupted="finished trials are saved; continue with --resume RUN_DIR (the run "
                     "directory printed above)")
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
        help="Backbone: mobilenet_v2, mobilenet_v2_035, efficientnet_b0, resnet50, vgg16 or "
             "inception_v3 [default: the advice's, else mobilenet_v2].", show_default=False)] = None,
    weights: Annotated[Optional[str], typer.Option(
        help="imagenet, a weights file, or none (random) [default: imagenet].",
        show_default=False)] = None,
    image_size: Annotated[Optional[int], typer.Option(
        "--image-size", help=f"Input side in pixels [default: the advice's, else {DEFAULT_INPUT_SIZE}].",
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
        help="Optuna RDB storage URL, e.g. postgresql://USER:PASSWORD@HOST/DB to share the "
             "study with workers on other machines (pip install 'tltools[postgres]'); the "
             "password is never written to disk [default: $TLTUNE_STORAGE, else "
             "RUN_DIR/study.db].", metavar="URL", show_default=False)] = None,
    study: Annotated[Optional[str], typer.Option(
        help="Study name in --storage: the first tltune started with it creates the study, "
             "later ones (on any machine) join it as workers and share its --trials "
             "[default: tltune, never joined].", metavar="NAME", show_default=False)] = None,
    workers: Annotated[Optional[int], typer.Option(
        help="Worker processes on this machine, sharing one study (a journal file in the "
             "run directory, or --storage) and the CPU cores [default: 1].", min=1,
        show_default=False)] = None,
    heartbeat: Annotated[Optional[int], typer.Option(
        help="Seconds between a trial's heartbeats on a --storage URL: a trial whose worker "
             "is silent for twice this long is marked FAIL and its configuration tried "
             "again [default: 60].", metavar="SECONDS", min=1, show_default=False)] = None,
    finalize: Annotated[Optional[Path], typer.Option(
        help="Train, evaluate and export the final model of the sweep in RUN_DIR from the "
             "trials its study has now, without running more (e.g. when the worker that "
             "claimed it was lost).", metavar="RUN_DIR", show_default=False)] = None,
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
    stall: Annotated[Optional[int], typer.Option(
        help="Stop the search early once K finished trials in a row did not beat the best "
             "validation accuracy by more than its standard error (the validation noise); "
             "--trials stays the upper bound; 0 runs every trial [default: 10].",
        metavar="K", show_default=False, min=0)] = None,
    lr_find: Annotated[Optional[bool], typer.Option(
        "--lr-find/--no-lr-find",
        help="Before the search, sweep the learning rates on the cached activations (an LR "
             "finder), widen the head's learning-rate range to reach its suggestion and report "
             "the backbone's (the backbone range stays the advice's) [default: on].",
        show_default=False)] = None,
    isolate: Annotated[bool, typer.Option(
        "--isolate/--no-isolate",
        help="Train in a worker process that is replaced when its memory grows, so memory "
             "stays flat over a long sweep; --no-isolate trains in this process.")] = True,
) -> None:
    from advisor.io import write_json_atomic
    from tuner import SweepOptions, tune
    from tuner.report import SweepProgress, render_result, write_sweep_report

    quiet_libraries(optuna=True)
    if finalize is not None:
        if resume is not None and resume != finalize:
            from advisor.errors import ConfigError

            raise ConfigError("--finalize and --resume name different runs",
                              expected="one run directory", received=f"{finalize}, {resume}",
                              fix="pass --finalize RUN_DIR alone")
        resume = finalize
    options = SweepOptions(
        path=dataset, trials=trials, backend=_value(backend), advice=advice,
        scenario=_value(scenario), backbone=backbone, weights=weights, input_size=image_size,
        test_split=test_split, seed=seed, out=out, resume=resume, storage=storage,
        max_images=max_images, epochs=epochs, patience=patience, export=_formats(export),
        refit=refit, rerank=rerank, framing=_value(framing), isolate=isolate, study=study,
        workers=workers, heartbeat=heartbeat, finalize=finalize is not None, stall=stall,
        lr_find=lr_find)
    # Wide tables also when the output is a file or a pipe.
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    with SweepProgress(console) as show:
        result = tune(options=options, progress=show)
    render_result(result, console)
    report = write_sweep_report(result, result.run_dir)
    console.print(f"Report written to {escape(str(report.html))} ({report.size / 1024:.0f} KiB)")
    if json_out is not None:
        write_json_atomic(json_out, result.to_dict())
        console.print(f"JSON written to {escape(str(json_out))}")


def _value(choice: Enum | None) -> str | None:
    return None if choice is None else str(choice.value)


def _formats(export: str | None) -> tuple[str, ...] | None:
    """``--export keras,tflite`` as a tuple (checked by :class:`~tuner.SweepOptions`)."""
    return tuple(e.strip() for e in export.split(",") if e.strip()) if export else None


def main() -> None:
    """Entry point of ``tltune``."""
    app(prog_name="tltune")


if __name__ == "__main__":
    main()
