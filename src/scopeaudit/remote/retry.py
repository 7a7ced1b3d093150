"""The one retry loop for every call to a cloud API (S3, CloudWatch Logs, GCS, Azure Blob).

Each SDK's own retries are switched off: throttling, server errors and connection failures
are retried here with the policy HTTP inputs use (scopeaudit.http.retry: --http-retries,
--http-backoff, a Retry-After the service names), so one set of options governs every remote
input. A backend only says what a failure was (:class:`Failure`), through its ``classify``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from scopeaudit.http.retry import RETRY_STATUSES, backoff_wait, jitter, server_wait
from scopeaudit.http.settings import HttpSettings

T = TypeVar("T")


@dataclass(frozen=True)
class Failure:
    """What a failed call said: its error code, HTTP status and message, whether it is
    worth another try, and the response's headers (lower-case names; for Retry-After)."""

    code: str
    status: int | None
    message: str
    transient: bool = False  # a connection or stream failure: retried whatever its code
    headers: Mapping[str, str] = field(default_factory=dict, compare=False)

    def text(self) -> str:
        shown = f"{self.code} (HTTP {self.status})" if self.status else self.code
        return f"{shown}: {self.message}" if self.message else shown


class RemoteError(Exception):
    """A call that failed for good (not retryable, or out of tries)."""

    def __init__(self, failure: Failure, tries: int) -> None:
        super().__init__(failure.text())
        self.failure = failure
        self.tries = tries


Classify = Callable[[BaseException], "Failure | None"]


def call(operation: Callable[[], T], settings: HttpSettings, classify: Classify,
         throttling: frozenset[str] = frozenset(), *,
         sleep: Callable[[float], None] = time.sleep,
         rng: random.Random | None = None) -> T:
    """``operation()``, retried on a code in ``throttling``, a retryable HTTP status and a
    transient failure (at most ``settings.tries`` tries, waiting as HTTP inputs wait);
    RemoteError when it fails. An exception ``classify`` does not know is raised as it is."""
    chance = rng or random.Random()
    for attempt in range(1, settings.tries + 1):
        try:
            return operation()
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            retryable = failure.transient or failure.code in throttling or \
                failure.status in RETRY_STATUSES
            if not retryable or attempt == settings.tries:
                raise RemoteError(failure, attempt) from None
            wait = server_wait(failure.headers, failure.status or 0, time.time())
            if wait is not None and wait > settings.max_wait:
                raise RemoteError(failure, attempt) from None
        sleep((wait if wait is not None else backoff_wait(attempt, settings))
              + jitter(settings, chance))
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def gave_up(error: RemoteError) -> str:
    """The end of a message for a call given up on: its failure, and the tries if several."""
    tries = f" (gave up after {error.tries} tries)" if error.tries > 1 else ""
    return error.failure.text() + tries
