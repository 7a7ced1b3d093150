"""The one error type that carries bad input to the CLI, and the exit codes."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    CLEAN = 0
    FINDINGS = 1
    ERROR = 2


class InputError(Exception):
    """Bad input, config or usage: reported as one line ``file:line: message``, exit 2.

    Messages must never contain a token: callers pass values through
    :func:`scopeaudit.secrets.redact` before quoting them.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only fields survive pickling (errors cross from parallel workers).
        return (_rebuild_input_error, (self.message, self.file, self.line))

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


def _rebuild_input_error(message: str, file: str | None, line: int | None) -> InputError:
    return InputError(message, file=file, line=line)
