"""When to try again, and how long to wait first: pure functions of the response."""

from __future__ import annotations

import random
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from scopeaudit.http.settings import HttpSettings

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# insp.ac documents X-RateLimit-Reset as seconds until the reset; a value this large can only
# be an epoch timestamp, which some gateways send under the same name.
_EPOCH_THRESHOLD = 1_000_000_000


def server_wait(headers: Mapping[str, str], status: int, now: float) -> float | None:
    """The wait the server asked for: Retry-After (seconds or an HTTP date), else, on a 429
    or when the route's budget is spent, X-RateLimit-Reset. None when it named none."""
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        value = retry_after.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    if status == 429 or headers.get("x-ratelimit-remaining", "").strip() == "0":
        return reset_seconds(headers, now)
    return None


def reset_seconds(headers: Mapping[str, str], now: float) -> float | None:
    reset = headers.get("x-ratelimit-reset")
    if reset is None:
        return None
    try:
        value = float(reset.strip())
    except ValueError:
        return None
    if value > _EPOCH_THRESHOLD:
        value -= now
    return max(0.0, value)


def backoff_wait(attempt: int, settings: HttpSettings) -> float:
    """Exponential: backoff, 2 x backoff, 4 x backoff ... (attempt counts from 1), capped."""
    return float(min(settings.backoff_max, settings.backoff * (2 ** (attempt - 1))))


def jitter(settings: HttpSettings, rng: random.Random) -> float:
    # Spreads clients that failed together; never more than the first wait itself, so tests
    # with tiny waits stay fast.
    return rng.uniform(0.0, min(0.5, settings.backoff))
