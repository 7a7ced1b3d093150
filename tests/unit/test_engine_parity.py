"""The DuckDB engine and the streaming reader give byte-identical JSON reports.

Each case audits the same logs twice, ``--engine stream`` and ``--engine duckdb``, and
compares the bytes of ``--format json --no-timestamp``: verdicts, counts, inputs with their
skipped lines and reasons, warnings, SA301 lines, first-seen lines, clients. The expectation
is the other engine's output, never a literal: this file guards every future change of either
engine. Logs: the example organisation, the log fixtures of the reader and malformed-log tests
(rebuilt here, as those tests build them in memory or in temporary folders), and random logs
(hypothesis).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import random
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scopeaudit.engine import duckdb_available
from scopeaudit.secrets import fingerprint
from support import (
    TOKEN_BI,
    TOKEN_GW,
    TOKEN_UNKNOWN,
    both_engines,
    flat,
    good,
    run_quiet,
    write_keys,
)

pytestmark = pytest.mark.skipif(not duckdb_available(),
                                reason="DuckDB is not installed (scopeaudit[duckdb]): the "
                                       "parity tests need both engines")

ROOT = Path(__file__).resolve().parents[2]
NGINX_FORMAT = ('$remote_addr $http_x_key_id [$time_local] "$request" $status '
                '$body_bytes_sent "$http_user_agent"')

# Made-up tokens, built at run time (no token-shaped literal in the repository).


def aggregates(keys: Path, log: Path, engine_name: str) -> tuple[object, ...]:
    """One engine's aggregate of one log, beneath the report (whose times are whole seconds):
    every cell's and client's count, first and last time to the last bit."""
    from scopeaudit.catalog import load_builtin
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.engine import read_logs
    from scopeaudit.errors import InputError
    from scopeaudit.inventory import load_inventory
    from scopeaudit.usage.options import LogOptions

    inventory = load_inventory(str(keys), None, Diagnostics())
    try:
        usage, stats, records, requests, _ = read_logs(
            LogOptions((str(log),), jobs=1, split_min_bytes=1 << 40, engine=engine_name),
            [str(log)], inventory.keys, load_builtin())
    except InputError as exc:
        return ("error", str(exc))
    cells = {slot: (c.count, c.first, c.last) for slot, c in usage.cells.items()}
    clients = {key: {who: (u.hits, u.first, u.last, dict(u.ops)) for who, u in per.items()}
               for key, per in usage.clients.items()}
    return (cells, clients, dict(usage.clients_overflow), dict(usage.first_seen_at),
            dict(usage.tokens), dict(usage.days_by_input), usage.preflight, usage.unattributed,
            usage.invalid_targets, usage.shape_routes, dict(usage.shape_families),
            usage.newest, usage.oldest, records, requests,
            [(s.records, s.skipped, s.first_skipped, s.reasons, s.missing_fields)
             for s in stats],
            usage.accepted_by_input, usage.unattributed_by_input, usage.key_days_by_input)


def same_aggregates(keys: Path, log: Path) -> None:
    assert aggregates(keys, log, "duckdb") == aggregates(keys, log, "stream")


# --- the example organisation ----------------------------------------------------------------


@pytest.mark.slow
def test_example_organisation(example_logs: Path, tmp_path: Path) -> None:
    doc, _ = both_engines(
        ROOT / "examples" / "keys.yaml",
        [*sorted(example_logs.glob("gateway-*.jsonl.gz")), example_logs / "edge-nginx.log.gz"],
        tmp_path, "--log-format", f"*.log.gz=nginx:{NGINX_FORMAT}")
    report = json.loads(doc)
    assert report["usage"]["records"] > 400_000  # the whole organisation was read
    assert any(f["rule"] == "SA301" for f in report["findings"])


def test_the_duckdb_engine_really_aggregates_in_sql(example_logs: Path, tmp_path: Path) -> None:
    """The parity above would hold trivially if every input fell back to the streaming
    reader: the example's gateway logs are read by DuckDB, most lines in SQL."""
    from scopeaudit.catalog import load_builtin
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.engine import duckdb_engine
    from scopeaudit.inventory import load_inventory

    inventory = load_inventory(str(ROOT / "examples" / "keys.yaml"), None, Diagnostics())
    con = duckdb_engine.connect(1, str(tmp_path))
    path = str(sorted(example_logs.glob("gateway-*.jsonl.gz"))[0])
    result = duckdb_engine.read_input(path, None, path, inventory.keys, load_builtin(), {},
                                      False, con, parquet=False)
    assert result.stats.records > 10_000


# --- the log fixtures of the reader tests ------------------------------------------------------

GOOD = '{"time":1795788231,"key_id":"key_bi","method":"GET","path":"/v1/issues","status":200}'


def stamps() -> bytes:
    forms = ['"2026-11-27T14:03:51Z"', '"2026-11-27T15:03:51+01:00"',
             '"2026-11-27T14:03:51.250"', '"2026-11-27 14:03:51"', "1795788231",
             "1795788231.5", "1795788231500", '"1795788231"', '"27/Nov/2026:15:03:51 +0100"',
             '"2026-11-27T23:59:59.999999999Z"', '"2026-11-27T23:59:60Z"',
             '"2026-02-30T10:00:00Z"', '"0000-01-01T00:00:00Z"', '"2026-11-27T24:00:00Z"',
             "253402300800", "-5", '"2026-11-27T14:03:51.Z"', "1795788231.123456789"]
    return "".join(f'{{"time": {s}, "key_id": "key_bi", "method": "get", "path": "/v1/issues",'
                   f' "status": 200}}\n' for s in forms).encode()


def iso_edges() -> bytes:
    """ISO times the DuckDB engine groups as text: fractions of every length within one
    second and across seconds (least and greatest text per length, merged), the last
    instants of a day (which round to the next one as floats), and calendar edges."""
    times = [f"2026-11-02T10:00:05{f}Z" for f in
             ("", ".5", ".05", ".123456789", ".9", ".000", ".99", ".1234567", ".4")]
    times += ["2026-11-02T10:00:04.75Z", "2026-11-02T10:00:06Z", "2026-11-02T10:00:03.5Z"]
    times += [f"2026-11-02T23:59:59.{'9' * n}Z" for n in range(1, 10)]
    times += ["2024-02-29T10:00:00Z", "2023-02-29T10:00:00Z", "2100-02-29T10:00:00Z",
              "2000-02-29T10:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.5Z",
              "1969-12-31T23:59:59.5Z", "2026-04-31T10:00:00Z", "2026-12-31T23:59:59Z"]
    # the first nine (one second, every length) have a cell and a client of their own
    return b"".join(json.dumps({"ts": t, "key_id": "k2" if i < 9 else "k1", "method": "GET",
                                "path": f"/v1/issues/{i % 3}", "status": 200,
                                "ua": f"ua/{i % 2}", "ip": "192.0.2.1"}).encode() + b"\n"
                    for i, t in enumerate(times))


def default_fields() -> bytes:
    return "\n".join([
        '{"ts":"2026-11-27T14:00:00Z","key":"bi-export","verb":"POST","url":"/v1/works",'
        '"status_code":"201","ua":"bi/1.0","client_ip":"192.0.2.1","count":3}',
        '{"timestamp":1795788000,"api_key_id":"sk_live_GWa1b2","http_method":"DELETE",'
        '"uri":"/v1/sites/9","code":204}',
        '{"@timestamp":"2026-11-27T14:00:00Z","key_name":"Q7r2","request":"GET /v1/me HTTP/1.1",'
        '"response_status":200}',
        '{"date":"2026-11-27T14:00:00Z","key_id":"key_other","method":"GET",'
        '"request":"GET /v1/me?x=1 HTTP/2.0","status":200}',
        "",
    ]).encode()


def malformed() -> bytes:
    lines = [
        GOOD,
        '{"time":1795788231,"method":"GET","path":"/v1/issues"',
        '["not", "an", "object"]',
        '{"key_id":"key_bi","method":"GET","path":"/v1/issues","status":200}',
        '{"time":"yesterday","method":"GET","path":"/x","status":200}',
        '{"time":1795788231,"method":"GET","status":200}',
        '{"time":1795788231,"path":"/v1/issues","status":200}',
        '{"time":1795788231,"method":"GET","path":"/x","status":"OK"}',
        '{"time":1795788231,"method":"GET","path":"/x","status":true}',
        '{"time":1795788231,"method":"GET","path":"/x"}',
        '{"time":1795788231,"method":"GET","path":"/x","status":1000}',
        '{"time":1795788231,"method":"GET","path":"/x","status":200,"count":0}',
        '{"time":[1],"method":"GET","path":"/x","status":200}',
        "   ",
        GOOD,
    ]
    data = ("\n".join(lines) + "\n").encode()
    data += b'{"time":1795788231,"method":"GET","path":"/caf\xe9","status":200}\n'
    data += b"\x9f\x92\x96\xff\xfe garbage \x1b[2J\n"
    data += b'{"big":"' + b"x" * 1_500_000 + b'"}\n'
    return data + GOOD.encode() + b"\n"


def tokens() -> bytes:
    return ("\n".join([
        f'{{"time":1795788231,"key_id":"{TOKEN_BI}","method":"GET","path":"/v1/a","status":200}}',
        f'{{"time":1795788231,"authorization":"Bearer {TOKEN_GW}","method":"GET",'
        f'"path":"/v1/a","status":200}}',
        f'{{"time":1795788231,"method":"GET","path":"/v1/a?limit=5&api_key={TOKEN_UNKNOWN}",'
        f'"status":200}}',
        f'{{"time":1795788231,"key_id":"key_tk","method":"GET","path":"/v1/a","status":200,'
        f'"headers":{{"x-debug":"{TOKEN_BI}"}},"user_agent":"curl {TOKEN_GW}"}}',
        '{"time":1795788231,"key_id":"key_tk","method":"GET","path":"/v1/a?token=","status":200}',
        f'{{"time":1795788231,"method":"GET","path":"/v1/keys/{TOKEN_GW}?q={TOKEN_GW}",'
        f'"status":200}}',
        '{"time":1795788231,"key_id":"key_bi","method":"GET",'
        '"path":"/v1/a?access_token=eyJhbGciOi.x.y&page=2","status":200}',
        '{"time":1795788231,"key_id":"Basic ' + base64.b64encode(b"ticket-sync:pw").decode()
        + '","method":"GET","path":"/v1/issues","status":200}',
        '{"time":1795788231,"key_id":"Token abcdef","method":"GET","path":"/v1/a","status":200}',
    ]) + "\n").encode()


def malformed_tokens() -> bytes:
    """Lines that are no record yet carry a token (each still counted as malformed; the
    token reported, SA301), among plain lines (so DuckDB reads the input) and empty ones."""
    return good(30) + b"\n".join([
        f'{{"ts":"2026-11-02T10:00:00Z","authorization":"Bearer {TOKEN_GW}","method":"GET",'
        f'"path":"/v1/issues","status":200'.encode(),  # no closing brace
        f'{{"ts":"yesterday","key_id":"{TOKEN_BI}","method":"GET","path":"/v1/issues",'
        f'"status":200}}'.encode(),
        f'{{"ts":"2026-11-02T10:00:00Z","key_id":"{TOKEN_UNKNOWN}","path":"/v1/issues",'
        f'"status":200}}'.encode(),  # no method
        f'["{TOKEN_BI}"]'.encode(),
        b"",
        f'{{"ts":"2026-11-02T10:00:00Z","key_id":"{TOKEN_BI}","method":"GET",'
        f'"path":"/v1/issues","status":200}}'.encode(),  # a record carrying the token
        b"\n" * 5000,
        f'{{"ts":"2026-11-02T10:00:00Z","key_id":"k1","method":"GET",'
        f'"path":"/v1/issues?api_key={TOKEN_GW}'.encode(),  # cut short in the query
    ]) + b"\n" + good(10) + b"\n" * 300


MALFORMED_TOKENS_CSV = b"".join([
    b"time,key_id,method,path,status\n",
    b"".join(f"2026-11-{1 + i % 28:02d}T10:00:00Z,k1,GET,/v1/issues,200\n".encode()
             for i in range(30)),
    f"2026-11-02T10:00:00Z,Bearer {TOKEN_GW},GET,/v1/issues\n".encode(),  # a cell short
    f"yesterday,{TOKEN_BI},GET,/v1/issues,200\n".encode(),
    f'2026-11-02T10:00:00Z,{TOKEN_UNKNOWN},GET,"/v1/a"x,200\n'.encode(),  # bad quoting
    b"\n" * 4000,
    f"2026-11-02T10:00:00Z,{TOKEN_BI},GET,/v1/issues,200\n".encode(),
    f"2026-11-02T10:00:00Z,k1,GET,/v1/issues?key={TOKEN_GW},OK\n".encode(),
    b"2026-11-03T10:00:00Z,k1,GET,/v1/issues,200\n\n\n",
])


def many_empty_lines() -> bytes:
    """Runs of empty lines, long and short, between records, malformed lines and at the ends
    (DuckDB drops them in SQL: the pre-scan counts them)."""
    return (b"\n" * 3 + good(20) + b"\n" * 200_000 + b"{oops\n" + b"\n" + good(3)
            + b"\n\n" + good(1) + b"\n" * 70_000)


def many_clients() -> bytes:
    """More clients than a key's bounded list holds."""
    return "".join(json.dumps({"ts": f"2026-11-{1 + i % 28:02d}T10:00:{i % 60:02d}Z",
                               "key_id": "k1", "method": "GET", "path": f"/v1/issues/{i}",
                               "status": 200, "ua": f"agent-{i % 260}",
                               "ip": f"10.{i % 7}.{i % 3}.1"}) + "\n"
                   for i in range(2000)).encode()


def kong_batch() -> bytes:
    one = {"request": {"method": "GET", "uri": "/v1/issues?x=1",
                       "headers": {"user-agent": "kong-client"}},
           "response": {"status": 200}, "authenticated_entity": {"id": "k1"},
           "client_ip": "192.0.2.9", "started_at": 1795788230123}
    return (json.dumps([one, one, {"request": {}}]) + "\n" + json.dumps(one) + "\n").encode()


def csv_flat(n: int, seed: int) -> bytes:
    """A CSV export: mostly plain rows, with quoted cells, tokens and malformed rows."""
    rng = random.Random(seed)
    rows = ["time,key_id,method,path,status,user_agent,ip,count"]
    for i in range(n):
        day = 1 + i * 28 // n
        row = [rng.choice([f"2026-11-{day:02d}T10:{i % 60:02d}:00Z", f"{1795788231 + i}",
                           f"2026-11-{day:02d} 10:00:00", "", "yesterday",
                           f"2026-11-{day:02d}T23:59:59.999999999Z"]),
               rng.choice(["k1", "k2", "key_bi", "Q7r2", "", "-", "ghost", " k1",
                           f"Bearer {TOKEN_GW}", "Basic Zm9vOmJhcg=="]),
               rng.choice(["GET", "post", "OPTIONS", "HEAD", "G3T", ""]),
               rng.choice([f"/v1/issues/{i}", "/v1/sites?page=2", f"/v1/unknown/{i % 5}",
                           '"/v1/works/1"', '"/v1/a,b"', "/v1/x?api_key=1", "*", "-"]),
               rng.choice(["200", "403", "401", "404", "500", "0", "two", "1000"]),
               rng.choice(["a/1", '"agent, with comma"', "", "x" * 130, '"say ""hi"""']),
               rng.choice(["192.0.2.1", "2001:db8::1", "", "10.0.0.300"]),
               rng.choice(["", "", "", "3", "0", "-"])]
        r = rng.random()
        if r < 0.03:
            row = row[:5]
        elif r < 0.05:
            row.append("extra")
        rows.append(",".join(row))
    return ("\n".join(rows) + "\n").encode()


# Repeated slashes (routed as one, with query strings) and client addresses in every form
# the readers take (usage/clients.py), plain lines all: read in SQL by the DuckDB engine.
SLASHED_PATHS = ["//v1/issues", "/v1//issues", "/v1/issues//", "///v1///issues///?limit=5",
                 "/v1//issues//42?x=//y", "//v1/sites/7//", "/v1//nothing//42//", "//",
                 "/v1/%2F%2Fissues", "//v1//issues/3f2b8c1e-1111-2222-3333-444455556666"]
ADDRESS_FORMS = ["198.51.100.7", "::ffff:198.51.100.7", "::FFFF:c633:6407",
                 "::FFFF:198.51.100.9", "198.51.100.20:41234", "[::ffff:198.51.100.7]:8080",
                 "[198.51.100.7]:80", "[2001:db8::1]:443", "[2001:db8::2]", "2001:db8::1",
                 "fe80::1%eth0", "[fe80::1%eth0]:443", "garbage", "198.51.100.7:",
                 "::ffff:198.51.100.7:80", "01.2.3.4:80", " 198.51.100.7 ", ""]


def slashes_and_addresses() -> bytes:
    return b"".join(json.dumps({
        "ts": f"2026-11-{1 + i % 9:02d}T10:00:{i % 60:02d}Z", "key_id": ("k1", "k2")[i % 2],
        "method": ("GET", "PATCH", "HEAD")[i % 3], "path": SLASHED_PATHS[i % len(SLASHED_PATHS)],
        "status": 200, "ua": ("a/1", "b/2")[i // 7 % 2],
        "ip": ADDRESS_FORMS[i % len(ADDRESS_FORMS)]}).encode() + b"\n" for i in range(400))


FIXTURES: list[tuple[str, bytes, tuple[str, ...]]] = [
    ("slashes-and-addresses.jsonl", slashes_and_addresses(), ()),
    ("slashes-and-addresses.csv", b"time,key_id,method,path,status,user_agent,ip\n" + b"".join(
        f"2026-11-0{1 + i % 9}T10:00:{i % 60:02d}Z,k1,GET,{SLASHED_PATHS[i % 10]},200,a/1,"
        f"{ADDRESS_FORMS[i % len(ADDRESS_FORMS)]}\n".encode() for i in range(200)), ()),
    ("stamps.jsonl", stamps(), ()),
    ("iso-edges.jsonl", iso_edges(), ()),
    # one key for two fields: the key id is the user agent, which may hold a credential
    ("two-roles.jsonl", b"".join(
        json.dumps({"ts": "2026-11-02T10:00:00Z", "method": "GET", "path": "/v1/issues",
                    "status": 200, "ua": ua}).encode() + b"\n"
        for ua in ["key_bi", "Bearer abcdefgh12345678", "key_bi", "key_gw"] * 3),
     ("--map", "key_id=ua")),
    # request counts whose sum passes 2**63 (SQL's BIGINT): exact all the same
    ("huge-counts.jsonl", b"".join(
        json.dumps({"ts": "2026-11-02T10:00:00Z", "key_id": "k1", "method": "GET",
                    "path": "/v1/issues", "status": 200, "count": 10**18 - 1}).encode() + b"\n"
        for _ in range(12)), ()),
    ("default-fields.jsonl", default_fields(), ()),
    ("dotted.jsonl", b'{"requestTime":"27/Nov/2026:14:07:09 +0000","context":{"identity":'
     b'{"apiKeyId":"key_gw"},"http":{"method":"PUT","path":"/v1/assets/7"}},"result":'
     b'{"code":409}}\n{"time":1795788231,"a.b":"key_bi","a":{"b":"key_gw"},"method":"GET",'
     b'"path":"/","status":200}\n',
     ("--map", "key_id=a.b")),
    ("malformed.jsonl", malformed(), ()),
    ("bom.jsonl", b"\xef\xbb\xbf" + GOOD.encode() + b"\n" + GOOD.encode() + b"\n", ()),
    ("tokens.jsonl", tokens(), ()),
    ("malformed-tokens.jsonl", malformed_tokens(), ()),
    ("malformed-tokens.jsonl.gz", gzip.compress(malformed_tokens()), ()),
    ("malformed-tokens.csv", MALFORMED_TOKENS_CSV, ()),
    ("token-header.csv", f"time,key_id,method,path,status,{TOKEN_GW}\n".encode()
     + b"2026-11-02T10:00:00Z,k1,GET,/v1/issues,200,x\n" * 3, ()),
    ("many-empty-lines.jsonl", many_empty_lines(), ()),
    ("many-empty-lines.jsonl.gz", gzip.compress(many_empty_lines()), ()),
    ("many-empty-lines.csv", b"time,key_id,method,path,status\n" + b"\n" * 100_000
     + MALFORMED_TOKENS_CSV[31:] + b"\n" * 50_000, ()),
    ("invalid-utf8.jsonl", good(3) + b'{"ts": "2026-11-02T10:00:00Z", "key_id": "k\xff"}\n'
     + good(2), ()),
    ("wrong-types.jsonl", good(2) + b'{"ts": true, "key_id": "k1", "method": "GET", '
     b'"path": "/v1/issues", "status": 200}\n{"ts": "2026-11-02T10:00:00Z", "key_id": "k1", '
     b'"method": 7, "path": "/v1/issues", "status": 200}\n' + good(1), ()),
    ("missing-fields.jsonl", good(1) + b'{"ts": "2026-11-02T10:00:00Z", "key_id": "k1"}\n'
     + b'{"key_id": "k1", "method": "GET", "path": "/v1/issues", "status": 200}\n', ()),
    ("long-line.jsonl", good(2) + b'{"pad": "' + b"x" * (3 << 20) + b'"}\n' + good(2), ()),
    ("binary.jsonl", bytes(range(1, 256)) * 40, ()),
    ("nul.jsonl", good(2) + b'{"a":"\x00"}\n' + good(1), ()),
    ("crlf.jsonl", good(3).replace(b"\n", b"\r\n"), ()),
    ("blank-lines.jsonl", b"\n\n" + good(3).replace(b"\n", b"\n\n  \n") + b"\n", ()),
    ("no-final-newline.jsonl", good(3)[:-1], ()),
    ("empty.jsonl", b"", ()),
    # statuses with a class of their own (404 and 405: an unmatched request that reached no
    # handler) beside their neighbours, matched and unmatched, known resource or none
    ("status-classes.jsonl", b"".join(
        json.dumps({"ts": f"2026-11-0{1 + i % 3}T10:00:0{i % 10}Z", "key_id": key,
                    "method": method, "path": path, "status": status}).encode() + b"\n"
        for i, (key, method, path, status) in enumerate([
            ("k1", "GET", "/v1/issues", 200), ("k1", "GET", "/v1/version", 404),
            ("k1", "GET", "/", 404), ("k1", "POST", "/v1/isues", 405),
            ("k1", "GET", "/v1/isues", 410), ("k1", "DELETE", "/v1/issues/4", 404),
            ("k2", "GET", "/v1/sites", 200), ("k2", "GET", "/v1/version", 404),
            ("k2", "GET", "/v1/version", 406), ("k2", "GET", "/v1/sites/3", 405),
            ("k2", "PATCH", "/v1/sites/3", 403), ("k2", "GET", "/v1/sites", 401),
            ("k2", "GET", "/healthz", 400)])), ()),
    ("flat-1.jsonl", flat(800, 1), ()),
    ("flat-2.jsonl.gz", gzip.compress(flat(800, 2)), ()),
    ("flat-3.jsonl", flat(800, 3), ("--strict",)),
    ("truncated.jsonl.gz", gzip.compress(flat(2000, 4))[: len(gzip.compress(flat(2000, 4))) // 2],
     ()),
    ("members.jsonl.gz", gzip.compress(good(5)) + gzip.compress(good(7)), ()),
    ("many-clients.jsonl", many_clients(), ()),
    ("kong.jsonl", kong_batch(), ("--log-format", "kong")),
    # targets without a leading '/' share cache keys with origin-form ones ("5" and "/0")
    ("cache-keys.jsonl", b"".join(
        json.dumps({"ts": "2026-11-02T10:00:00Z", "key_id": "k1", "method": "GET",
                    "path": p, "status": 200}).encode() + b"\n"
        for p in ["5", "/0", "/7", "12", "/12", "/v1/issues/3", "v1/issues/3", "/v1/issues/4"]),
     ()),
    ("cache-keys-2.jsonl", b"".join(
        json.dumps({"ts": "2026-11-02T10:00:00Z", "key_id": "k1", "method": "GET",
                    "path": p, "status": 200}).encode() + b"\n"
        for p in ["/0", "5", "/v1/issues/3", "7", "/v1/issues/4"]), ()),
    ("flat-1.csv", csv_flat(600, 1), ()),
    ("flat-2.csv.gz", gzip.compress(csv_flat(600, 2)), ()),
    ("flat-3.csv", csv_flat(600, 3), ("--strict",)),
    ("rows.csv", "\ufefftime,key_id,method,path,status,user_agent,ip\r\n"
     "2026-11-27T14:00:00Z,key_bi,GET,/v1/issues,200,bi/1.0,192.0.2.1\r\n".encode(), ()),
    ("spanning.csv", b"time,key_id,method,path,status,user_agent\n"
     b"2026-11-27T14:00:00Z,key_bi,GET,/v1/issues,200,bi/1.0\n"
     b'2026-11-27T14:00:01Z,key_gw,POST,/v1/works,201,"agent with\n'
     b'two more\n'
     b'lines, and ""quotes"""\n'
     b"2026-11-27T14:00:02Z,key_tk,DELETE,/v1/sites/1,204,\n", ()),
    ("header-only.csv", b"time,method,path,status\n", ()),
    ("no-method-column.csv", b"When,API Key,Request,HTTP Status\n"
     b'27/Nov/2026:14:03:51 +0000,k1,"GET /v1/me HTTP/1.1",200\n',
     ("--map", "time=When", "--map", "path=Request", "--map", "status=HTTP Status",
      "--map", "key_id=API Key")),
    ("missing-column.csv", b"when,key_id,method,path,status\n2026-11-27,k,GET,/a,200\n", ()),
    ("malformed.csv", b"".join([
        b"time,key_id,method,path,status\n",
        b"2026-11-27T14:00:00Z,key_bi,GET,/v1/a,200\n",
        b"2026-11-27T14:00:00Z,key_bi,GET,/v1/a\n",
        b"2026-11-27T14:00:00Z,key_bi,GET,/v1/a,200,extra\n",
        b'2026-11-27T14:00:00Z,key_bi,GET,"/v1/a"x,200\n',
        b"2026-11-27T14:00:00Z,key_bi,GET,/v1/a,two hundred\n",
        b",key_bi,GET,/v1/a,200\n",
        b"\n   \n",
        b"2026-11-27T14:00:01Z,key_gw,GET,/v1/b,200\n",
    ]), ()),
]


PLAIN_CSV = b"time,key_id,method,path,status,user_agent,ip\n" + b"".join(
    f"2026-11-{1 + i % 28:02d}T10:00:{i % 60:02d}Z,key_bi,GET,/v1/issues/{i},200,bi/1.0,"
    f"192.0.2.{i % 9}\n".encode() for i in range(60))


@pytest.mark.parametrize("name", ["iso-edges.jsonl", "huge-counts.jsonl", "members.jsonl.gz",
                                  "plain.csv", "slashes-and-addresses.jsonl"])
def test_fixtures_read_in_sql(tmp_path: Path, name: str,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The parity above would hold trivially if these inputs fell back to the streaming
    reader or left every line to Python: DuckDB reads them, most lines in SQL."""
    from scopeaudit.catalog import load_builtin
    from scopeaudit.engine import duckdb_engine, groups

    payload = {**{f[0]: f[1] for f in FIXTURES}, "plain.csv": PLAIN_CSV}[name]
    log = tmp_path / name
    log.write_bytes(payload)
    in_python: list[int] = []
    original = groups.Builder.record

    def spy(self: groups.Builder, rec: object) -> None:
        in_python.append(1)
        original(self, rec)  # type: ignore[arg-type]

    monkeypatch.setattr(groups.Builder, "record", spy)
    con = duckdb_engine.connect(1, str(tmp_path))
    try:
        result = duckdb_engine.read_input(str(log), None, str(log), (), load_builtin(), {},
                                          False, con, parquet=False)
    finally:
        con.close()
    text = gzip.decompress(payload) if name.endswith(".gz") else payload
    lines = text.count(b"\n") - (1 if name.endswith(".csv") else 0)
    assert result.stats.records > 0
    assert len(in_python) < lines // 2


@pytest.mark.parametrize(("name", "payload", "extra"), FIXTURES, ids=[f[0] for f in FIXTURES])
def test_log_fixture(tmp_path: Path, name: str, payload: bytes, extra: tuple[str, ...]) -> None:
    log = tmp_path / name
    log.write_bytes(payload)
    both_engines(write_keys(tmp_path), [log], tmp_path, *extra)
    if not extra:
        same_aggregates(write_keys(tmp_path), log)


def test_attribution_and_sources_alike(tmp_path: Path) -> None:
    """What the logs could show is counted alike: accepted requests with and without a key per
    input and day (refusals and preflights apart), each key's days per input, every skip
    reason, and the fields skipped records lacked."""
    rows = [{"ts": f"2026-11-{1 + i % 20:02d}T10:00:{i % 60:02d}Z", "key_id": key,
             "method": method, "path": "/v1/issues", "status": status}
            for i in range(400)
            for key, method, status in ((("key_bi" if i % 3 else None), "GET", 200),
                                        ("key_gw" if i % 5 else None, "GET",
                                         403 if i % 7 == 0 else 401 if i % 11 == 0 else 204),
                                        ("k1", "OPTIONS", 204))]
    lines = [json.dumps(r) for r in rows]
    lines[10:10] = ['{"ts": "2026-11-02T10:00:00Z", "key_id": "k1"}', "not json",
                    '{"key_id": "k1", "method": "GET", "path": "/x", "status": 200}']
    log = tmp_path / "keyless.jsonl"
    log.write_text("\n".join(lines) + "\n")
    doc, _ = both_engines(write_keys(tmp_path), [log], tmp_path)
    report = json.loads(doc)
    entry = report["inputs"][1]
    assert entry["unattributed"] > 0 and entry["accepted"] > entry["unattributed"]
    assert any(f["rule"] == "SA304" for f in report["findings"])
    assert len(entry["skip_reasons"]) == 3
    same_aggregates(write_keys(tmp_path), log)


@pytest.mark.parametrize("minimum", [100, 700, 5000])
def test_a_file_read_in_line_ranges_side_by_side(tmp_path: Path, minimum: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Each range numbers its own lines (see duckdb_engine.chunks): the seams, and ranges
    estimated too short or too long, change nothing."""
    from scopeaudit.engine import duckdb_engine

    monkeypatch.setattr(duckdb_engine, "_CHUNK_MIN_LINES", minimum)
    log = tmp_path / "big.jsonl"
    log.write_bytes(flat(3000, 11) + b'{"ts":"2026-11-02T10:00:00Z","key_id":"k1","method":"GET",'
                    b'"path":"/v1/issues/9","status":200,"ua":"' + b"u" * 5000 + b'"}\n')
    both_engines(write_keys(tmp_path), [log], tmp_path, "--jobs", "2")
    gz = tmp_path / "big.jsonl.gz"  # each range inflates the file from its start
    gz.write_bytes(gzip.compress(log.read_bytes()))
    both_engines(write_keys(tmp_path), [gz], tmp_path, "--jobs", "2")
    csv = tmp_path / "big.csv"
    csv.write_bytes(csv_flat(3000, 12))
    both_engines(write_keys(tmp_path), [csv], tmp_path, "--jobs", "2")


def test_a_gzip_file_is_cut_into_ranges_by_its_inflated_size() -> None:
    from scopeaudit.engine.duckdb_engine import chunks

    sample = (b"x" * 99,) * 10  # lines of 100 bytes
    plain, packed = chunks(100_000_000, sample, False, 2), chunks(100_000_000, sample, True, 2)
    assert len(plain) == len(packed) == 2 and plain[1][1] is None
    # a gzip range skips at a higher cost (inflating), so the first range is the longer
    assert 500_000 < plain[0][1] < packed[0][1] < 600_000  # type: ignore[operator]


def test_several_inputs_mixed_with_a_streaming_one(tmp_path: Path) -> None:
    """Inputs keep their order whatever engine reads each (an nginx log stays streamed)."""
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.log", tmp_path / "c.jsonl"
    a.write_bytes(flat(300, 7))
    b.write_text('192.0.2.1 k1 [27/Nov/2026:14:03:51 +0000] "GET /v1/issues/4 HTTP/1.1" 200 5 '
                 '"ua/1"\n')
    c.write_bytes(flat(300, 8))
    both_engines(write_keys(tmp_path), [a, b, c], tmp_path,
                 "--log-format", f"*.log=nginx:{NGINX_FORMAT}")


def test_records_from_the_future(tmp_path: Path) -> None:
    """As of 2026-12-01 (both_engines), 56 days of reads (2026-10-03..2026-11-27), a write on
    the last day the clock-skew allowance admits and two from the future: both engines set
    the same records apart and place the same window."""
    from datetime import date, timedelta

    stamps = [f"{date(2026, 10, 3) + timedelta(days=n)}T10:00:00Z" for n in range(56)]
    log = tmp_path / "future.jsonl"
    log.write_text("".join(
        json.dumps({"ts": ts, "key_id": "k1", "method": method, "path": "/v1/issues",
                    "status": 200}) + "\n"
        for ts, method in [*((ts, "GET") for ts in stamps), ("9999-12-31T10:00:00Z", "POST"),
                           ("2026-12-03T00:00:00Z", "POST"), ("2026-12-02T23:59:59Z", "GET")]))
    doc, err = both_engines(write_keys(tmp_path), [log], tmp_path)
    report = json.loads(doc)
    assert report["window"] == {"since": "2026-09-04", "until": "2026-12-02", "days": 90}
    warning = ("records dated after 2026-12-02 (the as-of date 2026-12-01 plus 1 day of clock "
               "skew) are set apart: 2 request(s) by keys, the latest on 9999-12-31; they are "
               "not judged and do not place the window")
    assert warning in report["warnings"] and f"scopeaudit: warning: {warning}\n" in err
    k1 = next(k for k in report["keys"] if k["id"] == "k1")
    assert k1["scopes"] == {"issues:read": "used", "issues:write": "unused"}
    assert report["usage"]["outside_window"] == 2


SHARED_KEYS = """keys:
  - {id: key_old, name: Invoice sync, last4: Q7r2, created: 2026-01-01, expires: 2026-11-10,
     owner: o, scopes: [logs:write, users:read]}
  - {id: key_new, name: Invoice sync, last4: Q7r2, created: 2026-11-05, expires: 2027-12-31,
     owner: o, scopes: [logs:write, issues:read]}
  - {id: key_x, prefix: sk_live_, created: 2026-01-01, expires: 2027-12-31, owner: o,
     scopes: [sites:read]}
"""


def test_ambiguous_matchers_split_alike(tmp_path: Path) -> None:
    """A name and a last4 two definitions share (whose dates overlap from 11-05 to 11-10),
    and a catch-all prefix: the identities as the reader resolves them (names, tokens) and as
    the warehouse query writes them (group labels, read in SQL), with every status class."""
    keys = tmp_path / "keys.yaml"
    keys.write_text(SHARED_KEYS)
    token = "sk_" + "live_" + "x" * 16 + "Q7r2"
    identities = ["Invoice sync", token, "ambiguous:last4:Q7r2", "ambiguous:name:Invoice sync",
                  "key_new", "sk_" + "live_" + "z" * 20]
    lines = []
    for day in range(1, 21):
        for i, ident in enumerate(identities):
            method, path, status = [("POST", "/v1/logs", 201), ("GET", "/v1/issues", 200),
                                    ("GET", "/v1/version", 404), ("GET", "/v1/logs", 401),
                                    ("PATCH", "/v1/users/3", 403),
                                    ("DELETE", "/v1/logs/9", 200)][(day + i) % 6]
            lines.append(json.dumps({"ts": f"2026-11-{day:02d}T10:00:{i:02d}Z", "key_id": ident,
                                     "method": method, "path": path, "status": status}))
    log = tmp_path / "shared.jsonl"
    log.write_text("\n".join(lines) + "\n")
    doc, _ = both_engines(keys, [log], tmp_path)
    report = json.loads(doc)
    rules = {f["rule"] for f in report["findings"]}
    assert {"SA305", "SA213", "SA303"} <= rules
    same_aggregates(keys, log)


OR_CATALOG = {
    "format": "scopeaudit/catalog/v1", "name": "granular", "version": "1",
    "scopes": [{"name": n} for n in ("items:read", "a:read", "b:read", "c:read", "z:read")],
    "resources": {"items": ["/items"], "z": ["/z"]},
    "operations": [
        {"id": "items.list", "method": "GET", "path": "/items",
         "scopes": [["items:read"], ["a:read", "b:read", "c:read"]], "provenance": "documented"},
        {"id": "z.list", "method": "GET", "path": "/z", "scopes": [["z:read"]],
         "provenance": "documented"}],
}


def test_partially_held_alternatives_alike(tmp_path: Path) -> None:
    """An OR-of-AND catalog and a key holding part of an alternative, with requests under
    its resources that no operation matches, answered 200 and 404."""
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(OR_CATALOG))
    keys = tmp_path / "keys.yaml"
    keys.write_text("keys:\n  - {id: k1, created: 2026-01-01, owner: o, expires: 2027-12-31,\n"
                    "      scopes: [a:read, b:read, z:read]}\n")
    log = tmp_path / "granular.jsonl"
    log.write_text("".join(
        json.dumps({"ts": f"2026-11-{day:02d}T10:00:00Z", "key_id": "k1", "method": method,
                    "path": path, "status": status}) + "\n"
        for day in range(1, 29) for method, path, status in [
            ("GET", "/items", 200), ("DELETE", "/items/4", 404), ("GET", "/nothing", 404)]))
    doc, _ = both_engines(keys, [log], tmp_path, "--catalog", str(catalog))
    (key,) = json.loads(doc)["keys"]
    assert (key["recommended"], key["remove"], key["undeclared"]) == (
        ["a:read", "b:read"], ["z:read"], ["c:read"])


# --- random logs -----------------------------------------------------------------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 2_000_000_000_000),
                     st.floats(allow_nan=False, allow_infinity=False),
                     st.text(max_size=12), st.sampled_from(["", "-", "null"]))
_TIMES = st.one_of(
    st.builds(lambda d, h, m, s, f: f"2026-11-{d:02d}T{h:02d}:{m:02d}:{s:02d}{f}Z",
              st.integers(1, 30), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59),
              st.sampled_from(["", ".5", ".999", ".123456", ".999999999"])),
    st.integers(1_795_000_000, 1_796_000_000),
    st.integers(1_795_000_000_000, 1_796_000_000_000).map(lambda v: v),
    st.floats(1_795_000_000, 1_796_000_000),
    st.sampled_from(["2026-11-27T14:03:51+02:00", "2026-11-27 14:03:51", "yesterday",
                     "27/Nov/2026:15:03:51 +0100", "2026-11-27T14:03:51"]),
)
_PATHS = st.one_of(
    st.sampled_from(["/v1/issues", "/v1/sites", "/v1/works", "/v1/assets", "/v1/users/me",
                     "/v1/unknown", "*", "", "/v1/issues/export"]),
    st.builds(lambda base, ident, q: f"{base}/{ident}{q}",
              st.sampled_from(["/v1/issues", "/v1/sites", "/v1/works", "/v1/nothing"]),
              st.one_of(st.integers(0, 10**12).map(str),
                        st.uuids().map(str), st.text("abc123-_%", min_size=1, max_size=8)),
              st.sampled_from(["", "?page=2", "?api_key=x&y=1", "/comments", "/"])),
    st.sampled_from(SLASHED_PATHS),
)
_RECORDS = st.fixed_dictionaries(
    {"ts": _TIMES,
     "key_id": st.one_of(st.sampled_from(["k1", "k2", "key_bi", "Q7r2", "ghost", "-", "",
                                          "Bearer abcdefghij", "bi-export"]), _SCALARS),
     "method": st.one_of(st.sampled_from(["GET", "POST", "PATCH", "DELETE", "OPTIONS", "HEAD",
                                          "get", "PUT"]), _SCALARS),
     "path": _PATHS,
     "status": st.one_of(st.sampled_from([200, 201, 401, 403, 404, 500, "204", 302]),
                         _SCALARS),
     "ua": st.one_of(st.sampled_from(["a/1", "b/2"]), _SCALARS),
     "ip": st.one_of(st.sampled_from(["192.0.2.1", "192.0.2.200", "2001:db8::5", "1.2.3",
                                      *ADDRESS_FORMS]), _SCALARS)},
    optional={"count": st.one_of(st.integers(-1, 5), st.sampled_from(["2", "x"]))})
_LINES = st.one_of(
    _RECORDS.map(lambda r: json.dumps(r, separators=(",", ":"))),
    _RECORDS.map(json.dumps),
    st.sampled_from(["", "{oops", "[1, 2]", '"text"', "   ", '{"ts": NaN}',
                     '{"ts":"2026-11-02T10:00:00Z","key_id":"k1","method":"GET","path":"/x",'
                     '"status":200,"status":201}']),
    st.just(f'{{"ts":"2026-11-02T10:00:00Z","key_id":"{TOKEN_GW}","method":"GET",'
            f'"path":"/v1/sites","status":200}}'),
)


@contextlib.contextmanager
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(_LINES, min_size=1, max_size=60), st.booleans())
def test_random_logs(lines: list[str], compress: bool) -> None:
    with folder() as tmp:
        data = ("\n".join(lines) + "\n").encode()
        log = tmp / ("random.jsonl.gz" if compress else "random.jsonl")
        log.write_bytes(gzip.compress(data) if compress else data)
        both_engines(write_keys(tmp), [log], tmp)
        same_aggregates(write_keys(tmp), log)


# --- reviewed cases: each the smallest input that once read differently -----------------------

STRAY_QUOTE_CSV = (b"ts,key_id,method,path,status,ua,ip\n"
                   b"2026-10-01T00:00:00Z,key_bi,GET,/v1/issues,200,ua,1.2.3.4\n"
                   b'2026-10-01T00:00:01Z,key_bi,GET,/v1/b"c,"d,x,1.2.3.4\n'
                   b"2026-10-01T00:00:02Z,key_gw,GET,/v1/assets/1,200,ua,1.2.3.4\n"
                   b'z",x"y,200\n')


@pytest.mark.parametrize("payload", [
    STRAY_QUOTE_CSV,
    # an even count of quotes that opens a cell, then one that closes it on the next line
    STRAY_QUOTE_CSV.replace(b"z\",x\"y,200\n", b"z\",x\"y,200\n" + STRAY_QUOTE_CSV[36:]),
    # quotes that open nothing: an odd count inside unquoted cells, a quoted cell closed
    b"ts,key_id,method,path,status,ua,ip\n"
    b'2026-10-01T00:00:00Z,key_bi,GET,/v1/a"b,200,u"a,1.2.3.4\n'
    b'2026-10-01T00:00:01Z,key_bi,GET,"/v1/issues",200,"a ""b""",1.2.3.4\n'
    b'2026-10-01T00:00:02Z,key_bi,GET,"/v1/x"y,200,ua,1.2.3.4\n'
    b"2026-10-01T00:00:03Z,key_gw,GET,/v1/assets/1,200,ua,1.2.3.4\n",
], ids=["stray-quote", "stray-quote-twice", "quotes-opening-nothing"])
def test_csv_quotes_that_open_a_cell_whatever_their_count(tmp_path: Path,
                                                          payload: bytes) -> None:
    log = tmp_path / "quotes.csv"
    log.write_bytes(payload)
    doc, _ = both_engines(write_keys(tmp_path), [log], tmp_path)
    if payload == STRAY_QUOTE_CSV:
        (source,) = [i for i in json.loads(doc)["inputs"] if i["kind"] == "logs"]
        assert (source["records"], source["skipped_lines"]) == (1, [3]), source


def test_csv_cell_over_the_csv_field_limit(tmp_path: Path) -> None:
    """The csv module refuses a cell over its limit (131072): the row is skipped, by both."""
    import csv

    limit = csv.field_size_limit()
    row = "2026-10-01T00:00:0{s}Z,key_bi,GET,/v1/issues,200,{ua},1.2.3.4\n"
    log = tmp_path / "long-cell.csv"
    log.write_text("ts,key_id,method,path,status,ua,ip\n" + row.format(s=0, ua="a")
                   + row.format(s=1, ua="u" * (limit + 1)) + row.format(s=2, ua="u" * limit)
                   + row.format(s=3, ua="b"))
    doc, _ = both_engines(write_keys(tmp_path), [log], tmp_path)
    (source,) = [i for i in json.loads(doc)["inputs"] if i["kind"] == "logs"]
    assert (source["records"], source["skipped_lines"]) == (3, [3]), source


def test_a_named_pipe_is_read_by_the_streaming_reader(tmp_path: Path) -> None:
    """A FIFO (as ``--logs <(zcat x.gz)`` gives) has no size and reads once: it is never
    DuckDB's, whatever --engine says (it once gave an empty audit)."""
    import os
    import threading

    from scopeaudit.engine import choose

    data = good(5)
    fifo = tmp_path / "logs.jsonl"
    writers: list[threading.Thread] = []

    def refill() -> None:
        """A new pipe at the same path, written once by a thread of its own."""
        fifo.unlink(missing_ok=True)
        os.mkfifo(fifo)

        def write() -> None:
            with open(fifo, "wb") as handle:  # waits for the reader
                handle.write(data)

        writers.append(threading.Thread(target=write, daemon=True))
        writers[-1].start()

    os.mkfifo(fifo)
    assert choose(str(fifo), "jsonl", "duckdb", True) == "stream"  # never hangs on a pipe
    doc, _ = both_engines(write_keys(tmp_path), [fifo], tmp_path, "--log-format", "jsonl",
                          before=refill)
    for writer in writers:
        writer.join(timeout=10)
        assert not writer.is_alive()
    assert json.loads(doc)["usage"]["records"] == 5


def test_gzip_inflated_in_bounded_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    """The pre-scan inflates at most _INFLATE_MAX bytes at a time (a block of a very
    compressible gzip once inflated whole, 410 MB for a 9 MB file); pieces, block seams and
    gzip members change no count."""
    from scopeaudit.engine import duckdb_engine

    monkeypatch.setattr(duckdb_engine, "_INFLATE_MAX", 1000)
    monkeypatch.setattr(duckdb_engine, "_BLOCK", 777)
    log = tmp_path / "members.jsonl.gz"
    log.write_bytes(gzip.compress(good(300)) + gzip.compress(flat(400, 5))
                    + gzip.compress(b"") + gzip.compress(good(40)[:-1]))
    both_engines(write_keys(tmp_path), [log], tmp_path)
    pieces = list(duckdb_engine._Gunzip().pieces(log.read_bytes()))
    assert max(map(len, pieces)) <= 1000
    assert b"".join(pieces) == gzip.decompress(log.read_bytes())


def test_bounded_caches_change_no_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    """The DuckDB side's tables (route decisions, key labels, client networks) are bounded
    as the aggregator's caches are: started again when full, with the same report."""
    from scopeaudit.engine import duckdb_engine, groups

    monkeypatch.setattr(groups, "ROUTE_CACHE_LIMIT", 3)
    monkeypatch.setattr(duckdb_engine, "ROUTE_CACHE_LIMIT", 3)
    sizes: list[int] = []
    finish = groups.Builder.finish

    def spy(self: groups.Builder) -> object:
        sizes.append(len(self._ops))
        return finish(self)

    monkeypatch.setattr(groups.Builder, "finish", spy)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.csv"
    a.write_bytes(flat(3000, 21) + many_clients())
    b.write_bytes(csv_flat(1500, 22))
    both_engines(write_keys(tmp_path), [a, b], tmp_path)
    assert sizes and max(sizes) <= 3


def test_repeated_slashes_and_address_forms_judged_alike(tmp_path: Path) -> None:
    """Repeated slashes route as one (nginx's merge_slashes), a client's address is read
    without its port and brackets, an IPv4-mapped one as IPv4: the same verdicts from both
    engines, worked out by hand."""
    rows = [("k1", "GET", "//v1/issues?limit=5", "a/1", "::ffff:198.51.100.7"),
            ("k1", "PATCH", "/v1//issues//42//", "a/1", "198.51.100.20:41234"),
            ("k2", "GET", "/v1/sites//7", "b/1", "[2001:db8::1]:443"),
            ("k2", "GET", "//v1/sites", "b/1", "2001:db8::2")]
    log = tmp_path / "slashes.jsonl"
    log.write_text("".join(json.dumps(
        {"ts": f"2026-11-02T10:00:0{i}Z", "key_id": k, "method": m, "path": p, "status": 200,
         "ua": ua, "ip": ip}) + "\n" for i, (k, m, p, ua, ip) in enumerate(rows)))
    doc, _ = both_engines(write_keys(tmp_path), [log], tmp_path)
    keys = {k["id"]: k for k in json.loads(doc)["keys"]}
    assert keys["k1"]["scopes"] == {"issues:read": "used", "issues:write": "used"}
    assert keys["k2"]["scopes"] == {"sites:read": "used"}
    assert [(c["client"], c["requests"]) for c in keys["k1"]["clients"]] == [
        ("a/1 @ 198.51.100.0/24", 2)]
    assert [(c["client"], c["requests"]) for c in keys["k2"]["clients"]] == [
        ("b/1 @ 2001:db8::/64", 2)]
    assert keys["k1"]["unmatched"] == keys["k2"]["unmatched"] == []


def test_more_clients_than_the_bound_say_so_in_both_engines(tmp_path: Path) -> None:
    log = tmp_path / "many.jsonl"
    log.write_bytes(many_clients())
    doc, _ = both_engines(write_keys(tmp_path), [log], tmp_path)
    (finding,) = [f for f in json.loads(doc)["findings"] if f["rule"] == "SA106"]
    assert finding["message"] == "key 'k1' is used by more than 200 distinct clients"


@pytest.mark.parametrize("name", ["malformed-tokens.jsonl", "malformed-tokens.jsonl.gz",
                                  "malformed-tokens.csv", "token-header.csv",
                                  "many-empty-lines.jsonl", "many-empty-lines.jsonl.gz",
                                  "many-empty-lines.csv"])
def test_duckdb_itself_reads_tokens_on_bad_lines_and_empty_lines(
        tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parity above would hold trivially if these inputs fell back to the streaming
    reader: DuckDB reads them (no Fallback), its queries give no row per empty line (a
    billion of them would be a billion rows), and the tokens on lines that are no record are
    in its aggregate, on the lines worked out by hand."""
    from scopeaudit.catalog import load_builtin
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.engine import duckdb_engine
    from scopeaudit.inventory import load_inventory

    payload = {f[0]: f[1] for f in FIXTURES}[name]
    log = tmp_path / name
    log.write_bytes(payload)
    rows: list[object] = []
    batches = duckdb_engine._batches

    def spy(cursor: object) -> Iterator[tuple[object, ...]]:
        for row in batches(cursor):  # type: ignore[arg-type]
            rows.append(row)
            yield row

    monkeypatch.setattr(duckdb_engine, "_batches", spy)
    keys = load_inventory(str(write_keys(tmp_path)), None, Diagnostics()).keys
    con = duckdb_engine.connect(1, str(tmp_path))
    try:
        result = duckdb_engine.read_input(str(log), None, str(log), keys, load_builtin(), {},
                                          False, con, parquet=False)
    finally:
        con.close()
    assert len(rows) < 200
    unknown = "sha256:" + fingerprint(TOKEN_UNKNOWN)[:16]
    expected = {
        # lines 1-30 plain; 31-34 malformed with a token; 36 a record with one; 37-5037
        # empty; 5038 cut short
        "malformed-tokens.jsonl": {"key_gw": (2, [31, 5038]), "key_bi": (3, [32, 34, 36]),
                                   unknown: (1, [33])},
        # the header, 30 plain rows; 32-34 malformed; 35-4034 empty; 4035 a record; 4036 a
        # malformed row whose token is in its query
        "malformed-tokens.csv": {"key_gw": (2, [32, 4036]), "key_bi": (2, [33, 4035]),
                                 unknown: (1, [34])},
        "token-header.csv": {"key_gw": (1, [1])},
        # the same rows after the header and 100000 empty lines
        "many-empty-lines.csv": {"key_gw": (2, [100_032, 104_036]),
                                 "key_bi": (2, [100_033, 104_035]), unknown: (1, [100_034])},
    }.get(name.removesuffix(".gz"), {})
    assert result.usage.tokens == {(str(log), key): found for key, found in expected.items()}


# --- unmatched shapes, bounded per key ---------------------------------------------------------


def _slug(n: int) -> str:
    """A digit-free segment, distinct per n: no identifier, so each one is a shape of its own."""
    letters = []
    for _ in range(4):
        n, r = divmod(n, 26)
        letters.append(chr(ord("a") + r))
    return "".join(letters)


def every_run(keys: Path, log: Path, out_dir: Path,
              monkeypatch: pytest.MonkeyPatch) -> bytes:
    """The report of ``--engine stream --jobs 1``, asserted byte-identical to that of
    ``--engine stream --jobs 2`` (the file read in two work units) and ``--engine duckdb``."""
    from scopeaudit.engine import stream as parallel

    splittable = parallel._splittable
    monkeypatch.setattr(parallel, "_splittable",
                        lambda path, kind, split_min: splittable(path, kind, 1))
    docs = []
    for engine, jobs in (("stream", "1"), ("stream", "2"), ("duckdb", "1"), ("duckdb", "2")):
        out = out_dir / f"report-{engine}-{jobs}.json"
        code, err = run_quiet(*["audit", "--keys", str(keys), "--logs", str(log),
                               "--format", "json", "--no-timestamp", "--as-of", "2026-12-01",
                               "--fail-on", "never", "--engine", engine, "--jobs", jobs,
                               "-o", str(out)])
        assert code == 0, err
        docs.append(out.read_bytes())
    assert docs[1] == docs[0]
    assert docs[2] == docs[0]
    assert docs[3] == docs[0]
    return docs[0]


def test_unmatched_shapes_are_bounded_per_key_alike_on_every_engine_and_job_count(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A noisy key sends 12,000 distinct unmatched shapes (in no particular order: the list
    it keeps while reading overflows more than once), a quiet key three, after it. Before,
    the bound was one table for all keys (10,000): the quiet key's shapes became
    ``(other)``, and two work units listed 10,500 of the noisy key's shapes."""
    from scopeaudit.usage.semantics import MAX_SHAPES_PER_KEY

    rng = random.Random(17)
    noisy = [(_slug(i), rng.choice(["GET", "POST"])) for i in range(12_000)]
    rng.shuffle(noisy)
    lines = [json.dumps({"ts": f"2026-11-{1 + i * 27 // len(noisy):02d}T10:00:00Z",
                         "key_id": "k1", "method": m, "path": f"/v1/nowhere/{s}",
                         "status": 200}) for i, (s, m) in enumerate(noisy)]
    quiet = ["/v1/sites/7/elsewhere", "/v1/sites/8/elsewhere", "/v1/gone/there",
             "/v1/gone/here"]
    lines += [json.dumps({"ts": "2026-11-28T10:00:00Z", "key_id": "k2", "method": "GET",
                          "path": p, "status": 200}) for p in quiet]
    log = tmp_path / "noisy.jsonl"
    log.write_text("\n".join(lines) + "\n")
    doc = json.loads(every_run(write_keys(tmp_path), log, tmp_path, monkeypatch))
    keys = {k["id"]: k for k in doc["keys"]}
    # the quiet key's shapes in full, worked out by hand
    assert sorted((u["request"], u["requests"]) for u in keys["k2"]["unmatched"]) == [
        ("GET /v1/gone/here", 1), ("GET /v1/gone/there", 1),
        ("GET /v1/sites/{id}/elsewhere", 2)]
    # the noisy key: its least shapes in text order, the rest in one bucket per method
    listed = {u["request"]: u["requests"] for u in keys["k1"]["unmatched"]}
    buckets = {r: n for r, n in listed.items() if r.endswith("(other)")}
    shapes = sorted(f"{m} /v1/nowhere/{s}" for s, m in noisy)
    assert sorted(set(listed) - set(buckets)) == shapes[:MAX_SHAPES_PER_KEY]
    beyond = shapes[MAX_SHAPES_PER_KEY:]
    assert buckets == {f"{m} (other)": sum(s.startswith(m + " ") for s in beyond)
                       for m in ("GET", "POST") if any(s.startswith(m + " ") for s in beyond)}
    assert sum(listed.values()) == len(noisy)


_ID_STYLES: dict[str, Callable[[int], str]] = {
    "numeric": lambda n: str(48213 + n),
    "uuid": lambda n: str(uuid.UUID(int=n * 7919 + 12345, version=4)),
    "hex24": lambda n: f"{n * 2654435761:024x}"[-24:],
    "prefixed": lambda n: f"obj_{48213 + n}",
    "ulid": lambda n: "01HZX3T2V9K8M7N6P5Q4" + f"{n:06d}".translate(str.maketrans(
        "0123456789", "ABCDEFGHJK")),
    "slug": lambda n: "-".join(("amber", "falcon", "river", "otter")[(n >> i) % 4]
                               for i in range(0, 8, 2)) + "-" + _slug(n),
}


@pytest.mark.parametrize("style", sorted(_ID_STYLES))
def test_every_id_style_alike_on_every_engine_and_job_count(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, style: str) -> None:
    """The same traffic, its ids written in each style: the same report bytes from both
    engines and any job count, and (ids folded or not) the same verdicts in every style."""
    make = _ID_STYLES[style]
    rng = random.Random(5)
    lines = []
    for i in range(3000):
        n = rng.randrange(400)
        key, method, template, status = rng.choice([
            ("k1", "GET", "/v1/issues/{}", 200), ("k1", "PATCH", "/v1/issues/{}", 200),
            ("k2", "GET", "/v1/sites/{}", 200), ("k2", "GET", "/v1/sites/{}/nothing", 200),
            ("k1", "DELETE", "/v1/issues/{}", 403), ("k2", "GET", "/v1/sites/{}", 404)])
        lines.append(json.dumps({"ts": f"2026-11-{1 + i * 27 // 3000:02d}T10:00:00Z",
                                 "key_id": key, "method": method,
                                 "path": template.format(make(n)), "status": status,
                                 "ua": "a/1", "ip": f"192.0.2.{n % 9}"}))
    log = tmp_path / f"{style}.jsonl"
    log.write_text("\n".join(lines) + "\n")
    doc = json.loads(every_run(write_keys(tmp_path), log, tmp_path, monkeypatch))
    keys = {k["id"]: k for k in doc["keys"]}
    # worked out from the traffic: k1 reads and writes issues (its DELETE was refused), k2
    # reads sites and sends one unmatched shape under the sites resource
    assert keys["k1"]["scopes"] == {"issues:read": "used", "issues:write": "used"}
    assert keys["k2"]["scopes"] == {"sites:read": "used"}
    unmatched = [u["request"] for u in keys["k2"]["unmatched"]]
    if style == "slug":  # no identifier to the shape: each slug is a shape of its own
        assert len(unmatched) > 1 and all(u.startswith("GET /v1/sites/") for u in unmatched)
    else:
        assert unmatched == ["GET /v1/sites/{id}/nothing"]
