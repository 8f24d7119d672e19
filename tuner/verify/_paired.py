"""Paired, unbiased comparisons of transfer options (feature extractor, partial freezes,
full fine-tune, from scratch).

Every option trains on the same images with the same seed, chooses its epoch and head
on a *selection* split, and is scored on *test* images that chose nothing for it. The
comparisons are paired per test image: the difference of two options is the mean of
their per-image differences in correctness, and its standard error combines

* ``se_images``: the spread of the per-image differences (averaged over repeats) over
  the test images, ``sd(d_i) / sqrt(n)``, and
* ``se_runs``: the spread of the per-repeat differences, ``sd(D_r) / sqrt(R)``
  (training noise; 0 with one repeat).

``se = sqrt(se_images**2 + se_runs**2)``: each term also holds a share of the
per-image training noise, so it errs slightly high (never low).

Two ways to cut the splits:

* :func:`holdout_splits`: the test images are the dataset's ``val/`` folder (else a
  stratified hold-out, seed 0), the same for every repeat; each repeat (one per seed)
  draws its own selection split from the training images.
* :func:`crossfit_splits`: every image of a (sub)sample is tested once per repeat,
  by a model trained on the other folds (``k``-fold cross-fitting), for data too small
  to spare a test split.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from advisor import PairedDifference
from advisor.backbones import Boundary
from advisor.codec import Record
from advisor.errors import ConfigError
from advisor.recommend import FreezePlan, boundary_at_fraction
from tuner.data import PreparedData, stratified_holdout, stratified_sample
from tuner.verify._pilot import PilotBudget, pilot_data, scenario_params

__all__ = ["Option", "Split", "ScoredRun", "PairedDifference", "Scoreboard", "grid_options",
           "holdout_splits", "crossfit_splits", "score_options", "SELECT_FRACTION", "SELECT_MAX"]

SELECT_FRACTION = 0.2  # of the training images, per repeat, to choose epochs and heads
SELECT_MAX = 200  # at most this many selection images (they only pick an epoch)


@dataclass(frozen=True)
class Option(Record):
    """One trainable transfer option: a scenario with its freeze plan code."""

    label: str
    scenario: str
    freeze_block: int  # FreezePlan.code: blocks frozen, -1 from scratch
    freeze_layer: str = ""


@dataclass(frozen=True, eq=False)
class Split:
    """Train / selection (``val``) / test images of one repeat, and where the test
    images sit among the scored images (``test_rows``)."""

    data: PreparedData
    test_rows: np.ndarray
    repeat: int
    seed: int
    fold: int = 0


@dataclass(frozen=True)
class ScoredRun(Record):
    """One option trained on one split."""

    label: str
    repeat: int
    seed: int
    fold: int
    n_train: int
    n_select: int
    n_test: int
    select_accuracy: float
    test_accuracy: float
    epochs_run: int
    seconds: float


def _option(label: str, scenario: str, plan: FreezePlan) -> Option:
    return Option(label, scenario, plan.code, plan.layer_label)


def grid_options(boundaries: Sequence[Boundary], fractions: Sequence[float] = (0.25, 0.5, 0.75),
                 scratch: bool = True) -> list[Option]:
    """A fixed grid that does not depend on any advice: the feature extractor, partial
    freezes at ``fractions`` of the blocks (rounded half up, clipped to 1..n-1), full
    fine-tune and (``scratch``) from scratch."""
    opts = [_option("feature_extractor", "feature_extractor",
                    FreezePlan.for_scenario("feature_extractor", boundaries))]
    seen = set()
    for f in fractions:
        bnd = boundary_at_fraction(boundaries, f)
        if bnd.block not in seen:
            seen.add(bnd.block)
            opts.append(_option(f"partial_b{bnd.block}", "partial_freeze", FreezePlan.for_scenario(
                "partial_freeze", boundaries, partial=bnd)))
    opts.append(_option("full_finetune", "full_finetune",
                        FreezePlan.for_scenario("full_finetune", boundaries)))
    if scratch:
        opts.append(_option("from_scratch", "from_scratch",
                            FreezePlan.for_scenario("from_scratch", boundaries)))
    return opts


def _with_splits(d: PreparedData, x_tr, y_tr, f_tr, x_se, y_se, f_se, x_te, y_te, f_te,
                 source: dict, tag: str) -> PreparedData:
    import hashlib

    return replace(d, x_train=x_tr, y_train=y_tr, files_train=tuple(f_tr), x_val=x_se, y_val=y_se,
                   files_val=tuple(f_se), x_test=x_te, y_test=y_te, files_test=tuple(f_te),
                   split_source=source, pool=None,
                   fingerprint=hashlib.sha1(f"{d.fingerprint}+{tag}".encode()).hexdigest()[:16])


def _select(y: np.ndarray, seed: int, salt: str, max_train: int | None
            ) -> tuple[np.ndarray, np.ndarray]:
    """(train, selection) positions of ``y``: a stratified selection split of
    ``SELECT_FRACTION`` (at most ``SELECT_MAX``), the rest capped to ``max_train``."""
    _, held, _ = stratified_holdout(y, SELECT_FRACTION, seed, salt)
    if len(held) > SELECT_MAX:
        held = held[stratified_sample(y[held], SELECT_MAX, seed, salt=f"{salt}-cap")]
    kept = np.setdiff1d(np.arange(len(y)), held)
    if max_train is not None and len(kept) > max_train:
        kept = kept[stratified_sample(y[kept], max_train, seed, salt=41)]
    return kept, held


def holdout_splits(path: str | Path, budget: PilotBudget, seeds: Sequence[int], *,
                   cache_dir: Path | None = None) -> list[Split]:
    """One split per seed: test = the pilot's validation images (the ``val/`` folder,
    else a stratified hold-out at seed 0, the same for every seed); selection and the
    training cap drawn per seed from the rest."""
    d = pilot_data(path, replace(budget, max_train=None), seed=0, cache_dir=cache_dir)
    splits = []
    for r, seed in enumerate(seeds):
        tr, se = _select(d.y_train, seed, "select", budget.max_train)
        src = {"train": f"{len(tr)} training images (seed {seed}): " + d.split_source["train"],
               "val": f"selection: stratified {SELECT_FRACTION:.0%} of the training images "
                      f"(at most {SELECT_MAX}), seed {seed}; picks epochs and heads only",
               "test": f"{d.split_source['val']}: scores every option, chooses nothing"}
        f = d.files_train
        data = _with_splits(d, d.x_train.take(tr), d.y_train[tr], [f[i] for i in tr],
                            d.x_train.take(se), d.y_train[se], [f[i] for i in se],
                            d.x_val, d.y_val, d.files_val, src, f"holdout{seed}")
        splits.append(Split(data, np.arange(len(d.y_val)), r, seed))
    return splits


def crossfit_splits(path: str | Path, budget: PilotBudget, seeds: Sequence[int], folds: int, *,
                    max_images: int | None = None, cache_dir: Path | None = None
                    ) -> tuple[list[Split], np.ndarray, tuple[str, ...]]:
    """``folds`` splits per seed over every image (train + val of the pilot data, a
    stratified subsample of ``max_images``): each fold is tested once by a model trained
    on the other folds (selection drawn from those). Returns the splits, the labels of
    the scored images and their files."""
    from sklearn.model_selection import StratifiedKFold

    d = pilot_data(path, replace(budget, max_train=None), seed=0, max_images=max_images,
                   cache_dir=cache_dir)
    x = d.x_train + d.x_val
    y = np.concatenate([d.y_train, d.y_val])
    files = d.files_train + d.files_val
    smallest = int(np.bincount(y, minlength=d.n_classes).min())
    if not 2 <= folds <= smallest:
        raise ConfigError("Too few images of a class to cross-fit",
                          expected=f"2 <= folds <= the smallest class ({smallest} images)",
                          received=f"folds={folds}", fix="use fewer folds or more images")
    splits = []
    for r, seed in enumerate(seeds):
        cv = StratifiedKFold(folds, shuffle=True, random_state=seed).split(y, y)
        for i, (rest, test) in enumerate(cv):
            tr, se = (rest[p] for p in _select(y[rest], seed + 1000 * i, "crossfit", budget.max_train))
            src = {"train": f"folds other than {i + 1} of {folds} (seed {seed})",
                   "val": f"selection: stratified {SELECT_FRACTION:.0%} of those, picks epochs only",
                   "test": f"fold {i + 1} of {folds}: scores every option, chooses nothing"}
            data = _with_splits(d, x.take(tr), y[tr], [files[j] for j in tr], x.take(se), y[se],
                                [files[j] for j in se], x.take(test), y[test],
                                [files[j] for j in test], src, f"crossfit{seed}.{folds}.{i}")
            splits.append(Split(data, test, r, seed, i))
    return splits, y, tuple(files)


@dataclass(frozen=True, eq=False)
class Scoreboard:
    """Per option, per repeat and per scored image: 1.0 right, 0.0 wrong (NaN: not
    scored in that repeat). ``runs`` holds every training."""

    options: tuple[Option, ...]
    y: np.ndarray
    correct: dict[str, np.ndarray]  # label -> (repeats, n_images)
    runs: tuple[ScoredRun, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(o.label for o in self.options)

    def option(self, label: str) -> Option:
        return next(o for o in self.options if o.label == label)

    def repeat_accuracies(self, label: str) -> np.ndarray:
        return np.nanmean(self.correct[label], axis=1)

    def accuracy(self, label: str) -> float:
        return float(np.nanmean(self.correct[label]))

    def best(self) -> str:
        return max(self.labels, key=self.accuracy)

    def difference(self, a: str, b: str) -> PairedDifference:
        """``a`` minus ``b``, paired per image and repeat (see the module docstring)."""
        d = self.correct[a] - self.correct[b]
        both = ~np.isnan(d).any(axis=0)  # images scored in every repeat by both
        d = d[:, both]
        n, reps = d.shape[1], d.shape[0]
        per_image, per_repeat = d.mean(axis=0), d.mean(axis=1)
        se_i = float(per_image.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
        se_r = float(per_repeat.std(ddof=1) / math.sqrt(reps)) if reps > 1 else 0.0
        return PairedDifference(a, b, round(float(per_repeat.mean()), 5),
                                round(math.hypot(se_i, se_r), 5), round(se_i, 5), round(se_r, 5),
                                n, reps, round(float(np.abs(d).mean()), 5))

    def to_dict(self) -> dict:
        return {"options": [o.to_dict() for o in self.options], "y": self.y.tolist(),
                "correct": {k: [[None if math.isnan(v) else int(v) for v in row] for row in c]
                            for k, c in self.correct.items()},
                "runs": [r.to_dict() for r in self.runs]}

    @classmethod
    def from_dict(cls, d: dict) -> "Scoreboard":
        return cls(tuple(Option.from_dict(o) for o in d["options"]), np.asarray(d["y"]),
                   {k: np.array([[np.nan if v is None else v for v in row] for row in c], float)
                    for k, c in d["correct"].items()},
                   tuple(ScoredRun.from_dict(r) for r in d["runs"]))


OptionsFn = Callable[[list[Boundary]], Sequence[Option]]


def score_options(splits: Sequence[Split], n_scored: int, y: np.ndarray, options: OptionsFn,
                  budget: PilotBudget, *, backbone: str = "mobilenet_v2", weights: str = "imagenet",
                  cache_dir: Path | None = None,
                  on_run: Callable[[ScoredRun], None] | None = None) -> Scoreboard:
    """Train every option of ``options(boundaries)`` on every split and score it on the
    split's test images (``n_scored`` images in all, labels ``y``)."""
    from tuner.training import TrialRunner

    repeats = max(s.repeat for s in splits) + 1
    correct: dict[str, np.ndarray] = {}
    runs: list[ScoredRun] = []
    opts: list[Option] = []
    for split in splits:
        runner = TrialRunner(split.data, backbone=backbone, weights=weights, seed=split.seed,
                             cache_dir=cache_dir)
        bounds = runner.boundaries()
        opts = list(options(bounds))
        runner.expect([o.freeze_block for o in opts])
        for o in opts:
            plan = FreezePlan.from_code(o.freeze_block, runner.n_blocks, bounds)
            out, probs = runner.run_tested(scenario_params(o.scenario, plan, budget))
            right = (probs.argmax(axis=1) == split.data.y_test).astype(float)
            c = correct.setdefault(o.label, np.full((repeats, n_scored), np.nan))
            c[split.repeat, split.test_rows] = right
            run = ScoredRun(o.label, split.repeat, split.seed, split.fold, len(split.data.y_train),
                            len(split.data.y_val), len(right), round(out.val_accuracy, 4),
                            round(float(right.mean()), 4), out.epochs_run, out.seconds)
            runs.append(run)
            if on_run:
                on_run(run)
    return Scoreboard(tuple(opts), np.asarray(y), correct, tuple(runs))
