"""Timestamps as logs write them -> epoch seconds (UTC).

The expected epochs are worked out by hand from one anchor: 2026-11-27T00:00:00Z is
1_795_737_600 (56 years of 365 days from 1970, 14 leap days 1972..2024 -> 20 454 days to
2026-01-01; Jan..Oct of 2026 are 304 days, plus 26 -> day 20 784; x 86 400).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scopeaudit.usage.timeparse import (
    CLF_TEXT,
    END_EPOCH,
    FAST_ISO_TEXT,
    GO_TEXT,
    ISO_TEXT,
    day_of,
    day_to_date,
    iso_utc_fast,
    parse_time,
)

DAY = 1_795_737_600  # 2026-11-27T00:00:00Z
T = DAY + 14 * 3600 + 3 * 60 + 51  # 2026-11-27T14:03:51Z = 1_795_788_231


def test_anchor_is_right() -> None:
    assert datetime(2026, 11, 27, tzinfo=UTC).timestamp() == DAY
    assert T == 1_795_788_231


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-27T14:03:51Z", T),
    ("2026-11-27T14:03:51z", T),
    ("2026-11-27T14:03:51+00:00", T),
    ("2026-11-27T15:03:51+01:00", T),
    ("2026-11-27T09:03:51-05:00", T),
    ("2026-11-27T15:03:51+0100", T),  # offset without a colon
    ("2026-11-27T14:03:51", T),  # no zone: UTC
    ("2026-11-27 14:03:51", T),  # a space instead of T
    ("2026-11-27 14:03:51Z", T),
    ("2026-11-27T14:03:51.512Z", T + 0.512),  # Envoy %START_TIME%
    ("2026-11-27T14:03:51.512345678Z", T + 0.512345),  # nanoseconds: kept to microseconds
    ("2026-11-27", DAY),
    ("  2026-11-27T14:03:51Z  ", T),
    ("2026-11-27T14:03:51.512+00:00", T + 0.512),  # $time_iso8601 with a fraction
    # Go's time.Time.String(), with and without its monotonic clock reading
    ("2026-11-27 14:03:51.512 +0000 UTC", T + 0.512),
    ("2026-11-27 15:03:51 +0100 CET", T),
    ("2026-11-27 14:03:51.512345678 +0000 UTC m=+0.000123456", T + 0.512345),
])
def test_iso_8601(text: str, expected: float) -> None:
    assert parse_time(text) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("value", "expected"), [
    (T, T),
    (float(T) + 0.25, T + 0.25),
    (T * 1000 + 512, T + 0.512),  # milliseconds (Kong started_at)
    (str(T), T),
    (f"{T}.123", T + 0.123),  # nginx $msec
    (str(T * 1000), T),
    (0, 0.0),
    (99_999_999_999, 99_999_999_999.0),  # just under the ms threshold: seconds (year 5138)
    (100_000_000_000, 100_000_000.0),  # at it: milliseconds (1973)
    (253_402_300_799_999, 253_402_300_799.999),  # the last millisecond of 9999
    (253_402_300_800_000, 253_402_300.8),  # past it: microseconds (1978)
    (T * 1_000_000 + 512_000, T + 0.512),  # microseconds
    (f"{T}512345", T + 0.512345),  # microseconds as digits
    (T * 10**9 + 512_000_000, T + 0.512),  # nanoseconds (Cloudflare EdgeStartTimestamp)
    (f"{T}512345678", T + 0.512345678),  # OTLP timeUnixNano is a digit string
    (253_402_300_800 * 10**6, 253_402_300.8),  # past the last microsecond: ns (1978)
])
def test_epochs(value: object, expected: float) -> None:
    assert parse_time(value) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("text", "expected"), [
    ("27/Nov/2026:14:03:51 +0000", T),
    ("27/Nov/2026:15:03:51 +0100", T),
    ("27/Nov/2026:06:33:51 -0730", T),
    ("[27/Nov/2026:14:03:51 +0000]", T),  # with nginx's brackets
    ("27/Nov/2026:14:03:51", T),  # no zone: UTC
    ("01/Jan/2026:00:00:00 +0000", DAY - 330 * 86400),
    ("27/Nov/2026:14:03:51.512", T + 0.512),  # HAProxy's accept date: ms, no zone
    ("[27/Nov/2026:14:03:51.512]", T + 0.512),
    ("27/Nov/2026:15:03:51.5 +0100", T + 0.5),
])
def test_common_log_format(text: str, expected: float) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("value", [
    True, False, None, [], {}, "", "   ", "yesterday", "-", "2026-13-01T00:00:00Z",
    "2026-11-31", -1, -1.5, "-5", float("nan"), float("inf"),
    253_402_300_800 * 10**9,  # past 9999 even as nanoseconds
    "2026-11-27 14:03:51.512 +0000",  # Go's form needs its zone name
    10**30, "1" * 40,
    "27/Nov/2026x14:03:51 +0000",  # wrong separator
    "27/Foo/2026:14:03:51 +0000",  # no such month
    "27/Nov/2026:14:03:51 +0000 trailing",
    "27/Nov/2026:14:03:51 +00",  # half a zone
    "27/Nov/2026:14:03:51 +2400",  # a zone of a day or more
    "32/Nov/2026:14:03:51 +0000",
    "27/Nov/2026:24:03:51 +0000",
])
def test_rejected(value: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the only contract is ValueError
        parse_time(value)


def test_days() -> None:
    assert day_of(T) == 20_784
    assert day_of(DAY - 0.001) == 20_783
    assert day_to_date(20_784) == "2026-11-27"
    assert day_to_date(0) == "1970-01-01"
    assert day_to_date(day_of(parse_time(253_402_300_799_000))) == "9999-12-31"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 31))
offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes)))


@given(moments, offsets)
def test_iso_round_trip(moment: datetime, zone: timezone) -> None:
    aware = moment.replace(tzinfo=zone)
    assert parse_time(aware.isoformat()) == pytest.approx(aware.timestamp(), abs=1e-6)


@given(moments, offsets)
def test_clf_round_trip(moment: datetime, zone: timezone) -> None:
    aware = moment.replace(tzinfo=zone, microsecond=0)
    minutes = int(zone.utcoffset(None).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    text = (f"{aware.day:02d}/{_MONTHS[aware.month - 1]}/{aware.year:04d}:"
            f"{aware.hour:02d}:{aware.minute:02d}:{aware.second:02d} "
            f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}")
    assert parse_time(text) == aware.timestamp()


@given(st.integers(min_value=0, max_value=99_999_999_999))
def test_seconds_and_milliseconds_agree(seconds: int) -> None:
    assert parse_time(seconds) == seconds
    assert parse_time(str(seconds)) == seconds
    if seconds * 1000 >= 100_000_000_000:
        assert parse_time(seconds * 1000) == seconds


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)),
       st.sampled_from(["seconds", "milliseconds", "microseconds"]))
def test_fast_utc_path_agrees_with_fromisoformat(moment: datetime, spec: str) -> None:
    text = moment.isoformat(timespec=spec) + "Z"
    # the reference: the standard library's full parser on the very same (truncated) text
    expected = datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    assert parse_time(text) == pytest.approx(expected, abs=1e-6)


# --- the text forms as patterns (the one definition the warehouse SQL is compiled from) ------


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-27T14Z", DAY + 14 * 3600),  # to the hour
    ("2026-11-27T1403Z", DAY + 14 * 3600 + 3 * 60),  # basic, to the minute
    ("2026-11-27t14:03:51z", T),  # lower-case t and z
    ("2026-11-27T14:03:51,5Z", T + 0.5),  # a decimal comma
    ("20261127T140351Z", T),  # basic date and time
    ("20261127 140351", T),
    ("2026-11-27T19:33:51+0530", T),
    ("2026-11-27T19:33:51+05:30", T),
    ("2026-11-27T09:03:51-05", T),  # an offset in hours
    ("2026-11-27 14", DAY + 14 * 3600),
    ("[2026-11-27T14:03:51Z]", T),  # brackets, as around nginx's times
    ("[[20261127]]", DAY),  # a basic date in brackets ...
    ("20261127", 20_261_127),  # ... but bare, eight digits are epoch seconds (1970-08-23)
    ("1970-01-01T00:00:00Z", 0.0),
    ("2026-11-27T14:03:51.1234567+00:00", T + 0.123456),  # fromisoformat: microseconds
])
def test_iso_forms_the_reader_reads(text: str, expected: float) -> None:
    assert parse_time(text) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("text", [
    # Python's fromisoformat reads these too; they are no timestamps a log writes, and
    # the reader's patterns (what the warehouse SQL also reads) leave them out
    "2026-W48-5T14:03:51Z", "2026W485", "2026-11-27x14:03:51", "2026-11-27é14:03:51",
    "2026-11-27T14.5", "2026-11-27T14:03:51 +00:00", "2026-11-27Z", "2026-11-27+01:00",
    "2026-11-27T14:03:51+05:30:15", "2026-11-27T14:03:51.Z", "2026-11-27T14:03:51+05:75",
    "2026-1127", "202611-27T14:03:51Z",
    # out of the range the epoch rule bounds: before 1970, after 9999 once in UTC
    "1969-12-31T23:59:59Z", "1969-12-31T23:59:59.5Z", "0001-01-01", "1970-01-01T00:30+01:00",
    "9999-12-31T23:30:00-01:00", "31/Dec/9999:23:30:00 -0100", "31/Dec/1969:23:30:00 +0000",
    # digits that are no ASCII digits
    "2026-11-27T14:03:²¹Z", "２０２６-11-27", "١٧٩٥٧٨٨٢٣١",
])
def test_text_the_reader_refuses(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the only contract is ValueError
        parse_time(text)


@settings(max_examples=300)
@given(st.from_regex(ISO_TEXT, fullmatch=True) | st.from_regex(CLF_TEXT, fullmatch=True)
       | st.from_regex(GO_TEXT, fullmatch=True))
def test_every_text_of_the_patterns_is_a_time_or_out_of_range(text: str) -> None:
    """The patterns say exactly what is valid: the standard library's parsers never refuse
    a text they accept (only the 1970-9999 range may)."""
    try:
        value = parse_time(text)
    except ValueError as exc:
        reason = str(exc)
    else:
        assert 0 <= value < END_EPOCH
        return
    assert reason == "time out of range", text


@settings(max_examples=300)
@given(st.from_regex(FAST_ISO_TEXT, fullmatch=True))
def test_the_fast_path_takes_exactly_its_pattern(text: str) -> None:
    fast = iso_utc_fast(text)
    if text < "1970":
        assert fast is None
    else:
        # the minute's epoch plus the seconds as written (up to nine decimals, where the full
        # parser keeps six)
        minute = datetime.fromisoformat(text[:16] + ":00+00:00").timestamp()
        assert fast == minute + float(text[17:-1])
