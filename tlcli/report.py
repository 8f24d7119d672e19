"""``tlreport RUN_DIR``: re-render a report from the JSON a run saved, without training
again: an ``advice.json`` (``tladvise``) through :func:`advisor.report.write_advice_report`,
a ``results.json`` (``tltune``) through :func:`tuner.report.write_sweep_report`. It sits
above both packages because it reads what either wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from advisor.errors import InputError
from tlcli._app import new_app
from tlcli._errors import guarded

__all__ = ["app", "main", "load_json", "render_run_dir"]

app = new_app("Re-render report.html and report.md from a saved advice.json or "
              "results.json (no TensorFlow, no training).", no_args_is_help=True)


@app.command()
@guarded()
def tlreport(
    run_dir: Path = typer.Argument(..., help="Folder with advice.json or results.json "
                                   "(or the JSON file itself)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Write the report here instead of RUN_DIR."),
    kind: Optional[str] = typer.Option(None, "--kind",
                                       help="advice or sweep, when RUN_DIR holds both."),
) -> None:
    """Re-render report.html (one self-contained file) and report.md from a saved run."""
    if kind not in (None, "advice", "sweep"):
        raise typer.BadParameter("use 'advice' or 'sweep'", param_hint="--kind")
    paths = render_run_dir(run_dir, out, kind)
    typer.echo(f"{paths.html}  ({paths.size / 1024:.0f} KiB, self-contained)")
    typer.echo(f"{paths.md}  (+ {len(paths.images)} images beside it)")


def render_run_dir(path: str | Path, out: str | Path | None = None, kind: str | None = None):
    """Re-render the report of the run saved at ``path`` (a folder or its JSON file)."""
    src = _find_json(Path(path).expanduser(), kind)
    data = load_json(src)
    found = _kind(data)
    if found == "unknown" or (kind and kind != found):
        raise InputError(f"{src} is not a saved {kind or 'advice or sweep'} result",
                         expected="advice.json (tladvise) or results.json (tltune)",
                         received=f"a JSON object with keys {sorted(data)[:8]}",
                         fix="pass the folder the run wrote")
    out_dir = Path(out).expanduser() if out else src.parent
    if found == "sweep":
        from tuner.report import render_saved_sweep

        return render_saved_sweep(src, out_dir)
    return _advice_report(data, src, out_dir)


def load_json(path: Path) -> dict:
    """A JSON object from ``path``, or an :class:`InputError` that says what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"Cannot read {path}", expected="a readable JSON file",
                         received=e.strerror or str(e), fix="check the path and permissions") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path} is not valid JSON", expected="the file a run wrote",
                         received=str(e), fix="re-run tladvise / tltune to write it again") from e
    if not isinstance(data, dict):
        raise InputError(f"{path} does not hold a JSON object", expected="a JSON object",
                         received=type(data).__name__, fix="pass the advice.json or results.json "
                         "that a run wrote")
    return data


def _kind(data: dict) -> str:
    from tuner.report import is_sweep_result

    if is_sweep_result(data):
        return "sweep"
    if "advice" in data and "profile" in data:
        return "advice"
    return "unknown"


def _find_json(path: Path, kind: str | None) -> Path:
    from advisor.report import ADVICE_JSON
    from tuner.report import RESULTS_JSON

    if path.is_file():
        return path
    if not path.is_dir():
        raise InputError(f"{str(path)!r} does not exist", expected="a run folder or a JSON file",
                         received="a path that is not there", fix="check the spelling")
    names = {"advice": [ADVICE_JSON], "sweep": [RESULTS_JSON]}.get(kind or "",
                                                                 [RESULTS_JSON, ADVICE_JSON])
    for name in names:
        if (path / name).is_file():
            return path / name
    raise InputError(f"No saved result in {path}",
                     expected=" or ".join(names) + " in the folder",
                     received=", ".join(sorted(p.name for p in path.iterdir())[:10]) or "an empty folder",
                     fix="pass the folder given to tladvise --report or tltune --out")


def _advice_report(data: dict, src: Path, out_dir: Path):
    from advisor import SCHEMA_VERSION, AdviceResult
    from advisor.report import write_advice_report

    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise InputError(f"{src} was written with schema version {version}",
                         expected=f"schema version {SCHEMA_VERSION}",
                         received=str(version), fix="re-run tladvise with this version")
    try:
        result = AdviceResult.from_dict(data)
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"{src} is missing parts of an advice result",
                         expected="the advice.json written by tladvise",
                         received=f"{type(e).__name__}: {e}",
                         fix="re-run tladvise to write it again") from e
    return write_advice_report(result, out_dir, save_json=out_dir.resolve() != src.parent.resolve())


def main() -> None:
    """Entry point of ``tlreport``."""
    app(prog_name="tlreport")


if __name__ == "__main__":
    main()
