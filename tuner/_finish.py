"""The last stage of a sweep: which trial becomes the final model (the search's best,
or the cross-validation choice of ``--rerank``), how it is retrained (the refit
policy), its single test evaluation and its export."""

from __future__ import annotations

import time

from advisor.errors import InternalError
from tuner._session import Session
from tuner.final import FinalRequest
from tuner.run import SweepResult
from tuner.search import CV_FOLDS, candidates, fold_problem, rerank
from tuner.training import Runner
from tuner.trial import REFIT_FROM_SEARCH, TrialRecord, best_of, refit_epochs

__all__ = ["finish"]


def finish(s: Session, runner: Runner, trials: list[TrialRecord],
           importances: dict[str, float] | None, data_labels: list[int]) -> SweepResult:
    """Choose the final trial, retrain it, evaluate it once and export it (or reuse the
    previous session's final model when the best trial is the same)."""
    if s.final_by is not None:
        s.emit("note", trials, message=f"the study is complete; worker {s.final_by['worker']} "
                                       f"trains the final model in {s.final_by['run_dir']}")
        return s.save(trials, "searched", importances=importances)
    best = best_of(trials)
    if best is None:
        s.save(trials, "searched", importances=importances)
        raise InternalError("No trial completed, so there is no best configuration",
                            expected="at least one COMPLETE trial",
                            received=f"states {[r.state for r in trials]}",
                            fix="run more trials (--trials) or resume the sweep")
    best = _rerank(s, runner, trials, best, importances, data_labels)
    prev = s.prev
    if prev is not None and prev.final is not None and prev.best is not None \
            and prev.best.number == best.number:
        s.warn("final model of the previous session reused (same best trial)")
        return s.save(trials, "done", prev.final, importances)
    s.save(trials, "searched", importances=importances)
    s.emit("final_start", trials, trial=best.number)
    t = time.perf_counter()
    final = runner.fit_final(_request(s, best))
    s.timed("final_s", t)
    result = s.save(trials, "done", final, importances)
    s.emit("final_end", trials, trial=best.number)
    return result


def _request(s: Session, best: TrialRecord) -> FinalRequest:
    """The refit policy: the best trial's epochs up to its best one on train + val (the
    folds' median with re-ranking), or the trial protocol with ``refit=False``."""
    refit = refit_epochs(best.history) if s.config.refit else None
    refit_from = REFIT_FROM_SEARCH
    scores = (s.rerank.candidate(best.number)
              if s.config.refit and s.rerank is not None and s.rerank.chosen == best.number
              else None)
    folds_refit = scores.refit_epochs() if scores is not None else None
    if folds_refit:
        refit = folds_refit
        refit_from = f"the median best epoch of the {s.rerank.folds} cross-validation folds"
    if s.config.refit and refit is None:
        s.warn(f"trial {best.number} has no per-epoch phases: the final model is trained on "
               "train only, with early stopping on val")
    return FinalRequest(params=best.trial_params, out_dir=str(s.run_dir / "model"),
                        export=s.config.export, refit_epochs=refit,
                        search_val=best.val_accuracy, refit_from=refit_from)


def _rerank(s: Session, runner: Runner, trials: list[TrialRecord], best: TrialRecord,
            importances: dict[str, float] | None, labels: list[int]) -> TrialRecord:
    """The trial to train as the final model: ``best``, or the cross-validation choice
    among the top trials when re-ranking is on (:func:`tuner.search.rerank`)."""
    top = int(s.config.rerank or 0)
    cands = candidates(trials, top) if top > 1 else []
    if len(cands) < 2:
        if top > 1:
            s.warn("re-ranking skipped: fewer than two distinct COMPLETE trials")
        return best
    problem = fold_problem(labels, s.config.classes)
    if problem:
        s.warn(f"re-ranking skipped: {problem}; the search's best is kept")
        return best
    prev = s.prev.rerank if s.prev is not None else None
    if prev is not None and [c.number for c in prev.candidates] == [c.number for c in cands]:
        rr = prev
        s.warn("cross-validation re-ranking of the previous session reused (same candidates)")
    else:
        def on_run(fold: int, j: int, c: TrialRecord) -> None:
            s.emit("rerank_run", trials, trial=c.number,
                   message=f"fold {fold + 1}/{CV_FOLDS}, candidate {j + 1}/{len(cands)}")

        rr = rerank(runner, cands, folds=CV_FOLDS, seed=s.config.seed, on_run=on_run)
        s.timings["rerank_s"] = rr.seconds
    s.rerank = rr
    chosen = next(t for t in trials if t.number == rr.chosen)
    if chosen.number != best.number:
        s.warn(f"cross-validation chose trial {chosen.number} over the search's best "
               f"{best.number} ({CV_FOLDS}-fold on train + val, top {len(cands)} trials)")
    s.save(trials, "searched", importances=importances)
    return chosen
