"""boto3 clients and the one retry loop for every AWS call.

botocore's own retries are switched off: throttling and server errors are retried here with
the policy HTTP inputs use (scopeaudit.http.retry: --http-retries, --http-backoff, a
Retry-After the service names), so one set of options governs every remote input.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from scopeaudit.errors import InputError
from scopeaudit.http.retry import RETRY_STATUSES, backoff_wait, jitter, server_wait
from scopeaudit.http.settings import HttpSettings

T = TypeVar("T")
EXTRA = "scopeaudit[s3]"
# Error codes that mean "slow down" (S3, CloudWatch Logs and AWS's JSON services).
THROTTLING = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "ThrottledException",
    "RequestThrottled", "RequestThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "ProvisionedThroughputExceededException",
    "InternalError", "ServiceUnavailable", "ServiceUnavailableException", "RequestTimeout",
})
_NO_CREDENTIALS = ("no AWS credentials found in the standard chain (AWS_ACCESS_KEY_ID and "
                   "AWS_SECRET_ACCESS_KEY, AWS_PROFILE and the shared config, a container or "
                   "instance role)")


def _boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise InputError(f"s3:// and cloudwatch:// inputs need the {EXTRA} extra: pip install "
                         f"'{EXTRA}'") from None
    return boto3


def client(service: str, settings: HttpSettings, region: str | None = None) -> Any:
    """A client from the standard credential chain; its secrets are remembered so that no
    error line or log record can show them."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    from scopeaudit import __version__
    from scopeaudit.http.credentials import remember

    session = _boto3().session.Session()
    try:
        credentials = session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
    except BotoCoreError as exc:
        raise InputError(f"cannot read AWS credentials: {exc}") from None
    if frozen is None or not frozen.access_key:
        raise InputError(_NO_CREDENTIALS)
    for secret in (frozen.access_key, frozen.secret_key, frozen.token):
        if secret:
            remember(secret)
    config = Config(retries={"total_max_attempts": 1},  # retried by call(), below
                    connect_timeout=settings.connect_timeout,
                    read_timeout=settings.read_timeout,
                    user_agent_extra=f"scopeaudit/{__version__}")
    try:
        return session.client(service, region_name=region, config=config,
                              verify=settings.ca_bundle)
    except BotoCoreError as exc:  # NoRegionError, an invalid endpoint URL ...
        raise InputError(f"cannot reach AWS {service}: {exc}") from None


@dataclass(frozen=True)
class Failure:
    """What a failed AWS call said: its error code, HTTP status and message."""

    code: str
    status: int | None
    message: str

    def text(self) -> str:
        shown = f"{self.code} (HTTP {self.status})" if self.status else self.code
        return f"{shown}: {self.message}" if self.message else shown


class AwsError(Exception):
    """A call that failed for good (not retryable, or out of tries)."""

    def __init__(self, failure: Failure, tries: int) -> None:
        super().__init__(failure.text())
        self.failure = failure
        self.tries = tries


def failure_of(exc: BaseException) -> Failure | None:
    """The failure of a botocore error; None for an exception that is not one."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        return Failure(str(error.get("Code") or "error"), meta.get("HTTPStatusCode"),
                       str(error.get("Message") or ""))
    if isinstance(exc, BotoCoreError):
        return Failure(type(exc).__name__, None, str(exc))
    return None


def _retryable(exc: BaseException, failure: Failure) -> bool:
    from botocore.exceptions import (
        ConnectionError as BotoConnectionError,
    )
    from botocore.exceptions import (
        HTTPClientError,
        ReadTimeoutError,
        ResponseStreamingError,
    )

    if isinstance(exc, BotoConnectionError | HTTPClientError | ReadTimeoutError |
                  ResponseStreamingError):
        return True
    return failure.code in THROTTLING or failure.status in RETRY_STATUSES


def _headers(exc: BaseException) -> dict[str, str]:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return {}
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return {str(k).lower(): str(v) for k, v in headers.items()}


def call(operation: Callable[[], T], settings: HttpSettings, *,
         sleep: Callable[[float], None] = time.sleep,
         rng: random.Random | None = None) -> T:
    """``operation()``, retried on throttling, server errors and connection failures (at
    most ``settings.tries`` tries, waiting as HTTP inputs wait); AwsError when it fails."""
    chance = rng or random.Random()
    for attempt in range(1, settings.tries + 1):
        try:
            return operation()
        except Exception as exc:
            failure = failure_of(exc)
            if failure is None:
                raise
            if not _retryable(exc, failure) or attempt == settings.tries:
                raise AwsError(failure, attempt) from None
            wait = server_wait(_headers(exc), failure.status or 0, time.time())
            if wait is not None and wait > settings.max_wait:
                raise AwsError(failure, attempt) from None
        sleep((wait if wait is not None else backoff_wait(attempt, settings))
              + jitter(settings, chance))
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def gave_up(error: AwsError) -> str:
    """The end of a message for a call given up on: its failure, and the tries if several."""
    tries = f" (gave up after {error.tries} tries)" if error.tries > 1 else ""
    return error.failure.text() + tries
