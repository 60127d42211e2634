"""Errors the CLI turns into one clear line and an exit code (2: bad input, 1: failed work)."""

from __future__ import annotations


class TransferError(Exception):
    """Work that failed (model server down, a stage that could not complete): exit 1."""
    exit_code = 1


class InputError(TransferError):
    """Bad usage or bad input: exit 2. Each entry of `problems` is one printable line."""
    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


class CaseError(InputError):
    """One or more problems in a place file, each naming file, line and field."""
