"""boto3 clients, and what a failed AWS call said (for the retry loop of remote.retry).

botocore's own retries are switched off: throttling and server errors are retried by
remote.retry, with the policy of every remote input.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from scopeaudit.errors import InputError
from scopeaudit.http.settings import HttpSettings
from scopeaudit.remote import retry
from scopeaudit.remote.retry import Failure, RemoteError, gave_up

__all__ = ["EXTRA", "AwsError", "Failure", "call", "client", "failure_of", "gave_up"]

T = TypeVar("T")
AwsError = RemoteError
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


def failure_of(exc: BaseException) -> Failure | None:
    """The failure of a botocore error; None for an exception that is not one."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        HTTPClientError,
        ReadTimeoutError,
        ResponseStreamingError,
    )
    from botocore.exceptions import ConnectionError as BotoConnectionError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        headers = {str(k).lower(): str(v) for k, v in meta.get("HTTPHeaders", {}).items()}
        return Failure(str(error.get("Code") or "error"), meta.get("HTTPStatusCode"),
                       str(error.get("Message") or ""), headers=headers)
    if isinstance(exc, BotoCoreError):
        transient = isinstance(exc, BotoConnectionError | HTTPClientError | ReadTimeoutError |
                               ResponseStreamingError)
        return Failure(type(exc).__name__, None, str(exc), transient=transient)
    return None


def call(operation: Callable[[], T], settings: HttpSettings, *,
         sleep: Callable[[float], None] = time.sleep,
         rng: random.Random | None = None) -> T:
    """``operation()`` (a boto3 call), retried as every remote call is (remote.retry)."""
    return retry.call(operation, settings, failure_of, THROTTLING, sleep=sleep, rng=rng)
