"""The configuration of a sweep (``config.json``) and the resume check against it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from advisor.codec import Record
from advisor.errors import ConfigError
from advisor.recommend import Advice
from tuner.search import SearchSpace
from tuner.training import FramingChoice, LRFinding

__all__ = ["SweepConfig", "RESUMABLE_KEYS", "check_resume"]

# Keys that may differ on --resume: they say when to stop and what to export,
# not what is searched.
RESUMABLE_KEYS = ("trials", "export", "refit", "rerank", "workers", "heartbeat", "stall")


@dataclass(frozen=True)
class SweepConfig(Record):
    """Everything that defines a sweep; stored as ``config.json``.

    ``storage`` is the study's URL without its password (``None``: a file in the run
    directory); ``study`` the study's name in it; ``joined`` whether this run joined a
    study that another worker started (its configuration is that worker's);
    ``workers`` the local worker processes; ``heartbeat`` the seconds between trial
    heartbeats on a URL storage."""

    dataset: str
    dataset_fingerprint: str
    n_images: int
    classes: tuple[str, ...]
    backbone: str
    weights: str
    input_size: int
    test_split: str | None
    max_images: int | None
    seed: int
    backend: str
    storage: str | None
    trials: int
    epochs: int
    patience: int
    scenario: str | None
    advice: Advice | None
    space: SearchSpace | None
    export: tuple[str, ...] = ("keras",)
    refit: bool = True  # final model on train + val (else: train, early stopping on val)
    rerank: int | None = None  # top trials re-scored by cross-validation (0 or None: off)
    advice_source: str = ""
    # How images become squares (advisor.data.frame): "squash", "crop", or "auto" (chosen
    # by tuner.training._framing before the search, recorded in framing_choice). Stored configs
    # older than this field were squashed.
    framing: str = "squash"
    framing_choice: FramingChoice | None = None  # the decision of an "auto" framing
    study: str = "tltune"
    joined: bool = False
    workers: int = 1
    heartbeat: int | None = None
    # Stored configs older than these fields ran every trial and no LR finder.
    stall: int = 0  # early stop after this many trials without a gain above 1 SE (0: off)
    lr_find: bool = False  # the LR finder set the head's learning-rate range of ``space``
    lr_finding: LRFinding | None = None  # what it found (tuner.find_lr)
    version: int = 1
    extra: dict = field(default_factory=dict)

    @property
    def resolved_framing(self) -> str:
        """The framing the images are decoded with ("squash" or "crop")."""
        if self.framing == "auto":
            return self.framing_choice.framing if self.framing_choice else "squash"
        return self.framing

    def changed_keys(self, other: "SweepConfig") -> list[str]:
        """Keys whose values differ (JSON-normalised), except :data:`RESUMABLE_KEYS`."""
        a, b = _normal(self.to_dict()), _normal(other.to_dict())
        return sorted(k for k in a if k not in RESUMABLE_KEYS and k not in ("advice_source",)
                      and a.get(k) != b.get(k))


def _normal(d: Any) -> Any:
    return json.loads(json.dumps(d, sort_keys=True, default=str))


def check_resume(stored: SweepConfig, given: dict[str, Any], *, joining: bool = False) -> None:
    """Refuse options of a resumed sweep (or of a worker ``joining`` a shared study) that
    differ from the stored configuration (``given``: option name -> value, only the
    options the user set)."""
    before = stored.to_dict()
    changed = {k: (before.get(k), v) for k, v in given.items()
               if _normal(v) != _normal(before.get(k))}
    if not changed:
        return

    def short(v: Any) -> str:
        r = repr(v)
        return r if len(r) <= 80 else r[:77] + "..."

    detail = "; ".join(f"{k}: {short(a)} -> {short(b)}" for k, (a, b) in sorted(changed.items()))
    if joining:
        raise ConfigError(f"This worker's options differ from the study's: "
                          f"{', '.join(sorted(changed))}",
                          expected="the configuration the study's first worker started with",
                          received=detail,
                          fix="join without those options (the study's are used), or pass "
                              "another --study to start a new sweep")
    raise ConfigError(f"The sweep configuration changed: {', '.join(sorted(changed))}",
                      expected="the configuration the sweep was started with",
                      received=detail,
                      fix="resume without those options (the stored ones are used), or "
                          "start a new sweep without --resume")
