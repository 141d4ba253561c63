"""The one exception type every wire decoder raises for bad remote input."""

from __future__ import annotations


class WireError(ValueError):
    """Malformed, oversized, non-canonical or otherwise unacceptable bytes.

    ``code`` is a stable machine-readable reason (e.g. ``"truncated"``, ``"bad-signature"``);
    the message is for humans.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.args[0]}"
