"""tune(): the recipe end to end: options in, one session, a result out; a run
interrupted before its search resumes from what it wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.errors import ConfigError, InputError
from tests.tuner.training.test_framing import border_classes
from tuner import SweepOptions, SweepResult, load_results, tune
from tuner.search import SweepEvent

KW = dict(trials=1, scenario="feature_extractor", weights="none", input_size=32, epochs=1,
          isolate=False)


def test_options_are_checked_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown sweep option"):
        tune(tmp_path, trails=3)
    with pytest.raises(InputError, match="No dataset given"):
        tune()
    with pytest.raises(ConfigError, match="trials must be positive"):
        tune(tmp_path, trials=0)
    with pytest.raises(ConfigError, match="Unknown framing"):
        SweepOptions.of(tmp_path, framing="pad")
    with pytest.raises(ConfigError, match="export"):
        SweepOptions.of(tmp_path, export=("keras", "onnx"))
    assert not any(tmp_path.iterdir())  # nothing was created


@pytest.mark.slow
def test_a_run_interrupted_before_its_search_resumes_and_finishes(tmp_path: Path) -> None:
    root = border_classes(tmp_path / "ds", n=8, size=(48, 32))
    run = tmp_path / "run"

    def stop_at_framing(ev: SweepEvent) -> None:
        if ev.kind == "framing":  # decided, before the data are prepared and the search
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tune(root, SweepOptions(out=run, **KW), progress=stop_at_framing)
    config = json.loads((run / "config.json").read_text())
    assert config["space"] is None and not (run / "results.json").exists()

    with pytest.raises(KeyboardInterrupt):  # the same command again starts that run over
        tune(root, SweepOptions(out=run, **KW), progress=stop_at_framing)
    events: list[SweepEvent] = []
    r = tune(resume=run, progress=events.append)
    assert isinstance(r, SweepResult) and r.status == "done" and r.n_finished == 1
    assert r.config.space is not None and r.config.framing_choice is not None
    assert [e.kind for e in events].count("framing") == 1  # decided again: nothing was kept
    assert load_results(run) == r  # results.json holds exactly what tune() returned
    with pytest.raises(ConfigError, match="already holds a sweep"):  # now it has trials
        tune(root, SweepOptions(out=run, **KW))


@pytest.mark.slow
def test_the_lr_finder_widens_the_head_range_and_the_stall_rule_stops_the_search(tmp_path: Path
                                                                                  ) -> None:
    from tests.conftest import write_image_folder

    root = write_image_folder(tmp_path / "ds", {"blue": 10, "red": 10}, size=40)
    r = tune(root, trials=8, scenario="partial_freeze", weights="none", input_size=32,
             epochs=2, isolate=False, stall=2, out=tmp_path / "run",
             backbone="mobilenet_v2_035", framing="squash", refit=False)
    f = r.config.lr_finding
    assert r.config.lr_find and f is not None and f.backbone is not None
    sp = r.config.space
    lo, hi = sp.head_lr
    c_lo, c_hi = f.head.centred(2.0)  # the default head range, 1e-4 .. 1e-2, is 2 decades
    # widened to hold both the default range and the one centred on the suggestion
    assert (lo, hi) == (min(1e-4, c_lo), max(1e-2, c_hi))
    assert lo < f.head.suggestion < hi
    assert sp.centre.head_lr == pytest.approx((lo * hi) ** 0.5)  # the first trial
    assert (lo, hi) == (1e-4, 1e-2) or any("widened" in n for n in sp.notes)
    assert sp.backbone_lr == (1e-5, 1e-3)  # measured, reported, not used: the default range
    # a tiny, easy problem: every trial ties, so the search stops after the first + 2
    assert r.stopped is not None and r.n_finished < 8
    assert r.stopped.stalled == 2 and r.n_finished == r.stopped.finished
    assert "--stall 2" in r.command
    assert load_results(tmp_path / "run") == r
