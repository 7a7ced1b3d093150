"""Parquet inputs for the DuckDB engine.

A Parquet row has no line: it is read as the JSON text of its columns (``row_json``,
timestamps as ISO ``…Z`` in UTC), numbered by its row from 1, and the streaming JSON Lines
reader's reading of that text is what the audit means by the row. ``typed_rows`` reaches
the same result without writing that text for every row: a row whose typed values have the
forms the plain layout allows a JSON line's (:mod:`scopeaudit.engine.plain`) has its fields
computed from those values, as the reader would read them from its text; only the other
rows are written as JSON text, for Python to read (tests/unit/test_engine_parquet.py holds
the two ways, and every row read by Python, to the same aggregate).
"""

from __future__ import annotations

from collections.abc import Sequence

from scopeaudit.engine.plain import (
    ROLE_PATTERNS,
    before_end_sql,
    epoch_seconds_sql,
    field_columns,
    iso_in_range_sql,
    quote_ident,
    sql_literal,
)
from scopeaudit.secrets import TOKEN_MARK
from scopeaudit.usage.fields import FieldMap
from scopeaudit.usage.inputs import MAX_LINE
from scopeaudit.usage.semantics import UA_CHARS
from scopeaudit.usage.timeparse import END_EPOCH

Column = tuple[str, str]  # (name, DuckDB type name)

_INTEGERS = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
                       "UINTEGER", "UBIGINT"})
_TIMESTAMPS = frozenset({"TIMESTAMP", "TIMESTAMP WITH TIME ZONE"})
# Column types whose JSON text never holds 'sk_' and always reads back as JSON; DOUBLE and
# FLOAT only when finite (DuckDB writes NaN and Infinity, which are no JSON)
# (not DECIMAL: one wider than 64 bits is a JSON number orjson refuses)
_OTHER_SCALARS = _INTEGERS | _TIMESTAMPS | frozenset({"BOOLEAN", "DATE", "DOUBLE", "FLOAT"})
# Fields a JSON null may stand for in a plain line (FieldMap reads it as absent)
_NULL_OK = frozenset({"key_id", "count", "user_agent", "ip"})
# The earliest and the last instant a typed timestamp is plain at: from the epoch on (the
# minute arithmetic below floors as Python does only there) to the last ISO year
_FIRST_US, _END_US = 0, int(END_EPOCH) * 1_000_000


def row_json(columns: Sequence[Column]) -> str:
    """The SQL text of a row as its compact JSON object (timestamps as ISO ...Z in UTC)."""
    parts = []
    for name, type_name in columns:
        col = quote_ident(name)
        if type_name.startswith("TIMESTAMP"):
            value = (f"strftime({col}::TIMESTAMPTZ AT TIME ZONE 'UTC', "
                     "'%Y-%m-%dT%H:%M:%S.%fZ')") if "TIME ZONE" in type_name else \
                f"strftime({col}, '%Y-%m-%dT%H:%M:%S.%fZ')"
        else:
            value = col
        parts.append(f"{sql_literal(name)}, {value}")
    row = f"to_json(json_object({', '.join(parts)}))" if parts else "'{}'"
    return f"CAST({row} AS VARCHAR)"


def row_json_source(path: str, columns: Sequence[Column]) -> str:
    """Every row as its JSON text ``line``, numbered ``n`` from 1."""
    return (f"SELECT file_row_number + 1 AS n, {row_json(columns)} AS line "  # noqa: S608
            f"FROM read_parquet({sql_literal(path)}, file_row_number=true)")


def _scalar(type_name: str) -> bool:
    return type_name in _OTHER_SCALARS or type_name == "VARCHAR"


def _text_form(field: str) -> str:
    """The plain pattern of a field's string value, without its quotes."""
    return ROLE_PATTERNS[(field, True)][1:-1]


def typed_rows(path: str, columns: Sequence[Column], fields: FieldMap) -> str | None:
    """The ``rows`` CTE of duckdb_engine._grouped for this Parquet file, read from its typed
    columns; None when its columns are not all of types handled here (the caller then
    writes every row as JSON text instead)."""
    names = [name for name, _ in columns]
    types = dict(columns)
    if not columns or any(TOKEN_MARK in name for name in names) or \
            not all(_scalar(t) for t in types.values()):
        return None
    roles = field_columns(fields, types)
    if roles is None or not all(field in roles for field in ("time", "method", "path",
                                                              "status")):
        return None
    checks: list[str] = []
    values: dict[str, str] = {}
    for field, name in roles.items():
        col, kind = quote_ident(name), types[name]
        if kind == "VARCHAR":
            form = sql_literal(_text_form(field))
            null = "true" if field in _NULL_OK else "false"
            checks.append(f"CASE WHEN {col} IS NULL THEN {null} "
                          f"ELSE regexp_full_match({col}, {form}) END")
            values[field] = f"nullif(nullif({col}, ''), '-')"
        elif kind in _INTEGERS and field in ("time", "status", "count"):
            low, high = {"time": (0, 10**15 - 1), "status": (0, 999),
                         "count": (1, 10**18 - 1)}[field]
            null = "true" if field == "count" else "false"
            checks.append(f"CASE WHEN {col} IS NULL THEN {null} "
                          f"ELSE {col} BETWEEN {low} AND {high} END")
            values[field] = f"CAST({col} AS VARCHAR)"
        elif kind in _TIMESTAMPS and field == "time":
            checks.append(f"epoch_us({col}) >= {_FIRST_US} AND epoch_us({col}) < {_END_US}")
            values[field] = col
        elif field in ("user_agent", "ip") and (kind in _INTEGERS or kind == "BOOLEAN"):
            # a JSON number or true/false: FieldMap keeps only strings here
            values[field] = "NULL"
        else:
            return None  # a form the JSON Lines path decides on its text
    for name, kind in columns:
        col = quote_ident(name)
        if kind == "VARCHAR":
            checks.append(f"coalesce(NOT contains({col}, {sql_literal(TOKEN_MARK)}), true)")
        elif kind in ("DOUBLE", "FLOAT"):
            checks.append(f"coalesce(isfinite({col}), true)")
    # The JSON text of a plain row must be a line the reader reads whole: at most twelve
    # bytes per character of a string (an escaped surrogate pair), and some for every name
    # and value
    strings = [f"coalesce(strlen({quote_ident(n)}), 0)" for n, t in columns if t == "VARCHAR"]
    budget = (MAX_LINE - 64 * len(columns) - sum(len(n) * 12 for n in names)) // 12
    if strings:
        checks.append(f"{' + '.join(strings)} <= {budget}")
    elif budget < 0:
        return None

    def value(field: str) -> str:
        return values.get(field, "NULL")

    time_kind = types[roles["time"]]
    t = value("time")
    ts = "CAST(NULL AS VARCHAR)"
    if time_kind in _TIMESTAMPS:
        # iso_utc_fast on "YYYY-MM-DDTHH:MM:SS.ffffffZ": the minute's epoch plus the seconds
        # (the microseconds over 1e6, which rounds as float("SS.ffffff") does)
        us = f"epoch_us({t})"
        w = (f"CAST({us} // 60000000 * 60 AS DOUBLE) "
             f"+ CAST({us} % 60000000 AS DOUBLE) / 1000000.0")
    elif time_kind == "VARCHAR":
        # text, as a JSON line's: an ISO time stays text (duckdb_engine._grouped), at
        # :59:59.9999 and later it is left to Python (it may round to the next day)
        checks.append(f"NOT contains({t}, ':59:59.9999')")
        ts = f"CASE WHEN contains({t}, 'T') THEN {t} END"
        w = f"CASE WHEN NOT contains({t}, 'T') THEN {epoch_seconds_sql(t)} END"
    else:
        w = epoch_seconds_sql(t)
    ok = f"coalesce({' AND '.join(checks)}, false)"
    # Every expression reads the file's own columns (a column may be named like an output:
    # ``ip``), so each is written out whole; DuckDB computes a repeated one once.
    w_plain = f"CASE WHEN {ok} THEN {w} END"
    ts_plain = f"CASE WHEN {ok} THEN {ts} END"
    m0 = (f"CASE WHEN {ok} AND ({iso_in_range_sql(ts_plain)} OR {before_end_sql(w_plain)}) "
          f"THEN upper({value('method')}) END")
    return f"""
rows AS (
  SELECT file_row_number + 1 AS n, CASE WHEN ({m0}) IS NULL THEN {row_json(columns)} END AS line,
         {value("key_id")} AS k, split_part({value("path")}, '?', 1) AS pth,
         TRY_CAST({value("status")} AS INTEGER) AS st,
         coalesce(TRY_CAST({value("count")} AS BIGINT), 1) AS hits,
         coalesce(substr({value("user_agent")}, 1, {UA_CHARS}), '-') AS ua120, {value("ip")} AS ip,
         {ts_plain} AS ts, {w_plain} AS w, {m0} AS m0
  FROM read_parquet({sql_literal(path)}, file_row_number=true)
)"""  # noqa: S608


def describe(rows: Sequence[tuple[object, ...]]) -> list[Column]:
    """DESCRIBE's rows as (name, type) pairs."""
    return [(str(row[0]), str(row[1])) for row in rows]
