"""Choose among the best trials by cross-validation when the search's validation
split is too small to tell them apart.

On a small dataset the search scores every trial on a few dozen validation images,
so many configurations tie at or near 100 % and the winner is largely chance. The
re-ranking takes the ``top`` COMPLETE trials (by the search's own order), trains
each on every fold of a stratified ``k``-fold split of train + val, with the same
protocol as the search (early stopping on the held-out fold), and keeps the one with
the most held-out images right over all folds; ties go to the lower mean validation
loss, then to the search's order. The test split is never touched.

The folds also give the final refit its epoch count: per phase, the median of the
folds' best epochs (:meth:`CandidateScore.refit_epochs`), steadier than the one
search run's best epoch on a few dozen validation images.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from advisor.codec import Record, to_dict
from tuner.training import Runner
from tuner.trial import TrialRecord, ranked, refit_epochs

__all__ = ["CV_FOLDS", "SMALL_VAL", "RERANK_TOP", "CandidateScore", "RerankResult",
           "candidates", "choose", "fold_problem", "rerank", "small_validation_hint"]

CV_FOLDS = 5
RERANK_TOP = 5  # the number of candidates the hint suggests
SMALL_VAL = 100  # below this many validation images the search's ranking is mostly ties


def small_validation_hint(n_val: int) -> str | None:
    """A note for a sweep that validates on fewer than :data:`SMALL_VAL` images and
    does not re-rank (re-ranking is opt-in: measured on hymenoptera, it cost about as
    much as the search and did not raise test accuracy)."""
    if n_val >= SMALL_VAL:
        return None
    return (f"the search validates on {n_val} images (one image is "
            f"{100 / max(n_val, 1):.1f} points), so many trials may tie; --rerank {RERANK_TOP} "
            f"compares the top {RERANK_TOP} by {CV_FOLDS}-fold cross-validation on train + val "
            f"({RERANK_TOP * CV_FOLDS} more trainings); in the measurements of docs/tuning.md "
            "it did not raise test accuracy")


@dataclass(frozen=True)
class CandidateScore(Record):
    """One candidate trial's held-out results, fold by fold."""

    number: int
    search_val_accuracy: float
    fold_correct: tuple[int, ...]
    fold_sizes: tuple[int, ...]
    fold_losses: tuple[float, ...]
    fold_epochs: tuple[dict, ...] = ()  # refit_epochs() of each fold's run

    @property
    def accuracy(self) -> float:
        """Held-out images right over all folds, divided by all held-out images."""
        return sum(self.fold_correct) / max(sum(self.fold_sizes), 1)

    @property
    def loss(self) -> float:
        return sum(self.fold_losses) / max(len(self.fold_losses), 1)

    def to_dict(self) -> dict:
        """The fields, plus ``cv_accuracy``, ``cv_loss`` and ``refit_epochs``."""
        return {**to_dict(self), "cv_accuracy": self.accuracy, "cv_loss": self.loss,
                "refit_epochs": self.refit_epochs()}

    def refit_epochs(self) -> dict[str, int] | None:
        """Epochs per phase for the final refit: per phase, the median (lower) of the
        folds' best epochs (a fold whose best epoch was in the head phase counts 0
        fine-tuning epochs). ``None`` when a fold has no per-epoch phases."""
        import statistics

        if not self.fold_epochs or any(not e for e in self.fold_epochs):
            return None
        out: dict[str, int] = {}
        for phase in ("scratch", "head", "finetune"):
            if any(phase in e for e in self.fold_epochs):
                n = statistics.median_low([e.get(phase, 0) for e in self.fold_epochs])
                if n > 0:
                    out[phase] = int(n)
        return out or None


@dataclass(frozen=True)
class RerankResult(Record):
    """Outcome of :func:`rerank`: every candidate's scores and the chosen trial."""

    folds: int
    seed: int
    candidates: tuple[CandidateScore, ...]
    chosen: int  # trial number
    search_best: int  # the search's own best trial number
    seconds: float

    def candidate(self, number: int) -> CandidateScore | None:
        """The scores of trial ``number``, if it was a candidate."""
        return next((c for c in self.candidates if c.number == number), None)

    @property
    def rule(self) -> str:
        """The rule that chose, in words."""
        return (f"{self.folds}-fold cross-validation on train + val of the search's top "
                f"{len(self.candidates)} trials: most held-out images right, then lower "
                "mean validation loss, then the search's order")

    def to_dict(self) -> dict:
        """The fields, plus the ``rule`` that chose, in words."""
        return {**to_dict(self), "rule": self.rule}


def fold_problem(labels: Any, classes: tuple[str, ...] | list[str], folds: int = CV_FOLDS
                 ) -> str | None:
    """Why train + val (``labels``) cannot be cut into ``folds`` stratified folds, or
    ``None`` when it can (every class needs at least ``folds`` images)."""
    import numpy as np

    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(classes))
    small = [f"{classes[i]} ({int(n)})" for i, n in enumerate(counts) if n < folds]
    if small:
        return (f"class(es) {', '.join(small)} have fewer train + val images than the "
                f"{folds} cross-validation folds")
    return None


def candidates(trials: list[TrialRecord] | tuple[TrialRecord, ...], top: int) -> list[TrialRecord]:
    """The ``top`` COMPLETE trials in the search's order (accuracy, then lower loss,
    then lower number), one per distinct configuration."""
    out: list[TrialRecord] = []
    seen: set[str] = set()
    for t in ranked(trials):
        key = repr(sorted(t.params.items()))
        if key not in seen:
            seen.add(key)
            out.append(t)
        if len(out) == top:
            break
    return out


def rerank(runner: Runner, cands: list[TrialRecord], *, folds: int = CV_FOLDS, seed: int = 0,
           on_run: Callable[[int, int, TrialRecord], None] | None = None) -> RerankResult:
    """Score ``cands`` by ``folds``-fold cross-validation with ``runner.for_fold``
    (a :class:`~tuner.training._runner.TrialRunner` or :class:`~tuner.training._worker.WorkerRunner`)
    and choose one (see the module docstring). ``on_run(fold, index, candidate)`` is
    called before each training."""
    t0 = time.perf_counter()
    correct: dict[int, list[int]] = {c.number: [] for c in cands}
    sizes: dict[int, list[int]] = {c.number: [] for c in cands}
    losses: dict[int, list[float]] = {c.number: [] for c in cands}
    epochs: dict[int, list[dict]] = {c.number: [] for c in cands}
    for f in range(folds):
        fold_runner = runner.for_fold(folds, f, seed)
        try:
            # one cache pass per augmentation level stores every candidate's boundary
            fold_runner.expect(sorted({c.trial_params.freeze_block for c in cands}))
            for j, c in enumerate(cands):
                if on_run is not None:
                    on_run(f, j, c)
                out = fold_runner.run(c.trial_params)
                correct[c.number].append(int(round(out.val_accuracy * out.n_val)))
                sizes[c.number].append(out.n_val)
                losses[c.number].append(float(out.val_loss))
                epochs[c.number].append(refit_epochs([h.to_dict() for h in out.history]) or {})
        finally:
            fold_runner.close()
    scores = tuple(CandidateScore(number=c.number, search_val_accuracy=float(c.val_accuracy),
                                  fold_correct=tuple(correct[c.number]),
                                  fold_sizes=tuple(sizes[c.number]),
                                  fold_losses=tuple(losses[c.number]),
                                  fold_epochs=tuple(epochs[c.number])) for c in cands)
    return RerankResult(folds=folds, seed=seed, candidates=scores, chosen=choose(scores),
                        search_best=cands[0].number, seconds=round(time.perf_counter() - t0, 3))


def choose(scores: tuple[CandidateScore, ...] | list[CandidateScore]) -> int:
    """The trial number with the most held-out images right; ties go to the lower
    mean validation loss, then to the earlier candidate (the search's order)."""
    order = {c.number: i for i, c in enumerate(scores)}
    return max(scores, key=lambda c: (sum(c.fold_correct), -c.loss, -order[c.number])).number

