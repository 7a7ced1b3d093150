"""Warnings collected while reading inputs: shown on stderr and kept in reports, never lost."""

from __future__ import annotations

from dataclasses import dataclass, field

from scopeaudit.http.credentials import redact_known


@dataclass(frozen=True)
class InputWarning:
    """One warning about an input, with the file (and line) it is about when there is one."""

    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}" if where else self.message


@dataclass
class Diagnostics:
    """A collector handed explicitly to each loader; there is no global warning state."""

    warnings: list[InputWarning] = field(default_factory=list)
    # what the tool chose for the user (a detected log format): said on stderr, not kept
    notes: list[InputWarning] = field(default_factory=list)

    def note(self, message: str, *, file: str | None = None) -> None:
        self.notes.append(InputWarning(redact_known(message),
                                       None if file is None else redact_known(file)))

    def warn(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        # the file too: a log or key file's name may hold a token
        self.warnings.append(InputWarning(redact_known(message),
                                          None if file is None else redact_known(file), line))
