"""The result of ``tladvise --verify``: short real trainings, cross-fitted and paired,
that check the call and measure what fine-tuning the top blocks gains.

The tuner computes it (:func:`tuner.verify.verify_advice`); the advisor owns the type,
because :class:`~advisor.AdviceResult` carries it and the advisor's renderers draw it,
and the advisor never imports the tuner.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor.codec import Record

__all__ = ["PilotRun", "PairedDifference", "VerifyResult", "VERDICTS"]

VERDICTS = ("confirmed", "overturned", "inconclusive")


@dataclass(frozen=True)
class PilotRun(Record):
    """One scenario of the pilot, over all its folds: ``val_accuracy`` is its accuracy
    on images that neither trained it nor chose its epoch (cross-fitted)."""

    scenario: str
    freeze_block: int
    freeze_layer: str
    val_accuracy: float
    epochs_run: int  # median over the folds
    seconds: float  # all folds


@dataclass(frozen=True)
class PairedDifference(Record):
    """``a`` minus ``b`` in accuracy (a fraction), paired on the same images and seeds.

    ``se`` combines ``se_images`` (spread of the per-image differences over the images)
    and ``se_runs`` (spread of the per-repeat differences: training noise; 0 with one
    repeat); ``discordant`` is the share of (image, repeat) pairs where exactly one of
    the two was right."""

    a: str
    b: str
    difference: float
    se: float
    se_images: float
    se_runs: float
    n_images: int
    repeats: int
    discordant: float

    def interval(self, z: float = 2.0) -> tuple[float, float]:
        """``difference`` +- ``z`` standard errors."""
        return self.difference - z * self.se, self.difference + z * self.se


@dataclass(frozen=True)
class VerifyResult:
    """The recommended scenario and its rival (the other of the feature extractor and
    the partial freeze; for a call of full fine-tune or from scratch, the better of
    them) trained and scored by cross-fitting, the verdict on the call (``confirmed``, ``overturned`` or
    ``inconclusive``), and ``gain``: fine-tuning the top blocks (a partial freeze at
    ``gain_block``) minus the feature extractor, paired on the same images.

    ``difference`` is the recommended minus the rival accuracy, ``standard_error`` that
    of the paired difference; ``n_val`` images were scored (each once, by a model that
    did not see it), ``n_train`` trained each fold; ``budget`` is the pilot's training
    budget, ``scheme`` how the images were cut, ``split_source`` where they came from.
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
    gain: PairedDifference | None = None
    gain_block: int | None = None
    scheme: str = ""
    call: str = ""  # the scenario the pilot's evidence supports (tuner.verify.call_from_evidence)
    call_reason: str = ""

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
                "gain": None if self.gain is None else self.gain.to_dict(),
                "gain_block": self.gain_block, "scheme": self.scheme,
                "call": self.call, "call_reason": self.call_reason,
                "n_train": self.n_train, "n_val": self.n_val, "seconds": self.seconds,
                "runs": [r.to_dict() for r in self.runs],
                "budget": dict(self.budget), "split_source": dict(self.split_source)}

    @classmethod
    def from_dict(cls, d: dict) -> "VerifyResult":
        """Inverse of :meth:`to_dict` (``KeyError``/``TypeError``/``ValueError`` on
        another shape; files from before the gain estimate load without it)."""
        recommended, rival = (PilotRun.from_dict(r) for r in d["runs"])
        gain = d.get("gain")
        return cls(recommended=recommended, rival=rival, n_train=int(d["n_train"]),
                   n_val=int(d["n_val"]), difference=float(d["difference"]),
                   standard_error=float(d["standard_error"]), verdict=str(d["verdict"]),
                   explanation=str(d["explanation"]), seconds=float(d["seconds"]),
                   budget=dict(d.get("budget") or {}),
                   split_source=dict(d.get("split_source") or {}),
                   gain=None if gain is None else PairedDifference.from_dict(gain),
                   gain_block=d.get("gain_block"), scheme=str(d.get("scheme") or ""),
                   call=str(d.get("call") or ""), call_reason=str(d.get("call_reason") or ""))
