"""Timestamps as logs write them -> seconds since the epoch (UTC).

Accepted: ISO 8601 with or without a zone (none means UTC), with ``Z`` or an offset, with a
space instead of ``T``, with any fraction of a second; epoch seconds, milliseconds,
microseconds and nanoseconds (as numbers or digit strings; the unit is told by magnitude, see
:func:`epoch_unit`); nginx ``$time_local`` / Common Log Format (``27/Nov/2026:14:03:51
+0000``), also with milliseconds and no zone as HAProxy writes it (``01/Oct/2026:10:00:00.123``);
Go's ``time.String()`` (``2026-10-01 10:00:00.123 +0000 UTC``, with or without its
``m=+0.000123`` monotonic reading).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
# Epoch values above this are milliseconds (in seconds it would be the year 5138).
MS_THRESHOLD = 100_000_000_000
# 10000-01-01T00:00:00Z: from here on no date exists (and date arithmetic overflows).
END_EPOCH = 253_402_300_800.0
# Past the last millisecond of the year 9999 an epoch is microseconds, past the last
# microsecond nanoseconds (Cloudflare's EdgeStartTimestamp, OTLP's timeUnixNano): the ranges
# follow each other, so every value accepted as milliseconds before keeps its meaning.
US_THRESHOLD = END_EPOCH * 1_000
NS_THRESHOLD = END_EPOCH * 1_000_000
_CLF_RE = re.compile(
    r"(\d{2})/([A-Za-z]{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?"
    r"(?:\s+([+-])(\d{2})(\d{2}))?", re.ASCII)
# Go's time.Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST [m=±secs]"
_GO_RE = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?) ([+-]\d{4})"
                    r" (?:[A-Za-z]{1,6}|[+-]\d{2,4})(?: m=[+-]\d+\.\d+)?", re.ASCII)


def parse_time(value: object) -> float:
    """Raise ValueError for anything that is not a recognisable timestamp."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a timestamp")
    if isinstance(value, int | float):
        return _epoch(float(value))
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {type(value).__name__}")
    fast = iso_utc_fast(value)
    if fast is not None:
        return fast
    text = value.strip()
    if not text:
        raise ValueError("empty timestamp")
    if text[0].isdigit() and text.replace(".", "", 1).isdigit():
        return _epoch(float(text))
    if text[0] == "[":
        text = text.strip("[]")
    if len(text) >= 20 and text[2] == "/" and text[6] == "/":
        return _clf(text)
    go = _GO_RE.fullmatch(text)
    if go is not None:
        text = f"{go.group(1)}T{go.group(2)}{go.group(3)}"
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def iso_utc_fast(text: str) -> float | None:
    """The commonest log form, ``YYYY-MM-DDTHH:MM:SS[.fff…]Z``: the minute's epoch is
    cached (keyed with the colon after the minutes, which the cache entry has checked), the
    seconds added. Anything else, or any doubt, returns None for the full parser."""
    base = _MINUTES.get(text[:17])
    if base is None:
        if len(text) < 20 or text[10] != "T" or text[16] != ":":
            return None
        try:
            base = datetime.fromisoformat(text[:16] + ":00+00:00").timestamp()
        except ValueError:
            return None
        if len(_MINUTES) >= 65536:
            _MINUTES.clear()
        _MINUTES[text[:17]] = base
    if text[-1:] != "Z":
        return None
    seconds = text[17:-1]
    if len(seconds) == 2:
        if not seconds.isdigit():
            return None
    elif seconds[2:3] != "." or not seconds[:2].isdigit() or not seconds[3:].isdigit() \
            or len(seconds) > 12:
        return None
    value = float(seconds)
    return None if value >= 60 else base + value


# A memo of minute -> epoch (pure function of its key; bounded), not configuration.
_MINUTES: dict[str, float] = {}


def _epoch(value: float) -> float:
    if value != value or value < 0:  # NaN or negative
        raise ValueError("epoch time out of range")
    if value >= MS_THRESHOLD:
        value /= epoch_unit(value)
    if value >= END_EPOCH:  # also infinity
        raise ValueError("epoch time out of range")
    return value


def epoch_unit(value: float) -> float:
    """How many of an epoch value's units make a second, by its magnitude: seconds below
    MS_THRESHOLD (the year 5138), then milliseconds, microseconds and nanoseconds, each up to
    the year 9999 in its unit (engine.plain.epoch_seconds_sql is this rule in SQL)."""
    if value < MS_THRESHOLD:
        return 1.0
    if value < US_THRESHOLD:
        return 1_000.0
    if value < NS_THRESHOLD:
        return 1_000_000.0
    return 1_000_000_000.0


def _clf(text: str) -> float:
    """``dd/Mon/yyyy:HH:MM:SS[.fff] [±hhmm]`` (the brackets already removed); no zone means
    UTC. HAProxy writes the fraction (milliseconds) and no zone."""
    found = _CLF_RE.fullmatch(text)
    try:
        if found is None:
            raise ValueError
        day, month, year, hour, minute, second, fraction, sign, zh, zm = found.groups()
        offset = timedelta(hours=int(zh), minutes=int(zm)) if sign else timedelta(0)
        parsed = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute),
                          int(second), tzinfo=timezone(-offset if sign == "-" else offset))
    except (KeyError, ValueError):
        raise ValueError(f"not a Common Log Format time: {text[:40]!r}") from None
    return parsed.timestamp() + (float(fraction) if fraction else 0.0)


def day_of(epoch: float) -> int:
    """The UTC day number (days since 1970-01-01)."""
    return int(epoch // 86400)


def day_to_date(day: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=day)).date().isoformat()
