"""The advice a sweep is centred on: read from ``tladvise --json`` output, with the
advisor's ``split_shift`` findings beside it, and the warning they give."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from advisor.errors import InputError
from advisor.recommend import Advice

__all__ = ["load_advice", "advice_findings", "read_advice", "split_shift_warning"]


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
    except (KeyError, TypeError, AttributeError, ValueError) as e:
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


def read_advice(source: Advice | str | Path | None) -> tuple[Advice | None, list[dict]]:
    """:func:`load_advice` and :func:`advice_findings` of ``source``, reading a file once."""
    if source is None or isinstance(source, Advice):
        return source, []
    p = Path(source)
    d = _read_advice_json(p)
    return _advice_of(d, p), _findings_of(d, p)


def split_shift_warning(findings: list[dict], split_source: dict[str, str]) -> str | None:
    """A warning when the advisor found that the split used as test does not look like
    train/ (health check ``split_shift``; ``findings`` as :func:`advice_findings`
    returns them, ``split_source`` as :class:`~tuner.data.PreparedData` records it)."""
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
