"""The worker's main loop keeps the collector off what outlives its search trials, and
gives it back before any command that may drop a runner."""

from __future__ import annotations

import gc

from tuner.training._child import _collect_frozen


def test_search_trials_run_frozen_and_other_commands_thaw_first() -> None:
    try:
        _collect_frozen("run")
        assert gc.get_freeze_count() > 0
        frozen = gc.get_freeze_count()
        _collect_frozen("run")  # the next trial: what came since joins the frozen
        assert gc.get_freeze_count() >= frozen
        for command in ("use", "final", "find_lr"):
            _collect_frozen("run")
            _collect_frozen(command)
            assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
