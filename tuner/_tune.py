"""``tune()``: the recipe of a sweep.

options -> session (a new or resumed run directory and its configuration) -> data
-> runner -> search -> final model -> result. The loop is the same for every
backend (:class:`~tuner.search.TrialLoop`), and ``results.json`` is rewritten after
every trial, so a killed sweep loses at most the trial that was running;
``--resume`` marks that trial FAIL and runs trials until exactly ``trials`` are
finished (COMPLETE or PRUNED).
"""

from __future__ import annotations

from pathlib import Path

from tuner._finish import finish
from tuner._options import SweepOptions
from tuner._session import open_session
from tuner._stages import open_runner, prepare, search
from tuner.run import SweepResult
from tuner.search import Progress

__all__ = ["tune"]


def tune(path: str | Path | None = None, options: SweepOptions | None = None, *,
         progress: Progress | None = None, **overrides: object) -> SweepResult:
    """Search, retrain the best configuration, evaluate it once and export it.

    ``options`` and the keyword ``overrides`` are the fields of :class:`SweepOptions`
    (``trials=30``, ``advice=...``, ``resume=RUN_DIR``, ...; its docstring lists them
    with their defaults). ``progress`` receives a :class:`~tuner.search.SweepEvent`
    at each step (the terminal's progress bars).
    """
    from advisor.backbones import require_tensorflow

    opts = SweepOptions.of(path, options, **overrides)
    require_tensorflow()
    session = open_session(opts, progress)
    data = prepare(session)
    labels = [*data.y_train.tolist(), *data.y_val.tolist()]  # for re-ranking's folds
    with open_runner(session, data) as runner:
        trials, _space, importances = search(session, runner)
        return finish(session, runner, trials, importances, labels)
