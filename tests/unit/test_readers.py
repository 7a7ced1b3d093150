"""Log readers: every format, timestamps through a reader, malformed lines, tokens, make_reader.

Every expected ``Record`` below is worked out by hand from the fixture line beside it (many of
them are the example lines of reference/log-formats.md). Times: 2026-11-27T00:00:00Z is
1_795_737_600 (see test_timeparse.py), so 14:03:51Z that day is 1_795_788_231.
"""

from __future__ import annotations

import base64
import csv
import gzip
import io
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scopeaudit.errors import InputError
from scopeaudit.model import Key, Location
from scopeaudit.secrets import fingerprint
from scopeaudit.usage.identity import KeyResolver
from scopeaudit.usage.inputs import TruncatedInput, open_input
from scopeaudit.usage.readers import make_reader
from scopeaudit.usage.record import InputStats, LogReader, ReadContext, Record
from scopeaudit.usage.timeparse import parse_time

DAY = 1_795_737_600  # 2026-11-27T00:00:00Z


def at(hours: int, minutes: int, seconds: float) -> float:
    """2026-11-27 hh:mm:ss UTC as epoch seconds."""
    return DAY + hours * 3600 + minutes * 60 + seconds


# Made-up tokens (the secret part is long enough to be a token).
TOKEN_BI = "sk_" + "live_BIx9f8e7d6c5b4a3210Q"  # key_bi's token: matched by its sha256
TOKEN_GW = "sk_" + "live_GWa1b2c3d4e5f6g7h8i9"  # key_gw's: matched by its prefix
TOKEN_UNKNOWN = "sk_" + "test_ZZZZyyyyXXXXwwwwVVVV"  # nobody's
UNKNOWN_LABEL = "sha256:" + fingerprint(TOKEN_UNKNOWN)[:16]
TOKENS = (TOKEN_BI, TOKEN_GW, TOKEN_UNKNOWN)

KEYS = (
    Key(id="key_bi", location=Location("keys.yaml", 2), scope_grants=(), name="bi-export",
        sha256=fingerprint(TOKEN_BI)),
    Key(id="key_gw", location=Location("keys.yaml", 9), scope_grants=(), name="sensor-gateway",
        prefix="sk_live_GWa1"),
    Key(id="key_tk", location=Location("keys.yaml", 15), scope_grants=(), name="ticket-sync",
        last4="Q7r2"),
)


def context(stats: InputStats, leaks: list[tuple[str, int]] | None = None) -> ReadContext:
    """A reading context; tokens on lines that gave no record go to ``leaks``."""
    sink: list[tuple[str, int]] = [] if leaks is None else leaks
    return ReadContext(stats, KeyResolver(KEYS),
                       on_token=lambda key, line: sink.append((key, line)))


def read(spec: str | None, data: bytes | str, *, maps: Mapping[str, str] | None = None,
         path: str = "input.log", strict: bool = False,
         leaks: list[tuple[str, int]] | None = None) -> tuple[list[Record], InputStats]:
    reader = make_reader(spec, path, maps or {})
    raw = data.encode("utf-8") if isinstance(data, str) else data
    stats = InputStats(path, strict=strict)
    stream = io.BufferedReader(io.BytesIO(raw))  # type: ignore[arg-type]
    records = list(reader.read(stream, context(stats, leaks)))
    return records, stats


def read_file(reader: LogReader, path: Path, strict: bool = False
              ) -> tuple[list[Record], InputStats]:
    stream, _ = open_input(str(path))
    stats = InputStats(str(path), strict=strict)
    try:
        return list(reader.read(stream, context(stats))), stats
    finally:
        stream.close()


def skipped(stats: InputStats) -> list[tuple[int, str]]:
    assert stats.skipped == len(stats.first_skipped)  # all shown (fewer than MAX_SHOWN)
    return stats.first_skipped


def assert_no_token(records: list[Record]) -> None:
    """No token, nor its secret part, in any field of any record."""
    for record in records:
        text = repr(tuple(record))
        for token in TOKENS:
            assert token not in text
            assert token[len("sk_live_"):] not in text


def rec(time: float, key: str | None, method: str, target: str, status: int,
        user_agent: str | None = None, ip: str | None = None, line: int = 1,
        token: bool = False, hits: int = 1) -> Record:
    return Record(time, key, method, target, status, user_agent, ip, hits, line, token)


# --- make_reader ----------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "name"), [
    ("usage.jsonl", "jsonl"),
    ("usage.ndjson", "jsonl"),
    ("usage.json", "jsonl"),
    ("logs/usage.jsonl.gz", "jsonl"),
    ("USAGE.JSON.GZ", "jsonl"),
    ("export.csv", "csv"),
    ("export.csv.gz", "csv"),
    ("/var/log/nginx/access.log", "nginx"),
    ("access.log.gz", "nginx"),
    ("access.log.1", "nginx"),  # rotated copies keep their format
    ("access.log.2.gz", "nginx"),
    ("access.log-20261127.gz", "nginx"),
    ("https://logs.example.com/2026/11/usage.jsonl.gz?X-Sig=abc", "jsonl"),
])
def test_format_from_the_file_name(path: str, name: str) -> None:
    assert make_reader(None, path, {}).name == name


@pytest.mark.parametrize("path", ["-", "usage.txt", "usage.parquet", "access", "log.gz",
                                  "https://logs.example.com/export?format=jsonl"])
def test_unknown_file_name_asks_for_log_format(path: str) -> None:
    with pytest.raises(InputError, match="--log-format") as info:
        make_reader(None, path, {})
    assert info.value.file == path


@pytest.mark.parametrize(("spec", "name"), [
    ("jsonl", "jsonl"), ("JSONL", "jsonl"), ("ndjson", "jsonl"), ("csv", "csv"),
    ("nginx", "nginx"), ("nginx:combined", "nginx"),
    ("nginx:$remote_addr [$time_local] \"$request\" $status", "nginx"),
    ("envoy", "envoy"), ("envoy:%START_TIME% %REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE%",
                         "envoy"),
    ("apigw", "apigw"), ("kong", "kong"),
])
def test_format_from_the_spec(spec: str, name: str) -> None:
    # The spec wins over the file name.
    assert make_reader(spec, "something.csv", {}).name == name


@pytest.mark.parametrize(("spec", "message"), [
    ("parquet", "unknown --log-format 'parquet'"),
    ("squid", "unknown --log-format 'squid' \\(formats"),  # nothing close: no guess
    ("ngnix", "unknown --log-format 'ngnix'; did you mean 'nginx'\\?"),
    ("Apache-Comon:x", "did you mean 'apache-common'\\?"),
    ("csv:foo", "only nginx and envoy take a format string"),
    ("nginx:", "log_format after the colon is empty"),
    ("envoy:  ", "format after the colon is empty"),
    ("nginx:$remote_addr [$time_local] $status", "no \\$request"),
    ("nginx:$request_method $status [$time_local]", "no \\$request"),  # no $uri to pair with
    ("nginx:[$time_local] \"$request\" $body_bytes_sent", "no \\$status"),
    ("nginx:\"$request\" $status", "no time variable"),
    ("nginx:just text", "no variables"),
    ("nginx:escape=xml '$remote_addr'", "unknown escape='xml'"),
    ("envoy:[%START_TIME%] \"%REQ(:METHOD)% %REQ(:PATH)%\"", "no %RESPONSE_CODE%"),
    ("envoy:\"%REQ(:METHOD)% %REQ(:PATH)%\" %RESPONSE_CODE%", "no %START_TIME%"),
    ("envoy:[%START_TIME%] %REQ(:METHOD)% %RESPONSE_CODE%", "method and path"),
    ("envoy:no operators here", "no command operators"),
])
def test_invalid_specs(spec: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        make_reader(spec, "access.log", {})


@pytest.mark.parametrize(("spec", "maps", "message"), [
    ("nginx", {"key_id": "$http_x_key_id"}, r"--map key_id=\$http_x_key_id: .* no \$http_x_key_id"),
    ("envoy", {"key_id": "x-api-key-id"}, r"no %REQ\(X-API-KEY-ID\)%"),
])
def test_map_naming_a_missing_variable(spec: str, maps: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        make_reader(spec, "access.log", maps)


def test_errors_never_quote_a_token() -> None:
    with pytest.raises(InputError) as info:
        make_reader(f"nginx:{TOKEN_BI}", "access.log", {})
    assert TOKEN_BI not in str(info.value)
    with pytest.raises(InputError) as info:
        make_reader(f"{TOKEN_BI}", "access.log", {})
    assert TOKEN_BI not in str(info.value)


# --- JSON Lines -----------------------------------------------------------------------------


@pytest.mark.parametrize(("stamp", "expected"), [
    ('"2026-11-27T14:03:51Z"', at(14, 3, 51)),
    ('"2026-11-27T15:03:51+01:00"', at(14, 3, 51)),
    ('"2026-11-27T14:03:51.250"', at(14, 3, 51.25)),  # no zone: UTC
    ('"2026-11-27 14:03:51"', at(14, 3, 51)),
    ("1795788231", at(14, 3, 51)),  # epoch seconds
    ("1795788231.5", at(14, 3, 51.5)),
    ("1795788231500", at(14, 3, 51.5)),  # epoch milliseconds
    ('"1795788231"', at(14, 3, 51)),  # as a string
    ('"27/Nov/2026:15:03:51 +0100"', at(14, 3, 51)),  # CLF
])
def test_jsonl_every_timestamp_form(stamp: str, expected: float) -> None:
    line = f'{{"time": {stamp}, "key_id": "key_bi", "method": "get", "path": "/v1/issues", ' \
           f'"status": 200}}\n'
    records, stats = read("jsonl", line)
    assert records == [rec(expected, "key_bi", "GET", "/v1/issues", 200)]
    assert stats.skipped == 0


def test_jsonl_default_fields_and_key_matching() -> None:
    data = "\n".join([
        '{"ts":"2026-11-27T14:00:00Z","key":"bi-export","verb":"POST","url":"/v1/works",'
        '"status_code":"201","ua":"bi/1.0","client_ip":"192.0.2.1","count":3}',
        '{"timestamp":1795788000,"api_key_id":"sk_live_GWa1b2","http_method":"DELETE",'
        '"uri":"/v1/sites/9","code":204}',
        '{"@timestamp":"2026-11-27T14:00:00Z","key_name":"Q7r2","request":"GET /v1/me HTTP/1.1",'
        '"response_status":200}',
        '{"date":"2026-11-27T14:00:00Z","key_id":"key_other","method":"GET",'
        '"request":"GET /v1/me?x=1 HTTP/2.0","status":200}',
        "",
    ])
    records, stats = read("jsonl", data)
    assert records == [
        rec(at(14, 0, 0), "key_bi", "POST", "/v1/works", 201, "bi/1.0", "192.0.2.1", hits=3),
        rec(at(14, 0, 0), "key_gw", "DELETE", "/v1/sites/9", 204, line=2),  # by prefix
        rec(at(14, 0, 0), "key_tk", "GET", "/v1/me", 200, line=3),  # by last4
        # a request line in the path field is split even when a method field is present
        rec(at(14, 0, 0), "key_other", "GET", "/v1/me?x=1", 200, line=4),
    ]
    assert stats.skipped == 0


def test_jsonl_map_with_a_dotted_path() -> None:
    line = ('{"requestTime":"27/Nov/2026:14:07:09 +0000","context":{"identity":{"apiKeyId":'
            '"key_gw"},"http":{"method":"PUT","path":"/v1/assets/7"}},"result":{"code":409}}\n')
    maps = {"time": "requestTime", "key_id": "context.identity.apiKeyId",
            "method": "context.http.method", "path": "context.http.path",
            "status": "result.code"}
    records, _ = read("jsonl", line, maps=maps)
    assert records == [rec(at(14, 7, 9), "key_gw", "PUT", "/v1/assets/7", 409)]
    # a flat key that contains the dots wins over the nested path
    flat = ('{"time":1795788231,"a.b":"key_bi","a":{"b":"key_gw"},"method":"GET","path":"/",'
            '"status":200}\n')
    records, _ = read("jsonl", flat, maps={"key_id": "a.b"})
    assert records[0].key == "key_bi"


GOOD_JSON = '{"time":1795788231,"key_id":"key_bi","method":"GET","path":"/v1/issues","status":200}'


def test_jsonl_malformed_lines_are_counted_with_line_and_reason() -> None:
    lines = [
        GOOD_JSON,  # 1
        '{"time":1795788231,"method":"GET","path":"/v1/issues"',  # 2 cut short
        '["not", "an", "object"]',  # 3
        '{"key_id":"key_bi","method":"GET","path":"/v1/issues","status":200}',  # 4 no time
        '{"time":"yesterday","method":"GET","path":"/x","status":200}',  # 5
        '{"time":1795788231,"method":"GET","status":200}',  # 6 no path
        '{"time":1795788231,"path":"/v1/issues","status":200}',  # 7 no method
        '{"time":1795788231,"method":"GET","path":"/x","status":"OK"}',  # 8 wrong type
        '{"time":1795788231,"method":"GET","path":"/x","status":true}',  # 9 wrong type
        '{"time":1795788231,"method":"GET","path":"/x"}',  # 10 no status
        '{"time":1795788231,"method":"GET","path":"/x","status":1000}',  # 11
        '{"time":1795788231,"method":"GET","path":"/x","status":200,"count":0}',  # 12
        '{"time":[1],"method":"GET","path":"/x","status":200}',  # 13 wrong type
        "   ",  # 14 blank: not a record, not malformed
        GOOD_JSON,  # 15
    ]
    data = ("\n".join(lines) + "\n").encode()
    data += b'{"time":1795788231,"method":"GET","path":"/caf\xe9","status":200}\n'  # 16
    data += b"\x00\x9f\x92\x96\xff\xfe garbage \x1b[2J\n"  # 17 binary
    data += b'{"big":"' + b"x" * 2_000_000 + b'"}\n'  # 18: 2 MB
    data += GOOD_JSON.encode() + b"\n"  # 19
    records, stats = read("jsonl", data)
    assert [r.line for r in records] == [1, 15, 19]
    reasons = dict(stats.first_skipped)
    assert stats.skipped == 15
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]  # the first ten are kept
    assert reasons[2].startswith("invalid JSON")
    assert reasons[3] == "not a JSON object"
    assert reasons[4] == "no time field"
    assert reasons[5] == "unreadable time"
    assert reasons[6] == "no request path"
    assert reasons[7] == "no request method"
    assert reasons[8] == reasons[9] == "status is not a number"
    assert reasons[10] == "no status code"
    assert reasons[11] == "status out of range"


def test_jsonl_malformed_tail_reasons() -> None:
    data = b'{"time":1795788231,"method":"GET","path":"/x","status":200,"count":0}\n'
    data += b'{"time":[1],"method":"GET","path":"/x","status":200}\n'
    data += b'{"time":1795788231,"method":"GET","path":"/caf\xe9","status":200}\n'
    data += b"\x00\x9f\x92\x96\xff\xfe garbage \x1b[2J\n"
    data += b'{"big":"' + b"x" * 2_000_000 + b'"}\n'
    records, stats = read("jsonl", data)
    assert records == []
    assert skipped(stats) == [
        (1, "count is not a positive whole number"),
        (2, "unreadable time"),
        (3, "invalid JSON (str is not valid UTF-8)"),
        (4, "invalid JSON (str is not valid UTF-8)"),
        (5, "line longer than 1 MiB"),
    ]


def test_jsonl_strict_mode_stops_at_the_first_malformed_line() -> None:
    data = f"{GOOD_JSON}\n{GOOD_JSON}\n{{oops\n{GOOD_JSON}\n"
    with pytest.raises(InputError) as info:
        read("jsonl", data, path="logs/usage.jsonl", strict=True)
    assert str(info.value).startswith("logs/usage.jsonl:3: malformed record: invalid JSON")
    assert info.value.file == "logs/usage.jsonl"
    assert info.value.line == 3


def test_jsonl_byte_order_mark() -> None:
    records, stats = read("jsonl", b"\xef\xbb\xbf" + GOOD_JSON.encode() + b"\n")
    assert records == [rec(at(14, 3, 51), "key_bi", "GET", "/v1/issues", 200)]
    assert stats.skipped == 0


def test_jsonl_tokens_are_flagged_resolved_and_never_kept() -> None:
    lines = [
        # a raw token as the key: matched by its sha256
        f'{{"time":1795788231,"key_id":"{TOKEN_BI}","method":"GET","path":"/v1/a","status":200}}',
        # a Bearer header as the key: matched by prefix
        f'{{"time":1795788231,"authorization":"Bearer {TOKEN_GW}","method":"GET","path":"/v1/a",'
        f'"status":200}}',
        # a token nobody owns, in the query string: the key comes from it
        f'{{"time":1795788231,"method":"GET","path":"/v1/a?limit=5&api_key={TOKEN_UNKNOWN}",'
        f'"status":200}}',
        # a token in a field that is not mapped, and one pasted into the user agent
        f'{{"time":1795788231,"key_id":"key_tk","method":"GET","path":"/v1/a","status":200,'
        f'"headers":{{"x-debug":"{TOKEN_BI}"}},"user_agent":"curl {TOKEN_GW}"}}',
        # no token at all
        '{"time":1795788231,"key_id":"key_tk","method":"GET","path":"/v1/a?token=","status":200}',
        # a token in a parameter that is not a known secret one, and in a path segment
        f'{{"time":1795788231,"method":"GET","path":"/v1/keys/{TOKEN_GW}?q={TOKEN_GW}",'
        f'"status":200}}',
    ]
    records, stats = read("jsonl", "\n".join(lines) + "\n")
    t = at(14, 3, 51)
    assert records == [
        rec(t, "key_bi", "GET", "/v1/a", 200, token=True),
        rec(t, "key_gw", "GET", "/v1/a", 200, line=2, token=True),
        rec(t, UNKNOWN_LABEL, "GET", "/v1/a?limit=5&api_key=[redacted]", 200, line=3, token=True),
        rec(t, "key_tk", "GET", "/v1/a", 200, "curl [token]", line=4, token=True),
        rec(t, "key_tk", "GET", "/v1/a?token=", 200, line=5),
        rec(t, "key_gw", "GET", "/v1/keys/[token]?q=[token]", 200, line=6, token=True),
    ]
    assert stats.skipped == 0
    assert_no_token(records)


def test_jsonl_secret_query_parameters_are_redacted() -> None:
    line = ('{"time":1795788231,"key_id":"key_bi","method":"GET",'
            '"path":"/v1/a?access_token=eyJhbGciOi.x.y&page=2","status":200}\n')
    records, _ = read("jsonl", line)
    assert records[0].target == "/v1/a?access_token=[redacted]&page=2"
    assert records[0].token is False


def test_gzip_through_open_input(tmp_path: Path) -> None:
    path = tmp_path / "usage.jsonl.gz"
    path.write_bytes(gzip.compress((GOOD_JSON + "\n" + GOOD_JSON + "\n").encode()))
    records, stats = read_file(make_reader(None, str(path), {}), path)
    assert [r.line for r in records] == [1, 2]
    assert records[0] == rec(at(14, 3, 51), "key_bi", "GET", "/v1/issues", 200)
    assert stats.skipped == 0


# --- CSV ------------------------------------------------------------------------------------


def test_csv_rows_with_physical_line_numbers() -> None:
    data = (
        "\ufefftime,key_id,method,path,status,user_agent,ip\r\n"  # 1 (with a BOM)
        "2026-11-27T14:00:00Z,key_bi,GET,/v1/issues,200,bi/1.0,192.0.2.1\r\n"  # 2
        '2026-11-27T14:00:01Z,key_gw,POST,/v1/works,201,"agent with\r\n'  # 3
        'two more\r\n'  # 4
        'lines, and ""quotes""",192.0.2.2\r\n'  # 5
        "\r\n"  # 6 blank
        "2026-11-27T14:00:02Z,key_tk,DELETE,/v1/sites/1,204,,\r\n"  # 7
    )
    records, stats = read("csv", data)
    assert records == [
        rec(at(14, 0, 0), "key_bi", "GET", "/v1/issues", 200, "bi/1.0", "192.0.2.1", line=2),
        rec(at(14, 0, 1), "key_gw", "POST", "/v1/works", 201,
            'agent with\r\ntwo more\r\nlines, and "quotes"', "192.0.2.2", line=3),
        rec(at(14, 0, 2), "key_tk", "DELETE", "/v1/sites/1", 204, line=7),
    ]
    assert stats.skipped == 0


def test_csv_header_names_are_the_sources_and_map_works() -> None:
    data = ("When, API Key,Request,HTTP Status,identity.apiKeyId\n"
            '27/Nov/2026:14:03:51 +0000,ignored,"GET /v1/me HTTP/1.1",200,key_gw\n')
    maps = {"time": "When", "path": "Request", "status": "HTTP Status",
            "key_id": "identity.apiKeyId"}  # a dotted name is a flat column here
    records, stats = read("csv", data, maps=maps)
    assert records == [rec(at(14, 3, 51), "key_gw", "GET", "/v1/me", 200, line=2)]
    assert stats.skipped == 0


def test_csv_every_timestamp_form() -> None:
    data = ("time,method,path,status\n"
            "2026-11-27T14:03:51Z,GET,/a,200\n"
            "2026-11-27T15:03:51+01:00,GET,/a,200\n"
            "2026-11-27 14:03:51,GET,/a,200\n"
            "1795788231,GET,/a,200\n"
            "1795788231000,GET,/a,200\n"
            "27/Nov/2026:14:03:51 +0000,GET,/a,200\n")
    records, stats = read("csv", data)
    assert [r.time for r in records] == [at(14, 3, 51)] * 6
    assert [r.line for r in records] == [2, 3, 4, 5, 6, 7]
    assert stats.skipped == 0


def test_csv_malformed_rows() -> None:
    data = b"".join([
        b"time,key_id,method,path,status\n",  # 1
        b"2026-11-27T14:00:00Z,key_bi,GET,/v1/a,200\n",  # 2
        b"2026-11-27T14:00:00Z,key_bi,GET,/v1/caf\xe9,200\n",  # 3 invalid UTF-8
        b"2026-11-27T14:00:00Z,key_bi,GET,/v1/a\n",  # 4 a cell short
        b"2026-11-27T14:00:00Z,key_bi,GET,/v1/a,200,extra\n",  # 5 a cell over
        b'2026-11-27T14:00:00Z,key_bi,GET,"/v1/a"x,200\n',  # 6 bad quoting
        b"2026-11-27T14:00:00Z,key_bi,GET,/v1/a,two hundred\n",  # 7 wrong type
        b",key_bi,GET,/v1/a,200\n",  # 8 missing time
        b"2026-11-27T14:00:00Z,key_bi,GET,/v1/" + b"a" * 2_000_000 + b",200\n",  # 9: 2 MB
        b'2026-11-27T14:00:00Z,key_bi,GET,"/v1/\xff\n',  # 10 invalid UTF-8 in a cell that
        b'multi",200\n',  # 11 spans two lines
        b"\x00\x01\x02\xfe\xff binary\n",  # 12
        b"2026-11-27T14:00:01Z,key_gw,GET,/v1/b,200\n",  # 13
        b'2026-11-27T14:00:02Z,key_gw,GET,"/v1/never closed,200\n',  # 14 until the end
    ])
    records, stats = read("csv", data)
    assert records == [
        rec(at(14, 0, 0), "key_bi", "GET", "/v1/a", 200, line=2),
        rec(at(14, 0, 1), "key_gw", "GET", "/v1/b", 200, line=13),
    ]
    assert skipped(stats) == [
        (3, "invalid UTF-8"),
        (4, "4 cells where the header has 5"),
        (5, "6 cells where the header has 5"),
        (6, "invalid CSV (',' expected after '\"')"),
        (7, "status is not a number"),
        (8, "no time field"),
        (9, "line longer than 1 MiB"),
        (10, "invalid UTF-8"),
        (12, "invalid UTF-8"),
        (14, "invalid CSV (unexpected end of data)"),
    ]


def test_csv_strict_mode() -> None:
    data = "time,method,path,status\n2026-11-27T14:00:00Z,GET,/a,200\n2026-11-27T14:00:00Z,GET\n"
    with pytest.raises(InputError, match=r"^export\.csv:3: malformed record: 2 cells"):
        read("csv", data, path="export.csv", strict=True)


def test_csv_header_without_a_needed_column() -> None:
    with pytest.raises(InputError) as info:
        read("csv", "when,key_id,method,path,status\n2026-11-27,k,GET,/a,200\n",
             path="export.csv")
    message = str(info.value)
    assert message.startswith("export.csv:1: the CSV header has no column for time")
    assert "--map time=COLUMN" in message


@pytest.mark.parametrize(("data", "line", "reason"), [
    (b"ti\xffme,method,path,status\n", 1, "invalid UTF-8"),
    (b"\n\n\"time\"x,method,path,status\n", 3, "invalid CSV"),
    (b"x" * 2_000_000 + b"\n", 1, "line longer than 1 MiB"),
])
def test_csv_unreadable_header(data: bytes, line: int, reason: str) -> None:
    with pytest.raises(InputError) as info:
        read("csv", data, path="export.csv")
    assert str(info.value).startswith(f"export.csv:{line}: the CSV header is unreadable: {reason}")


def test_csv_empty_input_has_no_records() -> None:
    assert read("csv", b"") == ([], InputStats("input.log"))
    records, stats = read("csv", "time,method,path,status\n")
    assert records == []
    assert stats.skipped == 0


def test_csv_tokens_in_cells_and_headers() -> None:
    data = ("time,authorization,method,path,status,user_agent,notes\n"
            f"2026-11-27T14:00:00Z,Bearer {TOKEN_GW},GET,/v1/a,200,ua,\n"
            f'2026-11-27T14:00:00Z,-,GET,/v1/a?key={TOKEN_BI},200,ua,"x\n{TOKEN_UNKNOWN}"\n'
            "2026-11-27T14:00:00Z,key_tk,GET,/v1/a,200,ua,clean\n")
    records, stats = read("csv", data)
    t = at(14, 0, 0)
    assert records == [
        rec(t, "key_gw", "GET", "/v1/a", 200, "ua", line=2, token=True),
        rec(t, "key_bi", "GET", "/v1/a?key=[redacted]", 200, "ua", line=3, token=True),
        rec(t, "key_tk", "GET", "/v1/a", 200, "ua", line=5),
    ]
    assert stats.skipped == 0
    assert_no_token(records)


def test_csv_gzip_through_open_input(tmp_path: Path) -> None:
    path = tmp_path / "export.csv.gz"
    path.write_bytes(gzip.compress(b"time,method,path,status\n1795788231,GET,/a,200\n"))
    records, _ = read_file(make_reader(None, str(path), {}), path)
    assert records == [rec(at(14, 3, 51), None, "GET", "/a", 200, line=2)]


def test_csv_truncated_gzip_ends_the_input(tmp_path: Path) -> None:
    rows = "".join(f"1795788231,GET,/v1/{n},200\n" for n in range(5000))
    whole = gzip.compress(("time,method,path,status\n" + rows).encode())
    path = tmp_path / "export.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    seen: list[Record] = []
    stream, _ = open_input(str(path))
    reader = make_reader(None, str(path), {})
    with pytest.raises(TruncatedInput) as info:
        seen.extend(reader.read(stream, context(InputStats(str(path)))))
    assert seen, "the rows before the cut are read"
    assert [r.line for r in seen] == list(range(2, len(seen) + 2))
    assert info.value.line > seen[-1].line


cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=60)
@given(st.lists(st.tuples(cells, cells), min_size=1, max_size=8))
def test_csv_round_trip_and_line_numbers(rows: list[tuple[str, str]]) -> None:
    """Whatever the cells hold (quotes, commas, newlines), they come back as written, and each
    record's line is the physical line its row starts on."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)  # rows end in CRLF; cells with CR, LF, quotes or commas quoted
    writer.writerow(["time", "method", "path", "status", "user_agent", "ip"])
    starts = []
    for ua, ip in rows:
        starts.append(out.getvalue().count("\n") + 1)
        writer.writerow(["1795788231", "GET", "/v1/a", "200", ua, ip])
    records, stats = read("csv", out.getvalue())
    assert stats.skipped == 0

    def kept(value: str) -> str | None:
        return None if value in ("", "-") else value

    assert [(r.user_agent, r.ip) for r in records] == [(kept(u), kept(i)) for u, i in rows]
    assert [r.line for r in records] == starts


# --- nginx ----------------------------------------------------------------------------------

COMBINED_LINES = (
    '203.0.113.17 - - [27/Nov/2026:14:03:51 +0000] "GET /v2/droplets?page=2&per_page=50 '
    'HTTP/1.1" 200 5123 "-" "python-requests/2.32.3"\n'
    '198.51.100.4 - svc-reporting [27/Nov/2026:14:03:52 +0100] "DELETE /v2/droplets/41781234 '
    'HTTP/2.0" 403 88 "-" "curl/8.10.1"\n'
)


def test_nginx_combined() -> None:
    records, stats = read("nginx", COMBINED_LINES)
    assert records == [
        rec(at(14, 3, 51), None, "GET", "/v2/droplets?page=2&per_page=50", 200,
            "python-requests/2.32.3", "203.0.113.17"),
        # +0100: 14:03:52 local is 13:03:52 UTC; $remote_user is the only identity
        rec(at(13, 3, 52), "svc-reporting", "DELETE", "/v2/droplets/41781234", 403,
            "curl/8.10.1", "198.51.100.4", line=2),
    ]
    assert stats.skipped == 0
    assert read(None, COMBINED_LINES, path="access.log")[0] == records


def test_nginx_custom_format_with_a_key_id() -> None:
    fmt = 'nginx:$remote_addr $http_x_key_id [$time_local] "$request" $status $request_time'
    line = ('192.0.2.10 key_7Hq2 [27/Nov/2026:14:05:00 +0000] "POST /v2/domains/example.com/'
            'records HTTP/1.1" 201 0.084\n')
    records, _ = read(fmt, line)
    assert records == [rec(at(14, 5, 0), "key_7Hq2", "POST", "/v2/domains/example.com/records",
                           201, None, "192.0.2.10")]


def test_nginx_other_time_and_request_variables() -> None:
    fmt = ('nginx:$msec $request_method $uri "$args" $status "$http_x_forwarded_for" '
           '$request_id ${http_x_api_key_id}')
    lines = ('1795788231.125 GET /v1/issues "page=2" 200 "203.0.113.9, 10.0.0.1" abc key_bi\n'
             '1795788231.250 PATCH /v1/issues/5 "" 200 "-" def -\n')
    records, stats = read(fmt, lines, maps={"ip": "$http_x_forwarded_for"})
    assert records == [
        rec(at(14, 3, 51.125), "key_bi", "GET", "/v1/issues?page=2", 200, None, "203.0.113.9"),
        rec(at(14, 3, 51.25), None, "PATCH", "/v1/issues/5", 200, line=2),
    ]
    assert stats.skipped == 0
    fmt = 'nginx:$time_iso8601 $host "$request_method $request_uri" $status $upstream_http_x_key_id'
    line = "2026-11-27T15:03:51+01:00 api.example.com \"PUT /v1/sites/3?dry=1\" 409 key_gw\n"
    records, _ = read(fmt, line)
    assert records == [rec(at(14, 3, 51), "key_gw", "PUT", "/v1/sites/3?dry=1", 409)]


def test_nginx_unescapes_quoted_values() -> None:
    fmt = 'nginx:[$time_local] "$request" $status "$http_user_agent" "$http_x_key_id"'
    line = (r'[27/Nov/2026:14:03:51 +0000] "GET /v1/search?q=\x22caf\xC3\xA9\x22 HTTP/1.1" 200 '
            r'"agent \x22quoted\x22 \x5C back\x5Cslash \xE2\x9C\x93" "bi\x2Dexport"' + "\n")
    records, stats = read(fmt, line)
    assert records == [rec(at(14, 3, 51), "key_bi", "GET", '/v1/search?q="café"', 200,
                           'agent "quoted" \\ back\\slash ✓')]
    assert stats.skipped == 0


def unescape_like_nginx(value: str) -> str:
    """nginx escape=default: '"', '\\' and bytes < 32 or > 126 become \\xHH."""
    return "".join(chr(b) if 32 <= b <= 126 and b not in (0x22, 0x5C) else f"\\x{b:02X}"
                   for b in value.encode("utf-8"))


@settings(max_examples=80)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)
       .filter(lambda s: s != "-"))
def test_nginx_unescaping_round_trip(agent: str) -> None:
    fmt = 'nginx:[$time_local] "$request" $status "$http_user_agent"'
    line = f'[27/Nov/2026:14:03:51 +0000] "GET /x HTTP/1.1" 200 "{unescape_like_nginx(agent)}"\n'
    records, stats = read(fmt, line)
    assert stats.skipped == 0
    assert records[0].user_agent == agent


@settings(max_examples=30)
@given(st.lists(st.tuples(st.integers(1, 28), st.sampled_from(("Jan", "Feb", "Nov", "Dec")),
                          st.integers(0, 23), st.integers(0, 1), st.integers(0, 60),
                          st.sampled_from(("+0000", "+0100", "-0730", "+2400"))),
                min_size=1, max_size=12))
def test_nginx_time_local_per_line(stamps: list[tuple[int, str, int, int, int, str]]) -> None:
    """Each line's $time_local is its own, whatever the lines before it held (the reader
    computes each minute once); a second of 60 or a zone of a day is unreadable."""
    texts = [f"{d:02d}/{mon}/2026:{h:02d}:{m:02d}:{sec:02d} {zone}"
             for d, mon, h, m, sec, zone in stamps]
    data = "".join(f'1.2.3.4 - - [{t}] "GET / HTTP/1.1" 200 1 "-" "-"\n' for t in texts)
    records, stats = read("nginx", data)
    expected: list[tuple[int, float]] = []
    bad: list[int] = []
    for n, text in enumerate(texts, start=1):
        try:
            expected.append((n, parse_time(text)))
        except ValueError:
            bad.append(n)
    assert [(r.line, r.time) for r in records] == expected
    assert [line for line, _ in stats.first_skipped] == bad[:InputStats.MAX_SHOWN]
    assert all(reason == "unreadable time" for _, reason in stats.first_skipped)


def test_nginx_escape_json_config_form() -> None:
    fmt = ("nginx:log_format api escape=json\n"
           "    '$remote_addr [$time_local] \"$request\" '\n"
           "    '$status \"$http_user_agent\" \"$http_x_key_id\"';")
    line = ('192.0.2.7 [27/Nov/2026:14:03:51 +0000] "GET /v1/a?q=\\"x\\" HTTP/1.1" 200 '
            '"say \\"hi\\" \\\\ \\u00e9" "key_gw"\n')
    records, stats = read(fmt, line)
    assert records == [rec(at(14, 3, 51), "key_gw", "GET", '/v1/a?q="x"', 200, 'say "hi" \\ é',
                           "192.0.2.7")]
    assert stats.skipped == 0


def test_nginx_escape_none() -> None:
    fmt = "nginx:escape=none '[$time_local] \"$request\" $status \"$http_user_agent\"'"
    line = '[27/Nov/2026:14:03:51 +0000] "GET /v1/a HTTP/1.1" 200 "raw \\ agent é"\n'
    records, stats = read(fmt, line)
    assert records == [rec(at(14, 3, 51), None, "GET", "/v1/a", 200, "raw \\ agent é")]
    assert stats.skipped == 0


def test_nginx_malformed_lines() -> None:
    good = ('203.0.113.17 - key_bi [27/Nov/2026:14:03:51 +0000] "GET /v1/a HTTP/1.1" 200 5 '
            '"-" "ua"\n')
    data = b"".join([
        good.encode(),  # 1
        b'203.0.113.17 - - [27/Nov/2026:14:03:51 +0000] "-" 400 0 "-" "-"\n',  # 2
        b'203.0.113.17 - - [27/Nov/2026:14:03:51 +0000] "\\x16\\x03\\x01\\x02\\x00" 400 0 '
        b'"-" "-"\n',  # 3 a TLS hello on the plain port
        b"this is not an access log line\n",  # 4
        b'203.0.113.17 - - [27/Nov/2026:14:03:51 +0000] "GET /v1/a HTTP/1.1" 2xx 5 "-" "ua"\n',
        b'203.0.113.17 - - [32/Nov/2026:14:03:51 +0000] "GET /v1/a HTTP/1.1" 200 5 "-" "ua"\n',
        b'203.0.113.17 - - [27/Nov/2026:14:03:51 +0000] "GET /v1/a HTTP/1.1" 1200 5 "-" "-"\n',
        b'203.0.113.17 - - [27/Nov/2026:14:03:51 +0000] "GET /caf\xe9 HTTP/1.1" 200 5 "-" "-"\n',
        b"\x00\x01\x02\x03\xfe\xff\n",  # 9 binary
        b"\n",  # 10 blank
        b"x" * 2_000_000 + b"\n",  # 11: 2 MB
        b'203.0.113.17 - - [27/Nov/2026:14:03:51 +0000] "G3T /v1/a HTTP/1.1" 200 5 "-" "-"\n',
        good.encode(),  # 13
    ])
    records, stats = read("nginx", data)
    assert [r.line for r in records] == [1, 13]
    assert records[0] == rec(at(14, 3, 51), "key_bi", "GET", "/v1/a", 200, "ua", "203.0.113.17")
    assert skipped(stats) == [
        (2, "malformed request line"),
        (3, "malformed request line"),
        (4, "does not match the log format"),
        (5, "does not match the log format"),
        (6, "unreadable time"),
        (7, "status out of range"),
        (8, "invalid UTF-8"),
        (9, "invalid UTF-8"),
        (11, "line longer than 1 MiB"),
        (12, "no request method"),
    ]


def test_nginx_strict_mode() -> None:
    with pytest.raises(InputError) as info:
        read("nginx", COMBINED_LINES + "junk\n", path="/var/log/nginx/access.log", strict=True)
    assert str(info.value) == ("/var/log/nginx/access.log:3: malformed record: does not match "
                               "the log format (--strict)")


def test_nginx_tokens_in_authorization_query_and_referer() -> None:
    fmt = ('nginx:$remote_addr [$time_local] "$request" $status "$http_referer" '
           '"$http_user_agent" "$http_x_key_id" "$http_authorization"')
    lines = [
        # no key id header: the Authorization header identifies the key (by its sha256)
        f'192.0.2.1 [27/Nov/2026:14:03:51 +0000] "GET /v1/a HTTP/1.1" 200 "-" "ua" "-" '
        f'"Bearer {TOKEN_BI}"',
        # the key id header wins; the token in the Authorization header is still flagged
        f'192.0.2.1 [27/Nov/2026:14:03:51 +0000] "GET /v1/a HTTP/1.1" 200 "-" "ua" "key_tk" '
        f'"Bearer {TOKEN_GW}"',
        # a token in the query string: scrubbed, and it names the key
        f'192.0.2.1 [27/Nov/2026:14:03:51 +0000] "GET /v1/a?api_key={TOKEN_GW}&x=1 HTTP/1.1" '
        f'200 "-" "ua" "-" "-"',
        # a token in the referer (not kept) and in the user agent (kept, scrubbed)
        f'192.0.2.1 [27/Nov/2026:14:03:51 +0000] "GET /v1/a HTTP/1.1" 200 '
        f'"https://example.com/?t={TOKEN_UNKNOWN}" "tool {TOKEN_UNKNOWN}" "-" "-"',
    ]
    records, stats = read(fmt, "\n".join(lines) + "\n")
    t = at(14, 3, 51)
    assert records == [
        rec(t, "key_bi", "GET", "/v1/a", 200, "ua", "192.0.2.1", token=True),
        rec(t, "key_tk", "GET", "/v1/a", 200, "ua", "192.0.2.1", line=2, token=True),
        rec(t, "key_gw", "GET", "/v1/a?api_key=[redacted]&x=1", 200, "ua", "192.0.2.1", line=3,
            token=True),
        rec(t, None, "GET", "/v1/a", 200, "tool [token]", "192.0.2.1", line=4, token=True),
    ]
    assert stats.skipped == 0
    assert_no_token(records)


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def test_nginx_authorization_schemes_never_become_labels() -> None:
    """Only the identity of an Authorization value is kept: a token in HTTP Basic (user or
    password, ``curl -u sk_live_…:``) is resolved and flagged; otherwise the Basic user name
    is the identity; other schemes' credentials are fingerprinted."""
    fmt = 'nginx:[$time_local] "$request" $status "$http_authorization"'
    values = [basic(f"{TOKEN_GW}:"), basic(f"anyone:{TOKEN_BI}"), basic("bi-export:hunter22"),
              basic(":pw-only-9x"), "Basic !!notbase64!!", "Token opaque-secret-123",
              "Digest username=u, response=d41d8cd98f"]
    data = "".join(f'[27/Nov/2026:14:03:51 +0000] "GET /v1/a HTTP/1.1" 200 "{v}"\n'
                   for v in values)
    records, stats = read(fmt, data)
    assert stats.skipped == 0
    assert [(r.key, r.token) for r in records] == [
        ("key_gw", True),
        ("key_bi", True),
        ("key_bi", False),  # the user name is the key's name
        (None, False),
        ("sha256:" + fingerprint("!!notbase64!!")[:16], False),
        ("sha256:" + fingerprint("opaque-secret-123")[:16], False),
        ("sha256:" + fingerprint("username=u, response=d41d8cd98f")[:16], False),
    ]
    assert_no_token(records)
    for secret in ("hunter22", "pw-only-9x", "opaque-secret", "notbase64", "d41d8cd98f"):
        assert all(secret not in repr(tuple(r)) for r in records)


def test_nginx_blanks_around_the_format_and_after_a_line() -> None:
    records, stats = read('nginx:  [$time_local] "$request" $status  ',
                          '[27/Nov/2026:14:03:51 +0000] "GET /v1/a HTTP/1.1" 200 \t\r\n')
    assert records == [rec(at(14, 3, 51), None, "GET", "/v1/a", 200)]
    assert stats.skipped == 0


def test_nginx_key_variable_named_by_map() -> None:
    fmt = 'nginx:$remote_addr $remote_user [$time_local] "$request" $status "$http_x_client"'
    line = '192.0.2.1 alice [27/Nov/2026:14:03:51 +0000] "GET /v1/a HTTP/1.1" 200 "ticket-sync"\n'
    records, _ = read(fmt, line)
    assert records[0].key == "alice"  # $remote_user is a default candidate
    records, _ = read(fmt, line, maps={"key_id": "$http_x_client"})
    assert records[0].key == "key_tk"  # the key's name
    records, _ = read(fmt, line, maps={"key_id": "${http_x_client}"})
    assert records[0].key == "key_tk"


def test_nginx_repeated_variable_must_repeat_its_value() -> None:
    fmt = 'nginx:$status [$time_local] "$request" $status'
    records, stats = read(fmt, '200 [27/Nov/2026:14:03:51 +0000] "GET /a HTTP/1.1" 200\n'
                               '200 [27/Nov/2026:14:03:51 +0000] "GET /a HTTP/1.1" 404\n')
    assert [r.status for r in records] == [200]
    assert skipped(stats) == [(2, "does not match the log format")]


def test_nginx_gzip_through_open_input(tmp_path: Path) -> None:
    path = tmp_path / "access.log.2.gz"
    path.write_bytes(gzip.compress(COMBINED_LINES.encode()))
    records, _ = read_file(make_reader(None, str(path), {}), path)
    assert [(r.method, r.status, r.line) for r in records] == [("GET", 200, 1),
                                                               ("DELETE", 403, 2)]


# --- Envoy ----------------------------------------------------------------------------------

ENVOY_LINES = (
    '[2026-11-27T14:09:01.512Z] "GET /v1/me/player/recently-played?limit=20 HTTP/2" 200 - 0 '
    '1841 37 35 "203.0.113.5" "okhttp/4.12.0" "3b1d6c2e-9f0a-4e8b-8c3d-5a6b7c8d9e0f" '
    '"api.example.com" "10.0.3.7:8080"\n'
    '[2026-11-27T14:09:02.004Z] "PUT /v1/me/player/volume?volume_percent=40 HTTP/1.1" 403 UAEX '
    '0 0 2 - "198.51.100.61" "curl/8.10.1" "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d" '
    '"api.example.com" "-"\n'
)


def test_envoy_default_format() -> None:
    records, stats = read("envoy", ENVOY_LINES)
    assert records == [
        rec(at(14, 9, 1.512), None, "GET", "/v1/me/player/recently-played?limit=20", 200,
            "okhttp/4.12.0", "203.0.113.5"),
        rec(at(14, 9, 2.004), None, "PUT", "/v1/me/player/volume?volume_percent=40", 403,
            "curl/8.10.1", "198.51.100.61", line=2),
    ]
    assert stats.skipped == 0


def test_envoy_forwarded_for_list_gives_the_client() -> None:
    line = ('[2026-11-27T14:09:03.000Z] "GET /v1/a HTTP/1.1" 200 - 0 0 5 4 '
            '"203.0.113.5, 10.0.0.7" "ua" "-" "api.example.com" "10.0.3.7:8080"\n')
    records, _ = read("envoy", line)
    assert records == [rec(at(14, 9, 3), None, "GET", "/v1/a", 200, "ua", "203.0.113.5")]


def test_envoy_status_zero_is_kept_and_dashes_are_empty() -> None:
    line = ('[2026-11-27T14:09:03.000Z] "POST /v1/works HTTP/1.1" 0 DC 120 0 5 - "-" "-" "-" '
            '"api.example.com" "-"\n')
    records, stats = read("envoy", line)
    assert records == [rec(at(14, 9, 3), None, "POST", "/v1/works", 0)]
    assert stats.skipped == 0


ENVOY_CUSTOM = ('envoy:[%START_TIME%] %DOWNSTREAM_REMOTE_ADDRESS% "%REQ(:METHOD)% '
                '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% '
                '%RESPONSE_FLAGS% %DURATION% "%REQ(USER-AGENT)%" "%REQ(X-API-KEY-ID)%" '
                '"%REQ(AUTHORIZATION)%" "%DYNAMIC_METADATA(envoy.filters.http.jwt_authn:sub)%" '
                '%ROUTE_NAME% %UPSTREAM_HOST% %BYTES_RECEIVED% %BYTES_SENT% '
                '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%\\n')


def test_envoy_custom_format_key_identity() -> None:
    lines = [
        '[2026-11-27T14:09:01.512Z] 203.0.113.5:51514 "GET /v1/a HTTP/1.1" 200 - 3 "ua" '
        '"key_gw" "-" "-" issues 10.0.3.7:8080 0 10 2',
        f'[2026-11-27T14:09:01.512Z] [2001:db8::1]:443 "GET /v1/a?key={TOKEN_UNKNOWN} HTTP/2" '
        f'200 - 3 "ua" "-" "Bearer {TOKEN_BI}" "-" issues - 0 10 2',
        '[2026-11-27T14:09:01.512Z] 203.0.113.5:51514 "GET /v1/a HTTP/1.1" 401 UAEX 3 "-" '
        '"-" "-" "bi-export" - - 0 0 -',
        '[2026-11-27T14:09:01.512Z] - "GET /v1/a HTTP/1.1" 503 UH 3 "-" "-" "-" "-" - - 0 0 -',
    ]
    records, stats = read(ENVOY_CUSTOM, "\n".join(lines) + "\n")
    t = at(14, 9, 1.512)
    assert records == [
        rec(t, "key_gw", "GET", "/v1/a", 200, "ua", "203.0.113.5"),
        rec(t, "key_bi", "GET", "/v1/a?key=[redacted]", 200, "ua", "2001:db8::1", line=2,
            token=True),
        rec(t, "key_bi", "GET", "/v1/a", 401, None, "203.0.113.5", line=3),  # JWT subject
        rec(t, None, "GET", "/v1/a", 503, line=4),
    ]
    assert stats.skipped == 0
    assert_no_token(records)


def test_envoy_map_names_an_operator_or_a_header() -> None:
    line = ('[2026-11-27T14:09:01.512Z] 203.0.113.5:51514 "GET /v1/a HTTP/1.1" 200 - 3 "ua" '
            '"key_gw" "-" "-" ticket-sync 10.0.3.7:8080 0 10 2\n')
    for source in ("ROUTE_NAME", "%ROUTE_NAME%"):
        records, _ = read(ENVOY_CUSTOM, line, maps={"key_id": source})
        assert records[0].key == "key_tk"
    for source in ("x-api-key-id", "%REQ(x-api-key-id)%", "REQ(X-API-KEY-ID)"):
        records, _ = read(ENVOY_CUSTOM, line, maps={"key_id": source})
        assert records[0].key == "key_gw"


def test_envoy_original_path_wins_and_custom_start_time() -> None:
    fmt = ("envoy:%START_TIME(%Y/%m/%d %H:%M:%S%z)% %REQ(:METHOD)% %REQ(:PATH)% "
           "%REQ(X-ENVOY-ORIGINAL-PATH)% %RESPONSE_CODE%")
    lines = ("2026/11/27 15:09:01+0100 GET /internal/a /v1/a 200\n"
             "2026/11/27 14:09:01+0000 GET /v1/b - 200\n")
    records, stats = read(fmt, lines)
    assert [(r.time, r.target) for r in records] == [(at(14, 9, 1), "/v1/a"),
                                                     (at(14, 9, 1), "/v1/b")]
    assert stats.skipped == 0


def test_envoy_malformed_lines() -> None:
    data = b"".join([
        ENVOY_LINES.encode().split(b"\n")[0] + b"\n",  # 1
        b'[2026-11-27T14:09:01.512Z] "GET - HTTP/1.1" 200 - 0 0 1 - "-" "-" "-" "-" "-"\n',
        b'[2026-11-27T14:09:01.512Z] "- /v1/a HTTP/1.1" 200 - 0 0 1 - "-" "-" "-" "-" "-"\n',
        b'[2026-11-27T14:09:01.512Z] "GET /v1/a HTTP/1.1" - - 0 0 1 - "-" "-" "-" "-" "-"\n',
        b'[not a time] "GET /v1/a HTTP/1.1" 200 - 0 0 1 - "-" "-" "-" "-" "-"\n',  # 5
        b'[2026-11-27T14:09:01.512Z] "GET /v1/a HTTP/1.1" 200 - 0 0 1 - "-" "a "quoted" ua" '
        b'"-" "-" "-"\n',  # 6: Envoy does not escape quotes
        b"\xff\xfe\x00binary\n",  # 7
        b"[" + b"9" * 2_000_000 + b"\n",  # 8
    ])
    records, stats = read("envoy", data)
    assert [r.line for r in records] == [1]
    assert skipped(stats) == [
        (2, "no request path"),
        (3, "no request method"),
        (4, "no status code"),
        (5, "does not match the log format"),
        (6, "does not match the log format"),
        (7, "invalid UTF-8"),
        (8, "line longer than 1 MiB"),
    ]


def test_envoy_strict_mode() -> None:
    with pytest.raises(InputError, match=r"^envoy\.txt:1: malformed record: invalid UTF-8"):
        read("envoy", b"\xff\n", path="envoy.txt", strict=True)


# --- AWS API Gateway ------------------------------------------------------------------------


def test_apigw_documented_examples() -> None:
    lines = (
        '{"requestId":"6f1c0a52-3f0e-4c7e-9b1d-2d7f5a0c9e11","requestTime":"27/Nov/2026:14:07:09'
        ' +0000","httpMethod":"GET","resourcePath":"/pets/{petId}","path":"/prod/pets/812",'
        '"stage":"prod","status":"200","apiKeyId":"k3x9q1zt7a","clientId":"5kq8r2example",'
        '"scope":"pets/read pets/write","ip":"198.51.100.23","responseLength":"214"}\n'
        '{"requestId":"Sx2bKjExampleId=","requestTime":"27/Nov/2026:14:07:10 +0000",'
        '"httpMethod":"POST","routeKey":"POST /orders","path":"/orders","status":"403",'
        '"principal":"-","scope":"-","ip":"203.0.113.90"}\n'
    )
    records, stats = read("apigw", lines)
    assert records == [
        rec(at(14, 7, 9), "k3x9q1zt7a", "GET", "/pets/{petId}", 200, None, "198.51.100.23"),
        rec(at(14, 7, 10), None, "POST", "/orders", 403, None, "203.0.113.90", line=2),
    ]
    assert stats.skipped == 0


@pytest.mark.parametrize(("fields", "method", "target"), [
    # no resourcePath/routeKey: the stage is stripped from the actual path
    ('"httpMethod":"GET","path":"/prod/pets/812","stage":"prod"', "GET", "/pets/812"),
    ('"httpMethod":"GET","path":"/prod","stage":"prod"', "GET", "/"),
    ('"httpMethod":"GET","path":"/prod?x=1","stage":"prod"', "GET", "/?x=1"),
    ('"httpMethod":"GET","path":"/production/x","stage":"prod"', "GET", "/production/x"),
    ('"httpMethod":"GET","path":"/pets/1","stage":"$default"', "GET", "/pets/1"),
    ('"httpMethod":"GET","path":"/prod/pets/1","stage":"-"', "GET", "/prod/pets/1"),
    ('"httpMethod":"GET","path":"/prod/pets/1"', "GET", "/prod/pets/1"),  # stage unknown
    ('"httpMethod":"GET","resourcePath":"-","path":"/beta/pets/1","stage":"beta"', "GET",
     "/pets/1"),
    # greedy resources fall back to the actual path
    ('"httpMethod":"PUT","resourcePath":"/{proxy+}","path":"/prod/pets/9","stage":"prod"',
     "PUT", "/pets/9"),
    ('"httpMethod":"DELETE","routeKey":"ANY /{proxy+}","path":"/pets/9"', "DELETE", "/pets/9"),
    # a routeKey gives the method too; ANY and $default do not
    ('"routeKey":"GET /orders/{id}","path":"/orders/5"', "GET", "/orders/{id}"),
    ('"httpMethod":"PATCH","routeKey":"ANY /orders","path":"/orders"', "PATCH", "/orders"),
    ('"httpMethod":"GET","routeKey":"$default","path":"/v1/x"', "GET", "/v1/x"),
    ('"httpMethod":"GET","routeKey":"/pets","path":"/dev/pets","stage":"dev"', "GET", "/pets"),
])
def test_apigw_paths(fields: str, method: str, target: str) -> None:
    line = f'{{"requestTimeEpoch":1795788231000,"status":200,{fields}}}\n'
    records, stats = read("apigw", line)
    assert stats.skipped == 0, stats.first_skipped
    assert [(r.time, r.method, r.target) for r in records] == [(at(14, 3, 51), method, target)]


def test_apigw_routekey_any_without_http_method_has_no_method() -> None:
    records, stats = read("apigw", '{"requestTimeEpoch":1795788231000,"status":200,'
                                   '"routeKey":"ANY /{proxy+}","path":"/x"}\n')
    assert records == []
    assert skipped(stats) == [(1, "no request method")]


def test_apigw_map_overrides_the_preset() -> None:
    line = ('{"requestTime":"27/Nov/2026:14:07:09 +0000","httpMethod":"GET","resourcePath":'
            '"/pets/{petId}","path":"/prod/pets/812","stage":"prod","status":"200",'
            '"identity":{"apiKeyId":"key_gw"},"authorizer":{"principalId":"key_bi"}}\n')
    records, _ = read("apigw", line)
    assert (records[0].key, records[0].target) == ("key_gw", "/pets/{petId}")
    records, _ = read("apigw", line, maps={"path": "path", "key_id": "authorizer.principalId"})
    assert (records[0].key, records[0].target) == ("key_bi", "/prod/pets/812")


# --- Kong -----------------------------------------------------------------------------------

KONG_LINE = (
    '{"request":{"id":"c1f2a9e07b4d4a3f9e0d11aa22bb33cc","method":"PATCH","uri":"/billing/v1/'
    'invoices/INV-2291?notify=false","url":"https://api.example.com:443/billing/v1/invoices/'
    'INV-2291?notify=false","querystring":{"notify":"false"},"headers":{"host":"api.example.com'
    '","user-agent":"acme-sync/3.4","authorization":"REDACTED"},"size":412},"upstream_uri":"/v1/'
    'invoices/INV-2291?notify=false","upstream_status":"200","response":{"status":200,"size":733'
    ',"headers":{"content-type":"application/json"}},"latencies":{"kong":3,"proxy":41,"request":'
    '45},"route":{"id":"0b6f4e1e-8d1a-4c39-9a51-6f0a1e2d3c4b","name":"billing","paths":["/billi'
    'ng"],"methods":null,"protocols":["https"]},"service":{"id":"5e2d7c1a-1b2c-4d3e-8f90-a1b2c3'
    'd4e5f6","name":"billing-svc"},"consumer":{"id":"8c7b6a59-4433-2211-aabb-ccddeeff0011","use'
    'rname":"acme-integration","custom_id":"acct-1042"},"authenticated_entity":{"id":"f0e1d2c3-b'
    '4a5-9687-7869-5a4b3c2d1e0f","consumer_id":"8c7b6a59-4433-2211-aabb-ccddeeff0011"},"client_'
    'ip":"192.0.2.44","started_at":1795788430123,"source":"upstream"}'
)
# The consumer's username names the key (#18: the credential's UUID first made every key of
# a keys file named by consumer an unknown one); the UUID counts only without a consumer name.
KONG_RECORD = rec(at(14, 7, 10.123), "acme-integration", "PATCH",
                  "/billing/v1/invoices/INV-2291?notify=false", 200, "acme-sync/3.4",
                  "192.0.2.44")


def test_kong_documented_example() -> None:
    records, stats = read("kong", KONG_LINE + "\n")
    assert records == [KONG_RECORD]
    assert stats.skipped == 0


def test_kong_credential_id_only_without_a_consumer_name() -> None:
    line = ('{"request":{"method":"GET","uri":"/v1/plans"},"response":{"status":200},'
            '"consumer":{"id":"8c7b6a59"},"authenticated_entity":{"id":"f0e1d2c3"},'
            '"started_at":1795788430000}\n')
    records, _ = read("kong", line)
    assert [r.key for r in records] == ["f0e1d2c3"]


def test_kong_http_log_batches() -> None:
    anonymous = ('{"request":{"method":"GET","uri":"/billing/v1/plans","headers":{"apikey":"'
                 f'{TOKEN_GW}"}}}},"response":{{"status":401}},"client_ip":"192.0.2.45",'
                 '"started_at":1795788430500}')
    by_custom_id = ('{"request":{"method":"GET","uri":"/billing/v1/plans"},"response":'
                    '{"status":200},"consumer":{"custom_id":"key_tk"},'
                    '"started_at":1795788430000}')
    data = "\n".join([
        KONG_LINE,  # 1
        f"[{anonymous}, 42, {by_custom_id}]",  # 2: a batch with one bad item
        "[]",  # 3: an empty batch
        '"just a string"',  # 4
        f"[{KONG_LINE}]",  # 5
    ]) + "\n"
    records, stats = read("kong", data)
    assert records == [
        KONG_RECORD,
        # unauthenticated: no key; the raw key in the apikey header is flagged, never kept
        rec(at(14, 7, 10.5), None, "GET", "/billing/v1/plans", 401, None, "192.0.2.45", line=2,
            token=True),
        rec(at(14, 7, 10), "key_tk", "GET", "/billing/v1/plans", 200, line=2),
        KONG_RECORD._replace(line=5),
    ]
    assert skipped(stats) == [(2, "a batch item is not a JSON object"),
                              (4, "not a JSON object or array")]
    assert_no_token(records)


def test_kong_malformed_and_strict() -> None:
    data = b'{"request":{"method":"GET"},"started_at":1795788430000}\n{\n\xff\n'
    records, stats = read("kong", data)
    assert records == []
    assert [line for line, _ in skipped(stats)] == [1, 2, 3]
    assert stats.first_skipped[0][1] == "no request path"
    with pytest.raises(InputError, match=r"^kong\.jsonl:1: malformed record: no request path"):
        read("kong", data, path="kong.jsonl", strict=True)


# --- tokens on lines that give no record (SA301 whatever the parse) ------------------------


def read_leaks(spec: str, data: bytes | str, **kwargs: object
               ) -> tuple[list[Record], InputStats, list[tuple[str, int]]]:
    """read(), and the tokens reported on lines that gave no record: (key label, line)."""
    leaks: list[tuple[str, int]] = []
    records, stats = read(spec, data, leaks=leaks, **kwargs)  # type: ignore[arg-type]
    for token in TOKENS:
        assert token not in repr(leaks) and token not in repr(stats.first_skipped)
    return records, stats, leaks


def test_jsonl_tokens_on_malformed_lines_are_reported() -> None:
    """Each line below is malformed (and still counted so), and the token on it is reported
    by the label its key gets on a well-formed line: matched by sha256, by prefix, or the
    token's own fingerprint."""
    data = b"\n".join([
        # 1: the closing brace missing, the token in an Authorization value
        f'{{"ts":"2026-11-27T14:03:51Z","authorization":"Bearer {TOKEN_GW}","method":"GET",'
        f'"path":"/v1/a","status":200'.encode(),
        # 2: an unreadable time, the token as the key id
        f'{{"ts":"yesterday","key_id":"{TOKEN_BI}","method":"GET","path":"/v1/a",'
        f'"status":200}}'.encode(),
        # 3: no method
        f'{{"ts":"2026-11-27T14:03:51Z","key_id":"{TOKEN_UNKNOWN}","path":"/v1/a",'
        f'"status":200}}'.encode(),
        f'["{TOKEN_BI}"]'.encode(),  # 4: not an object
        f'{{"key_id":"{TOKEN_GW}","path":"/caf'.encode() + b'\xe9"}',  # 5: invalid UTF-8
        b'{"ts":"yesterday","method":"GET","path":"/v1/a","status":200}',  # 6: no token
        b"",  # 7: blank
        # 8: well formed: a record flagged, with the key label line 2 was reported with
        f'{{"ts":"2026-11-27T14:03:51Z","key_id":"{TOKEN_BI}","method":"GET","path":"/v1/a",'
        f'"status":200}}'.encode(),
    ]) + b"\n"
    records, stats, leaks = read_leaks("jsonl", data)
    assert records == [rec(at(14, 3, 51), "key_bi", "GET", "/v1/a", 200, line=8, token=True)]
    assert [(line, reason.split(" (")[0]) for line, reason in skipped(stats)] == [
        (1, "invalid JSON"), (2, "unreadable time"), (3, "no request method"),
        (4, "not a JSON object"), (5, "invalid JSON"), (6, "unreadable time")]
    assert leaks == [("key_gw", 1), ("key_bi", 2), (UNKNOWN_LABEL, 3), ("key_bi", 4),
                     ("key_gw", 5)]
    # the API Gateway preset is JSON Lines too
    _, stats, leaks = read_leaks("apigw", f'{{"requestTimeEpoch":"x","apiKeyId":"{TOKEN_GW}"}}\n')
    assert (stats.skipped, leaks) == (1, [("key_gw", 1)])


def test_nginx_and_envoy_tokens_on_lines_that_are_no_record() -> None:
    fmt = ('nginx:$remote_addr [$time_local] "$request" $status "$http_referer" '
           '"$http_user_agent" "$http_x_key_id" "$http_authorization"')
    data = b"\n".join([
        # 1: cut short in the query string: the token (a known key's) still names it
        f'192.0.2.1 [27/Nov/2026:14:03:51 +0000] "GET /v1/a?api_key={TOKEN_GW}'.encode(),
        # 2: a day that does not exist
        f'192.0.2.1 [32/Nov/2026:14:03:51 +0000] "GET /v1/a HTTP/1.1" 200 "-" "ua" "-" '
        f'"Bearer {TOKEN_BI}"'.encode(),
        # 3: no method
        f'192.0.2.1 [27/Nov/2026:14:03:51 +0000] "G3T /v1/a?token={TOKEN_UNKNOWN} HTTP/1.1" '
        f'200 "-" "ua" "-" "-"'.encode(),
        # 4: invalid UTF-8
        f'192.0.2.1 [27/Nov/2026:14:03:51 +0000] "GET /v1/a HTTP/1.1" 200 "-" "ua" "-" '
        f'"Bearer {TOKEN_GW}"'.encode() + b"\xff",
        # 5: status out of range
        f'192.0.2.1 [27/Nov/2026:14:03:51 +0000] "GET /v1/a HTTP/1.1" 1200 "-" "ua" "-" '
        f'"Bearer {TOKEN_BI}"'.encode(),
        # 6: the query token of line 1 on a whole line: the same key
        f'192.0.2.1 [27/Nov/2026:14:03:51 +0000] "GET /v1/a?api_key={TOKEN_GW} HTTP/1.1" 200 '
        f'"-" "ua" "-" "-"'.encode(),
    ]) + b"\n"
    records, stats, leaks = read_leaks(fmt, data)
    assert [(r.line, r.key, r.token) for r in records] == [(6, "key_gw", True)]
    assert skipped(stats) == [(1, "does not match the log format"), (2, "unreadable time"),
                              (3, "no request method"), (4, "invalid UTF-8"),
                              (5, "status out of range")]
    assert leaks == [("key_gw", 1), ("key_bi", 2), (UNKNOWN_LABEL, 3), ("key_gw", 4),
                     ("key_bi", 5)]
    envoy = (f'[2026-11-27T14:09:01.512Z] "GET /v1/a?key={TOKEN_BI} HTTP/1.1" 2x0 - 0 0 1 - '
             '"-" "-" "-" "-" "-"\n')
    _, stats, leaks = read_leaks("envoy", envoy)
    assert (skipped(stats), leaks) == ([(1, "does not match the log format")], [("key_bi", 1)])


def test_csv_tokens_on_rows_that_are_no_record() -> None:
    data = b"".join([
        b"time,key_id,method,path,status\n",  # 1
        f"2026-11-27T14:00:00Z,Bearer {TOKEN_GW},GET,/v1/a\n".encode(),  # 2: a cell short
        f"yesterday,{TOKEN_BI},GET,/v1/a,200\n".encode(),  # 3
        f'2026-11-27T14:00:00Z,{TOKEN_UNKNOWN},GET,"/v1/a"x,200\n'.encode(),  # 4: bad quoting
        b'2026-11-27T14:00:00Z,-,GET,"/v1/a\n',  # 5: a cell over two lines, whose second
        f'{TOKEN_GW}",OK\n'.encode(),  # 6: line holds the token; the status is no number
        f"2026-11-27T14:00:00Z,{TOKEN_BI},GET,/caf".encode() + b"\xe9,200\n",  # 7
        b"yesterday,k,GET,/v1/a,200\n",  # 8: no token
        f"2026-11-27T14:00:00Z,{TOKEN_BI},GET,/v1/a,200\n".encode(),  # 9: well formed
    ])
    records, stats, leaks = read_leaks("csv", data)
    assert records == [rec(at(14, 0, 0), "key_bi", "GET", "/v1/a", 200, line=9, token=True)]
    assert [line for line, _ in skipped(stats)] == [2, 3, 4, 5, 7, 8]
    assert leaks == [("key_gw", 2), ("key_bi", 3), (UNKNOWN_LABEL, 4), ("key_gw", 5),
                     ("key_bi", 7)]


def test_csv_token_in_the_header_is_reported() -> None:
    data = (f"time,method,path,status,{TOKEN_GW}\n"
            "2026-11-27T14:00:00Z,GET,/v1/a,200,x\n")
    records, stats, leaks = read_leaks("csv", data)
    assert [(r.line, r.token) for r in records] == [(2, False)]
    assert (stats.skipped, leaks) == (0, [("key_gw", 1)])


def test_kong_tokens_on_lines_and_items_that_are_no_record() -> None:
    no_path = f'{{"request":{{"method":"GET","headers":{{"apikey":"{TOKEN_GW}"}}}}}}'
    data = "\n".join([
        f'"{TOKEN_BI}"',  # 1: neither object nor array
        f'[{no_path}, "{TOKEN_UNKNOWN}", 7]',  # 2: three bad items, two with a token
        f'[{KONG_LINE}, {{"request":{{}}}}, "{TOKEN_BI}"]',  # 3: a good item and two bad
    ]) + "\n"
    records, stats, leaks = read_leaks("kong", data)
    assert records == [KONG_RECORD._replace(line=3)]
    assert [line for line, _ in skipped(stats)] == [1, 2, 2, 2, 3, 3]
    assert leaks == [("key_bi", 1), ("key_gw", 2), (UNKNOWN_LABEL, 2), ("key_bi", 3)]


def test_a_token_past_the_line_limit_is_not_scanned() -> None:
    """A line over MAX_LINE is never held whole (it is skipped as too long), so a token on
    it is not seen: the one limit of the scan."""
    data = f'{{"key_id":"{TOKEN_BI}","pad":"'.encode() + b"x" * 2_000_000 + b'"}\n'
    _, stats, leaks = read_leaks("jsonl", data)
    assert (skipped(stats), leaks) == ([(1, "line longer than 1 MiB")], [])


# --- empty lines ----------------------------------------------------------------------------


def test_every_reader_numbers_lines_past_millions_of_empty_ones() -> None:
    """Empty lines are passed over in bulk; the records and malformed lines after them keep
    their own line numbers, and the empty lines are neither records nor malformed."""
    gap = b"\n" * 2_000_000
    good = {
        "jsonl": GOOD_JSON.encode(),
        "nginx": COMBINED_LINES.encode().split(b"\n")[0],
        "csv": b"2026-11-27T14:03:51Z,key_bi,GET,/v1/issues,200",
    }
    for spec, line in good.items():
        head = b"time,key_id,method,path,status\n" if spec == "csv" else b""
        data = head + gap + line + b"\n" + gap + b"junk, junk\n" + gap + line + b"\n" + gap
        start = 1 if spec == "csv" else 0
        records, stats = read(spec, data)
        assert [r.line for r in records] == [start + 2_000_001, start + 6_000_003], spec
        assert [n for n, _ in skipped(stats)] == [start + 4_000_002], spec


def test_csv_empty_lines_inside_a_quoted_cell_are_kept() -> None:
    data = (b"time,method,path,status,user_agent\n\n\n"
            b'1795788231,GET,/v1/a,200,"two\n\n\nempty lines"\n\n\n'
            b"1795788231,GET,/v1/b,200,x\n")
    records, stats = read("csv", data)
    assert [(r.line, r.user_agent) for r in records] == [(4, "two\n\n\nempty lines"), (10, "x")]
    assert stats.skipped == 0
