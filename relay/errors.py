"""Errors shared across the relay: user-facing errors carry one clear line and an exit code."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix; printed as one line, never as a traceback."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
