"""The shared edge-case table of the warehouse tests (issue 24): one key per edge case.

Every key has a month of ordinary traffic (``issues:read``, from two clients) and its edge
case, which decides the verdict on one or more other scopes; ``EXPECTED`` gives those
verdicts, worked out by hand from the readers' rules (usage/fields.py, timeparse.py,
identity.py, clients.py), not from the program's output. The tests run the warehouse query
over the table on every engine that runs here, audit its result, and hold it to the audit
of the same raw rows, key by key; ``benchmarks/bench_warehouse.py`` does the same at scale
and times each engine.

Every column is text, as a raw log table loaded from text files is: the bad values a
warehouse holds (a ``ts`` of ``not a time``, a status of ``abc``) are in it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from scopeaudit.secrets import fingerprint

COLUMNS = ("ts", "key_id", "method", "path", "status", "user_agent", "ip")
RESULT_COLUMNS = ("ts", "key_id", "method", "path", "status", "user_agent", "ip", "count",
                  "tokens")
Row = tuple[Any, ...]

# Tokens (TOKEN_RE: sk_live_ or sk_test_ and 16+ letters or digits), one per token-borne key
T_BARE = "sk_live_" + "Bare0" * 5
T_BEARER = "sk_live_" + "Bear1" * 5
T_QUERY = "sk_live_" + "Quer2" * 5
T_PREFIX = "sk_live_Pfx9" + "x" * 16
T_LAST4 = "sk_test_" + "y" * 16 + "L4st"
T_UA = "sk_live_" + "UaUa3" * 5
AS_OF = "2026-11-01"
KEYS_YAML = f"""\
keys:
  - {{id: plain, owner: o, created: 2026-01-01, scopes: [issues:read, sites:read]}}
  - {{id: bare_token, owner: o, created: 2026-01-01, sha256: {fingerprint(T_BARE)},
     scopes: [issues:read, works:write]}}
  - {{id: bearer, owner: o, created: 2026-01-01, sha256: {fingerprint(T_BEARER)},
     scopes: [issues:read, works:write]}}
  - {{id: query_token, owner: o, created: 2026-01-01, sha256: {fingerprint(T_QUERY)},
     scopes: [issues:read, works:write]}}
  - {{id: by_prefix, owner: o, created: 2026-01-01, prefix: sk_live_Pfx9,
     scopes: [issues:read, sites:write]}}
  - {{id: by_last4, owner: o, created: 2026-01-01, last4: L4st,
     scopes: [issues:read, sites:write]}}
  - {{id: request_line, owner: o, created: 2026-01-01,
     scopes: [issues:read, sites:write, assets:write, assets:read]}}
  - {{id: split_line, owner: o, created: 2026-01-01, scopes: [issues:read, sites:write]}}
  - {{id: odd_method, owner: o, created: 2026-01-01,
     scopes: [issues:read, works:write, sites:write]}}
  - {{id: blank_client, owner: o, created: 2026-01-01, scopes: [issues:read]}}
  - {{id: bad_time, owner: o, created: 2026-01-01,
     scopes: [issues:read, sites:write, works:write]}}
  - {{id: iso_forms, owner: o, created: 2026-01-01,
     scopes: [issues:read, assets:write, users:read, logs:read, runs:write, works:write]}}
  - {{id: other_forms, owner: o, created: 2026-01-01,
     scopes: [issues:read, checkins:read, templates:read, sensors:read, logs:read, users:read,
              assets:read, runs:read]}}
  - {{id: bad_date, owner: o, created: 2026-01-01, scopes: [issues:read, works:write]}}
  - {{id: far_times, owner: o, created: 2026-01-01,
     scopes: [issues:read, works:write, sites:write, assets:write]}}
  - {{id: bad_status, owner: o, created: 2026-01-01,
     scopes: [issues:read, sites:write, works:write, assets:write, users:write, logs:write]}}
  - {{id: status_classes, owner: o, created: 2026-01-01,
     scopes: [issues:read, templates:write, runs:write]}}
  - {{id: slashes, owner: o, created: 2026-01-01, scopes: [issues:read, sites:read]}}
  - {{id: unmatched, owner: o, created: 2026-01-01, scopes: [issues:read, issues:write]}}
  - {{id: ip_forms, owner: o, created: 2026-01-01, scopes: [issues:read]}}
  - {{id: ua_text, owner: o, created: 2026-01-01, scopes: [issues:read]}}
  - {{id: markers, owner: o, created: 2026-01-01,
     scopes: [issues:read, sites:write, works:write, assets:write]}}
  - {{id: head_options, owner: o, created: 2026-01-01,
     scopes: [issues:read, runs:read, runs:write]}}
"""

# Per key, the verdicts its edge case decides in the raw audit (worked out by hand)
EXPECTED: dict[str, dict[str, str]] = {
    # nothing but its own traffic
    "plain": {"issues:read": "used", "sites:read": "unused"},
    # a bare token in the key column (PostgreSQL lost it: regexp_match index)
    "bare_token": {"issues:read": "used", "works:write": "used"},
    "bearer": {"issues:read": "used", "works:write": "used"},
    # a token in the query string names the key when the key column is empty
    "query_token": {"works:write": "used"},
    "by_prefix": {"sites:write": "used"},
    "by_last4": {"sites:write": "used"},
    # "POST /v1/sites HTTP/1.1" with no method: a site created; a method column and a request
    # line: the column's method on the line's target (POST /v1/assets)
    "request_line": {"sites:write": "used", "assets:write": "used", "assets:read": "unused"},
    # "PATCH  /v1/sites/7" (two spaces: no request line): split at the first space
    "split_line": {"sites:write": "used"},
    # "poſt" (non-ASCII, upper-cases to POST) and " POST" are no methods: refused
    "odd_method": {"works:write": "unused", "sites:write": "unused"},
    "blank_client": {"issues:read": "used"},
    # "not a time" refused; "2026-10-05T10Z" (hour and zone) read
    "bad_time": {"sites:write": "unused", "works:write": "used"},
    # ISO spellings the reader reads: t/z, ",5", basic, +0530, a date, a space
    "iso_forms": {"assets:write": "used", "users:read": "used", "logs:read": "used",
                  "runs:write": "used", "works:write": "used"},
    # epoch seconds, milliseconds, microseconds and nanoseconds as text, nginx's $time_local
    # in brackets, HAProxy's (milliseconds, no zone), Go's time.String()
    "other_forms": {"checkins:read": "used", "templates:read": "used", "sensors:read": "used",
                    "logs:read": "used", "users:read": "used", "assets:read": "used",
                    "runs:read": "used"},
    # 30 February, hour 24, second 60, week dates, any other separator: refused
    "bad_date": {"works:write": "unused"},
    # after 9999-12-31 once in UTC, and before 1970: refused; year 6000, and 20 nines (as
    # nanoseconds, the year 5138): future records
    "far_times": {"works:write": "unused", "sites:write": "unused", "assets:write": "unused"},
    # "abc", "200.0", "+200", "1000", "²": refused; " 201 " and "0201": read
    "bad_status": {"sites:write": "unused", "works:write": "unused", "assets:write": "unused",
                   "users:write": "used", "logs:write": "used"},
    # 401 is no use, 403 a denial
    "status_classes": {"templates:write": "unused", "runs:write": "denied"},
    "slashes": {"sites:read": "used"},
    # an undocumented DELETE under /v1/issues: the issues scopes are unknown
    "unmatched": {"issues:write": "unknown"},
    "ip_forms": {"issues:read": "used"},
    "ua_text": {"issues:read": "used"},
    # "-" is the readers' empty marker in every column
    "markers": {"sites:write": "unused", "works:write": "unused", "assets:write": "unused"},
    # HEAD is GET; OPTIONS is a preflight, never use
    "head_options": {"runs:read": "used", "runs:write": "unused"},
}
# The key column of each key's ordinary traffic (a token for the keys defined by one)
KEY_VALUE = {"bare_token": T_BARE, "bearer": f"Bearer {T_BEARER}",
             "query_token": f"Bearer {T_QUERY}", "by_prefix": T_PREFIX,
             "by_last4": f"bearer {T_LAST4}"}


def _edge_rows() -> list[Row]:
    """Each key's edge case, as (ts, key_id, method, path, status, user_agent, ip)."""
    ua, ip = "edge/1", "192.0.2.10"
    t = "2026-10-20T12:00:00Z"
    return [
        ("2026-10-20T12:00:01Z", T_BARE, "POST", "/v1/works", "201", ua, ip),
        ("2026-10-20T12:00:02Z", f"Bearer {T_BEARER}", "POST", "/v1/works", "201", ua, ip),
        (t, None, "POST", f"/v1/works?access_token={T_QUERY}&x=1", "201", ua, ip),
        (t, "", "POST", f"/v1/works?access_token={T_QUERY}", "201", ua, ip),
        (t, T_PREFIX, "POST", "/v1/sites", "201", ua, ip),
        (t, f"Bearer {T_LAST4}", "PATCH", "/v1/sites/9", "200", ua, ip),
        (t, "request_line", None, "POST /v1/sites HTTP/1.1", "201", ua, ip),
        (t, "request_line", "POST", "GET /v1/assets HTTP/1.1", "201", ua, ip),
        (t, "request_line", "-", "  GET /v1/issues/5  ", "200", ua, ip),
        (t, "split_line", None, "PATCH  /v1/sites/7", "200", ua, ip),
        (t, "split_line", "", "GET /v1/issues HTTP/1.1 extra", "200", ua, ip),
        (t, "odd_method", "poſt", "/v1/works", "201", ua, ip),
        (t, "odd_method", " POST", "/v1/sites", "201", ua, ip),
        (t, "odd_method", "P0ST", "/v1/sites", "201", ua, ip),
        (t, "blank_client", "GET", "/v1/issues", "200", "   ", "   "),
        (t, "blank_client", "GET", "/v1/issues", "200", "ua", "\t"),
        ("not a time", "bad_time", "POST", "/v1/sites", "201", ua, ip),
        ("2026-10-05T10Z", "bad_time", "POST", "/v1/works", "201", ua, ip),
        ("", "bad_time", "POST", "/v1/sites", "201", ua, ip),
        ("2026-10-06t10:00:00z", "iso_forms", "POST", "/v1/assets", "201", ua, ip),
        ("2026-10-07T10:00:00,5Z", "iso_forms", "GET", "/v1/users", "200", ua, ip),
        ("20261008T100000Z", "iso_forms", "GET", "/v1/logs", "200", ua, ip),
        ("2026-10-09T10:00:00+0530", "iso_forms", "POST", "/v1/runs", "201", ua, ip),
        ("2026-10-10", "iso_forms", "PATCH", "/v1/works/1", "200", ua, ip),
        (" 2026-10-11 10:00:00.1234567 ", "iso_forms", "GET", "/v1/issues", "200", ua, ip),
        ("2026-10-12T10:00:00.123456789Z", "iso_forms", "GET", "/v1/issues", "200", ua, ip),
        ("1791540000", "other_forms", "GET", "/v1/checkins", "200", ua, ip),
        ("1791626400123", "other_forms", "GET", "/v1/templates", "200", ua, ip),
        ("[10/Oct/2026:10:00:00 +0200]", "other_forms", "GET", "/v1/sensor-readings", "200",
         ua, ip),
        ("2026-10-11 12:00:00.5 +0200 CEST m=+0.001", "other_forms", "GET", "/v1/logs", "200",
         ua, ip),
        ("11/Oct/2026:10:00:00.123", "other_forms", "GET", "/v1/users", "200", ua, ip),
        ("1791540000123456", "other_forms", "GET", "/v1/assets", "200", ua, ip),
        ("1791540000123456789", "other_forms", "GET", "/v1/runs", "200", ua, ip),
        ("2026-02-30T10:00:00Z", "bad_date", "POST", "/v1/works", "201", ua, ip),
        ("2026-10-05T24:00:00Z", "bad_date", "POST", "/v1/works", "201", ua, ip),
        ("2026-10-05T10:00:60Z", "bad_date", "POST", "/v1/works", "201", ua, ip),
        ("2026-W40-1T10:00:00Z", "bad_date", "POST", "/v1/works", "201", ua, ip),
        ("2026-10-05x10:00:00", "bad_date", "POST", "/v1/works", "201", ua, ip),
        ("2026-10-05T10:00:00+24:00", "bad_date", "POST", "/v1/works", "201", ua, ip),
        ("9999-12-31T23:30:00-01:00", "far_times", "POST", "/v1/works", "201", ua, ip),
        ("1969-12-31T23:00:00Z", "far_times", "POST", "/v1/sites", "201", ua, ip),
        ("6000-01-01T00:00:00Z", "far_times", "POST", "/v1/assets", "201", ua, ip),
        ("99999999999999999999", "far_times", "POST", "/v1/works", "201", ua, ip),
        (t, "bad_status", "POST", "/v1/sites", "abc", ua, ip),
        (t, "bad_status", "POST", "/v1/works", "200.0", ua, ip),
        (t, "bad_status", "POST", "/v1/assets", "+200", ua, ip),
        (t, "bad_status", "POST", "/v1/sites", "1000", ua, ip),
        (t, "bad_status", "POST", "/v1/sites", "²", ua, ip),
        (t, "bad_status", "POST", "/v1/sites", "99999999999999999999999", ua, ip),
        (t, "bad_status", "POST", "/v1/users", " 201 ", ua, ip),
        (t, "bad_status", "POST", "/v1/logs", "0201", ua, ip),
        (t, "status_classes", "POST", "/v1/templates", "401", ua, ip),
        (t, "status_classes", "PATCH", "/v1/runs/3", "403", ua, ip),
        (t, "slashes", "GET", "//v1//sites//", "200", ua, ip),
        (t, "unmatched", "DELETE", "/v1/issues/42", "204", ua, ip),
        (t, "unmatched", "GET", "/v1/nothing/abc123def", "404", ua, ip),
        (t, "ip_forms", "GET", "/v1/issues", "200", ua, "::ffff:198.51.100.7"),
        (t, "ip_forms", "GET", "/v1/issues", "200", ua, "198.51.100.20:41234"),
        (t, "ip_forms", "GET", "/v1/issues", "200", ua, "[2001:db8::1]:443"),
        (t, "ip_forms", "GET", "/v1/issues", "200", ua, "fe80::1%eth0"),
        (t, "ip_forms", "GET", "/v1/issues", "200", ua, " 203.0.113.9 "),
        (t, "ip_forms", "GET", "/v1/issues", "200", ua, "not an address"),
        (t, "ua_text", "GET", "/v1/issues", "200", f"client/1 {T_UA}", ip),
        (t, "ua_text", "GET", "/v1/issues", "200", "long/" + "é" * 130, ip),
        ("-", "markers", "POST", "/v1/sites", "201", ua, ip),
        (t, "markers", "-", "/v1/works", "201", ua, ip),
        (t, "markers", "POST", "-", "201", ua, ip),
        (t, "markers", "POST", "/v1/assets", "-", ua, ip),
        (t, "-", "POST", "/v1/assets", "201", ua, ip),
        (t, "markers", "GET", "/v1/issues", "200", "-", "-"),
        (t, "head_options", "HEAD", "/v1/runs", "200", ua, ip),
        (t, "head_options", "OPTIONS", "/v1/runs/1", "204", ua, ip),
    ]


def _ordinary(key: str, n: int, rng: random.Random) -> Iterator[Row]:
    """A month of a key's ordinary traffic: issues listed and read, from two clients."""
    value = KEY_VALUE.get(key, key)
    for i in range(n):
        day = 1 + i * 30 // n
        stamp = (f"2026-10-{day:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:"
                 f"{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z")
        path = "/v1/issues" if i % 3 else f"/v1/issues/{rng.randrange(1, 500)}"
        status = ("200", "200", "200", "404", "500", "429")[i % 6]
        client = i % 2
        yield (stamp, value, ("GET", "get")[i % 7 == 0], path, status,
               ("sync/2.1", "cli/0.9")[client], f"198.51.{100 + client}.{rng.randrange(256)}")


def rows(per_key: int = 40, seed: int = 24) -> list[Row]:
    """The table: ``per_key`` ordinary rows for each key (~1000 gives the issue's ~20,000
    rows), then the edge cases."""
    rng = random.Random(seed)
    out: list[Row] = []
    for key in EXPECTED:
        out.extend(_ordinary(key, per_key, rng))
    return out + _edge_rows()


# --- epoch tables: ``--ts-type epoch`` over a text column and over a number column ----------

EPOCH_KEYS_YAML = """\
keys:
  - {id: epoch_text, owner: o, created: 2026-01-01,
     scopes: [issues:read, works:write, sites:write, assets:write]}
"""
# per table: the text column's 0.000…1 is a time (1970-01-01), long before the window
EPOCH_EXPECTED = {
    "text": {"issues:read": "used", "works:write": "used", "sites:write": "unused",
             "assets:write": "unused"},
    "number": {"issues:read": "used", "works:write": "used", "sites:write": "unused",
               "assets:write": "used"},
}


def epoch_text_rows() -> list[Row]:
    """Epoch seconds and milliseconds as text, and text that is no epoch."""
    ua, ip = "e/1", "192.0.2.1"
    return [
        ("1791540000", "epoch_text", "GET", "/v1/issues", "200", ua, ip),
        ("1791540000.25", "epoch_text", "GET", "/v1/issues", "200", ua, ip),
        (" 1791626400123 ", "epoch_text", "POST", "/v1/works", "201", ua, ip),
        ("abc", "epoch_text", "POST", "/v1/sites", "201", ua, ip),
        ("-5", "epoch_text", "POST", "/v1/sites", "201", ua, ip),
        ("1e9", "epoch_text", "POST", "/v1/sites", "201", ua, ip),
        ("", "epoch_text", "POST", "/v1/sites", "201", ua, ip),
        ("9" * 40, "epoch_text", "POST", "/v1/sites", "201", ua, ip),
        ("0." + "0" * 400 + "1", "epoch_text", "POST", "/v1/assets", "201", ua, ip),
    ]


def epoch_number_rows() -> list[Row]:
    """Epoch seconds and milliseconds as numbers (a DOUBLE column)."""
    ua, ip = "e/1", "192.0.2.1"
    return [
        (1791540000.0, "epoch_text", "GET", "/v1/issues", "200", ua, ip),
        (1791540000.125, "epoch_text", "GET", "/v1/issues", "200", ua, ip),
        (1791626400123.0, "epoch_text", "POST", "/v1/works", "201", ua, ip),
        (1791626400.5, "epoch_text", "POST", "/v1/assets", "201", ua, ip),
    ]


# --- raw rows, results and their audits -----------------------------------------------------


def write_jsonl(path: Path, names: Sequence[str], table: Sequence[Row]) -> Path:
    path.write_text("".join(json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False)
                            + "\n" for row in table), "utf-8")
    return path


def audit(tmp: Path, keys_yaml: str, logs: Sequence[Path], engine: str = "auto"
          ) -> dict[str, Any]:
    """``scopeaudit audit`` of ``logs`` as JSON (exit codes 0 and 1 both give a report)."""
    from scopeaudit.cli import main

    keys = tmp / "keys.yaml"
    keys.write_text(keys_yaml, "utf-8")
    out = tmp / f"audit-{len(list(tmp.iterdir()))}.json"
    args = ["audit", "--keys", str(keys), "--format", "json", "--no-timestamp", "--as-of",
            AS_OF, "--fail-on", "never", "-o", str(out), "--engine", engine]
    for log in logs:
        args += ["--logs", str(log)]
    try:
        main(args)
    except SystemExit as done:
        if done.code != 0:
            raise AssertionError(f"audit exited {done.code}") from None
    return dict(json.loads(out.read_text("utf-8")))


def _without_inputs(value: Any, report: dict[str, Any]) -> Any:
    """``value`` with the log inputs' paths (which differ: raw rows, query result) as one."""
    text = json.dumps(value)
    for i in report["inputs"]:
        if i["kind"] == "logs":
            text = text.replace(json.dumps(i["path"])[1:-1], "<the logs>")
    return json.loads(text)


def per_key(report: dict[str, Any]) -> dict[str, Any]:
    """What must agree, per key: the key's whole entry in the audit (scope states,
    recommendation, confidence, counts, times, clients, operations, unmatched shapes, use
    before the window) and its findings, SA301 apart (a token seen in the logs: reported
    from raw logs only, the result's ``tokens`` column counts them)."""
    findings: dict[str, list[Any]] = {}
    for f in report["findings"]:
        if f["rule"] != "SA301" and f.get("key") is not None:
            findings.setdefault(f["key"], []).append((f["rule"], f.get("scope")))
    # the key file's location: the same file, written beside each audit
    return {k["id"]: _without_inputs({**{n: v for n, v in k.items() if n != "location"},
                                      "findings": sorted(findings.get(k["id"], []))}, report)
            for k in report["keys"]}


def overall(report: dict[str, Any]) -> dict[str, Any]:
    """What must agree beyond the keys: window, coverage, replay, usage counts (but the
    rows read) and the findings on no key (by rule)."""
    coverage = dict(report["coverage"])
    coverage["by_input"] = sorted(coverage["by_input"].values())
    # usage.records counts the input's rows: the result's are fewer (grouped), its
    # requests the same
    usage = {k: v for k, v in report["usage"].items() if k != "records"}
    return {"window": report["window"], "coverage": coverage, "replay": report["replay"],
            "usage": usage,
            "findings": sorted(f["rule"] for f in report["findings"]
                               if f.get("key") is None and f["rule"] != "SA301")}


def differing_keys(raw: dict[str, Any], via_sql: dict[str, Any]) -> list[str]:
    a, b = per_key(raw), per_key(via_sql)
    return sorted(k for k in a if a[k] != b.get(k))


# --- the engines ----------------------------------------------------------------------------

TEXT_SCHEMA = tuple((name, "text") for name in COLUMNS)
NUMBER_TS_SCHEMA = (("ts", "double"), *TEXT_SCHEMA[1:])
_TYPES = {"duckdb": {"text": "VARCHAR", "double": "DOUBLE", "timestamp": "TIMESTAMP"},
          "postgres": {"text": "TEXT", "double": "DOUBLE PRECISION", "timestamp": "TIMESTAMP"},
          "spark": {"text": "string", "double": "double", "timestamp": "timestamp"}}
Schema = Sequence[tuple[str, str]]


def _result_row(values: Sequence[Any]) -> Row:
    """A result row as Python values: ts a float, status, count and tokens ints."""
    kinds = (float, str, str, str, int, str, str, int, int)
    return tuple(None if v is None else t(v) for t, v in zip(kinds, values, strict=True))


def run_duckdb(sql: str, table: Sequence[Row], schema: Schema = TEXT_SCHEMA) -> list[Row]:
    import duckdb

    con = duckdb.connect()
    columns = ", ".join(f'"{n}" {_TYPES["duckdb"][k]}' for n, k in schema)
    con.execute(f"CREATE TABLE logs ({columns})")
    con.executemany(f"INSERT INTO logs VALUES ({', '.join('?' * len(schema))})",
                    [list(r) for r in table])
    return [_result_row(r) for r in con.execute(sql.rstrip().rstrip(";")).fetchall()]


def _pg_value(value: Any) -> str:
    if value is None:
        return r"\N"
    return '"' + str(value).replace('"', '""') + '"'


def postgres_script(sql: str, table: Sequence[Row], schema: Schema = TEXT_SCHEMA,
                    name: str = "logs", temporary: bool = True) -> str:
    """psql input: the table created and filled (COPY, so any text goes in as it is)."""
    columns = ", ".join(f'"{n}" {_TYPES["postgres"][k]}' for n, k in schema)
    data = "".join(",".join(map(_pg_value, row)) + "\n" for row in table)
    create = "CREATE TEMP TABLE" if temporary else f"DROP TABLE IF EXISTS {name};\nCREATE TABLE"
    script = (f"{create} {name} ({columns});\n"
              f"COPY {name} FROM STDIN (FORMAT csv, NULL '\\N');\n{data}\\.\n")
    if sql:
        script += (f"COPY ({sql.rstrip().rstrip(';')}) TO STDOUT "
                   "(FORMAT csv, NULL '<NULL>');\n")
    return script


def psql(dsn: str, script: str) -> str:
    import subprocess

    done = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", dsn], input=script,
                          capture_output=True, text=True, check=False,
                          env={"PGCLIENTENCODING": "UTF8", "PATH": "/usr/bin:/bin"})
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip())
    return done.stdout


def parse_postgres(out: str) -> list[Row]:
    import csv
    import io

    return [_result_row([None if v == "<NULL>" else v for v in row])
            for row in csv.reader(io.StringIO(out))]


def run_postgres(dsn: str, sql: str, table: Sequence[Row],
                 schema: Schema = TEXT_SCHEMA) -> list[Row]:
    return parse_postgres(psql(dsn, postgres_script(sql, table, schema)))


def spark_session() -> Any:
    import atexit
    import shutil
    import tempfile

    from pyspark.sql import SparkSession

    # saved tables (the README's logs.api_requests) in a folder of the session's own,
    # removed when the tests end
    warehouse = tempfile.mkdtemp(prefix="scopeaudit-spark-")
    atexit.register(shutil.rmtree, warehouse, True)
    return (SparkSession.builder.master("local[1]").appName("scopeaudit-tests")
            .config("spark.sql.warehouse.dir", warehouse)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.ui.enabled", "false").getOrCreate())


def spark_table(spark: Any, table: Sequence[Row], schema: Schema = TEXT_SCHEMA) -> None:
    ddl = ", ".join(f"`{n}` {_TYPES['spark'][k]}" for n, k in schema)
    spark.createDataFrame([tuple(r) for r in table], ddl).createOrReplaceTempView("logs")


def run_spark(spark: Any, sql: str, table: Sequence[Row],
              schema: Schema = TEXT_SCHEMA) -> list[Row]:
    spark_table(spark, table, schema)
    return [_result_row(tuple(r)) for r in spark.sql(sql.rstrip().rstrip(";")).collect()]


# --- generated rows: the readers' every rule, and values no reader takes --------------------

_DATES = ["2026-10-05", "20261005", "2024-02-29", "2023-02-29", "2026-02-30", "2026-13-01",
          "0001-01-01", "1969-12-31", "1970-01-01", "9999-12-31", "6000-01-01", "2026-1005",
          "2026-W40-1", "２０２６-10-05", "2100-02-29", "2000-02-29"]
_CLOCKS = ["10", "1000", "100000", "10:00", "10:00:00", "23:59:59", "00:00:00", "24:00:00",
           "10:60:00", "10:00:60", "10:00:00.5", "10:00:00,25", "10:00:00.123456789",
           "100000.1234567", "10:0000", "10.5", "10:00:00.", "1:00", "10:00:²³"]
_ZONES = ["", "Z", "z", "+00:00", "-00:00", "+05:30", "+0530", "-05", "+23:59", "+24:00",
          "-12:75", " +01:00", "+05:30:15", "Z+01:00"]
_SEPARATORS = ["T", "t", " ", "x", "_", "é"]
_MONTHS = ["Oct", "Feb", "oct", "Foo", "Dec"]
_EPOCHS = ["1791540000", "1791540000.5", "1791540000.", "0", "00001791540000",
           "1791626400123", "99999999999", "100000000000", "253402300799999", "253402300800000",
           "9" * 16, "9" * 40, "-5", "1e9", "1.79154E9", ".5", "1.2.3", "١٧٩١٥٤٠٠٠٠",
           "1791540000123456", "1791540000123456.7", "1791540000123456789",
           "253402300800000000", "253402300800000000000", "9" * 21, "9" * 22,
           "0." + "0" * 400 + "1", "1791540000." + "1" * 400]
# Go's time.String() zones: offset, name, and the monotonic reading
_GO_ZONES = ["+0000 UTC", "-0700 MST", "+0200 CEST m=+0.000123456", "+0000", "+0000 UTC m=+1",
             "+2400 UTC", "+0530 +0530", "+0000 TOOLONGZ", "UTC"]
_CLF_ZONES = ["", " +0200", "\t-0130", " +2400", " +2359", " +02", "  -2300"]
_STATUSES = ["200", " 201 ", "0200", "0000", "999", "1000", "01000", "200.0", "+200", "-1",
             "abc", "²", "٢٠٠", "9" * 30, "", "-", " ", "2 00", "404", "405", "401", "403"]
_METHODS = ["GET", "get", "Post", "PATCH", "poſt", " GET", "GET ", "G3T", "", "-", None,
            "ĞET", "OPTIONS", "HEAD", "DELETE"]
_PATHS = ["/v1/issues", "/v1/issues/42", "//v1//sites//", "/v1/works?access_token=" + T_QUERY,
          "GET /v1/issues HTTP/1.1", "POST /v1/sites HTTP/1.1", "PATCH  /v1/sites/7",
          "GET /v1/x HTTP/1.1 extra", "  GET /v1/users  ", "*", "-", "", " ", None,
          "https://api.insp.ac/v1/assets/", "/v1/issues/%2F", "/v1/" + T_BARE + "/x",
          "G3T /v1/issues", "GET\t/v1/issues", "/v1/runs?api_key=x;token=y", "a b", "/é/ü"]
_KEYS = ["plain", " plain ", "-", "", None, T_BARE, f"Bearer {T_BEARER}", f"bearer  {T_BARE}",
         f"Token {T_BARE}", "Token abc", "x " + T_PREFIX, T_LAST4, "sha256:" + "A" * 64,
         "by_prefix", "sk_live_Pfx9", "Basic"]
_ADDRESSES = ["198.51.100.7", " 198.51.100.7 ", "::ffff:198.51.100.7", "198.51.100.7:80",
              "[2001:db8::1]:443", "", "-", " - ", "   ", "\t", None, "not an address",
              "999.1.1.1", "fe80::1%eth0", "2001:db8::1", f"ip {T_UA}"]


def time_texts(rng: random.Random, n: int) -> list[str]:
    """Time texts near and inside every form the reader takes: ISO (dates, separators,
    clocks, zones in every combination), nginx's time, epoch digits, brackets, whitespace."""
    out: list[str] = []
    for _ in range(n):
        form = rng.randrange(6)
        if form <= 2:
            text = rng.choice(_DATES)
            if form:
                text += rng.choice(_SEPARATORS) + rng.choice(_CLOCKS) + rng.choice(_ZONES)
        elif form == 3:
            text = (f"{rng.choice(['05', '29', '31', '00', '5'])}/{rng.choice(_MONTHS)}/"
                    f"{rng.choice(['2026', '2024', '1969', '9999', '0000'])}:"
                    f"{rng.choice(['10', '23', '24'])}:{rng.choice(['00', '59', '60'])}:00"
                    f"{rng.choice(['', '', '.5', '.123', '.1234567890', '.'])}"
                    f"{rng.choice(_CLF_ZONES)}")
        elif form == 4:
            text = rng.choice(_EPOCHS) if rng.random() < 0.7 else (
                f"{rng.choice(_DATES)} {rng.choice(_CLOCKS)} {rng.choice(_GO_ZONES)}")
        else:
            text = f"2026-10-{rng.randrange(1, 32):02d}T{rng.randrange(25):02d}:" \
                   f"{rng.randrange(61):02d}:{rng.randrange(61):02d}" \
                   f"{rng.choice(['', '.1', '.999999999', '.1234567890'])}Z"
        wrap = rng.randrange(8)
        if wrap == 0:
            text = f"[{text}]"
        elif wrap == 1:
            text = f" {text}\t"
        elif wrap == 2:
            text = f"[[{text}]"
        out.append(text)
    return out


def value_rows(n: int = 600, seed: int = 7) -> list[Row]:
    """Rows of generated values, each its own client (user agent ``row<i>``): what each
    column may hold, the readers' odd cases and values no reader takes."""
    rng = random.Random(seed)
    times = time_texts(rng, n)

    def pick(values: Sequence[Any], usual: Any) -> Any:
        # half the rows' values are usual ones, so that most rows have some odd value and
        # many are still read
        return rng.choice(values) if rng.random() < 0.5 else usual

    return [(pick(times[i:i + 1], "2026-10-05T10:00:00Z"), pick(_KEYS, "plain"),
             pick(_METHODS, "GET"), pick(_PATHS, "/v1/issues"), pick(_STATUSES, "200"),
             f"row{i}", pick(_ADDRESSES, "198.51.100.7")) for i in range(n)]
