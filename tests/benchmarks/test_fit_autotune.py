"""benchmarks/fit_autotune.py: the end of each fit is timed from its last epoch, and the
'on' arm is tf.data's default."""

from __future__ import annotations

import importlib.util
import sys
import time

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("fit_autotune",
                                               REPO / "benchmarks" / "fit_autotune.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench
_spec.loader.exec_module(bench)


def test_fit_tails_time_from_the_last_epoch_and_keep_the_callers_on_epoch() -> None:
    seen = []

    def fake_fit(*, on_epoch, epochs):
        for e in range(epochs):
            time.sleep(0.1)  # an epoch: not part of the tail
            on_epoch(e, 0.5)
        time.sleep(0.2)  # the iterator's deletion, say
        return "best"

    tails = bench.FitTails(fake_fit)
    assert tails(on_epoch=lambda e, acc: seen.append(e), epochs=3) == "best"
    assert seen == [0, 1, 2]
    # counted from the start instead, the tail would be >= 0.5 s; the margin absorbs a
    # loaded machine's late wake-ups
    assert len(tails.tails) == 1 and 0.2 <= tails.tails[0] < 0.45


def test_the_on_arm_keeps_autotuning_and_the_off_arm_is_tltunes() -> None:
    import tensorflow as tf

    from tuner.training._stream import prefetched

    ds = tf.data.Dataset.range(4)
    assert bench.autotuned(tf, ds).options().autotune.enabled is not False
    assert prefetched(tf, ds).options().autotune.enabled is False
