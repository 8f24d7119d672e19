"""Measurements on extracted features: transferability (LogME), linear probes, projections."""

from advisor.measure._logme import logme

__all__ = ["logme"]
