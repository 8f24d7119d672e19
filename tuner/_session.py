"""One session of a sweep, new or resumed: its run directory, its configuration and
what it gathers on the way (warnings, timings), and the result it writes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from advisor.io import write_json_atomic
from advisor.recommend import Advice
from tuner._advice import read_advice
from tuner._shared import joined_config, new_storage, resumed_storage, start_or_join
from tuner._options import (DEFAULT_BACKBONE, DEFAULT_BACKEND, DEFAULT_FRAMING, DEFAULT_TRIALS,
                            DEFAULT_WEIGHTS, SweepOptions)
from tuner.data import DEFAULT_INPUT_SIZE, DataSummary
from tuner.final import FinalResult
from tuner.run import (ADVICE_FILE, SweepConfig, SweepResult, check_resume, dataset_fingerprint,
                       load_config, load_results, new_run_dir, redact_url, reproduce_command,
                       save_config, write_results)
from tuner.search import (DEFAULT_EPOCHS, DEFAULT_PATIENCE, DEFAULT_STALL, Emitter, Progress,
                          RerankResult, StallStop, SweepEvent)
from tuner.storage import StudyStorage
from tuner.training import WorkerRunner
from tuner.trial import TrialRecord

__all__ = ["Session", "open_session"]


@dataclass
class Session:
    """The state of one ``tune()`` call; mutable, and gone when the call returns."""

    options: SweepOptions
    run_dir: Path
    config: SweepConfig
    storage: StudyStorage  # with the URL's password, which only this object holds
    resumed: bool
    prev: SweepResult | None
    findings: list[dict]  # the advisor's split_shift findings, as a tladvise file holds them
    emit: Emitter
    t0: float
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, Any] = field(default_factory=dict)
    data: DataSummary | None = None
    search: dict[str, Any] = field(default_factory=dict)
    rerank: RerankResult | None = None
    killed: list[int] = field(default_factory=list)
    runner: Any = None  # the Runner, once open (its worker statistics go into timings)
    final_by: dict | None = None  # the other worker that trains the final model
    device: Any = None  # the runner's DeviceInfo, once it is open
    stopped: StallStop | None = None  # why the search stopped before its trials

    def warn(self, message: str) -> None:
        """Keep ``message`` among the result's warnings (once)."""
        if message not in self.warnings:
            self.warnings.append(message)

    def timed(self, name: str, since: float) -> None:
        self.timings[name] = round(time.perf_counter() - since, 3)

    def result(self, trials: list[TrialRecord], status: str, final: FinalResult | None = None,
               importances: dict[str, float] | None = None) -> SweepResult:
        """The sweep's result as it stands (``status``: ``running``, ``searched``, ``done``)."""
        timings = dict(self.timings)
        timings["total_s"] = round(time.perf_counter() - self.t0, 3)  # this session
        timings["trials_s"] = round(sum(t.seconds for t in trials), 3)
        if isinstance(self.runner, WorkerRunner):
            timings["worker_startup_s"] = round(self.runner.startup_s, 3)
            timings["worker_restarts"] = self.runner.restarts
        if self.prev is not None and self.prev.timings:
            before = self.prev.timings
            timings["previous_sessions"] = before.get("previous_sessions", []) + [
                {k: v for k, v in before.items() if k != "previous_sessions"}]
        return SweepResult(
            run_dir=str(self.run_dir), status=status,
            config=replace(self.config, storage=redact_url(self.config.storage)),
            command=reproduce_command(self.config, self.run_dir), trials=tuple(trials),
            n_requested=self.config.trials, advice=self.config.advice, data=self.data,
            final=final, importances=importances, timings=timings,
            warnings=tuple(self.warnings), killed_trials=tuple(self.killed),
            sessions=(self.prev.sessions if self.prev else 0) + 1, search=self.search,
            rerank=self.rerank, final_by=self.final_by, device=self.device,
            stopped=self.stopped)

    def save(self, trials: list[TrialRecord], status: str, final: FinalResult | None = None,
             importances: dict[str, float] | None = None) -> SweepResult:
        """:meth:`result`, written to ``results.json`` (atomically)."""
        result = self.result(trials, status, final, importances)
        write_results(self.run_dir, result)
        return result


def open_session(opts: SweepOptions, progress: Progress | None) -> Session:
    """The session of ``opts``: a resumed run directory checked against the options,
    or a new one (the advisor runs first when there is neither advice nor scenario)."""
    from advisor.data import scan_layout

    t0 = time.perf_counter()
    if opts.resume is not None:
        stored = load_config(opts.resume)
        path = opts.path if opts.path is not None else stored.dataset
    else:
        stored, path = None, opts.path
    index = scan_layout(path)
    fingerprint = dataset_fingerprint(index)
    advice, findings = read_advice(opts.advice)
    timings: dict[str, Any] = {}
    warnings: list[str] = []
    if stored is not None:
        config = _resumed(stored, opts, advice, fingerprint, path, warnings)
        run_dir, prev = Path(opts.resume), load_results(opts.resume)
        storage = resumed_storage(stored, opts, run_dir)
        warnings[:0] = [w for w in (prev.warnings if prev else ()) if w not in warnings]
        findings = []  # the first session's, from its advice.json (see the data stage)
        return _session(opts, run_dir, config, storage, prev, findings, progress, t0,
                        warnings, timings)
    storage = new_storage(opts)  # a bad storage fails here, before any run directory exists
    published = start_or_join(storage, opts, lambda m: _note(progress, m))
    if published is not None:
        config = joined_config(published, opts, storage, fingerprint, path)
        findings = []
    else:
        if advice is None and opts.scenario is None and opts.space is None:
            advice, findings = _advise(path, opts, timings)
            source = "advisor"
        else:
            source = ("file " + str(opts.advice) if isinstance(opts.advice, (str, Path))
                      else "given" if advice else "none (scenario given)")
        config = _new_config(index, fingerprint, path, opts, advice, source, warnings,
                             storage)
    run_dir = new_run_dir(path, opts.out)
    _start(run_dir, config, findings)
    return _session(opts, run_dir, config, replace(storage, run_dir=run_dir), None, findings,
                    progress, t0, warnings, timings)


def _session(opts: SweepOptions, run_dir: Path, config: SweepConfig, storage: StudyStorage,
             prev: SweepResult | None, findings: list[dict], progress: Progress | None,
             t0: float, warnings: list[str], timings: dict[str, Any]) -> Session:
    return Session(options=opts, run_dir=run_dir, config=config, storage=storage,
                   resumed=opts.resume is not None, prev=prev,
                   findings=findings, emit=Emitter(progress, config.trials, t0), t0=t0,
                   warnings=warnings, timings=timings,
                   killed=list(prev.killed_trials) if prev else [])


def _note(progress: Progress | None, message: str) -> None:
    """Tell the user what the sweep waits for, before its session exists."""
    if progress is not None:
        progress(SweepEvent(kind="note", n_finished=0, n_requested=0, message=message))


def _start(run_dir: Path, config: SweepConfig, findings: list[dict]) -> None:
    """Write the new run's configuration (without its search space yet) and advice at
    once, so that a run killed before its search started can be resumed."""
    save_config(run_dir, config)
    if config.advice is not None:
        # the findings tltune reads travel with the advice, so the reproduce command
        # (``--advice RUN_DIR/advice.json``) warns about a shifted test split too
        write_json_atomic(run_dir / ADVICE_FILE, {"advice": config.advice.to_dict(),
                                                  "health": {"findings": findings}})


def _resumed(stored: SweepConfig, opts: SweepOptions, advice: Advice | None, fingerprint: str,
             path: str | Path, warnings: list[str]) -> SweepConfig:
    """The stored configuration with what a resume may change; other changes refused."""
    check_resume(stored, {**opts.compared(advice), "dataset_fingerprint": fingerprint})
    if str(Path(path).resolve()) != stored.dataset:
        warnings.append(f"dataset read from {Path(path).resolve()} (started with "
                        f"{stored.dataset}); same files by fingerprint")
    config = replace(stored, trials=opts.trials or stored.trials,
                     export=opts.export or stored.export,
                     workers=opts.workers or stored.workers,
                     heartbeat=opts.heartbeat or stored.heartbeat,
                     refit=stored.refit if opts.refit is None else bool(opts.refit),
                     rerank=int((stored.rerank if opts.rerank is None else opts.rerank) or 0),
                     stall=stored.stall if opts.stall is None else int(opts.stall))
    if config.trials != stored.trials:
        warnings.append(f"trials changed on resume: {stored.trials} -> {config.trials}")
    return config


def _advise(path: str | Path, opts: SweepOptions, timings: dict[str, Any]
            ) -> tuple[Advice, list[dict]]:
    """Run the advisor (it imports TensorFlow: only when needed)."""
    from advisor import advise

    t = time.perf_counter()
    result = advise(path, backbones=(opts.backbone or DEFAULT_BACKBONE,),
                    input_size=opts.input_size, weights=opts.weights or DEFAULT_WEIGHTS,
                    seed=opts.seed or 0, max_images=opts.max_images)
    timings["advise_s"] = round(time.perf_counter() - t, 3)
    return result.advice, [f.to_dict() for f in result.health.by_check("split_shift")]


def _new_config(index: Any, fingerprint: str, path: str | Path, opts: SweepOptions,
                advice: Advice | None, source: str, warnings: list[str],
                storage: StudyStorage) -> SweepConfig:
    from tuner._shared import DEFAULT_STUDY

    from advisor.backbones import get_backbone
    from advisor.data import subsample

    spec = get_backbone(opts.backbone or (advice.backbone if advice else DEFAULT_BACKBONE))
    if advice is not None and get_backbone(advice.backbone).name != spec.name:
        warnings.append(f"advice measured {advice.backbone}, tuning {spec.name}: its "
                        "freeze block is rescaled by depth fraction")
    seed = int(opts.seed or 0)
    return SweepConfig(
        dataset=str(Path(path).resolve()), dataset_fingerprint=fingerprint,
        n_images=len(subsample(index, opts.max_images, seed=seed).items),
        classes=tuple(index.classes), backbone=spec.name,
        weights=str(opts.weights or DEFAULT_WEIGHTS),
        input_size=int(opts.input_size or (advice.input_size if advice else DEFAULT_INPUT_SIZE)),
        test_split=opts.test_split, max_images=opts.max_images, seed=seed,
        backend=opts.backend or DEFAULT_BACKEND, storage=storage.redacted,
        trials=int(opts.trials or DEFAULT_TRIALS), epochs=int(opts.epochs or DEFAULT_EPOCHS),
        patience=int(opts.patience or DEFAULT_PATIENCE), scenario=opts.scenario,
        advice=advice, space=None, export=tuple(opts.export or ("keras",)),
        refit=True if opts.refit is None else bool(opts.refit), rerank=int(opts.rerank or 0),
        advice_source=source, framing=opts.framing or DEFAULT_FRAMING,
        study=opts.study or DEFAULT_STUDY, workers=int(opts.workers or 1),
        heartbeat=storage.heartbeat_s,
        stall=DEFAULT_STALL if opts.stall is None else int(opts.stall),
        lr_find=True if opts.lr_find is None else bool(opts.lr_find))
