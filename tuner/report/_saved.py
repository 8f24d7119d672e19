"""Re-render a saved sweep: ``results.json`` -> :class:`~tuner.run.SweepResult` ->
report, without TensorFlow or training (what ``tlreport`` calls)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from advisor.errors import InputError
from advisor.report import ReportPaths
from tuner.report._sweep import write_sweep_report
from tuner.run import RESULTS_FILE, SweepResult

__all__ = ["is_sweep_result", "load_sweep_result", "render_saved_sweep"]

_EXPECTED = "the results.json tltune writes in its run folder (a JSON object with the sweep's " \
            "config, trials and n_requested)"
_FIX = "pass the run folder given to tltune --out (or printed by tltune), or its results.json"
_FIX_DAMAGED = ("pass the results.json as tltune wrote it (unedited); a damaged one cannot be "
                "re-rendered: run the sweep again")


def is_sweep_result(data: Any) -> bool:
    """Whether ``data`` (a decoded JSON value) looks like a saved sweep result."""
    return isinstance(data, dict) and {"trials", "n_requested", "config"} <= set(data)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"Cannot read {path}", expected="a readable JSON file",
                         received=e.strerror or str(e), fix="check the path and permissions"
                         ) from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path} is not valid JSON", expected=_EXPECTED, received=str(e)[:200],
                         fix=_FIX_DAMAGED) from e


def _results_file(path: Path) -> Path:
    if path.is_dir():
        if not (path / RESULTS_FILE).is_file():
            found = ", ".join(sorted(p.name for p in path.iterdir())[:10]) or "an empty folder"
            raise InputError(f"No {RESULTS_FILE} in {path}", expected=_EXPECTED, received=found,
                             fix=_FIX)
        return path / RESULTS_FILE
    if not path.is_file():
        raise InputError(f"{str(path)!r} does not exist", expected=_EXPECTED,
                         received="a path that is not there", fix="check the spelling")
    return path


def load_sweep_result(source: SweepResult | dict | str | Path) -> SweepResult:
    """The :class:`~tuner.run.SweepResult` saved at ``source``: a run folder, its
    ``results.json`` (or another file tltune wrote it to), or the decoded dict.

    Raises :class:`~advisor.errors.InputError` (exit code 2) when ``source`` is missing,
    is not JSON, or is not a sweep result.
    """
    if isinstance(source, SweepResult):
        return source
    if isinstance(source, dict):
        where, data = "The given result", source
    else:
        path = _results_file(Path(source).expanduser())
        where, data = str(path), _read(path)
    if not is_sweep_result(data):
        got = (f"a JSON object with keys {sorted(data)[:8]}" if isinstance(data, dict)
               else f"a JSON {type(data).__name__}")
        raise InputError(f"{where} is not a saved sweep result", expected=_EXPECTED,
                         received=got, fix=_FIX)
    try:
        return SweepResult.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise InputError(f"{where} is missing parts of a sweep result", expected=_EXPECTED,
                         received=f"{type(e).__name__}: {e}"[:200],
                         fix=_FIX_DAMAGED) from e


def render_saved_sweep(source: SweepResult | dict | str | Path,
                       out_dir: str | Path | None = None) -> ReportPaths:
    """Load the sweep saved at ``source`` (see :func:`load_sweep_result`) and write its
    ``report.html`` and ``report.md`` into ``out_dir``: by default the folder of the
    results file, or the run folder the result names when ``source`` is not a path."""
    result = load_sweep_result(source)
    if out_dir is None:
        if isinstance(source, (str, Path)):
            out_dir = _results_file(Path(source).expanduser()).parent
        else:
            out_dir = result.run_dir
    return write_sweep_report(result, Path(out_dir).expanduser())
