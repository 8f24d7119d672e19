"""The sweep's early stop: no gain above 1 SE of the validation accuracy for K trials."""

from __future__ import annotations

import math

import pytest

from advisor.errors import ConfigError
from tuner.search import StallStop, check_stall, stall_stop
from tuner.trial import TrialRecord


def _trials(accs: list[float | None], state: str = "COMPLETE") -> list[TrialRecord]:
    return [TrialRecord(number=i, state=state if a is not None else "FAIL", params={},
                        val_accuracy=a) for i, a in enumerate(accs)]


def test_stops_after_k_trials_without_a_gain_above_one_se() -> None:
    n = 100  # SE at 0.80 is 0.04
    accs = [0.70, 0.80, 0.83, 0.79, 0.82, 0.81]  # 0.83 is within 1 SE of 0.80
    assert stall_stop(_trials(accs[:5]), 4, n) is None  # only 3 after #1 so far
    stop = stall_stop(_trials(accs), 4, n)
    assert isinstance(stop, StallStop)
    assert stop.reference_trial == 1 and stop.stalled == 4 and stop.finished == 6
    assert stop.se == pytest.approx(math.sqrt(0.8 * 0.2 / n), abs=1e-6)
    assert "did not beat trial #1" in stop.reason


def test_a_gain_above_one_se_resets_the_count_and_small_gains_add_up() -> None:
    n = 100
    assert stall_stop(_trials([0.80, 0.81, 0.82, 0.85, 0.80, 0.80]), 4, n) is None  # 0.85 > 0.84
    # 0.80 -> 0.83 -> 0.845: each below 1 SE of the last, together above it
    assert stall_stop(_trials([0.80, 0.83, 0.845, 0.80, 0.80, 0.80]), 4, n) is None


def test_failed_trials_do_not_count_and_zero_means_never() -> None:
    accs = [0.8, None, None, None, None, 0.8]
    assert stall_stop(_trials(accs), 2, 50) is None  # one finished trial after the reference
    assert stall_stop(_trials([0.8] * 20), 0, 50) is None
    assert stall_stop(_trials([0.8] * 5, state="PRUNED"), 4, 50) is not None  # pruned count


def test_negative_patience_is_refused() -> None:
    with pytest.raises(ConfigError):
        check_stall(-1)
