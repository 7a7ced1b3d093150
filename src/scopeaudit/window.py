"""The window (the judged period) and the logs' coverage of it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from scopeaudit.errors import InputError
from scopeaudit.model import Coverage, Window

DEFAULT_DAYS = 90
_DURATION = re.compile(r"^(\d+)\s*([dw])$")
_EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    return (d - _EPOCH).days


def day_date(n: int) -> date:
    return _EPOCH + timedelta(days=n)


def epoch_date(epoch: float) -> date:
    return datetime.fromtimestamp(epoch, UTC).date()


def _parse(value: str, option: str) -> date | int:
    """A date, or a duration in days."""
    text = value.strip().lower()
    duration = _DURATION.match(text)
    if duration:
        days = int(duration.group(1)) * (7 if duration.group(2) == "w" else 1)
        if days < 1:
            raise InputError(f"{option}: a duration must be at least 1 day")
        return days
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} expects a date (YYYY-MM-DD) or a duration such as 90d, "
                         f"got {value!r}") from None


def resolve_window(since: str | None, until: str | None, newest: float | None,
                   today: date) -> Window:
    """By default, the 90 UTC days ending with the day of the newest record."""
    end: date
    if until is None:
        end = epoch_date(newest) if newest is not None else today
    else:
        parsed = _parse(until, "--until")
        if isinstance(parsed, int):
            raise InputError("--until takes a date, not a duration")
        end = parsed
    start: date
    if since is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    else:
        parsed_since = _parse(since, "--since")
        start = (end - timedelta(days=parsed_since - 1) if isinstance(parsed_since, int)
                 else parsed_since)
    if start > end:
        raise InputError(f"the window is empty: --since {start} is after --until {end}")
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
