"""The plain layout's date pattern, as DuckDB (RE2) runs it, accepts exactly the dates
Python's datetime accepts: SQL reads a plain ISO time's date without checking it."""

from __future__ import annotations

import datetime as dt

import pytest

from scopeaudit.engine import duckdb_available

pytestmark = pytest.mark.skipif(not duckdb_available(),
                                reason="DuckDB is not installed (scopeaudit[duckdb])")

# Every year whose leap rule differs (4, 100, 400), both ends of the range, and year 0
YEARS = sorted({0, *range(1, 13), *range(95, 105), *range(395, 405), *range(1895, 1905),
                *range(1968, 1972), *range(1995, 2005), *range(2020, 2030), *range(2095, 2105),
                *range(2395, 2405), *range(9990, 10000)})


def python_valid(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def test_iso_date_pattern_is_pythons_calendar() -> None:
    import duckdb

    from scopeaudit.engine.plain import ISO_DATE

    con = duckdb.connect()
    rows = con.execute(
        "SELECT t, regexp_full_match(t, ?) FROM (SELECT printf('%04d-%02d-%02d', y, m, d) AS t "
        "FROM unnest(?::INTEGER[]) AS u(y), range(0, 14) AS r(m), range(0, 33) AS s(d))",
        [ISO_DATE, YEARS]).fetchall()
    wrong = [t for t, matched in rows if bool(matched) != python_valid(t)]
    assert wrong == []
    assert len(rows) == len(YEARS) * 14 * 33
    assert sum(bool(m) for _, m in rows) > 30_000  # every valid date of those years
