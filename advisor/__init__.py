"""tladvise: measure an image dataset against ImageNet and recommend how to transfer.

Library entry points: :func:`advise` (all in one), and its parts :func:`scan`
(layout + health), :func:`advisor.measure.measure` (features, BN shift, probes)
and :func:`advisor.recommend.recommend` (the rule). The subpackages keep their
names (``advisor.measure`` is the package, ``advisor.measure.measure`` the call).
"""

from advisor._advise import advise, scan
from advisor._render import render_advice, rich_progress
from advisor._result import SCHEMA_VERSION, AdviceResult, DatasetProfile
from advisor._verify import PairedDifference, PilotRun, VerifyResult
from advisor.errors import TLError
from advisor.measure._types import Measurements
from advisor.recommend._freeze import FreezePlan
from advisor.recommend._types import Advice
from advisor.recommend._rules import Thresholds

__all__ = ["SCHEMA_VERSION", "Advice", "AdviceResult", "DatasetProfile", "FreezePlan", "Measurements", "PilotRun",
           "PairedDifference", "TLError", "Thresholds", "VerifyResult", "advise", "render_advice", "rich_progress",
           "scan"]
__version__ = "0.1.0"
