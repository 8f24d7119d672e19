"""One error hierarchy for the whole project.

Every error says what went wrong, what was expected, what was received and how to
fix it. The CLIs map :attr:`TLError.exit_code` to the process exit status:
2 for bad input or configuration, 1 for internal errors.
"""

from __future__ import annotations

__all__ = [
    "TLError",
    "InputError",
    "DatasetError",
    "WeightsError",
    "ConfigError",
    "InternalError",
]


class TLError(Exception):
    """Base class of every error this project raises on purpose."""

    exit_code: int = 1

    def __init__(
        self,
        what: str,
        *,
        expected: str | None = None,
        received: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.what = what
        self.expected = expected
        self.received = received
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [self.what.rstrip(".") + "."]
        if self.expected:
            parts.append(f"Expected: {self.expected}.")
        if self.received:
            parts.append(f"Received: {self.received}.")
        if self.fix:
            parts.append(f"Fix: {self.fix}")
        return " ".join(parts)


class InputError(TLError):
    """The user gave something we cannot use (path, option, file)."""

    exit_code = 2


class DatasetError(InputError):
    """The dataset folder or manifest cannot be used as given."""


class WeightsError(InputError):
    """Pretrained weights are missing or cannot be loaded."""


class ConfigError(InputError):
    """A run configuration conflicts with saved state (e.g. resuming a changed sweep)."""


class InternalError(TLError):
    """A bug or an unexpected environment failure."""

    exit_code = 1
