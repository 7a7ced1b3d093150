"""Parquet read from its typed columns gives the report that its rows' JSON text gives.

The DuckDB engine reads a Parquet row as the JSON text of its columns (the JSON Lines
reader's reading of that text is what the row means); ``engine.parquet.typed_rows`` computes
the same from the typed values, writing JSON text only for rows that are not plain. Each
case here audits one Parquet file twice, typed and with ``typed_rows`` switched off (every
row as JSON text, the path the JSON Lines parity tests already hold to the streaming
reader), and compares the JSON reports byte for byte. The expectation is the other path's
output, never a literal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scopeaudit.engine import duckdb_available
from support import run_quiet

pytestmark = pytest.mark.skipif(not duckdb_available(),
                                reason="DuckDB is not installed (scopeaudit[duckdb])")

KEYS = """\
keys:
  - {id: k1, created: 2026-01-01, owner: o, expires: 2027-12-31,
     scopes: [issues:read, issues:write]}
  - {id: k2, created: 2026-01-01, owner: o, expires: 2027-12-31, scopes: [sites:read]}
"""
# Made-up token, built at run time (no token-shaped literal in the repository)
TOKEN = "sk" + "_live_" + "Zq4" * 8



def write_parquet(path: Path, columns: Sequence[tuple[str, str]],
                  rows: Sequence[Sequence[Any]]) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ddl = ", ".join(f'"{name}" {kind}' for name, kind in columns)
    con.execute(f"CREATE TABLE t ({ddl})")
    if rows:
        marks = ", ".join("?" for _ in columns)
        con.executemany(f"INSERT INTO t VALUES ({marks})", [list(r) for r in rows])
    con.execute(f"COPY t TO '{path}' (FORMAT parquet)")
    con.close()


def both_paths(folder: Path, parquet: Path, monkeypatch: pytest.MonkeyPatch,
               *, typed_expected: bool = True) -> bytes:
    """The report with typed columns and with every row as JSON text; asserts they are the
    same bytes (and the same exit code and messages), and that the typed path was taken."""
    from scopeaudit.engine import parquet as parquet_rows

    keys = folder / "keys.yaml"
    keys.write_text(KEYS)
    taken: list[bool] = []
    original = parquet_rows.typed_rows

    def spy(*args: Any) -> str | None:
        found = original(*args)
        taken.append(found is not None)
        return found

    results = []
    for typed in (True, False):
        with monkeypatch.context() as patch:
            patch.setattr(parquet_rows, "typed_rows",
                          spy if typed else (lambda *args: None))
            out = folder / f"report-{typed}.json"
            code, err = run_quiet(*["audit", "--keys", str(keys), "--logs", str(parquet),
                             "--format", "json", "--no-timestamp", "--as-of", "2026-12-01",
                             "--fail-on", "never", "--engine", "duckdb", "-o", str(out)])
            results.append((code, err, out.read_bytes() if out.exists() else b""))
    assert taken == [typed_expected]
    assert results[0] == results[1]
    # Beneath the report (times there are whole seconds): the aggregates themselves, to the
    # last bit of every first and last time
    typed = read_usage(parquet, typed=True)
    assert typed == read_usage(parquet, typed=False)
    # and to every row read by the Python reader (no SQL aggregation at all)
    assert typed == read_usage(parquet, typed=False, in_python=True)
    return results[0][2]


def read_usage(parquet: Path, *, typed: bool, in_python: bool = False) -> tuple[object, ...]:
    from scopeaudit.catalog import load_builtin
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.engine import duckdb_engine
    from scopeaudit.engine import parquet as parquet_rows
    from scopeaudit.inventory import load_inventory

    with tempfile.TemporaryDirectory() as spill:
        keys = Path(spill) / "keys.yaml"
        keys.write_text(KEYS)
        inventory = load_inventory(str(keys), None, Diagnostics())
        con = duckdb_engine.connect(2, spill)
        original = parquet_rows.typed_rows
        layout = duckdb_engine.find_layout
        try:
            if not typed:
                parquet_rows.typed_rows = lambda *args: None  # type: ignore[assignment]
            if in_python:
                duckdb_engine.find_layout = lambda *args: None  # type: ignore[assignment]
            result = duckdb_engine.read_input(str(parquet), None, str(parquet), inventory.keys,
                                              load_builtin(), {}, False, con, parquet=True,
                                              jobs=2)
        finally:
            parquet_rows.typed_rows = original  # type: ignore[assignment]
            duckdb_engine.find_layout = layout  # type: ignore[assignment]
            con.close()
    usage, stats = result.usage, result.stats
    cells = {slot: (c.count, c.first, c.last) for slot, c in usage.cells.items()}
    clients = {key: {who: (u.hits, u.first, u.last, dict(u.ops)) for who, u in per.items()}
               for key, per in usage.clients.items()}
    return (cells, clients, dict(usage.first_seen_at), dict(usage.tokens), usage.preflight,
            usage.unattributed, usage.invalid_targets, usage.days_by_input, usage.newest,
            usage.oldest, stats.records, stats.first_skipped, result.requests)


# --- reviewed cases --------------------------------------------------------------------------

T0 = dt.datetime(2026, 11, 2, 10, 0, 0, 250000)
COLUMNS = [("ts", "TIMESTAMP"), ("key_id", "VARCHAR"), ("method", "VARCHAR"),
           ("path", "VARCHAR"), ("status", "BIGINT"), ("ua", "VARCHAR"), ("ip", "VARCHAR"),
           ("latency", "DOUBLE"), ("note", "VARCHAR")]
GOOD = [T0, "k1", "GET", "/v1/issues/7", 200, "cli/1.0", "192.0.2.7", 1.5, "ok"]


def row(**changes: Any) -> list[Any]:
    values = dict(zip([name for name, _ in COLUMNS], GOOD, strict=True))
    values.update(changes)
    return list(values.values())


ODD_ROWS = {
    "null-time": row(ts=None),
    "before-1970": row(ts=dt.datetime(1969, 12, 31, 23, 59, 59)),
    "year-one": row(ts=dt.datetime(1, 1, 1)),
    "last-microsecond-of-a-day": row(ts=dt.datetime(2026, 11, 3, 23, 59, 59, 999999)),
    "token-in-note": row(note=f"paste {TOKEN}"),
    "token-as-key": row(key_id=TOKEN),
    "bearer-key": row(key_id="Bearer abc"),
    "nan-latency": row(latency=float("nan")),
    "infinite-latency": row(latency=float("inf")),
    "lower-method": row(method="get"),
    "bad-method": row(method="G3T"),
    "null-method": row(method=None),
    "no-slash": row(path="v1/issues"),
    "query": row(path="/v1/issues?a=b&sk=1"),
    "equals-before-query": row(path="/v1/a=b?x"),
    "absolute-url": row(path="https://api.example/v1/issues/1"),
    "space-in-path": row(path="/v1/issues 1"),
    "status-out-of-range": row(status=1000),
    "negative-status": row(status=-1),
    "null-status": row(status=None),
    "refused": row(status=403),
    "empty-key": row(key_id=""),
    "dash-key": row(key_id="-"),
    "null-key": row(key_id=None),
    "dash-ip": row(ip="-"),
    "ipv6": row(ip="2001:db8::1"),
    "ip-with-space": row(ip=" 192.0.2.9"),
    "long-agent": row(ua="x" * 300),
    "unicode-agent": row(ua="客户端/1.0"),
    "quote-in-agent": row(ua='a "b"'),
    "huge-note": row(note="n" * 1_100_000),
    "head": row(method="HEAD"),
    "options": row(method="OPTIONS"),
    "ids": row(path="/v1/sites/12/assets/3f2b8c1e-1111-2222-3333-444455556666"),
}


def test_typed_columns_with_every_odd_row(monkeypatch: pytest.MonkeyPatch) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        parquet = folder / "usage.parquet"
        rows = [GOOD]
        for odd in ODD_ROWS.values():
            rows += [odd, GOOD]
        write_parquet(parquet, COLUMNS, rows)
        both_paths(folder, parquet, monkeypatch)


@pytest.mark.parametrize(("columns", "values"), [
    # time as text (ISO, epoch seconds, epoch milliseconds, nonsense), status as text
    ([("time", "VARCHAR"), ("key", "VARCHAR"), ("verb", "VARCHAR"), ("url", "VARCHAR"),
      ("code", "VARCHAR")],
     [["2026-11-02T10:00:00Z", "k1", "POST", "/v1/issues", "201"],
      ["1793613600", "k1", "GET", "/v1/issues/1", "200"],
      ["1793613600123.5", "k2", "GET", "/v1/sites", "200"],
      ["2026-02-30T10:00:00Z", "k1", "GET", "/v1/issues", "200"],
      ["0000-01-01T00:00:00Z", "k1", "GET", "/v1/issues", "200"],
      ["yesterday", "k1", "GET", "/v1/issues", "200"],
      ["2026-11-02T10:00:00.123456789Z", "k1", "GET", "/v1/issues", "OK"],
      # rounds to the next day as seconds: left to Python
      ["2026-11-02T23:59:59.999999999Z", "k1", "GET", "/v1/issues", "200"]]),
    # epoch time as an integer, a request count, a timezone-aware timestamp elsewhere
    ([("timestamp", "BIGINT"), ("key_id", "VARCHAR"), ("method", "VARCHAR"),
      ("path", "VARCHAR"), ("status", "INTEGER"), ("count", "BIGINT"),
      ("seen", "TIMESTAMP WITH TIME ZONE")],
     [[1793613600, "k1", "GET", "/v1/issues", 200, 3, dt.datetime(2026, 1, 1)],
      [1793613600123, "k1", "GET", "/v1/issues", 200, None, None],
      [10**15, "k1", "GET", "/v1/issues", 200, 1, None],
      [1793613600, "k2", "GET", "/v1/sites/4", 200, 0, None],
      [-5, "k2", "GET", "/v1/sites/4", 200, 2, None]]),
    # output-like column names among the file's own ('ip', 'n', 'line', 'k', 'w')
    ([("ts", "TIMESTAMP WITH TIME ZONE"), ("key_id", "VARCHAR"), ("method", "VARCHAR"),
      ("path", "VARCHAR"), ("status", "SMALLINT"), ("ip", "VARCHAR"), ("n", "INTEGER"),
      ("line", "VARCHAR"), ("k", "VARCHAR"), ("w", "DOUBLE")],
     [[T0, "k1", "GET", "/v1/issues", 200, "192.0.2.1", 7, "x", "k2", 1.0],
      [T0, "k2", "GET", "/v1/sites", 200, "10.0.0.1", 8, None, None, None]]),
])
def test_other_typed_layouts(columns: list[tuple[str, str]], values: list[list[Any]],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        parquet = folder / "usage.parquet"
        write_parquet(parquet, columns, values)
        both_paths(folder, parquet, monkeypatch)


def test_columns_not_handled_typed_are_read_as_json_text(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A nested column, two candidates for one field, or a name holding 'sk_': every row as
    JSON text (typed_rows declines), with the same report either way."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for index, columns in enumerate([
                [*COLUMNS, ("extra", "STRUCT(a VARCHAR)")],
                [*COLUMNS, ("time", "VARCHAR")],
                [*COLUMNS, ("task_id", "VARCHAR")]]):
            parquet = folder / f"usage-{index}.parquet"
            extra = {"STRUCT(a VARCHAR)": {"a": "b"}, "VARCHAR": "2026-11-02T10:00:00Z"}
            write_parquet(parquet, columns, [[*GOOD, extra[columns[-1][1]]]])
            both_paths(folder, parquet, monkeypatch, typed_expected=False)


@pytest.mark.parametrize("nested", [False, True], ids=["typed", "nested"])
def test_tokens_on_rows_that_are_no_record(monkeypatch: pytest.MonkeyPatch,
                                           nested: bool) -> None:
    """A row that gives no record (no time, no method, no status) is still scanned: its
    token is reported (SA301) by row number, typed or as JSON text, flat or nested (every
    row then read by the Python reader), as a JSON line's would be."""
    from scopeaudit.secrets import fingerprint

    rows = [GOOD, row(ts=None, key_id=TOKEN), GOOD, row(method=None, note=f"x {TOKEN}"), GOOD,
            row(status=None, path=f"/v1/issues?api_key={TOKEN}"), row(key_id=TOKEN),
            row(ts=None)]
    columns = COLUMNS
    if nested:
        columns = [*COLUMNS, ("extra", "STRUCT(a VARCHAR)")]
        rows = [[*r, {"a": "b"}] for r in rows]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        parquet = folder / "usage.parquet"
        write_parquet(parquet, columns, rows)
        report = json.loads(both_paths(folder, parquet, monkeypatch,
                                       typed_expected=not nested))
    (source,) = [i for i in report["inputs"] if i["kind"] == "logs"]
    assert (source["records"], source["skipped_lines"]) == (4, [2, 4, 6, 8])
    (finding,) = [f for f in report["findings"] if f["rule"] == "SA301"]
    assert finding["key"] == "sha256:" + fingerprint(TOKEN)[:16]
    assert finding["evidence"] == {"records": 4, "lines": [2, 4, 6, 7]}


# --- random rows -------------------------------------------------------------------------------

_TIMES = st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1960, 1, 1),
                                           max_value=dt.datetime(2100, 1, 1)),
                   st.sampled_from([dt.datetime(2026, 11, 3, 23, 59, 59, 999999), T0]))
_TEXT = st.one_of(st.none(), st.text(max_size=8),
                  st.sampled_from(["", "-", "k1", "k2", "GET", "get", "/v1/issues/3",
                                   "/v1/sites/9?x=1", TOKEN, "Bearer x", "192.0.2.4",
                                   "::1", "a b"]))
_ROWS = st.lists(st.tuples(
    _TIMES, _TEXT, st.sampled_from(["GET", "POST", "HEAD", "OPTIONS", "get", None, "P0ST"]),
    st.one_of(_TEXT, st.sampled_from(["/v1/issues", "/v1/issues/12", "/v1/sites/4",
                                      "/v1/works/77/x", "/v1/issues/12/comments"])),
    st.one_of(st.none(), st.integers(-2, 1200), st.sampled_from([200, 201, 401, 403, 404])),
    _TEXT, _TEXT,
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)), _TEXT,
), min_size=1, max_size=40)


@contextlib.contextmanager
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@pytest.mark.slow
@given(rows=_ROWS)
def test_random_rows(rows: list[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch) -> None:
    with folder() as tmp:
        parquet = tmp / "usage.parquet"
        write_parquet(parquet, COLUMNS, rows)
        both_paths(tmp, parquet, monkeypatch)


# Times as text (ISO of every fraction length, epoch seconds and milliseconds, odd forms),
# status and count as integers of any size
_TEXT_TIMES = st.one_of(
    st.none(),
    st.builds(lambda t, digits: t.strftime("%Y-%m-%dT%H:%M:%S")
              + (f".{t.microsecond:06d}{'7' * 3}"[:digits + 1] if digits else "") + "Z",
              st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
              st.integers(0, 9)),
    st.integers(0, 10**16).map(str),
    st.sampled_from(["2026-11-03T23:59:59.99999Z", "2026-11-03T23:59:59.999999999Z",
                     "2026-02-29T10:00:00Z", "yesterday", "", "2026-11-03T10:00:00+01:00",
                     "1793613600.5", "0000-01-01T00:00:00Z"]))
TEXT_COLUMNS = [("time", "VARCHAR"), ("key_id", "VARCHAR"), ("method", "VARCHAR"),
                ("path", "VARCHAR"), ("status", "INTEGER"), ("count", "BIGINT")]
_TEXT_ROWS = st.lists(st.tuples(
    _TEXT_TIMES, _TEXT, st.sampled_from(["GET", "POST", "get", None]),
    st.sampled_from(["/v1/issues", "/v1/issues/12", "/v1/sites/4", "v1/x", None]),
    st.one_of(st.none(), st.integers(-2, 1200)),
    st.one_of(st.none(), st.integers(-1, 10**18)),
), min_size=1, max_size=40)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@pytest.mark.slow
@given(rows=_TEXT_ROWS)
def test_random_rows_with_text_times(rows: list[tuple[Any, ...]],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with folder() as tmp:
        parquet = tmp / "usage.parquet"
        write_parquet(parquet, TEXT_COLUMNS, rows)
        both_paths(tmp, parquet, monkeypatch)
