"""WorkerRunner: trials in a child process give the in-process results, pruning
stops the child's trial, errors keep their type, a dead child is an error, the
child is replaced when it grows, and fold runners take turns on one child."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from advisor.errors import ConfigError, InternalError
from tests.tuner.conftest import trial_params
from tuner.data import DataSpec
from tuner.training import RunnerSpec, TrialRunner, WorkerRunner
from tuner.trial import TrialParams

pytestmark = pytest.mark.slow


def params(fb: int, **kw) -> TrialParams:
    return trial_params(fb, **{"batch_size": 8, "epochs": 3, **kw})


@pytest.fixture(scope="module")
def setup(tiny_images: Path, tmp_path_factory) -> tuple[DataSpec, RunnerSpec]:
    cache = str(tmp_path_factory.mktemp("worker-cache"))
    data = DataSpec(path=str(tiny_images), input_size=32, seed=0, cache_dir=cache)
    data.prepare()  # the parent decodes once; the child loads the arrays
    return data, RunnerSpec(weights="none", seed=0, cache_dir=cache)


def test_same_outcome_as_in_process_and_pruning(setup) -> None:
    data_args, runner_args = setup
    local = TrialRunner.from_spec(runner_args, data_args.prepare())
    want = local.run(params(16))
    with WorkerRunner(data_args, runner_args) as w:
        assert w.n_blocks == local.n_blocks == 18
        got = w.run(params(16))
        assert got.val_accuracy == pytest.approx(want.val_accuracy)
        assert [h.val_accuracy for h in got.history] == pytest.approx(
            [h.val_accuracy for h in want.history])

        seen: list[int] = []

        def prune(epoch: int, acc: float) -> None:
            seen.append(epoch)
            raise optuna.TrialPruned("pruned by the test")

        with pytest.raises(optuna.TrialPruned):
            w.run(params(18, epochs=5), prune)
        assert seen == [0]  # the child stopped after the first epoch
        again = w.run(params(18, epochs=1))  # the same child still serves trials
        assert again.epochs_run == 1
        assert w.restarts == 0 or w.recycle_growth > 0


def test_fold_runners_take_turns_on_their_parents_child(setup) -> None:
    data_args, runner_args = setup
    local = TrialRunner.from_spec(runner_args, data_args.prepare())
    with WorkerRunner(data_args, runner_args, recycle_growth=10.0) as w:
        whole = w.run(params(18, epochs=1))
        pid, started = w._proc.pid, w.startup_s
        for i in range(2):
            fold = w.for_fold(3, i, seed=0)
            fold.expect([18])
            got = fold.run(params(18, epochs=1))
            want = local.for_fold(3, i, seed=0).run(params(18, epochs=1))
            assert fold._proc.pid == pid  # no new process for the fold
            assert (got.n_val, got.val_accuracy) == (want.n_val, pytest.approx(want.val_accuracy))
            assert got.n_val != whole.n_val  # it ran on the fold, not on the parent's split
            fold.close()  # leaves the child to its parent
        back = w.run(params(18, epochs=1))
        assert w._proc.pid == pid and w.startup_s == started and w.restarts == 0
        assert (back.n_val, back.val_accuracy) == (whole.n_val, pytest.approx(whole.val_accuracy))


def test_errors_keep_their_type_and_a_dead_child_is_reported(setup) -> None:
    data_args, runner_args = setup
    with WorkerRunner(data_args, runner_args) as w:
        with pytest.raises(ConfigError, match="freeze_block out of range") as e:
            w.run(params(99))
        assert e.value.expected and "18" in e.value.expected
        w._proc.kill()  # e.g. the kernel's OOM killer
        with pytest.raises(InternalError, match="worker process died"):
            w.run(params(18))
        assert w.run(params(18, epochs=1)).epochs_run == 1  # a new child takes over


def test_fresh_child_per_trial_when_recycle_growth_is_zero(setup) -> None:
    data_args, runner_args = setup
    with WorkerRunner(data_args, runner_args, recycle_growth=0.0) as w:
        pids = []
        for _ in range(2):
            w.run(params(18, epochs=1))
            pids.append(w._proc.pid if w._proc is not None else None)
        assert w.restarts == 2 and pids == [None, None]


def test_a_replaced_child_exits_cleanly_after_committing_its_cache(setup,
                                                                   tmp_path: Path) -> None:
    data_args, _ = setup
    runner_args = RunnerSpec(weights="none", seed=0, cache_dir=str(tmp_path))  # empty
    with WorkerRunner(data_args, runner_args, recycle_growth=0.0) as w:
        w.expect([15])
        w._serve()
        child = w._proc
        w.run(params(15, epochs=1, augmentation="light"))  # a partial freeze: caches
        assert w._proc is None and child.exitcode == 0  # replaced after its trial
    entries = list(Path(runner_args.cache_dir).rglob("meta.json"))
    assert any("light" in str(e) for e in entries), entries


def test_a_sweep_goes_on_when_a_worker_dies(tiny_images: Path, tmp_path: Path) -> None:
    import psutil

    from tuner import tune

    killed: list[int] = []

    def progress(ev) -> None:
        if ev.kind == "trial_start" and ev.trial == 1 and not killed:
            for child in psutil.Process().children():
                if child.name().startswith("python") or "spawn" in " ".join(child.cmdline()):
                    if "resource_tracker" not in " ".join(child.cmdline()):
                        child.kill()
                        killed.append(child.pid)

    res = tune(tiny_images, trials=2, scenario="feature_extractor", weights="none",
               input_size=32, epochs=1, out=tmp_path / "run", progress=progress)
    assert killed
    states = {t.number: t.state for t in res.trials}
    assert states[1] == "FAIL" and "worker process died" in res.trials[1].message
    assert sum(s == "COMPLETE" for s in states.values()) == 2
    assert any("worker process died" in w for w in res.warnings)
    assert res.timings["worker_restarts"] >= 0 and res.final is not None


def test_a_script_without_a_main_guard_runs_its_sweep_once(tiny_images: Path,
                                                            tmp_path: Path) -> None:
    """spawn re-imports the caller's __main__ in the child; a script that calls
    tune() at top level must not run its sweep again in the worker."""
    import subprocess
    import sys

    from tests.conftest import REPO, subprocess_env

    script = tmp_path / "sweep_script.py"
    script.write_text(
        "import tuner\n"
        "print('SWEEP STARTS', flush=True)\n"
        f"r = tuner.tune({str(tiny_images)!r}, trials=1, scenario='feature_extractor',\n"
        f"               weights='none', input_size=32, epochs=1, out={str(tmp_path / 'run')!r})\n"
        "print('DONE', r.n_finished, flush=True)\n")
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       cwd=REPO, env=subprocess_env(PYTHONPATH=str(REPO)), timeout=600)
    assert p.returncode == 0, (p.stdout + p.stderr)[-3000:]
    assert p.stdout.count("SWEEP STARTS") == 1 and "DONE 1" in p.stdout


def test_memory_for_new_kept_views_moves_the_baseline_up_to_its_budget(setup) -> None:
    data_args, runner_args = setup
    w = WorkerRunner(data_args, runner_args, recycle_growth=0.05, kept_growth=0.10)
    w._after((1000.0, 1))  # the first trial (no child started here): the baseline
    w._after((1040.0, 1))  # 4 % more: kept
    w._after((1080.0, 3))  # two new kept views compiled: their memory is the new baseline
    assert w.restarts == 0 and w._child.baseline == 1080.0
    w._after((1120.0, 3))  # 3.7 % over it, no new view: kept
    assert w.restarts == 0
    w._after((1140.0, 3))  # 5.6 % over it, no new view: replaced
    assert w.restarts == 1
    w._after((1000.0, 1))  # a new child
    w._after((1300.0, 2))  # a new view, but past the views' budget (1100): replaced
    assert w.restarts == 2
