"""best_of: the sweep's choice among finished trials."""

from __future__ import annotations

from tuner.trial import TrialRecord, best_of


def rec(n: int, state: str, acc: float | None, loss: float | None = None) -> TrialRecord:
    return TrialRecord(number=n, state=state, params={}, val_accuracy=acc, val_loss=loss)


def test_highest_accuracy_then_lowest_loss_then_first() -> None:
    trials = [rec(0, "COMPLETE", 0.9, 0.3), rec(1, "COMPLETE", 1.0, 0.20),
              rec(2, "COMPLETE", 1.0, 0.05), rec(3, "PRUNED", 1.0, 0.01),
              rec(4, "FAIL", None), rec(5, "COMPLETE", 1.0, 0.05)]
    assert best_of(trials).number == 2  # a tie on accuracy goes to the lower loss
    assert best_of([rec(0, "COMPLETE", 0.8), rec(1, "COMPLETE", 0.8)]).number == 0
    assert best_of([rec(0, "PRUNED", 0.9), rec(1, "FAIL", None)]) is None


def h(epoch: int, phase: str, acc: float, loss: float) -> dict:
    return {"epoch": epoch, "phase": phase, "val_accuracy": acc, "val_loss": loss}


def test_refit_epochs_replays_the_runner_selection() -> None:
    from tuner.trial import refit_epochs

    # best in the head phase: fine-tuning never beat it
    assert refit_epochs([h(0, "head", .8, .5), h(1, "head", .9, .4), h(2, "head", .9, .45),
                         h(3, "finetune", .85, .3), h(4, "finetune", .9, .5)]) == {"head": 2}
    # best while fine-tuning: the head's own best epoch, then fine-tune epochs up to the best
    assert refit_epochs([h(0, "head", .8, .5), h(1, "head", .7, .6), h(2, "finetune", .85, .4),
                         h(3, "finetune", .95, .3), h(4, "finetune", .9, .2)]
                        ) == {"head": 1, "finetune": 2}
    assert refit_epochs([h(0, "head", .8, .5), h(1, "head", .8, .3)]) == {"head": 2}  # tie: loss
    assert refit_epochs([h(0, "scratch", .5, 1.), h(1, "scratch", .6, .9),
                         h(2, "scratch", .6, .95)]) == {"scratch": 2}
    assert refit_epochs([{"epoch": 0, "val_accuracy": .5}]) is None  # a pruned trial's history
    assert refit_epochs([]) is None
