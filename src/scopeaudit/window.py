"""The window (the judged period) and the logs' coverage of it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from scopeaudit.errors import InputError
from scopeaudit.model import Coverage, Window

if TYPE_CHECKING:
    from scopeaudit.diagnostics import Diagnostics

DEFAULT_DAYS = 90
# How many days after the as-of date (default today) a record may be dated and still count:
# clocks that run ahead, a log shipped from a time zone already in tomorrow. A later record
# is from the future: set apart with a warning, never judged, and never the day the default
# window ends on (one such record, dated 9999-12-31, would otherwise move the window past
# every real record).
FUTURE_ALLOWANCE_DAYS = 1
_DURATION = re.compile(r"^(\d+)\s*([dw])$")
_EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    return (d - _EPOCH).days


def day_date(n: int) -> date:
    return _EPOCH + timedelta(days=n)


def epoch_date(epoch: float) -> date:
    return datetime.fromtimestamp(epoch, UTC).date()


def utc_timestamp() -> str:
    """Now, to the second, in UTC, as every output and the history write a run's time:
    ``2026-11-27T06:00:00Z``."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def written_date(value: object) -> date | None:
    """A date as key files and the configuration write one (a key's ``created`` and
    ``expires``, a suppression's ``expires``): a date, a date-time (its day), or ISO 8601 text
    of either (``2026-12-31``, ``2026-12-31T23:00:00Z``). None for anything else."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
        except ValueError:
            return None
    return None


def duration_days(digits: str) -> int:
    """A duration's digits as a number. Any number longer than the calendar (3,652,059 days)
    counts as 10,000,000, which days_back refuses in one line: int() of thousands of digits
    would itself be refused with a ValueError."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 7 else 10_000_000


def parse_bound(value: str, option: str) -> date | int:
    """A date, or a duration in days."""
    text = value.strip().lower()
    duration = _DURATION.match(text)
    if duration:
        days = duration_days(duration.group(1)) * (7 if duration.group(2) == "w" else 1)
        if days < 1:
            raise InputError(f"{option}: a duration must be at least 1 day")
        return days
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} expects a date (YYYY-MM-DD) or a duration such as 90d, "
                         f"got {value!r}") from None


def last_present_day(as_of: date) -> date:
    """The last day a record may be dated and still count (FUTURE_ALLOWANCE_DAYS)."""
    return date.max if as_of > date.max - timedelta(days=FUTURE_ALLOWANCE_DAYS) else \
        as_of + timedelta(days=FUTURE_ALLOWANCE_DAYS)


@dataclass(frozen=True)
class DaysSeen:
    """The days the logs hold records on, split at the last present day."""

    newest: date | None  # the newest day on or before it: where the default window ends
    latest_future: date | None  # the latest day after it (None: no record from the future)


def days_seen(days_by_input: Mapping[str, Iterable[int]], as_of: date) -> DaysSeen:
    last = day_number(last_present_day(as_of))
    present = future = None
    for days in days_by_input.values():
        for d in days:
            if d > last:
                future = d if future is None or d > future else future
            elif present is None or d > present:
                present = d
    return DaysSeen(None if present is None else day_date(present),
                    None if future is None else day_date(future))


def days_back(end: date, days: int, given: str) -> date:
    """The first of ``days`` days ending with ``end``; one line naming the option as
    ``given`` (``--since 90d``) if that is before the calendar's first day."""
    try:
        return end - timedelta(days=days - 1)
    except OverflowError:
        raise InputError(f"{given}: counted back from {end}, the window would start before "
                         f"{date.min}") from None


def resolve_window(since: str | None, until: str | None, newest: date | None,
                   as_of: date, diagnostics: Diagnostics | None = None) -> Window:
    """By default, the 90 UTC days ending with ``newest``, the newest day with records up to
    the last present day (days_seen); with no record, ending with ``as_of``. The window never
    ends after the last present day: a later --until is brought back to it, with a warning."""
    present = last_present_day(as_of)
    end: date
    if until is None:
        end = newest if newest is not None else as_of
    else:
        parsed = parse_bound(until, "--until")
        if isinstance(parsed, int):
            raise InputError("--until takes a date, not a duration")
        end = parsed
        if end > present:
            end = present
            if diagnostics is not None:
                diagnostics.warn(f"--until {parsed} is after {present} (the as-of date "
                                 f"{as_of} plus {FUTURE_ALLOWANCE_DAYS} day of clock skew): "
                                 f"the window ends on {present}")
    start: date
    if since is None:
        start = date.min if end < date.min + timedelta(days=DEFAULT_DAYS - 1) else \
            end - timedelta(days=DEFAULT_DAYS - 1)
    else:
        parsed_since = parse_bound(since, "--since")
        start = (days_back(end, parsed_since, f"--since {since}")
                 if isinstance(parsed_since, int)
                 else parsed_since)
    if start > end:
        raise InputError(f"the window is empty: --since {start} is after its last day, {end}")
    return Window(start, end)


def coverage(window: Window, days_by_input: dict[str, set[int]]) -> Coverage:
    lo, hi = day_number(window.since), day_number(window.until)
    covered: set[int] = set()
    by_input: dict[str, int] = {}
    for path, days in sorted(days_by_input.items()):
        inside = {d for d in days if lo <= d <= hi}
        by_input[path] = len(inside)
        covered |= inside
    gaps: list[tuple[date, date]] = []
    gap_start: int | None = None
    for d in range(lo, hi + 2):
        missing = d <= hi and d not in covered
        if missing and gap_start is None:
            gap_start = d
        elif not missing and gap_start is not None:
            gaps.append((day_date(gap_start), day_date(d - 1)))
            gap_start = None
    return Coverage(len(covered), window.days, tuple(gaps), by_input)


def covered_days(window: Window, days_by_input: dict[str, set[int]]) -> frozenset[int]:
    lo, hi = day_number(window.since), day_number(window.until)
    out: set[int] = set()
    for days in days_by_input.values():
        out |= {d for d in days if lo <= d <= hi}
    return frozenset(out)
