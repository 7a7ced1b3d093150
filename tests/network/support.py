"""Helpers for the HTTP tests: fast settings, fake credentials, captured results."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

# Fast settings for every command: tiny waits, short timeouts (see each test for its own).
FAST = ("--http-backoff", "0.01", "--http-timeout", "0.5", "--http-connect-timeout", "0.5")


def fake_token(kind: str = "live") -> str:
    """An insp.ac-shaped token, made here so that no token-shaped literal is in the repo."""
    return f"sk_{kind}_" + secrets.token_hex(12)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str
    logs: str

    def assert_clean(self, *secret_values: str) -> None:
        """No credential in stdout, stderr or any log record, and no traceback."""
        assert "Traceback" not in self.err
        for value in secret_values:
            for where, text in (("stdout", self.out), ("stderr", self.err),
                                ("logs", self.logs)):
                assert value not in text, f"a credential leaked into {where}"
