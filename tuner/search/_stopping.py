"""When a sweep stops before its trial budget: no trial has beaten the best by more than
the validation noise for ``patience`` finished trials in a row.

The noise is the binomial standard error of the reference accuracy on the validation
images, ``sqrt(p (1 - p) / n_val)``. The reference is the accuracy of the last trial
that beat the previous reference by more than its SE (the first finished trial to
begin with), so small gains do not reset the count, while gains that add up to more
than one SE over the reference do. ``--trials`` stays the upper bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.codec import Record
from advisor.errors import ConfigError
from tuner.trial import TrialRecord

__all__ = ["StallStop", "stall_stop", "DEFAULT_STALL", "check_stall"]

DEFAULT_STALL = 10  # finished trials without a gain above 1 SE before the sweep stops


@dataclass(frozen=True)
class StallStop(Record):
    """Why the search stopped early: after ``finished`` trials, the last ``stalled`` of
    them none beat ``reference_accuracy`` (trial ``reference_trial``) by more than
    ``se``."""

    finished: int
    stalled: int
    reference_trial: int
    reference_accuracy: float
    se: float
    n_val: int

    @property
    def reason(self) -> str:
        return (f"stopped after {self.finished} trials: the last {self.stalled} did not beat "
                f"trial #{self.reference_trial}'s validation accuracy "
                f"{self.reference_accuracy:.4f} by more than 1 SE ({self.se:.4f}, "
                f"{self.n_val} validation images)")


def check_stall(patience: int) -> int:
    """``patience`` (0: never stop early), or a :class:`ConfigError`."""
    if patience < 0:
        raise ConfigError("The early-stop patience must not be negative",
                          expected="0 (never stop early) or a number of trials",
                          received=str(patience), fix="pass --stall 10, or --stall 0")
    return patience


def _se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1.0 - p), 0.0) / n) if n else 0.0


def stall_stop(trials: Sequence[TrialRecord], patience: int, n_val: int) -> StallStop | None:
    """The stop decision over the finished trials in the order they finished (by
    number); ``None`` while the sweep should go on (always with ``patience`` 0)."""
    if patience < 1 or n_val < 1:
        return None
    done = sorted((t for t in trials if t.is_finished and t.val_accuracy is not None),
                  key=lambda t: t.number)
    ref: TrialRecord | None = None
    since = 0
    for t in done:
        if ref is None or t.val_accuracy > ref.val_accuracy + _se(ref.val_accuracy, n_val):
            ref, since = t, 0
        else:
            since += 1
    if ref is None or since < patience:
        return None
    return StallStop(finished=len(done), stalled=since, reference_trial=ref.number,
                     reference_accuracy=float(ref.val_accuracy),
                     se=round(_se(ref.val_accuracy, n_val), 6), n_val=n_val)
