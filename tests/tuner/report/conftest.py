"""A finished sweep for the sweep-report tests: a typed :class:`~tuner.run.SweepResult`
over the report tests' tiny real dataset (with a hostile class name, see
``tests/advisor/report/conftest.py``).

The numbers are realistic (the shapes ``tltune`` produces); the tests assert on what
the report does with them, not on the numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from advisor.data import scan_layout
from tests.advisor.report.conftest import HOSTILE, make_dataset
from tuner.data import DataSummary
from tuner.final import ClassMetrics, FinalResult, Misclassified
from tuner.run import SweepConfig, SweepResult
from tuner.search import SearchSpace
from tuner.trial import TrialRecord

N_BLOCKS = 17  # mobilenet_v2's freeze boundaries


def _trials() -> tuple[TrialRecord, ...]:
    """Eight trials: #5 pruned, #6 failed, the rest complete, with epoch histories."""
    rng = np.random.default_rng(3)
    trials = []
    for n in range(8):
        fb = int(rng.integers(-1, N_BLOCKS + 1))
        hlr, blr = float(10 ** rng.uniform(-4, -2)), float(10 ** rng.uniform(-6, -3))
        state = "PRUNED" if n == 5 else ("FAIL" if n == 6 else "COMPLETE")
        hist = tuple({"epoch": e, "phase": "head", "train_accuracy": 0.5 + 0.05 * e,
                      "train_loss": 1.0 - 0.1 * e, "val_accuracy": 0.45 + 0.06 * e + 0.01 * n,
                      "val_loss": 1.1 - 0.1 * e} for e in range(1, 5 if state != "PRUNED" else 3))
        trials.append(TrialRecord(
            number=n, state=state,
            params={"freeze_block": fb, "head_lr": hlr, "backbone_lr": blr, "dropout": 0.2,
                    "augmentation": "light", "batch_size": 16, "epochs": 4},
            sampled={"freeze_block": fb, "head_lr": hlr, "backbone_lr": blr},
            val_accuracy=None if state == "FAIL" else max(h["val_accuracy"] for h in hist),
            epochs_run=len(hist), seconds=30.0 + n, history=() if state == "FAIL" else hist,
            message="out of memory" if state == "FAIL" else ""))
    return tuple(trials)


def make_sweep_result(root: Path, run_dir: Path) -> SweepResult:
    """A finished 8-trial sweep over the dataset at ``root`` (val/ doubles as the test
    split), with a final test evaluation whose last misclassified file is missing."""
    trials = _trials()
    index = scan_layout(root)
    classes = tuple(index.classes)
    val = [i for i in index.items if i.split == "val"]
    mis = (Misclassified(val[0].rel, val[0].label, classes[-1], 0.71),
           Misclassified(val[-1].rel, val[-1].label, HOSTILE, 0.55),
           Misclassified("val/ants/deleted.png", "ants", "bees", 0.5))
    final = FinalResult(
        params=trials[-1].trial_params, backbone="mobilenet_v2",
        weights="imagenet", classes=classes, input_size=160, val_accuracy=0.75, epochs_run=4,
        test_accuracy=0.833, test_loss=0.52, macro_f1=0.82, n_test=len(val),
        test_source="val/ folder", per_class=tuple(ClassMetrics(c, 0.8, 0.75, 0.77, 3)
                                                    for c in classes),
        confusion=((3, 0, 0), (1, 2, 0), (0, 1, 3)), misclassified=mis,
        exports={"keras": str(run_dir / "model" / "model.keras")},
        labels_path=str(run_dir / "model" / "labels.json"), seconds=50.0)
    counts = {s: {c: sum(i.label == c and i.split == s for i in index.items) for c in classes}
              for s in ("train", "val")}
    data = DataSummary(root=str(index.root), classes=classes, input_size=160, framing="squash",
                       counts={**counts, "test": counts["val"]},
                       split_source={"test": "val/ folder", "val": "10% of train (seed 0)"},
                       fingerprint="abc")
    config = SweepConfig(
        dataset=str(root), dataset_fingerprint="abc", n_images=len(index.items),
        classes=classes, backbone="mobilenet_v2", weights="imagenet", input_size=160,
        test_split=None, max_images=None, seed=0, backend="optuna", storage=None, trials=8,
        epochs=4, patience=3, scenario=None, advice=None,
        space=SearchSpace.from_advice(None, N_BLOCKS, epochs=4))
    return SweepResult(run_dir=str(run_dir), status="done", config=config,
                       command=f"tltune {root} --trials 8 --out {run_dir}",
                       trials=trials, n_requested=8, data=data, final=final,
                       importances={"freeze_block": 0.55, "head_lr": 0.3, "backbone_lr": 0.15},
                       timings={"search_s": 250.0, "final_s": 50.0},
                       warnings=("trial 6 failed: out of memory",))


# Module scope: rendering (plots, thumbnails) takes seconds on a busy 2-core machine.
# Tests must not change these; a test that deletes files builds its own dataset.
@pytest.fixture(scope="module")
def report_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("report") / "ds")


@pytest.fixture(scope="module")
def sweep_result(report_dataset: Path) -> SweepResult:
    return make_sweep_result(report_dataset, report_dataset.parent / "run")
