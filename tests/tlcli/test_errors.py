"""The one error boundary of the four commands (:mod:`tlcli._errors`): a TLError says its
message and exits with its code, Ctrl-C exits 130 with the command's hint, anything else
is an "internal error" (exit 1) whose traceback only ``TL_DEBUG=1`` shows."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from advisor.errors import InputError, InternalError
from tlcli._errors import guarded

HINT = "partial work is kept; continue with --resume"


def _app(exc: BaseException | None) -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.command()
    @guarded(interrupted=HINT)
    def cmd(n: int = typer.Option(1, "--n")) -> None:
        """A command that raises ``exc``."""
        if exc is not None:
            raise exc
        typer.echo(f"ok {n}")

    return app


def _invoke(exc: BaseException | None, *args: str, debug: bool = False):
    return CliRunner().invoke(_app(exc), list(args), env={"TL_DEBUG": "1" if debug else ""})


def _text(result) -> str:
    return " ".join(result.output.split())


def test_a_normal_run_and_its_options_pass_through():
    r = _invoke(None, "--n", "7")
    assert r.exit_code == 0 and r.output.strip() == "ok 7"
    assert _invoke(None, "--n", "seven").exit_code == 2  # the parser's usage error, untouched
    assert _invoke(typer.Exit(3)).exit_code == 3  # a body's own exit status, untouched


def test_bad_input_exits_2_with_the_whole_message_escaped():
    r = _invoke(InputError("No [bold]images[/bold] found", expected="class folders",
                           received="an empty folder", fix="add images"))
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
    out = _text(r)
    assert out.startswith("error: No [bold]images[/bold] found.")  # literal, not rich markup
    assert "Expected: class folders." in out and "Fix: add images" in out
    assert "Traceback" not in r.output


def test_an_internal_tlerror_exits_1():
    r = _invoke(InternalError("The cache is inconsistent"))
    assert r.exit_code == 1 and "error: The cache is inconsistent." in _text(r)


def test_interrupt_exits_130_with_the_commands_hint():
    r = _invoke(KeyboardInterrupt())
    assert r.exit_code == 130 and isinstance(r.exception, SystemExit)
    assert _text(r) == f"interrupted: {HINT}"


def test_an_unexpected_exception_exits_1_without_a_traceback():
    r = _invoke(ZeroDivisionError("division by zero"))
    assert r.exit_code == 1
    assert isinstance(r.exception, SystemExit)  # handled, not escaped
    out = _text(r)
    assert "internal error: ZeroDivisionError: division by zero" in out
    assert "rerun with TL_DEBUG=1" in out and "Traceback" not in r.output


def test_tl_debug_lets_the_exception_and_its_traceback_through():
    r = _invoke(ZeroDivisionError("division by zero"), debug=True)
    assert r.exit_code == 1 and isinstance(r.exception, ZeroDivisionError)
    assert "internal error" not in r.output


@pytest.mark.parametrize("debug", [False, True])
def test_a_real_process_prints_a_traceback_only_with_tl_debug(debug):
    code = textwrap.dedent("""
        import typer
        from tlcli._errors import guarded

        @guarded()
        def cmd() -> None:
            raise ValueError("unexpected")

        typer.run(cmd)
    """)
    env = {"PATH": "", "TL_DEBUG": "1" if debug else "0"}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=120, cwd=str(Path(__file__).parents[2]))
    assert p.returncode == 1
    assert ("Traceback" in p.stderr) is debug
    assert ("rerun with TL_DEBUG=1" in p.stderr) is not debug
    assert "ValueError" in p.stderr


# --- every command goes through it ----------------------------------------------------------

def _boom(exc: BaseException):
    def raise_(*args, **kwargs):
        raise exc
    return raise_


def test_every_command_maps_an_unexpected_error_to_exit_1(monkeypatch, tmp_path):
    import advisor
    import tuner
    from tlcli import advise, predict, report, tune

    monkeypatch.setattr(advisor, "advise", _boom(RuntimeError("advise broke")))
    monkeypatch.setattr(tuner, "tune", _boom(RuntimeError("tune broke")))
    monkeypatch.setattr(tuner, "predict", _boom(RuntimeError("predict broke")))
    monkeypatch.setattr(report, "render_run_dir", _boom(RuntimeError("report broke")))
    image = tmp_path / "x.png"
    image.write_bytes(b"")
    for app, args, word in ((advise.app, [str(tmp_path), "--no-cache"], "advise"),
                            (tune.app, [str(tmp_path), "--no-isolate"], "tune"),
                            (predict.app, [str(tmp_path), str(image)], "predict"),
                            (report.app, [str(tmp_path)], "report")):
        r = CliRunner().invoke(app, args, env={"TL_DEBUG": ""})
        assert r.exit_code == 1, (word, r.output)
        assert f"internal error: RuntimeError: {word} broke" in _text(r), word
        assert isinstance(r.exception, SystemExit)


def test_tltune_interrupted_says_how_to_resume(monkeypatch, tmp_path):
    import tuner
    from tlcli import tune

    monkeypatch.setattr(tuner, "tune", _boom(KeyboardInterrupt()))
    r = CliRunner().invoke(tune.app, [str(tmp_path), "--no-isolate"])
    assert r.exit_code == 130
    assert "interrupted: finished trials are saved; continue with --resume RUN_DIR" in _text(r)
