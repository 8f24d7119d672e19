"""``tune()``: advise (if needed), search, retrain the best trial, export.

The loop is the same for every backend: the backend proposes (``ask``), the
:class:`~tuner._runner.TrialRunner` trains, the backend is told the outcome, and
``results.json`` is rewritten after every trial, so a killed sweep loses at most
the trial that was running. ``--resume`` marks that trial FAIL and runs trials
until exactly ``trials`` are finished (COMPLETE or PRUNED).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from advisor.data import FRAMINGS
from advisor.errors import ConfigError, InputError, InternalError
from advisor.recommend._types import Advice
from tuner._importance import param_importances
from tuner._rerank import (CV_FOLDS, RerankResult, candidates, fold_problem,
                           rerank as cv_rerank, small_validation_hint)
from tuner._results import (REFIT_FROM_SEARCH, SweepResult, TrialRecord, best_of,
                            refit_epochs)
from tuner._space import DEFAULT_EPOCHS, DEFAULT_PATIENCE, SearchSpace
from tuner._study import (
    ADVICE_FILE,
    SweepConfig,
    dataset_fingerprint,
    load_config,
    load_results,
    new_run_dir,
    redact_url,
    reproduce_command,
    save_config,
    write_json_atomic,
    write_results,
)
from tuner._worker import WorkerDied

__all__ = ["tune", "SweepEvent", "load_advice", "TEST_SLEEP_ENV"]

# TEST-ONLY: seconds to sleep inside every trial (after it is RUNNING, before it
# trains), so that the kill/resume test can SIGKILL a sweep in the middle of a trial.
TEST_SLEEP_ENV = "TL_TEST_TRIAL_SLEEP"
DEFAULT_TRIALS = 30
DEFAULT_INPUT_SIZE = 160
DEFAULT_BACKBONE = "mobilenet_v2"
MAX_WORKER_DEATHS = 3  # consecutive trials whose worker died: then the sweep stops


@dataclass(frozen=True)
class SweepEvent:
    """What ``progress`` receives. ``kind``: ``start`` (``message`` is the run
    directory), ``framing`` (``message``: the choice of ``--framing auto`` and its
    numbers), ``warning`` (``message``: something the user should know before the
    trials, also kept in the result's warnings), ``trial_start``, ``epoch``,
    ``trial_end``, ``rerank_run`` (one cross-validation training: ``trial``, and
    ``message`` "fold f/k, candidate j/n"), ``final_start`` or ``final_end``."""

    kind: str
    n_finished: int
    n_requested: int
    trial: int | None = None
    epoch: int | None = None
    val_accuracy: float | None = None  # of ``epoch``
    record: TrialRecord | None = None
    best: TrialRecord | None = None
    elapsed_s: float = 0.0
    eta_s: float | None = None
    message: str = ""


def _read_advice_json(p: Path) -> Any:
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise InputError(f"The advice file {str(p)!r} does not exist",
                         expected="the JSON written by tladvise --json", received="no such file",
                         fix="pass the path of that file, or leave --advice out") from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"Cannot read the advice file {p}", expected="a JSON file",
                         received=str(e)[:200], fix="pass the file tladvise --json wrote") from e


def _advice_of(d: Any, p: Path) -> Advice:
    if isinstance(d, dict) and isinstance(d.get("advice"), dict):
        d = d["advice"]
    try:
        return Advice.from_dict(d)
    except (KeyError, TypeError, AttributeError) as e:
        raise InputError(f"{p} holds no advice", expected="{'advice': {...}} as tladvise "
                         "--json writes it, or the advice dict itself",
                         received=f"missing or bad field: {e}",
                         fix="re-run tladvise --json FILE and pass FILE") from e


def _findings_of(d: Any, p: Path) -> list[dict]:
    health = d.get("health") if isinstance(d, dict) else None
    found = health.get("findings") if isinstance(health, dict) else None
    if found is None:
        return []
    if not isinstance(found, list):
        found = [found]
    shifts = [f for f in found if isinstance(f, dict) and f.get("check") == "split_shift"]
    for f in shifts:
        det, classes = f.get("details"), f.get("classes")
        auc = det.get("auc") if isinstance(det, dict) else None
        if not (isinstance(det, dict) and isinstance(det.get("split"), str)
                and isinstance(auc, dict) and isinstance(classes, list) and classes
                and all(isinstance(auc.get(c), (int, float)) for c in classes)):
            raise InputError(f"{p} holds a malformed split_shift finding",
                             expected="details.split (a split name), classes (a list) and "
                                      "details.auc (a number per listed class)",
                             received=json.dumps(f)[:200],
                             fix="re-run tladvise --json FILE and pass FILE")
    return shifts


def load_advice(source: Advice | str | Path) -> Advice:
    """An :class:`Advice` from itself or a JSON file (``tladvise --json`` output with
    an ``"advice"`` key, or the advice dict at top level)."""
    if isinstance(source, Advice):
        return source
    return _advice_of(_read_advice_json(Path(source)), Path(source))


def advice_findings(source: Advice | str | Path | None) -> list[dict]:
    """The ``split_shift`` health findings stored beside the advice in a ``tladvise
    --json`` file (none for an :class:`Advice` object, a bare advice dict or a file
    without ``health``); a malformed one is an :class:`InputError`."""
    if not isinstance(source, (str, Path)):
        return []
    return _findings_of(_read_advice_json(Path(source)), Path(source))


def _advice_input(source: Advice | str | Path | None) -> tuple[Advice | None, list[dict]]:
    """:func:`load_advice` and :func:`advice_findings` of ``source``, reading a file once."""
    if source is None or isinstance(source, Advice):
        return source, []
    p = Path(source)
    d = _read_advice_json(p)
    return _advice_of(d, p), _findings_of(d, p)


def split_shift_warning(findings: list[dict], split_source: dict[str, str]) -> str | None:
    """A warning when the advisor found that the split used as test does not look like
    train/ (health check ``split_shift``; ``findings`` as :func:`advice_findings`
    returns them, ``split_source`` as :class:`~tuner._data.PreparedData` records it)."""
    by_folder = {f"folder {f['details']['split']}/": f for f in findings
                 if f.get("check") == "split_shift"}
    test = by_folder.get(split_source.get("test", ""))
    if test is None:
        return None

    def aucs(f: dict) -> str:
        return ", ".join(f"{f['details']['auc'][c]:.2f} in {c!r}" for c in f["classes"])

    head = (f"the test split {test['details']['split']}/ does not look like train/ "
            f"(tladvise split_shift: ROC AUC {aucs(test)})")
    val_source = split_source.get("val", "?")
    val = by_folder.get(val_source)
    if val is not None:
        return (f"{head}; neither does the validation split {val['details']['split']}/ "
                f"(ROC AUC {aucs(val)}), so the search validates on shifted images too "
                "(docs/health-checks.md)")
    return (f"{head}: the search's validation accuracy (on {val_source}) will likely "
            "overstate test accuracy (docs/health-checks.md)")


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def _check_resume(stored: SweepConfig, given: dict[str, Any]) -> None:
    changed = {k: (stored.to_dict().get(k), v) for k, v in given.items()
               if json.loads(json.dumps(v)) != json.loads(json.dumps(stored.to_dict().get(k)))}
    if changed:
        def short(v: Any) -> str:
            r = repr(v)
            return r if len(r) <= 80 else r[:77] + "..."

        detail = "; ".join(f"{k}: {short(a)} -> {short(b)}"
                           for k, (a, b) in sorted(changed.items()))
        raise ConfigError(f"The sweep configuration changed: {', '.join(sorted(changed))}",
                          expected="the configuration the sweep was started with",
                          received=detail,
                          fix="resume without those options (the stored ones are used), or "
                              "start a new sweep without --resume")


class _Sweep:
    """One session of a sweep (new or resumed); holds no state beyond its run."""

    def __init__(self, run_dir: Path, config: SweepConfig, space: SearchSpace, runner: Any,
                 data: Any, prev: dict | None, warnings: list[str], timings: dict,
                 progress: Callable[[SweepEvent], None] | None, t0: float) -> None:
        self.run_dir, self.config, self.space = run_dir, config, space
        self.runner, self.data, self.prev = runner, data, prev
        self.warnings, self.timings, self.progress = warnings, timings, progress
        self.killed: list[int] = list((prev or {}).get("killed_trials", []))
        self.t0 = t0
        self.session_seconds: list[float] = []
        self.search: dict = {}
        self.rerank: dict | None = None
        self.worker_deaths = 0  # consecutive

    def _emit(self, kind: str, trials: list[TrialRecord], **kw: Any) -> None:
        if self.progress is None:
            return
        n = sum(t.is_finished for t in trials)
        left = self.config.trials - n
        done = self.session_seconds or [t.seconds for t in trials if t.is_finished]
        eta = (sum(done) / len(done)) * left if done and left > 0 else None
        self.progress(SweepEvent(kind=kind, n_finished=n, n_requested=self.config.trials,
                                 best=best_of(trials), elapsed_s=time.perf_counter() - self.t0,
                                 eta_s=eta, **kw))

    def result(self, trials: list[TrialRecord], status: str, final: dict | None = None,
               importances: dict | None = None) -> SweepResult:
        prev = self.prev or {}
        cfg = self.config.to_dict()
        cfg["storage"] = redact_url(cfg["storage"])
        timings = dict(self.timings)
        timings["total_s"] = round(time.perf_counter() - self.t0, 3)  # this session
        timings["trials_s"] = round(sum(t.seconds for t in trials), 3)
        if hasattr(self.runner, "restarts"):  # a WorkerRunner
            timings["worker_startup_s"] = round(self.runner.startup_s, 3)
            timings["worker_restarts"] = self.runner.restarts
        if prev.get("timings"):
            timings["previous_sessions"] = (prev["timings"].get("previous_sessions", [])
                                            + [{k: v for k, v in prev["timings"].items()
                                                if k != "previous_sessions"}])
        return SweepResult(
            run_dir=str(self.run_dir), status=status, config=cfg,
            command=reproduce_command(self.config, self.run_dir), trials=tuple(trials),
            n_requested=self.config.trials, advice=self.config.advice,
            data=self.data.to_dict(), final=final, importances=importances,
            timings=timings, warnings=tuple(self.warnings), killed_trials=tuple(self.killed),
            sessions=int(prev.get("sessions", 0)) + 1, search=self.search, rerank=self.rerank)

    def run_trial(self, backend: Any) -> TrialRecord:
        proposal = backend.ask()
        started = _now()
        history: list[dict] = []
        trials = backend.trials()
        write_results(self.run_dir, self.result(trials, "running"))
        self._emit("trial_start", trials, trial=proposal.number)

        def on_epoch(epoch: int, val_accuracy: float) -> None:
            import optuna

            # The runner reports (epoch, val accuracy); full EpochRecords come with
            # its outcome, so a pruned trial keeps only these.
            history.append({"epoch": int(epoch), "val_accuracy": float(val_accuracy)})
            self._emit("epoch", trials, trial=proposal.number, epoch=int(epoch),
                       val_accuracy=float(val_accuracy))
            # Steps count from 0; the backend's warm-up keeps the head phase and the
            # first fine-tuning epoch from being pruned.
            if backend.should_prune(proposal, len(history) - 1, float(val_accuracy)):
                raise optuna.TrialPruned(f"pruned after epoch {len(history)}")

        import optuna

        base = dict(number=proposal.number, params=proposal.params.to_dict(),
                    sampled=proposal.sampled, started=started)
        t = time.perf_counter()
        try:
            sleep = float(os.environ.get(TEST_SLEEP_ENV, "0") or 0)
            if sleep > 0:
                time.sleep(sleep)
            outcome = self.runner.run(proposal.params, on_epoch)
        except optuna.TrialPruned as e:
            best = max(h["val_accuracy"] for h in history) if history else None
            record = TrialRecord(state="PRUNED", val_accuracy=best, epochs_run=len(history),
                                 seconds=time.perf_counter() - t, history=tuple(history),
                                 finished=_now(), message=str(e), **base)
        except WorkerDied as e:
            # One configuration killed its worker (memory, most likely): the sweep goes
            # on with a new worker, unless that keeps happening.
            record = TrialRecord(state="FAIL", epochs_run=len(history),
                                 seconds=time.perf_counter() - t, history=tuple(history),
                                 finished=_now(), message=f"{type(e).__name__}: {e}"[:500],
                                 **base)
            backend.tell(proposal, record)
            self.worker_deaths += 1
            self.warnings.append(f"trial {proposal.number} failed: its worker process died "
                                 f"({e.received}); the sweep went on with a new worker")
            write_results(self.run_dir, self.result(backend.trials(), "running"))
            if self.worker_deaths >= MAX_WORKER_DEATHS:
                raise
            self._emit("trial_end", backend.trials(), trial=record.number, record=record)
            return record
        except BaseException as e:
            # Record the failure (study and results.json), then let it propagate.
            record = TrialRecord(state="FAIL", epochs_run=len(history),
                                 seconds=time.perf_counter() - t, history=tuple(history),
                                 finished=_now(), message=f"{type(e).__name__}: {e}"[:500],
                                 **base)
            backend.tell(proposal, record)
            write_results(self.run_dir, self.result(backend.trials(), "running"))
            raise
        else:
            record = TrialRecord(state="COMPLETE", val_accuracy=outcome.val_accuracy,
                                 val_loss=outcome.val_loss, epochs_run=outcome.epochs_run,
                                 seconds=outcome.seconds,
                                 history=tuple(h.to_dict() for h in outcome.history) or
                                 tuple(history),
                                 notes=tuple(outcome.notes), finished=_now(), **base)
        backend.tell(proposal, record)
        self.worker_deaths = 0
        self.session_seconds.append(record.seconds)
        trials = backend.trials()
        write_results(self.run_dir, self.result(trials, "running"))
        self._emit("trial_end", trials, trial=record.number, record=record)
        return record

    def run(self, backend: Any, export: tuple[str, ...]) -> SweepResult:
        t = time.perf_counter()
        trials = backend.trials()
        self._emit("start", trials, message=str(self.run_dir))
        write_results(self.run_dir, self.result(trials, "running"))
        while sum(r.is_finished for r in trials) < self.config.trials:
            self.run_trial(backend)
            trials = backend.trials()
        self.timings["search_s"] = round(time.perf_counter() - t, 3)

        importances, note = param_importances(self.space, trials, seed=self.config.seed)
        if importances is None:
            self.warnings.append(note)
        best = best_of(trials)
        if best is None:
            write_results(self.run_dir, self.result(trials, "searched", importances=importances))
            raise InternalError("No trial completed, so there is no best configuration",
                                expected="at least one COMPLETE trial",
                                received=f"states {[r.state for r in trials]}",
                                fix="run more trials (--trials) or resume the sweep")
        best = self._rerank(trials, best, importances)
        prev_final = (self.prev or {}).get("final")
        prev_best = ((self.prev or {}).get("best") or {}).get("number")
        if prev_final is not None and prev_best == best.number:
            self.warnings.append("final model of the previous session reused (same best trial)")
            return self._finish(trials, prev_final, importances)
        write_results(self.run_dir, self.result(trials, "searched", importances=importances))
        self._emit("final_start", trials, trial=best.number)
        t = time.perf_counter()
        refit = refit_epochs(best.history) if self.config.refit else None
        refit_from = REFIT_FROM_SEARCH
        if self.config.refit and self.rerank and self.rerank.get("chosen") == best.number:
            chosen = next(c for c in self.rerank["candidates"] if c["number"] == best.number)
            if chosen.get("refit_epochs"):
                refit = chosen["refit_epochs"]
                refit_from = (f"the median best epoch of the {self.rerank['folds']} "
                              "cross-validation folds")
        if self.config.refit and refit is None:
            self.warnings.append(f"trial {best.number} has no per-epoch phases: the final model "
                                 "is trained on train only, with early stopping on val")
        final = self.runner.fit_final(best.trial_params, self.run_dir / "model", export=export,
                                      refit_epochs=refit, search_val=best.val_accuracy,
                                      refit_from=refit_from)
        self.timings["final_s"] = round(time.perf_counter() - t, 3)
        result = self._finish(trials, final.to_dict(), importances)
        self._emit("final_end", trials, trial=best.number)
        return result

    def _rerank(self, trials: list[TrialRecord], best: TrialRecord, importances: dict | None
                ) -> TrialRecord:
        """The trial to train as the final model: ``best``, or the cross-validation
        choice among the top trials when re-ranking is on (:mod:`tuner._rerank`)."""
        top = int(self.config.rerank or 0)
        cands = candidates(trials, top) if top > 1 else []
        if len(cands) < 2:
            if top > 1:
                self.warnings.append("re-ranking skipped: fewer than two distinct COMPLETE trials")
            return best
        problem = fold_problem(list(self.data.y_train) + list(self.data.y_val),
                               self.data.classes)
        if problem:
            self.warnings.append(f"re-ranking skipped: {problem}; the search's best is kept")
            return best
        prev = (self.prev or {}).get("rerank")
        if prev and [c["number"] for c in prev["candidates"]] == [c.number for c in cands]:
            rr = RerankResult.from_dict(prev)
            self.warnings.append("cross-validation re-ranking of the previous session reused "
                                 "(same candidates)")
        else:
            n = len(cands)

            def on_run(fold: int, j: int, c: TrialRecord) -> None:
                self._emit("rerank_run", trials, trial=c.number,
                           message=f"fold {fold + 1}/{CV_FOLDS}, candidate {j + 1}/{n}")

            rr = cv_rerank(self.runner, cands, folds=CV_FOLDS, seed=self.config.seed,
                           on_run=on_run)
            self.timings["rerank_s"] = rr.seconds
        self.rerank = rr.to_dict()
        chosen = next(t for t in trials if t.number == rr.chosen)
        if chosen.number != best.number:
            self.warnings.append(
                f"cross-validation chose trial {chosen.number} over the search's best "
                f"{best.number} ({CV_FOLDS}-fold on train + val, top {len(cands)} trials)")
        write_results(self.run_dir, self.result(trials, "searched", importances=importances))
        return chosen

    def _finish(self, trials: list[TrialRecord], final: dict, importances: dict | None
                ) -> SweepResult:
        result = self.result(trials, "done", final=final, importances=importances)
        write_results(self.run_dir, result)
        return result


def tune(path: str | Path | None = None, *, trials: int | None = None,
         backend: str | None = None, advice: Advice | str | Path | None = None,
         scenario: str | None = None, backbone: str | None = None, weights: str | None = None,
         input_size: int | None = None, test_split: str | None = None, seed: int | None = None,
         out: str | Path | None = None, resume: str | Path | None = None,
         storage: str | None = None, max_images: int | None = None, epochs: int | None = None,
         patience: int | None = None, export: tuple[str, ...] | list[str] | None = None,
         space: SearchSpace | None = None, cache_dir: str | Path | None = None,
         refit: bool | None = None, rerank: int | None = None, framing: str | None = None,
         isolate: bool = True,
         progress: Callable[[SweepEvent], None] | None = None) -> SweepResult:
    """Search, retrain the best configuration and export it.

    New sweep defaults: ``trials=30``, ``backend="optuna"``, ``backbone`` from the
    advice (else ``mobilenet_v2``), ``weights="imagenet"``, ``input_size`` from the
    advice (else 160), ``seed=0``, ``epochs=10``, ``patience=3``,
    ``export=("keras",)``. Without ``advice`` and ``scenario`` the advisor runs
    first; with ``scenario`` alone it does not (the scenario fixes the freeze range).

    ``resume=RUN_DIR`` continues a sweep: options left at ``None`` take the stored
    values; any other option that differs from the stored configuration (except
    ``trials`` and ``export``) raises :class:`~advisor.errors.ConfigError` naming
    the changed keys. ``space`` replaces the derived search space (benchmarks).

    ``refit`` (default ``True``) trains the final model on train + val for the best
    trial's epochs up to its best one; ``False`` repeats the trial protocol (train
    only, early stopping on val). ``rerank=N`` re-scores the search's top ``N``
    trials by 5-fold cross-validation on train + val and trains the winner
    (:mod:`tuner._rerank`); the default ``0`` does not (a note suggests it when the
    search validates on fewer than 100 images).
    ``isolate`` (default) trains in a worker process that is replaced when its
    memory grows (:mod:`tuner._worker`), so a long sweep's memory stays flat;
    ``isolate=False`` trains in this process (debugging, short sweeps).
    """
    from advisor.backbones import get_backbone
    from advisor.data import scan_layout, subsample

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    warnings: list[str] = []
    findings: list[dict] = []  # the advisor's split_shift findings (tuner warns on them)
    prev: dict | None = None
    stored: SweepConfig | None = None
    if resume is not None:
        run_dir = Path(resume)
        stored = load_config(run_dir)
        prev = load_results(run_dir)
        warnings += list((prev or {}).get("warnings", []))
        path = path if path is not None else stored.dataset
    if path is None:
        raise InputError("No dataset given", expected="a dataset folder or CSV manifest",
                         received="nothing", fix="run `tltune ./dataset` (or --resume RUN_DIR)")
    if trials is not None and trials < 1:
        raise ConfigError("The number of trials must be positive", expected="--trials >= 1",
                          received=str(trials), fix="pass --trials 30, for example")
    if rerank is not None and rerank < 0:
        raise ConfigError("The number of trials to re-rank must not be negative",
                          expected="0 (off) or the number of top trials to re-score",
                          received=str(rerank), fix="pass --rerank 5, or --rerank 0 to turn it off")
    if framing is not None and framing not in ("auto", *FRAMINGS):
        raise ConfigError("Unknown framing", expected=f"auto or one of {list(FRAMINGS)}",
                          received=repr(framing), fix="pass --framing auto, squash or crop")
    if export is not None:
        from tuner._final import EXPORT_FORMATS

        unknown = [e for e in export if e not in EXPORT_FORMATS]
        if unknown or not export:
            raise ConfigError(f"Unknown export format(s) {unknown}",
                              expected=f"one or more of {list(EXPORT_FORMATS)}",
                              received=str(list(export)),
                              fix="pass --export keras,savedmodel,tflite or a subset")
    index = scan_layout(path)
    fingerprint = dataset_fingerprint(index)
    advice_obj, file_findings = _advice_input(advice)

    if stored is not None:
        given = {k: v for k, v in dict(
            backend=backend, scenario=scenario, backbone=backbone, weights=weights,
            input_size=input_size, test_split=test_split, seed=seed, storage=storage,
            max_images=max_images, epochs=epochs, patience=patience, framing=framing,
            advice=advice_obj.to_dict() if advice_obj else None,
            space=space.to_dict() if space else None).items() if v is not None}
        given["dataset_fingerprint"] = fingerprint
        _check_resume(stored, given)
        if str(Path(path).resolve()) != stored.dataset:
            warnings.append(f"dataset read from {Path(path).resolve()} (started with "
                            f"{stored.dataset}); same files by fingerprint")
        config = replace(stored, trials=trials or stored.trials,
                         export=tuple(export) if export else stored.export,
                         refit=stored.refit if refit is None else bool(refit),
                         rerank=stored.rerank if rerank is None else int(rerank))
        if config.trials != stored.trials:
            warnings.append(f"trials changed on resume: {stored.trials} -> {config.trials}")
        advice_obj = Advice.from_dict(config.advice) if config.advice else None
    else:
        if advice_obj is None and scenario is None and space is None:
            from advisor import advise  # the advisor imports TensorFlow: only when needed

            t = time.perf_counter()
            advice_result = advise(path, backbones=(backbone or DEFAULT_BACKBONE,),
                                   input_size=input_size, weights=weights or "imagenet",
                                   seed=seed or 0, max_images=max_images)
            advice_obj = advice_result.advice
            findings = [f.to_dict() for f in advice_result.health.by_check("split_shift")]
            timings["advise_s"] = round(time.perf_counter() - t, 3)
            advice_source = "advisor"
        else:
            findings = file_findings
            advice_source = ("file " + str(advice) if isinstance(advice, (str, Path))
                             else "given" if advice_obj else "none (scenario given)")
        name = backbone or (advice_obj.backbone if advice_obj else DEFAULT_BACKBONE)
        spec = get_backbone(name)
        if advice_obj is not None and not get_backbone(advice_obj.backbone).name == spec.name:
            warnings.append(f"advice measured {advice_obj.backbone}, tuning {spec.name}: its "
                            "freeze block is rescaled by depth fraction")
        config = SweepConfig(
            dataset=str(Path(path).resolve()), dataset_fingerprint=fingerprint,
            n_images=len(subsample(index, max_images, seed=seed or 0).items),
            classes=tuple(index.classes), backbone=spec.name,
            weights=str(weights or "imagenet"),
            input_size=int(input_size or (advice_obj.input_size if advice_obj
                                          else DEFAULT_INPUT_SIZE)),
            test_split=test_split, max_images=max_images, seed=int(seed or 0),
            backend=backend or "optuna", storage=storage,
            trials=int(trials or DEFAULT_TRIALS), epochs=int(epochs or DEFAULT_EPOCHS),
            patience=int(patience or DEFAULT_PATIENCE), scenario=scenario,
            advice=advice_obj.to_dict() if advice_obj else None, space={},
            export=tuple(export or ("keras",)), refit=True if refit is None else bool(refit),
            rerank=int(rerank or 0), advice_source=advice_source,
            framing=framing or "auto")
        run_dir = new_run_dir(path, out)

    from tuner._data import prepare_data
    from tuner._runner import TrialRunner

    cache = Path(cache_dir) if cache_dir is not None else run_dir / "cache"
    data_args = dict(input_size=config.input_size, test_split=config.test_split,
                     seed=config.seed, max_images=config.max_images, cache_dir=cache)
    prepared: dict[str, Any] = {}  # the framing decision's data, reused below
    if config.framing == "auto" and config.framing_choice is None:
        config = _choose_framing(path, config, data_args, prepared, timings, progress)
    t = time.perf_counter()
    data = (prepared.get(config.resolved_framing)
            or prepare_data(path, framing=config.resolved_framing, **data_args))
    prepared.clear()
    timings["prepare_s"] = round(time.perf_counter() - t, 3)
    if stored is not None:  # the findings the first session saved with its advice
        kept = run_dir / ADVICE_FILE
        findings = advice_findings(kept) if kept.is_file() else []
    shifted = split_shift_warning(findings, data.split_source)
    if shifted:
        if shifted not in warnings:
            warnings.append(shifted)
        if progress:  # every session shows it before its trials
            progress(SweepEvent("warning", 0, config.trials, message=shifted))
    if config.rerank is None:  # a run stored before re-ranking existed
        config = replace(config, rerank=0)
    hint = small_validation_hint(len(data.y_val)) if not config.rerank else None
    if hint and hint not in warnings:
        warnings.append(hint)
    t = time.perf_counter()
    runner_args = dict(backbone=config.backbone, weights=config.weights, seed=config.seed,
                       cache_dir=cache)
    if isolate:
        from tuner._worker import WorkerRunner

        runner: Any = WorkerRunner(
            dict(path=str(path), framing=config.resolved_framing, **data_args), runner_args)
    else:
        runner = TrialRunner(data, **runner_args)
    try:
        return _run_sweep(runner, data, config, stored, space, advice_obj, findings, scenario,
                          run_dir, prev, warnings, timings, progress, t, t0)
    finally:
        if isolate:
            runner.close()


def _choose_framing(path: str | Path, config: SweepConfig, data_args: dict,
                    prepared: dict[str, Any], timings: dict,
                    progress: Callable[[SweepEvent], None] | None) -> SweepConfig:
    """``config`` with its ``--framing auto`` decided (:mod:`tuner._framing`); the data
    it prepared are left in ``prepared`` by framing."""
    from advisor.backbones import get_backbone, resolve_weights
    from tuner._data import prepare_data
    from tuner._framing import choose_framing

    t = time.perf_counter()
    spec = get_backbone(config.backbone)
    def prepare(f: str) -> Any:
        if f not in prepared:
            prepared[f] = prepare_data(path, framing=f, **data_args)
        return prepared[f]

    choice = choose_framing(prepare, spec, resolve_weights(spec, config.weights),
                            seed=config.seed)
    timings["framing_s"] = round(time.perf_counter() - t, 3)
    if progress:
        progress(SweepEvent("framing", 0, config.trials, message=choice.reason))
    return replace(config, framing_choice=choice.to_dict())


def _run_sweep(runner: Any, data: Any, config: SweepConfig, stored: SweepConfig | None,
               space: SearchSpace | None, advice_obj: Advice | None, findings: list[dict],
               scenario: str | None, run_dir: Path, prev: dict | None, warnings: list[str],
               timings: dict, progress: Callable[[SweepEvent], None] | None, t: float, t0: float
               ) -> SweepResult:
    n_blocks = runner.n_blocks  # starts the worker process, when there is one
    timings["runner_s"] = round(time.perf_counter() - t, 3)

    if stored is None:
        sp = space or SearchSpace.from_advice(advice_obj, n_blocks, scenario,
                                              epochs=config.epochs, patience=config.patience)
        config = replace(config, space=sp.to_dict(), epochs=sp.epochs, patience=sp.patience)
        save_config(run_dir, config)
        if advice_obj is not None:
            # the findings tltune reads travel with the advice, so the reproduce command
            # (``--advice RUN_DIR/advice.json``) warns about a shifted test split too
            write_json_atomic(run_dir / ADVICE_FILE, {"advice": advice_obj.to_dict(),
                                                      "health": {"findings": findings}})
    else:
        sp = SearchSpace.from_dict(config.space)
        if sp.n_blocks != n_blocks:
            raise InternalError("The backbone's block count differs from the stored space",
                                expected=f"{sp.n_blocks} blocks", received=str(n_blocks),
                                fix="start a new sweep (the backbone definition changed)")
    warnings += [n for n in sp.notes if n not in warnings]
    runner.expect(sp.freeze_blocks)  # one activation-cache pass per augmentation level

    from tuner.backends import get_backend

    search = get_backend(config.backend, sp, seed=config.seed, run_dir=run_dir,
                         storage=config.storage)
    killed = search.open(resume=stored is not None)
    timings["setup_s"] = round(time.perf_counter() - t0, 3)
    sweep = _Sweep(run_dir, config, sp, runner, data, prev, warnings, timings, progress, t0)
    sweep.killed += killed
    search_info = search.describe()
    search_info["storage"] = redact_url(search_info.get("storage"))
    sweep.search = search_info
    if killed:
        warnings.append(f"trial(s) {killed} were running when the sweep was killed: marked "
                        "FAIL, not counted")
    return sweep.run(search, config.export)
