"""The warehouse query on real engines (issue 24), held to the raw audit key by key.

DuckDB always; PostgreSQL where SCOPEAUDIT_TEST_POSTGRES_DSN names a server (``.ci/run``
installs PostgreSQL and starts a private one on 127.0.0.1, so in CI these run); Spark in a
local session where pyspark and Java are installed (``.ci/run`` installs pyspark when Java
is there). Trino and BigQuery are not run here: their SQL is parsed back, and its functions
and regular expressions checked against what those engines document and what the engines
sharing their regex flavour ran (the end of this file).

The shared edge-case table (warehouse_cases.py) has one key per edge case; each engine's
result is audited and compared with the audit of the raw rows, key by key, and the raw
audit with the verdicts worked out by hand. Generated rows hold values no reader takes in
every column: the query must run over them on every engine, and read each row as the
reader reads it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb", reason="the warehouse queries run in DuckDB: install the "
                                     "test extra (or scopeaudit[duckdb])")
import sqlglot
import warehouse_cases as wc
from sqlglot import exp

from scopeaudit.catalog import load_builtin
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.inventory import load_inventory
from scopeaudit.model import Key
from scopeaudit.sql.warehouse import WarehouseSpec, render, warehouse_query
from scopeaudit.usage.aggregate import Aggregator
from scopeaudit.usage.clients import network_of
from scopeaudit.usage.fields import BadRecord, FieldMap
from scopeaudit.usage.identity import KeyResolver
from scopeaudit.usage.record import InputStats, ReadContext
from scopeaudit.usage.timeparse import parse_time

POSTGRES_DSN = os.environ.get("SCOPEAUDIT_TEST_POSTGRES_DSN")
HAS_POSTGRES = POSTGRES_DSN is not None and shutil.which("psql") is not None
HAS_SPARK = importlib.util.find_spec("pyspark") is not None and shutil.which("java") is not None
ENGINES = [
    "duckdb",
    pytest.param("postgres", marks=pytest.mark.skipif(
        not HAS_POSTGRES, reason="set SCOPEAUDIT_TEST_POSTGRES_DSN (and have psql) to run the "
                                 "PostgreSQL query (.ci/run starts a server for it)")),
    pytest.param("spark", marks=pytest.mark.skipif(
        not HAS_SPARK, reason="pyspark and a Java runtime run the Spark query (.ci/run "
                              "installs pyspark where Java is)")),
]
EDGE_ROWS = wc.rows(40)


@pytest.fixture(scope="module")
def spark() -> Any:  # pragma: no cover - needs pyspark and Java
    session = wc.spark_session()
    session.sparkContext.setLogLevel("ERROR")
    return session


Runner = Callable[[str, Sequence[wc.Row], wc.Schema], list[wc.Row]]


@pytest.fixture
def run(request: pytest.FixtureRequest) -> Runner:
    """The query over a table on the engine the test is parametrised with."""
    engine = request.node.callspec.params["engine"]
    if engine == "duckdb":
        return wc.run_duckdb
    if engine == "postgres":
        assert POSTGRES_DSN is not None
        dsn = POSTGRES_DSN
        return lambda sql, table, schema: wc.run_postgres(dsn, sql, table, schema)
    session = request.getfixturevalue("spark")
    return lambda sql, table, schema: wc.run_spark(session, sql, table, schema)


def keys_of(keys_yaml: str, tmp: Path) -> tuple[Key, ...]:
    path = tmp / "query-keys.yaml"
    path.write_text(keys_yaml, "utf-8")
    return load_inventory(str(path), None, Diagnostics()).keys


def query(engine: str, ts_type: str = "iso", keys: Sequence[Key] = ()) -> str:
    return render(warehouse_query(load_builtin(), WarehouseSpec(engine, "logs", ts_type=ts_type,
                                                                keys=tuple(keys))), engine)


_AUDITS: dict[tuple[str, str], dict[str, Any]] = {}


def edge_audit(source: str, tmp_path_factory: pytest.TempPathFactory,
               run: Runner | None = None) -> dict[str, Any]:
    """The audit of the edge-case table: its raw rows (``raw``), or an engine's result
    (once per engine and session)."""
    if ("edge", source) not in _AUDITS:
        tmp = tmp_path_factory.mktemp(f"edge-{source}")
        if source == "raw":
            logs = wc.write_jsonl(tmp / "raw.jsonl", wc.COLUMNS, EDGE_ROWS)
        else:
            assert run is not None
            result = run(query(source, keys=keys_of(wc.KEYS_YAML, tmp)), EDGE_ROWS,
                         wc.TEXT_SCHEMA)
            logs = wc.write_jsonl(tmp / "result.jsonl", wc.RESULT_COLUMNS, result)
        _AUDITS["edge", source] = wc.audit(tmp, wc.KEYS_YAML, [logs])
    return _AUDITS["edge", source]


# --- the edge-case table ----------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(wc.EXPECTED))
def test_the_raw_audit_gives_the_verdicts_worked_out_by_hand(
        key: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    raw = {k["id"]: k for k in edge_audit("raw", tmp_path_factory)["keys"]}
    scopes = raw[key]["scopes"]
    assert {s: scopes[s] for s in wc.EXPECTED[key]} == wc.EXPECTED[key]


@pytest.mark.parametrize("key", sorted(wc.EXPECTED))
@pytest.mark.parametrize("engine", ENGINES)
def test_each_key_audits_as_its_raw_rows(engine: str, key: str, run: Runner,
                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    raw = wc.per_key(edge_audit("raw", tmp_path_factory))[key]
    via_sql = wc.per_key(edge_audit(engine, tmp_path_factory, run))[key]
    assert via_sql == raw


@pytest.mark.parametrize("engine", ENGINES)
def test_the_totals_audit_as_the_raw_rows(engine: str, run: Runner,
                                          tmp_path_factory: pytest.TempPathFactory) -> None:
    raw = edge_audit("raw", tmp_path_factory)
    via_sql = edge_audit(engine, tmp_path_factory, run)
    assert wc.overall(via_sql) == wc.overall(raw)
    # the table's bad rows were there to be refused: 23 of them (worked out from _edge_rows:
    # 11 times, 4 methods, 7 statuses, a path), and the query left the same ones out
    raw_logs = [i for i in raw["inputs"] if i["kind"] == "logs"]
    assert raw_logs[0]["skipped"] == 23


@pytest.mark.parametrize(("table", "schema"), [
    (wc.epoch_text_rows(), wc.TEXT_SCHEMA), (wc.epoch_number_rows(), wc.NUMBER_TS_SCHEMA)],
    ids=["text", "number"])
@pytest.mark.parametrize("engine", ENGINES)
def test_epoch_columns_audit_as_their_raw_rows(engine: str, run: Runner, tmp_path: Path,
                                               table: list[wc.Row], schema: wc.Schema) -> None:
    raw = wc.audit(tmp_path, wc.EPOCH_KEYS_YAML,
                   [wc.write_jsonl(tmp_path / "raw.jsonl", wc.COLUMNS, table)])
    result = run(query(engine, "epoch"), table, schema)
    via_sql = wc.audit(tmp_path, wc.EPOCH_KEYS_YAML,
                       [wc.write_jsonl(tmp_path / "result.jsonl", wc.RESULT_COLUMNS, result)])
    assert wc.per_key(via_sql) == wc.per_key(raw)
    assert wc.overall(via_sql) == wc.overall(raw)
    scopes = raw["keys"][0]["scopes"]
    expected = wc.EPOCH_EXPECTED["text" if schema is wc.TEXT_SCHEMA else "number"]
    assert {s: scopes[s] for s in expected} == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_numbers_no_json_holds_leave_their_rows_out(engine: str, run: Runner) -> None:
    """A number column's NaN, infinities, negative and huge values: no row, no error. (A
    time under 1e-99 s, which the reader takes as 1970-01-01T00:00:00Z, is left out too:
    the README says so.)"""
    bad = [float("nan"), float("inf"), float("-inf"), -1.0, 1e300, 5e-324, 1e100]
    table = [(v, "k", "GET", "/v1/issues", "200", f"row{i}", "192.0.2.1")
             for i, v in enumerate([*bad, 1_791_540_000.0, 1.5e-7])]
    result = run(query(engine, "epoch"), table, wc.NUMBER_TS_SCHEMA)
    assert sorted(r[5] for r in result) == ["row7", "row8"]


@pytest.mark.parametrize("engine", ENGINES)
def test_timestamp_columns_keep_the_readers_range(engine: str, run: Runner,
                                                  tmp_path: Path) -> None:
    stamps = [datetime(2026, 10, 5, 10, 0, 0, 250000, tzinfo=UTC),
              datetime(1969, 12, 31, 23, 0, tzinfo=UTC), datetime(6000, 1, 1, tzinfo=UTC)]
    table = [(s, "epoch_text", "POST", path, "201", "u", "192.0.2.1")
             for s, path in zip(stamps, ["/v1/works", "/v1/sites", "/v1/assets"], strict=True)]
    raw_rows = [(s.isoformat().replace("+00:00", "Z"), *rest) for s, *rest in table]
    raw = wc.audit(tmp_path, wc.EPOCH_KEYS_YAML,
                   [wc.write_jsonl(tmp_path / "raw.jsonl", wc.COLUMNS, raw_rows)])
    if engine == "postgres":
        typed = [(s.strftime("%Y-%m-%d %H:%M:%S.%f"), *rest) for s, *rest in table]
    elif engine == "duckdb":
        typed = [(s.replace(tzinfo=None), *rest) for s, *rest in table]
    else:
        typed = table
    result = run(query(engine, "timestamp"), typed, (("ts", "timestamp"), *wc.TEXT_SCHEMA[1:]))
    via_sql = wc.audit(tmp_path, wc.EPOCH_KEYS_YAML,
                       [wc.write_jsonl(tmp_path / "result.jsonl", wc.RESULT_COLUMNS, result)])
    assert wc.per_key(via_sql) == wc.per_key(raw)
    # 1969 is out of the readers' range; 6000 is a record from the future, no use
    assert raw["keys"][0]["scopes"]["works:write"] == "used"
    assert raw["keys"][0]["scopes"]["sites:write"] == "unused"


# --- every row read as the reader reads it ----------------------------------------------------


def _reader_view(row: wc.Row, resolver: KeyResolver, aggregator: Aggregator
                 ) -> tuple[Any, ...] | None:
    """What the reader makes of a raw row (None: it refuses it): time, key, method,
    operation, status, client network."""
    obj = {name: value for name, value in zip(wc.COLUMNS, row, strict=True)
           if value is not None}
    ctx = ReadContext(InputStats("raw"), resolver, on_token=lambda key, line: None)
    try:
        rec = FieldMap.build({}).record(obj, 1, ctx, False)
    except BadRecord:
        return None
    return (rec.time, rec.key, rec.method, aggregator.operation(rec.method, rec.target),
            rec.status, network_of(rec.ip))


def _result_view(row: wc.Row, resolver: KeyResolver, aggregator: Aggregator
                 ) -> tuple[Any, ...]:
    """What the reader makes of a result row."""
    ts, key, method, path, status, _, ip, count, _ = row
    assert count == 1
    rec = FieldMap.build({}).record(
        {"ts": ts, "key_id": key, "method": method, "path": path, "status": status,
         "ip": ip}, 1, ReadContext(InputStats("result"), resolver,
                                       on_token=lambda key, line: None), False)
    return (rec.time, rec.key, rec.method, aggregator.operation(rec.method, rec.target),
            rec.status, network_of(rec.ip))


@pytest.mark.parametrize("engine", ENGINES)
def test_each_row_is_read_as_the_reader_reads_it(engine: str, run: Runner,
                                                 tmp_path: Path) -> None:
    """Generated rows, each its own client: odd and bad values in every column (times near
    every form, statuses, methods, request lines, keys and tokens, addresses). The query
    runs (no value aborts it), and keeps exactly the rows the reader takes, each read alike:
    time to the last bit, key, method, operation, status, client network."""
    table = wc.value_rows()
    keys = keys_of(wc.KEYS_YAML, tmp_path)
    resolver, catalog = KeyResolver(keys), load_builtin()
    expected = {row[5]: _reader_view(row, resolver, Aggregator(catalog)) for row in table}
    result = run(query(engine, keys=keys), table, wc.TEXT_SCHEMA)
    got = {row[5]: _result_view(row, resolver, Aggregator(catalog)) for row in result}
    assert len(got) == len(result)
    read = {ua: view for ua, view in expected.items() if view is not None}
    assert 100 < len(read) < len(table) - 100  # both kinds, many of each
    assert got.keys() == read.keys()
    assert [ua for ua in read if got[ua] != read[ua]] == []


@pytest.mark.parametrize("engine", ENGINES)
def test_every_time_form_is_parse_time(engine: str, run: Runner) -> None:
    """Time texts near and in every form, through the whole query: a row exactly where
    parse_time reads one, at its very time."""
    import random

    texts = wc.time_texts(random.Random(11), 500)
    table = [(t, "k", "GET", "/v1/issues", "200", f"row{i}", "192.0.2.1")
             for i, t in enumerate(texts)]
    expected = {}
    for i, text in enumerate(texts):
        with contextlib.suppress(ValueError):
            expected[f"row{i}"] = parse_time(text)
    result = run(query(engine), table, wc.TEXT_SCHEMA)
    got = {row[5]: parse_time(row[0]) for row in result}  # a number: the epoch rule
    assert 100 < len(expected) < len(texts) - 100
    assert got == expected


# --- the README's recipes, end to end ---------------------------------------------------------


def _same_audit(tmp: Path, logs: Sequence[Path], tmp_path_factory: pytest.TempPathFactory,
                engine: str = "auto") -> None:
    raw = edge_audit("raw", tmp_path_factory)
    via_sql = wc.audit(tmp, wc.KEYS_YAML, logs, engine)
    assert wc.per_key(via_sql) == wc.per_key(raw)
    assert wc.overall(via_sql) == wc.overall(raw)


def test_the_duckdb_recipe(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """COPY (query) TO 'usage.csv' (HEADER), as the README writes it."""
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE logs (ts VARCHAR, key_id VARCHAR, method VARCHAR, path VARCHAR, "
                "status VARCHAR, user_agent VARCHAR, ip VARCHAR)")
    con.executemany("INSERT INTO logs VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [list(r) for r in EDGE_ROWS])
    sql = query("duckdb", keys=keys_of(wc.KEYS_YAML, tmp_path)).rstrip().rstrip(";")
    usage = tmp_path / "usage.csv"
    con.execute(f"COPY ({sql}) TO '{usage}' (HEADER)")
    _same_audit(tmp_path, [usage], tmp_path_factory)


def readme_recipe(title: str, language: str) -> str:
    """The README's code block after its ``**title**`` line."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    found = re.search(rf"^\*\*{re.escape(title)}\*\*[^\n]*\n\n```{language}\n(.*?)```",
                      text, re.M | re.S)
    assert found, f"README lost its {title} recipe"
    return found.group(1)


def _with_scopeaudit_on_path(monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
    monkeypatch.chdir(tmp)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin")
    (tmp / "keys.yaml").write_text(wc.KEYS_YAML, "utf-8")


@pytest.mark.skipif(not HAS_POSTGRES, reason="set SCOPEAUDIT_TEST_POSTGRES_DSN (and have psql)")
def test_the_postgres_recipe(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's PostgreSQL recipe, run as written (but its audit) over the edge-case
    table: psql's \\copy of the query to CSV."""
    assert POSTGRES_DSN is not None
    recipe = readme_recipe("PostgreSQL", "sh")
    export = "".join(line for line in recipe.splitlines(keepends=True)
                     if not line.startswith("scopeaudit audit"))
    wc.psql(POSTGRES_DSN, wc.postgres_script("", EDGE_ROWS, name="api_requests",
                                             temporary=False))
    _with_scopeaudit_on_path(monkeypatch, tmp_path)
    monkeypatch.setenv("DATABASE_URL", POSTGRES_DSN)
    try:
        subprocess.run(["bash", "-euo", "pipefail", "-c", export], check=True)
    finally:
        wc.psql(POSTGRES_DSN, "DROP TABLE api_requests;\n")
    _same_audit(tmp_path, [tmp_path / "usage.csv"], tmp_path_factory)


@pytest.mark.skipif(not HAS_SPARK, reason="pyspark and a Java runtime run the Spark query")
@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_the_spark_recipe(fmt: str, spark: Any, tmp_path: Path,
                          tmp_path_factory: pytest.TempPathFactory,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's Spark recipe, run as written over the edge-case table saved as
    ``logs.api_requests``, writing JSON (or, as it says, Parquet); the part files audited
    (Parquet by the DuckDB engine)."""
    recipe = readme_recipe("Spark", "python")
    # as written, but JSON or Parquet, and into this test's folder (the JVM's working folder,
    # which a relative path is in, is where the session started)
    assert '.json("usage")' in recipe
    recipe = recipe.replace('.json("usage")', f'.{fmt}({str(tmp_path / "usage")!r})')
    spark.sql("CREATE DATABASE IF NOT EXISTS logs")
    spark.createDataFrame([tuple(r) for r in EDGE_ROWS], ", ".join(
        f"`{n}` string" for n in wc.COLUMNS)).write.mode("overwrite").saveAsTable(
        "logs.api_requests")
    _with_scopeaudit_on_path(monkeypatch, tmp_path)
    exec(recipe, {"spark": spark})
    parts = sorted((tmp_path / "usage").glob(f"part-*.{fmt}"))
    assert len(parts) == 1
    _same_audit(tmp_path, parts, tmp_path_factory, "duckdb" if fmt == "parquet" else "auto")


@pytest.mark.skipif(not HAS_SPARK, reason="pyspark and a Java runtime run the Spark query")
def test_spark_csv_is_not_a_recipe(spark: Any, tmp_path: Path) -> None:
    """Why the README's Spark recipe writes JSON or Parquet: Spark's CSV writer writes a
    double in exponent form (1.79154E9), which the reader refuses as a time (issue 24)."""
    wc.spark_table(spark, EDGE_ROWS)
    out = tmp_path / "usage"
    spark.sql(query("spark").rstrip().rstrip(";")).coalesce(1).write.option(
        "header", True).csv(str(out))
    text = next(out.glob("part-*.csv")).read_text("utf-8")
    assert re.search(r"^[0-9]\.[0-9]+E9,", text, re.M)


# --- Trino and BigQuery: parsed, and held to what they document --------------------------------

# Functions the queries call, each in the engine's own function reference (Trino's
# docs/src/main/sphinx/functions, BigQuery's GoogleSQL reference: string, math, array, hash,
# timestamp and conversion functions); ARRAY, STRUCT and UNNEST are BigQuery's constructors
# and operator. Anything else is a test failure
DOCUMENTED = {
    "trino": {"ARRAY_JOIN", "CAST", "COALESCE", "CONCAT", "COUNT", "FLOOR", "LENGTH", "LOWER",
              "MAX", "MIN", "NULLIF", "REGEXP_EXTRACT", "REGEXP_LIKE", "REGEXP_REPLACE",
              "REPLACE", "SHA256", "SPLIT", "SUBSTR", "SUM", "TO_HEX", "TO_UNIXTIME", "TO_UTF8",
              "TRANSFORM", "TRUNCATE", "UPPER"},
    "bigquery": {"ARRAY", "ARRAY_TO_STRING", "CAST", "COALESCE", "COUNT", "DIV", "FLOOR",
                 "LENGTH", "LOWER", "MAX", "MIN", "MOD", "NULLIF", "REGEXP_CONTAINS",
                 "REGEXP_EXTRACT", "REGEXP_REPLACE", "REPLACE", "RIGHT", "SHA256", "SPLIT",
                 "STRUCT", "SUBSTRING", "SUM", "TO_HEX", "UNIX_MICROS", "UNNEST", "UPPER"},
}
_KEYWORDS = {"AND", "OR", "NOT", "IN", "FROM", "WHEN", "ELSE", "JOIN", "VALUES", "EXISTS"}
# Each engine's regex flavour is another's that runs here: Trino's Joni reads Java's syntax
# (Spark: java.util.regex), BigQuery is RE2 (DuckDB)
SAME_FLAVOUR = {"trino": "spark", "bigquery": "duckdb"}


def _functions(sql: str) -> set[str]:
    no_strings = re.sub(r"'(?:[^'\\]|\\.|'')*'", "''", sql)
    return set(re.findall(r"\b([A-Z_][A-Z0-9_]*)\s*\(", no_strings)) - _KEYWORDS


def _regexes(sql: str, dialect: str) -> set[str]:
    """The patterns of every regex function, parsed back in the dialect."""
    tree = sqlglot.parse_one(sql, read=dialect)
    out = set()
    for node in tree.walk():
        if isinstance(node, exp.RegexpLike | exp.RegexpExtract | exp.RegexpReplace):
            out.add(node.expression.name)
        elif isinstance(node, exp.Anonymous) and node.name.upper().startswith("REGEXP"):
            out.add(node.expressions[1].name)
    return out


def _all_queries(dialect: str, tmp: Path) -> list[str]:
    keys = keys_of(wc.KEYS_YAML, tmp)
    return [query(dialect, ts_type, keys) for ts_type in ("iso", "epoch", "timestamp")]


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["trino", "bigquery"])
def test_functions_are_the_documented_ones(dialect: str, tmp_path: Path) -> None:
    queries = _all_queries(dialect, tmp_path)
    for sql in queries:  # parsed, and written again the same
        tree = sqlglot.parse_one(sql, read=dialect)
        assert sqlglot.parse_one(tree.sql(dialect=dialect), read=dialect) == tree
    used = set().union(*(_functions(sql) for sql in queries))
    assert used <= DOCUMENTED[dialect]
    # no parser without a safe form (Trino's FROM_ISO8601_TIMESTAMP, BigQuery's TIMESTAMP):
    # every text is read by pattern and arithmetic, and no cast relies on a TRY form
    assert not used & {"FROM_ISO8601_TIMESTAMP", "TIMESTAMP", "TRY_CAST", "SAFE_CAST", "TRY",
                       "PARSE_TIMESTAMP", "DATE_PARSE"}


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["trino", "bigquery"])
def test_regexes_are_those_an_engine_of_the_same_flavour_ran(dialect: str,
                                                             tmp_path: Path) -> None:
    ran = set().union(*(_regexes(sql, SAME_FLAVOUR[dialect])
                        for sql in _all_queries(SAME_FLAVOUR[dialect], tmp_path)))
    unrun = set().union(*(_regexes(sql, dialect) for sql in _all_queries(dialect, tmp_path)))
    assert unrun and unrun <= ran
