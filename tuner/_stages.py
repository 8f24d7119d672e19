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
from tuner._shared import CONFIG_ATTR
from tuner.data import DataSpec, PreparedData
from tuner.run import ADVICE_FILE, TensorBoardLog, save_config
from tuner.search import (SearchSpace, TrialLoop, get_backend, param_importances,
                          small_validation_hint, stall_stop)
from tuner.training import LRFinding, Runner, RunnerSpec, TrialRunner
from tuner.trial import TrialRecord

__all__ = ["prepare", "open_runner", "search"]


def _data_spec(s: Session) -> DataSpec:
    c = s.config
    cache = s.options.cache_dir if s.options.cache_dir is not None else s.run_dir / "cache"
    return DataSpec(path=str(s.options.path or c.dataset), input_size=c.input_size,
                    framing=c.resolved_framing, test_split=c.test_split, seed=c.seed,
                    max_images=c.max_images, cache_dir=str(cache))


def _runner_spec(s: Session) -> RunnerSpec:
    c = s.config
    return RunnerSpec(backbone=c.backbone, weights=c.weights, seed=c.seed,
                      cache_dir=_data_spec(s).cache_dir)


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
    spec = _runner_spec(s)
    runner: Runner = (WorkerRunner(_data_spec(s), spec) if s.options.isolate
                      else TrialRunner.from_spec(spec, data))
    s.runner = runner
    try:
        runner.n_blocks  # noqa: B018 - starts the worker process, when there is one
        s.device = runner.device
        s.emit("note", message=f"Device: {s.device.summary}")
        s.timed("runner_s", t)
        yield runner
    finally:
        runner.close()


def _space(s: Session, runner: Runner) -> SearchSpace:
    """The search space: the stored one on resume, else derived from the advice, its
    head learning-rate range widened by the LR finder (``lr_find``), and saved with the
    configuration (also when resuming a run killed before its search)."""
    c, n_blocks = s.config, runner.n_blocks
    if c.space is not None:
        if c.space.n_blocks != n_blocks:
            raise InternalError("The backbone's block count differs from the stored space",
                                expected=f"{c.space.n_blocks} blocks", received=str(n_blocks),
                                fix="start a new sweep (the backbone definition changed)")
        runner.expect(c.space.cached_blocks())
        return c.space
    sp = s.options.space or SearchSpace.from_advice(c.advice, n_blocks, c.scenario,
                                                    epochs=c.epochs, patience=c.patience)
    runner.expect(sp.cached_blocks())  # one activation-cache pass per augmentation level
    finding = None
    if c.lr_find and s.options.space is None:
        sp, finding = _widen_on_lr_finder(s, runner, sp)
    s.config = replace(c, space=sp, epochs=sp.epochs, patience=sp.patience, lr_finding=finding)
    save_config(s.run_dir, s.config)
    return sp


def _widen_on_lr_finder(s: Session, runner: Runner, sp: SearchSpace
                         ) -> tuple[SearchSpace, LRFinding]:
    """Run the LR finder at the space's first partial freeze (the recommended block, else
    the candidate with the fewest trainable blocks; a space of feature extractors sweeps
    the head alone) and widen the ``head_lr`` range to the smallest one that holds both
    the advice's range and a range as wide centred on the head's suggestion.

    Widened, not moved: a range moved onto the suggestion left out the head rates of the
    classic search's best trials on chest_xray (0.95 and 0.45 decades below the
    suggestion) and that space lost 8.4 and 4.5 points there. The backbone's suggestion is
    measured and reported, not used: its best trials' rates lay 0.5 to 0.7 decades from it
    (``docs/search-space.md``)."""

    t = time.perf_counter()
    n = sp.n_blocks
    first = sp.centre.freeze_block if sp.centre is not None else n // 2
    partial = [b for b in sp.freeze_blocks if 1 <= b < n]
    block = (first if 1 <= first <= n and (first < n or not partial)
             else max(partial) if partial else n)
    s.emit("note", message=f"LR finder at freeze block {block} of {n}")
    finding = runner.find_lr(freeze_block=block, augmentation=sp.augmentation[0])
    head = finding.head.widened(sp.head_lr) if sp.head_lr[0] < sp.head_lr[1] else None
    s.timed("lr_find_s", t)
    s.emit("note", message=f"LR finder: head {finding.head.suggestion:.2g}"
           + (f", backbone {finding.backbone.suggestion:.2g}" if finding.backbone else "")
           + f" ({time.perf_counter() - t:.0f}s)")
    why = (f"head_lr widened to {head[0]:.2g}..{head[1]:.2g} to reach the LR finder's "
           f"suggestion {finding.head.suggestion:.2g}" if head and head != sp.head_lr else None)
    return sp.centred(head, None, why), finding


def search(s: Session, runner: Runner) -> tuple[list[TrialRecord], SearchSpace, dict | None]:
    """Run the trials until the study has ``trials`` finished ones; the trials, the
    space and the parameter importances (``None`` below two COMPLETE trials)."""
    started = s.config.space is not None  # else: a new sweep, or one killed before its search
    space = _space(s, runner)
    for note in space.notes:
        s.warn(note)
    backend = get_backend(s.config.backend, space, seed=s.config.seed, run_dir=s.run_dir,
                          storage=s.storage, study_name=s.config.study)
    killed = backend.open(resume=s.resumed and started, joined=s.config.joined)
    if s.storage.url is not None and not s.config.joined:
        backend.publish(CONFIG_ATTR, s.config.to_dict())  # what joining workers train
    s.killed += killed
    s.timed("setup_s", s.t0)
    s.search = {**backend.describe()}
    if killed:
        s.warn(f"trial(s) {killed} were running when the sweep was killed: marked FAIL, "
               "not counted")
    tensorboard = TensorBoardLog(s.run_dir, warn=s.warn)  # each trial's, by whoever tells it
    tensorboard.write_config(space)
    t = time.perf_counter()
    s.emit("start", backend.trials(), message=str(s.run_dir))
    n_val = sum(s.data.counts.get("val", {}).values()) if s.data else 0
    if s.options.finalize:
        trials = backend.trials()
        n = sum(t.is_finished for t in trials)
        if n < s.config.trials:
            s.warn(f"final model chosen from {n} finished trials of the {s.config.trials} "
                   "requested (--finalize)")
    elif s.config.workers > 1:
        from tuner._local import LocalWorkers

        trials = LocalWorkers(s, backend, _data_spec(s), _runner_spec(s)).run()
        if sum(t.is_finished for t in trials) < s.config.trials:  # the workers stopped early
            s.stopped = stall_stop(trials, s.config.stall, n_val)
    else:
        loop = TrialLoop(backend, runner, s.config.trials, emit=s.emit,
                         on_change=lambda trials: s.save(trials, "running"), warn=s.warn,
                         on_told=tensorboard.write_trial,
                         stop=lambda trials: stall_stop(trials, s.config.stall, n_val))
        trials = loop.run()
        s.stopped = loop.stopped
    s.timed("search_s", t)
    _claim_final(s, backend)
    importances, note = param_importances(space, trials, seed=s.config.seed)
    if importances is None:
        s.warn(note)
    return trials, space, importances


def _claim_final(s: Session, backend) -> None:
    """On a shared study, who trains the final model: the first worker to claim it (or
    this one with ``--finalize``); ``s.final_by`` names another winner."""
    me = {"worker": backend.worker, "run_dir": str(s.run_dir.resolve())}
    holder = backend.claim_final(me)
    if holder is None or holder.get("run_dir") == me["run_dir"]:
        return
    if s.options.finalize:
        s.warn(f"--finalize: the final model is trained here, although worker "
               f"{holder.get('worker')} ({holder.get('run_dir')}) claimed it")
        return
    s.final_by = holder
