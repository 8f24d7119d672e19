"""The interface every health check implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from advisor.health._data import HealthData
from advisor.health._thresholds import HealthThresholds
from advisor.health._types import Finding

__all__ = ["HealthCheck"]


class HealthCheck(ABC):
    """One kind of dataset issue. ``find_issues`` reads a :class:`HealthData` (never
    the files) and returns zero or more findings.

    ``produces`` names the ``Finding.check`` values the class can emit.
    """

    produces: ClassVar[tuple[str, ...]] = ()

    def __init__(self, thresholds: HealthThresholds | None = None) -> None:
        self.thresholds = thresholds

    def _t(self) -> HealthThresholds:
        return self.thresholds if self.thresholds is not None else HealthThresholds()

    @abstractmethod
    def find_issues(self, data: HealthData) -> list[Finding]:
        """Return the findings of this check (empty when the dataset is fine)."""
