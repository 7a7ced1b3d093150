"""Timestamps as logs write them -> seconds since the epoch (UTC).

Accepted: ISO 8601 with or without a zone (none means UTC), with ``Z`` or an offset, with a
space instead of ``T``, with any fraction of a second; epoch seconds, milliseconds,
microseconds and nanoseconds (as numbers or digit strings; the unit is told by magnitude, see
:func:`epoch_unit`); nginx ``$time_local`` / Common Log Format (``27/Nov/2026:14:03:51
+0000``), also with milliseconds and no zone as HAProxy writes it (``01/Oct/2026:10:00:00.123``);
Go's ``time.String()`` (``2026-10-01 10:00:00.123 +0000 UTC``, with or without its
``m=+0.000123`` monotonic reading); every one from 1970-01-01 up to the end of 9999
(``END_EPOCH``).

A time written as text is read by the patterns below (``EPOCH_TEXT``, ``CLF_TEXT``,
``GO_TEXT``, ``ISO_TEXT``, and ``FAST_ISO_TEXT`` for the fast path): the one definition,
which the warehouse SQL is compiled from (sql/times.py). They are plain regular expressions
every supported SQL dialect reads alike (sql/regex.py), and each says exactly what is valid
(the calendar included), so the standard library's parsers never meet a text they refuse.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

# Epoch values above this are milliseconds (in seconds it would be the year 5138).
MS_THRESHOLD = 100_000_000_000
# 10000-01-01T00:00:00Z: from here on no date exists (and date arithmetic overflows).
END_EPOCH = 253_402_300_800.0
# Past the last millisecond of the year 9999 an epoch is microseconds, past the last
# microsecond nanoseconds (Cloudflare's EdgeStartTimestamp, OTLP's timeUnixNano): the ranges
# follow each other, so every value accepted as milliseconds before keeps its meaning.
US_THRESHOLD = END_EPOCH * 1_000
NS_THRESHOLD = END_EPOCH * 1_000_000

# --- what a time written as text is (after str.strip()) ----------------------------------
# Years 0001-9999; the leap years of the Gregorian calendar (by 4, not by 100 unless by 400)
_YEAR = r"(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"


def _calendar_date(sep: str) -> str:
    """A valid calendar date, ``YYYY{sep}MM{sep}DD``."""
    return (rf"(?:{_YEAR}{sep}(?:(?:0[1-9]|1[0-2]){sep}(?:0[1-9]|1[0-9]|2[0-8])"
            rf"|(?:0[13-9]|1[0-2]){sep}(?:29|30)|(?:0[13578]|1[02]){sep}31)"
            rf"|{_LEAP_YEAR}{sep}02{sep}29)")


ISO_DATE = _calendar_date("-")
_HOUR = "(?:[01][0-9]|2[0-3])"
_SIXTY = "[0-5][0-9]"  # minutes and seconds: no leap second, as datetime
# A clock time, extended (10:00:00,5) or basic (100000.5), to the hour, minute or second
_CLOCK = (rf"{_HOUR}(?::{_SIXTY}(?::{_SIXTY}(?:[.,][0-9]+)?)?)?"
          rf"|{_HOUR}(?:{_SIXTY}(?:{_SIXTY}(?:[.,][0-9]+)?)?)?")
_OFFSET = rf"[+-]{_HOUR}(?::?{_SIXTY})?"  # +05, +0530, +05:30
# ISO 8601: a date, extended or basic, and optionally a clock time after T, t or a space,
# with a zone (Z or z is UTC) or none (UTC)
ISO_TEXT = (rf"(?:{ISO_DATE}|{_calendar_date('')})"
            rf"(?:[Tt ](?:{_CLOCK})(?:[Zz]|{_OFFSET})?)?")
# iso_utc_fast's form: YYYY-MM-DDTHH:MM:SS, up to nine decimals, Z
FAST_ISO_TEXT = rf"{ISO_DATE}T{_HOUR}:{_SIXTY}:{_SIXTY}(?:\.[0-9]{{1,9}})?Z"
# Epoch seconds (or milliseconds, from MS_THRESHOLD on) as digits
EPOCH_TEXT = r"[0-9]+(?:\.[0-9]*)?"
CLF_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")


def _clf_date() -> str:
    """A valid ``DD/Mon/YYYY``."""
    def months(numbers: str) -> str:
        return "(?:" + "|".join(CLF_MONTHS[int(n) - 1] for n in numbers.split()) + ")"

    every = months("1 2 3 4 5 6 7 8 9 10 11 12")
    thirty = months("1 3 4 5 6 7 8 9 10 11 12")
    return (rf"(?:(?:0[1-9]|1[0-9]|2[0-8])/{every}/{_YEAR}|(?:29|30)/{thirty}/{_YEAR}"
            rf"|31/{months('1 3 5 7 8 10 12')}/{_YEAR}|29/Feb/{_LEAP_YEAR})")


# nginx's $time_local: DD/Mon/YYYY:HH:MM:SS, a fraction (HAProxy writes milliseconds), and
# optionally whitespace and +hhmm (a zone of less than a day); the text may be in brackets
# (any number of them: str.strip("[]")). Groups: date, hour, minute, second, fraction, the
# zone's sign and its digits.
CLF_TEXT = (rf"({_clf_date()}):({_HOUR}):({_SIXTY}):({_SIXTY})(\.[0-9]{{1,9}})?"
            rf"(?:[ \t\n\r\f\v]+([+-])((?:[01][0-9]|2[0-2])[0-9]{{2}}|23[0-5][0-9]))?")
_CLF_RE = re.compile(CLF_TEXT)
# Go's time.Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST [m=±secs]", read as the
# ISO time of its date, clock and offset (its groups 1, 2 and 3)
GO_TEXT = (rf"({ISO_DATE}) ({_HOUR}:{_SIXTY}:{_SIXTY}(?:\.[0-9]{{1,9}})?) "
           rf"([+-]{_HOUR}{_SIXTY}) (?:[A-Za-z]{{1,6}}|[+-][0-9]{{2,4}})"
           r"(?: m=[+-][0-9]+\.[0-9]+)?")
_GO_RE = re.compile(GO_TEXT)
_ISO_RE = re.compile(ISO_TEXT)
_FAST_MINUTE_RE = re.compile(rf"{ISO_DATE}T{_HOUR}:{_SIXTY}")
_EPOCH_RE = re.compile(EPOCH_TEXT)


def parse_time(value: object, zone: tzinfo = UTC) -> float:
    """Raise ValueError for anything that is not a recognisable timestamp. ``zone``: the
    zone of a time written without one (``--tz``; UTC by default)."""
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
    if _EPOCH_RE.fullmatch(text):
        return _epoch(float(text))
    if text[0] == "[":
        text = text.strip("[]")
    if len(text) >= 20 and text[2] == "/" and text[6] == "/":
        return _in_range(_clf(text, zone))
    go = _GO_RE.fullmatch(text)
    if go is not None:
        text = f"{go.group(1)}T{go.group(2)}{go.group(3)}"
    if not _ISO_RE.fullmatch(text):
        raise ValueError(f"not a timestamp: {text[:40]!r}")
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return _in_range(parsed.timestamp())


def iso_utc_fast(text: str) -> float | None:
    """The commonest log form, ``YYYY-MM-DDTHH:MM:SS[.fff…]Z``: the minute's epoch is
    cached (keyed with the colon after the minutes, which the cache entry has checked), the
    seconds added. Anything else, or any doubt, returns None for the full parser."""
    base = _MINUTES.get(text[:17])
    if base is None:
        if len(text) < 20 or text[10] != "T" or text[16] != ":" \
                or not _FAST_MINUTE_RE.fullmatch(text, 0, 16):
            return None
        try:
            base = datetime.fromisoformat(text[:16] + ":00+00:00").timestamp()
        except ValueError:
            return None
        if base < 0:  # before 1970: out of range, the full parser says so
            return None
        if len(_MINUTES) >= 65536:
            _MINUTES.clear()
        _MINUTES[text[:17]] = base
    if text[-1:] != "Z":
        return None
    seconds = text[17:-1]
    if not seconds.isascii():  # str.isdigit() takes other digits too ("²"), float() not all
        return None
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
    the year 9999 in its unit (engine.plain.epoch_seconds_sql and sql/times.py are this rule
    in SQL)."""
    if value < MS_THRESHOLD:
        return 1.0
    if value < US_THRESHOLD:
        return 1_000.0
    if value < NS_THRESHOLD:
        return 1_000_000.0
    return 1_000_000_000.0


def _in_range(value: float) -> float:
    """A time of text as the epoch rule bounds it: from 1970 to the end of 9999."""
    if not 0 <= value < END_EPOCH:
        raise ValueError("time out of range")
    return value


def _clf(text: str, zone: tzinfo = UTC) -> float:
    """``dd/Mon/yyyy:HH:MM:SS[.fff] [±hhmm]`` (the brackets already removed); no zone means
    ``zone``. HAProxy writes the fraction (milliseconds) and no zone."""
    found = _CLF_RE.fullmatch(text)
    if found is None:
        raise ValueError(f"not a Common Log Format time: {text[:40]!r}")
    date, hour, minute, second, fraction, sign, digits = found.groups()
    day, month, year = date.split("/")
    if sign:
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        zone = timezone(-offset if sign == "-" else offset)
    return datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second),
                    tzinfo=zone).timestamp() \
        + (float(fraction) if fraction else 0.0)


_MONTHS = {m: i for i, m in enumerate(CLF_MONTHS, 1)}


DAY_SECONDS = 86400


def day_of(epoch: float) -> int:
    """The UTC day number (days since 1970-01-01): usage/semantics.py's ``utc_day``."""
    return int(epoch // DAY_SECONDS)


def day_to_date(day: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=day)).date().isoformat()
