"""tladvise: measure an image dataset against ImageNet and recommend how to transfer.

Library entry points: :func:`advise` (all in one), and its parts :func:`scan`
(layout + health), :func:`advisor.measure.measure` (features, BN shift, probes)
and :func:`advisor.recommend.recommend` (the rule).
"""

from advisor._advise import advise, scan
from advisor._result import AdviceResult, DatasetProfile
from advisor.errors import TLError
from advisor.measure import Measurements, measure
from advisor.recommend import Advice, Thresholds, recommend

__all__ = ["Advice", "AdviceResult", "DatasetProfile", "Measurements", "TLError", "Thresholds",
           "advise", "measure", "recommend", "scan"]
__version__ = "0.1.0"
