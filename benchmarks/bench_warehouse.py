#!/usr/bin/env python3
"""The warehouse query on every engine that runs here, against the raw audit (issue 24).

Builds the tests' edge-case table (tests/unit/warehouse_cases.py: one key per edge case, each
with ``--per-key`` rows of ordinary traffic; 1000 gives about 23,000 rows), audits the raw
rows once, then per engine runs ``scopeaudit sql``'s query over the same table, audits its
result and counts the keys whose audit is the raw audit's. Prints, per engine, those keys and
the query's time (the median of ``--repeat`` runs after one warm-up; for PostgreSQL the psql
round trip, for Spark a local[1] session's collect()).

    python benchmarks/bench_warehouse.py                    # DuckDB, and the others found
    SCOPEAUDIT_TEST_POSTGRES_DSN=postgresql://postgres@127.0.0.1:5432/postgres \\
      python benchmarks/bench_warehouse.py --engines duckdb,postgres,spark

An engine whose query fails (one bad value aborting it) is reported with its error.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "unit"))

import warehouse_cases as wc  # noqa: E402

from scopeaudit.catalog import load_builtin  # noqa: E402
from scopeaudit.diagnostics import Diagnostics  # noqa: E402
from scopeaudit.inventory import load_inventory  # noqa: E402
from scopeaudit.sql.command import build_sql  # noqa: E402


def _timed(run: Callable[[], list[wc.Row]], repeat: int) -> tuple[list[wc.Row], float]:
    result = run()  # warm-up (and the result)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-key", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engines", default="duckdb,postgres,spark")
    args = parser.parse_args()
    table = wc.rows(args.per_key)
    tmp = Path(tempfile.mkdtemp(prefix="bench-warehouse-"))
    keys_file = tmp / "keys.yaml"
    keys_file.write_text(wc.KEYS_YAML, "utf-8")
    keys = load_inventory(str(keys_file), None, Diagnostics()).keys
    raw = wc.audit(tmp, wc.KEYS_YAML, [wc.write_jsonl(tmp / "raw.jsonl", wc.COLUMNS, table)])
    print(f"{len(table)} rows, {len(wc.EXPECTED)} keys")
    print("| engine | keys with the raw audit's verdicts | query time |")
    print("|---|---|---|")
    dsn = os.environ.get("SCOPEAUDIT_TEST_POSTGRES_DSN")
    for engine in args.engines.split(","):
        sql = build_sql(load_builtin(), engine, "logs", (), "iso", None, None, keys)
        run: Callable[[], list[wc.Row]]
        if engine == "duckdb":
            import duckdb

            con = duckdb.connect()
            con.execute("CREATE TABLE logs (ts VARCHAR, key_id VARCHAR, method VARCHAR, "
                        "path VARCHAR, status VARCHAR, user_agent VARCHAR, ip VARCHAR)")
            con.executemany("INSERT INTO logs VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [list(r) for r in table])
            query = sql.rstrip().rstrip(";")

            def run(con: Any = con, query: str = query) -> list[wc.Row]:
                return [wc._result_row(r) for r in con.execute(query).fetchall()]
        elif engine == "postgres":
            if dsn is None or shutil.which("psql") is None:
                print("| PostgreSQL | (no SCOPEAUDIT_TEST_POSTGRES_DSN or psql) | |")
                continue
            wc.psql(dsn, wc.postgres_script("", table, name="bench_logs", temporary=False))
            query = sql.replace('"logs"', '"bench_logs"').rstrip().rstrip(";")

            def run(query: str = query, dsn: str = dsn) -> list[wc.Row]:
                return wc.parse_postgres(wc.psql(
                    dsn, f"COPY ({query}) TO STDOUT (FORMAT csv, NULL '<NULL>');\n"))
        elif engine == "spark":
            if importlib.util.find_spec("pyspark") is None or shutil.which("java") is None:
                print("| Spark | (no pyspark or java) | |")
                continue
            spark = wc.spark_session()
            wc.spark_table(spark, table)

            def run(spark: Any = spark, query: str = sql.rstrip().rstrip(";")
                    ) -> list[wc.Row]:
                return [wc._result_row(tuple(r)) for r in spark.sql(query).collect()]
        else:
            raise SystemExit(f"unknown engine {engine!r}")
        try:
            result, seconds = _timed(run, args.repeat)
        except Exception as exc:  # a query that aborts is the finding
            first = str(exc).strip().splitlines()[0][:150]
            print(f"| {engine} | 0/{len(wc.EXPECTED)} (query failed: {first}) | |")
            continue
        out = wc.write_jsonl(tmp / f"{engine}.jsonl", wc.RESULT_COLUMNS, result)
        via_sql = wc.audit(tmp, wc.KEYS_YAML, [out])
        differ = wc.differing_keys(raw, via_sql)
        same = len(wc.EXPECTED) - len(differ)
        extra = f" (differ: {', '.join(differ)})" if differ else ""
        overall = "" if wc.overall(raw) == wc.overall(via_sql) else "; totals differ"
        print(f"| {engine} | {same}/{len(wc.EXPECTED)}{extra}{overall} | {seconds:.2f} s |")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
