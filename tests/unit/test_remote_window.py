"""Which remote objects --since/--until leave out: dates worked out by hand per layout."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from scopeaudit.remote.window import PullWindow, key_date, pull_window

LATE = datetime(2026, 12, 1, tzinfo=UTC)  # written after every window below


@pytest.mark.parametrize(("key", "expected"), [
    ("AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/11/27/"
     "123456789012_elasticloadbalancing_eu-west-1_app.api.1_20261127T1415Z_10.0.0.1_x.log.gz",
     date(2026, 11, 27)),                                       # ALB
    ("firehose/2026/11/03/14/stream-1-2026-11-03-14-00-00-abc.gz", date(2026, 11, 3)),
    ("nginx/year=2026/month=11/day=5/access.log.gz", date(2026, 11, 5)),
    ("nginx/dt=2026-11-05/part-0.jsonl.gz", date(2026, 11, 5)),
    ("cf/E2ABCDEF123456.2026-11-04-13.a1b2c3d4.gz", date(2026, 11, 4)),  # CloudFront
    ("logs/access.jsonl.gz", None),                              # no date: always read
    ("logs/2026/13/01/x.gz", None),                              # not a date
    ("a/2026/11/01/b/2026/11/02/x.gz", None),                    # two dates: no date
    ("nginx/20261105/access.log", None),                         # not a known layout
])
def test_key_dates_by_layout(key: str, expected: date | None) -> None:
    assert key_date(key) == expected


def test_an_object_is_left_out_only_beyond_a_day_of_slack() -> None:
    window = PullWindow(date(2026, 11, 12), date(2026, 11, 27))
    kept = [day for day in (1, 10, 11, 12, 27, 28, 29, 30)
            if window.may_hold(f"alb/2026/11/{day:02d}/x.gz", LATE)]
    assert kept == [11, 12, 27, 28]
    assert window.may_hold("alb/undated.gz", LATE)


def test_an_object_written_before_the_pull_window_cannot_hold_it() -> None:
    window = PullWindow(date(2026, 11, 12), None)
    assert not window.may_hold("any/name.gz", datetime(2026, 11, 10, 23, 59, tzinfo=UTC))
    assert window.may_hold("any/name.gz", datetime(2026, 11, 11, 0, 0, tzinfo=UTC))
    # written after the window says nothing about its records: kept
    assert PullWindow(None, date(2026, 11, 12)).may_hold("any/name.gz", LATE)


def test_the_pull_window_reaches_one_window_length_back() -> None:
    as_of = date(2026, 11, 27)
    # 2026-11-20 to 2026-11-27: 8 days, and 8 days before them (use there caps removals)
    assert pull_window("2026-11-20", "2026-11-27", as_of) == \
        PullWindow(date(2026, 11, 12), date(2026, 11, 27))
    # 30d counted back from --until 2026-11-27 starts on 2026-10-29
    assert pull_window("30d", "2026-11-27", as_of) == \
        PullWindow(date(2026, 9, 29), date(2026, 11, 27))
    # a date --since with no --until: the window may end as late as the day after --as-of
    assert pull_window("2026-11-20", None, as_of) == \
        PullWindow(date(2026, 11, 11), date(2026, 11, 28))
    # a duration with no --until counts back from the newest record, unknown before reading
    assert pull_window("30d", None, as_of) == PullWindow(None, date(2026, 11, 28))
    assert pull_window(None, None, as_of) == PullWindow(None, date(2026, 11, 28))
    # an --until past the day after --as-of is brought back to it, as the window is
    assert pull_window(None, "2027-01-01", as_of) == PullWindow(None, date(2026, 11, 28))
