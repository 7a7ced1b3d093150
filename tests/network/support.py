"""Helpers for the HTTP tests: fast settings, fake credentials, captured results."""

from __future__ import annotations

import json
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


# The key file of the log-input tests: one key, two read scopes.
KEYS = """\
keys:
  - id: key_bi
    name: BI export
    owner: data@example.test
    expires: 2027-06-30
    created: 2026-06-01
    scopes:
      - issues:read
      - works:read
"""


def record(day: int, path: str = "/v1/issues") -> bytes:
    """One JSON log record of key_bi at 10:00 on a day of November 2026 (107 bytes)."""
    return (b'{"time": "2026-11-%02dT10:00:00Z", "key_id": "key_bi", "method": "GET", '
            b'"path": "%s", "status": 200}\n' % (day, path.encode()))


def days(first: int, last: int) -> bytes:
    return b"".join(record(day) for day in range(first, last + 1))


def audit_logs(cli, keys: object, *logs: str, extra: tuple[str, ...] = ()) -> Result:  # type: ignore[no-untyped-def]
    """An audit as of 27 November 2026 of the key file ``keys`` over ``--logs`` values."""
    args = ["audit", "--no-config", "--keys", str(keys)]
    for value in logs:
        args += ["--logs", value]
    return cli(*args, "--as-of", "2026-11-27", "--jobs", "1", "--format", "json",
               "--no-timestamp", "--fail-on", "never", "--http-backoff", "0.01", *extra)


def log_inputs(result: Result) -> list[dict]:
    return [i for i in json.loads(result.out)["inputs"] if i["kind"] == "logs"]


def error_line(result: Result) -> str:
    """The one line of a run that failed with exit 2 (and printed no report)."""
    assert result.code == 2 and result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    return lines[0]
