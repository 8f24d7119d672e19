"""The stages of a sweep between its configuration and its final model: the data
(with the framing decision), the runner, and the search."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import replace

from advisor.errors import InternalError
from tuner._advice import advice_findings, split_shift_warning
from tuner._session import Session
from tuner.data import DataSpec, PreparedData
from tuner.run import ADVICE_FILE, redact_url, save_config
from tuner.search import (SearchSpace, TrialLoop, get_backend, param_importances,
                          small_validation_hint)
from tuner.training import Runner, RunnerSpec, TrialRunner
from tuner.trial import TrialRecord

__all__ = ["prepare", "open_runner", "search"]


def _data_spec(s: Session) -> DataSpec:
    c = s.config
    cache = s.options.cache_dir if s.options.cache_dir is not None else s.run_dir / "cache"
    return DataSpec(path=str(s.options.path or c.dataset), input_size=c.input_size,
                    framing=c.resolved_framing, test_split=c.test_split, seed=c.seed,
                    max_images=c.max_images, cache_dir=str(cache))


def prepare(s: Session) -> PreparedData:
    """Decode the data once (after deciding ``--framing auto``), and warn about what
    the user should know before the trials."""
    prepared: dict[str, PreparedData] = {}  # the framing decision's data, reused

    def get(framing: str) -> PreparedData:
        if framing not in prepared:
            prepared[framing] = _data_spec(s).framed(framing).prepare()
        return prepared[framing]

    if s.config.framing == "auto" and s.config.framing_choice is None:
        from advisor.backbones import get_backbone, resolve_weights
        from tuner.training import choose_framing

        t = time.perf_counter()
        spec = get_backbone(s.config.backbone)
        choice = choose_framing(get, spec, resolve_weights(spec, s.config.weights),
                                seed=s.config.seed)
        s.timed("framing_s", t)
        s.emit("framing", message=choice.reason)
        s.config = replace(s.config, framing_choice=choice)
    t = time.perf_counter()
    data = get(s.config.resolved_framing)
    s.timed("prepare_s", t)
    s.data = data.summary()
    if s.resumed:  # the findings the first session saved with its advice
        kept = s.run_dir / ADVICE_FILE
        s.findings = advice_findings(kept) if kept.is_file() else []
    shifted = split_shift_warning(s.findings, data.split_source)
    if shifted:
        s.warn(shifted)
        s.emit("warning", message=shifted)  # every session shows it before its trials
    hint = small_validation_hint(len(data.y_val)) if not s.config.rerank else None
    if hint:
        s.warn(hint)
    return data


@contextlib.contextmanager
def open_runner(s: Session, data: PreparedData) -> Iterator[Runner]:
    """The runner of the sweep: a worker process (``isolate``) or this process."""
    from tuner.training import WorkerRunner

    t = time.perf_counter()
    c = s.config
    spec = RunnerSpec(backbone=c.backbone, weights=c.weights, seed=c.seed,
                      cache_dir=_data_spec(s).cache_dir)
    runner: Runner = (WorkerRunner(_data_spec(s), spec) if s.options.isolate
                      else TrialRunner.from_spec(spec, data))
    s.runner = runner
    try:
        runner.n_blocks  # noqa: B018 - starts the worker process, when there is one
        s.timed("runner_s", t)
        yield runner
    finally:
        runner.close()


def _space(s: Session, n_blocks: int) -> SearchSpace:
    """The search space: the stored one on resume, else derived from the advice (and
    saved with the configuration; also when resuming a run killed before its search)."""
    c = s.config
    if c.space is not None:
        if c.space.n_blocks != n_blocks:
            raise InternalError("The backbone's block count differs from the stored space",
                                expected=f"{c.space.n_blocks} blocks", received=str(n_blocks),
                                fix="start a new sweep (the backbone definition changed)")
        return c.space
    sp = s.options.space or SearchSpace.from_advice(c.advice, n_blocks, c.scenario,
                                                    epochs=c.epochs, patience=c.patience)
    s.config = replace(c, space=sp, epochs=sp.epochs, patience=sp.patience)
    save_config(s.run_dir, s.config)
    return sp


def search(s: Session, runner: Runner) -> tuple[list[TrialRecord], SearchSpace, dict | None]:
    """Run the trials until the study has ``trials`` finished ones; the trials, the
    space and the parameter importances (``None`` below two COMPLETE trials)."""
    started = s.config.space is not None  # else: a new sweep, or one killed before its search
    space = _space(s, runner.n_blocks)
    for note in space.notes:
        s.warn(note)
    runner.expect(space.freeze_blocks)  # one activation-cache pass per augmentation level
    backend = get_backend(s.config.backend, space, seed=s.config.seed, run_dir=s.run_dir,
                          storage=s.config.storage)
    killed = backend.open(resume=s.resumed and started)
    s.killed += killed
    s.timed("setup_s", s.t0)
    s.search = {**backend.describe()}
    s.search["storage"] = redact_url(s.search.get("storage"))
    if killed:
        s.warn(f"trial(s) {killed} were running when the sweep was killed: marked FAIL, "
               "not counted")
    t = time.perf_counter()
    s.emit("start", backend.trials(), message=str(s.run_dir))
    loop = TrialLoop(backend, runner, s.config.trials, emit=s.emit,
                     on_change=lambda trials: s.save(trials, "running"), warn=s.warn)
    trials = loop.run()
    s.timed("search_s", t)
    importances, note = param_importances(space, trials, seed=s.config.seed)
    if importances is None:
        s.warn(note)
    return trials, space, importances

