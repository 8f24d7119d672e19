"""The result of ``tladvise --verify``: two short real trainings that check the call.

The tuner computes it (:func:`tuner.verify.verify_advice`); the advisor owns the type,
because :class:`~advisor.AdviceResult` carries it and the advisor's renderers draw it,
and the advisor never imports the tuner.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor.codec import Record

__all__ = ["PilotRun", "VerifyResult", "VERDICTS"]

VERDICTS = ("confirmed", "overturned", "inconclusive")


@dataclass(frozen=True)
class PilotRun(Record):
    """One trained scenario of the pilot."""

    scenario: str
    freeze_block: int
    freeze_layer: str
    val_accuracy: float
    epochs_run: int
    seconds: float


@dataclass(frozen=True)
class VerifyResult:
    """The two runs (the recommended scenario and its rival, ``advice.runner_up``) and
    the verdict on the call: ``confirmed``, ``overturned`` or ``inconclusive``.

    ``difference`` is the recommended minus the rival validation accuracy,
    ``standard_error`` that of the difference; ``budget`` is the pilot's training
    budget and ``split_source`` where its train and validation images came from.
    """

    recommended: PilotRun
    rival: PilotRun
    n_train: int
    n_val: int
    difference: float
    standard_error: float
    verdict: str
    explanation: str
    seconds: float
    budget: dict = field(default_factory=dict)
    split_source: dict = field(default_factory=dict)

    @property
    def runs(self) -> tuple[PilotRun, PilotRun]:
        return self.recommended, self.rival

    @property
    def scenarios(self) -> tuple[str, str]:
        return self.recommended.scenario, self.rival.scenario

    @property
    def accuracies(self) -> dict[str, float]:
        return {r.scenario: r.val_accuracy for r in self.runs}

    def to_dict(self) -> dict:
        """The JSON shape ``tladvise --json`` writes (``runs``: recommended, then rival)."""
        return {"verdict": self.verdict, "explanation": self.explanation,
                "scenarios": list(self.scenarios), "accuracies": self.accuracies,
                "difference": self.difference, "standard_error": self.standard_error,
                "n_train": self.n_train, "n_val": self.n_val, "seconds": self.seconds,
                "runs": [r.to_dict() for r in self.runs],
                "budget": dict(self.budget), "split_source": dict(self.split_source)}

    @classmethod
    def from_dict(cls, d: dict) -> "VerifyResult":
        """Inverse of :meth:`to_dict` (``KeyError``/``TypeError``/``ValueError`` on
        another shape)."""
        recommended, rival = (PilotRun.from_dict(r) for r in d["runs"])
        return cls(recommended=recommended, rival=rival, n_train=int(d["n_train"]),
                   n_val=int(d["n_val"]), difference=float(d["difference"]),
                   standard_error=float(d["standard_error"]), verdict=str(d["verdict"]),
                   explanation=str(d["explanation"]), seconds=float(d["seconds"]),
                   budget=dict(d.get("budget") or {}),
                   split_source=dict(d.get("split_source") or {}))
