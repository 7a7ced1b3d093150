"""Which remote inputs can hold a record an audit needs, from --since/--until alone, before
anything is read.

The pull window runs from one window's length before the window (use shortly before the
window caps a removal's confidence: scopeaudit.quality) to its last day; a side --since/
--until leave open (a duration counted back from the newest record, no --since) stays open.
An object (S3, GCS, Azure Blob) is left out only when that is safe:

- by its **last-modified time**, for any layout: an object written before the pull window
  begins cannot hold a record from inside it (a copy made later only keeps more);
- by the **date in its key**, for date-partitioned layouts: ``…/YYYY/MM/DD/…`` (ALB, NLB,
  Firehose, most archives), Hive-style ``year=YYYY/month=MM/day=DD`` or ``dt=YYYY-MM-DD``
  / ``date=YYYY-MM-DD``, and CloudFront's ``DISTRIBUTION.YYYY-MM-DD-HH.ID.gz`` names. Such a
  date is when the object was written; its records are taken to be at most a day older or
  newer (``SLACK``), so an object is left out only beyond that.

Any other key is read whatever its name says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

SLACK = timedelta(days=1)
_PARTITIONS = (
    re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})(?:/|$)"),
    re.compile(r"(?:^|/)year=(\d{4})/month=(\d{1,2})/day=(\d{1,2})(?:/|$)"),
    re.compile(r"(?:^|/)(?:dt|date)=(\d{4})-(\d{2})-(\d{2})(?:/|$)"),
    re.compile(r"(?:^|/)[A-Z0-9]+\.(\d{4})-(\d{2})-(\d{2})-\d{2}\.[^./]+\.gz$"),  # CloudFront
)


def key_date(key: str) -> date | None:
    """The date a date-partitioned key names; None when it names none, or more than one."""
    found: set[date] = set()
    for pattern in _PARTITIONS:
        for match in pattern.finditer(key):
            try:
                found.add(date(*(int(g) for g in match.groups())))
            except ValueError:
                return None
    return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class PullWindow:
    """The days whose records an audit may need; None: open on that side."""

    first: date | None = None
    last: date | None = None

    def may_hold(self, key: str, last_modified: datetime) -> bool:
        """Whether an object may hold a record of these days (False only when it is safe
        to say it cannot)."""
        if self.first is not None and \
                last_modified.astimezone(UTC).date() < self.first - SLACK:
            return False
        written = key_date(key)
        if written is None:
            return True
        return not ((self.first is not None and written < self.first - SLACK) or
                    (self.last is not None and written > self.last + SLACK))

    def describe(self) -> str:
        return f"{self.first or '…'} to {self.last or '…'}"


def pull_window(since: str | None, until: str | None, as_of: date) -> PullWindow:
    """The pull window of an audit's --since/--until (as scopeaudit.window resolves them)."""
    from scopeaudit.window import days_back, last_present_day, parse_bound

    present = last_present_day(as_of)
    end = present
    if until is not None:
        parsed = parse_bound(until, "--until")
        if isinstance(parsed, date):
            end = min(parsed, present)
    start: date | None = None
    if since is not None:
        parsed_since = parse_bound(since, "--since")
        if isinstance(parsed_since, date):
            start = parsed_since
        elif until is not None:
            start = days_back(end, parsed_since, f"--since {since}")
    if start is None or start > end:
        return PullWindow(None, end)
    length = end - start + timedelta(days=1)
    return PullWindow(start - length if start - date.min >= length else date.min, end)
