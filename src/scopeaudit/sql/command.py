"""``scopeaudit sql``: options checked and turned into the warehouse query's text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from scopeaudit.catalog.model import Catalog
from scopeaudit.errors import InputError
from scopeaudit.model import Key
from scopeaudit.sql.regex import DIALECTS
from scopeaudit.sql.warehouse import (
    COLUMNS,
    DEFAULT_SOURCES,
    TS_TYPES,
    WarehouseSpec,
    render,
    warehouse_query,
)
from scopeaudit.usage.fields import parse_maps
from scopeaudit.window import days_back, duration_days

_DURATION = re.compile(r"([1-9][0-9]*)d")


def parse_sql_maps(values: Sequence[str]) -> dict[str, str]:
    """``--map FIELD=COLUMN``, FIELD one of COLUMNS (``ts``, ``key_id``, …), over the
    default column names."""
    return {**DEFAULT_SOURCES, **parse_maps(values, COLUMNS, "COLUMN")}


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} expects a date as YYYY-MM-DD"
                         + (" or a duration such as 90d" if option == "--since" else "")
                         + f", got {value!r}") from None


def parse_days(since: str | None, until: str | None) -> tuple[date | None, date | None]:
    """--since DATE|Nd (Nd counts back from --until, which it then needs), --until DATE."""
    end = _day(until, "--until") if until is not None else None
    if since is None:
        return None, end
    duration = _DURATION.fullmatch(since.strip())
    if duration is None:
        start = _day(since, "--since")
    elif end is None:
        raise InputError("--since as a duration needs --until (the warehouse's newest day "
                         "is not known here)")
    else:
        start = days_back(end, duration_days(duration.group(1)), f"--since {since}")
    if end is not None and start > end:
        raise InputError(f"the window is empty: --since {start} is after --until {end}")
    return start, end


def build_sql(catalog: Catalog, dialect: str, table: str, maps: Sequence[str], ts_type: str,
              since: str | None, until: str | None, keys: Sequence[Key] = ()) -> str:
    if dialect not in DIALECTS:
        raise InputError(f"--dialect: unknown dialect {dialect!r} "
                         f"(dialects: {', '.join(DIALECTS)})")
    if ts_type not in TS_TYPES:
        raise InputError(f"--ts-type: unknown type {ts_type!r} (types: {', '.join(TS_TYPES)})")
    if not table.strip():
        raise InputError("--table needs a table name")
    start, end = parse_days(since, until)
    spec = WarehouseSpec(dialect, table.strip(), parse_sql_maps(maps), ts_type, start, end,
                         tuple(keys))
    return render(warehouse_query(catalog, spec), dialect) + ";\n"
