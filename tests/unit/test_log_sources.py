"""Log sources of #18: envelopes, JSON documents, --map's brackets and list values, the time
forms and the epoch rule in SQL.

Every fixture is written for this file in the shape the named product documents (the URL is
in its comment); the expected records are worked out by hand. Times: 2026-11-27T00:00:00Z is
1_795_737_600 (see test_timeparse.py).
"""

from __future__ import annotations

import base64
import gzip
import io
import json
from collections.abc import Mapping

import duckdb
import pytest

from scopeaudit.errors import InputError
from scopeaudit.model import Key, Location
from scopeaudit.usage.identity import KeyResolver
from scopeaudit.usage.readers import make_reader
from scopeaudit.usage.record import InputStats, ReadContext, Record
from scopeaudit.usage.timeparse import parse_time

DAY = 1_795_737_600
KEYS = (Key(id="key_bi", location=Location("keys.yaml", 2), scope_grants=(), name="bi"),)


def at(hours: int, minutes: int, seconds: float) -> float:
    return DAY + hours * 3600 + minutes * 60 + seconds


def read(spec: str | None, data: bytes | str, maps: Mapping[str, str] | None = None,
         path: str = "input.jsonl") -> tuple[list[Record], InputStats]:
    raw = data.encode() if isinstance(data, str) else data
    stats = InputStats(path)
    ctx = ReadContext(stats, KeyResolver(KEYS), on_token=lambda key, line: None)
    reader = make_reader(spec, path, maps or {})
    return list(reader.read(io.BufferedReader(io.BytesIO(raw)), ctx)), stats  # type: ignore[arg-type]


def summary(records: list[Record]) -> list[tuple[float, str | None, str, str, int, int]]:
    return [(round(r.time, 6), r.key, r.method, r.target, r.status, r.line) for r in records]


# API Gateway's documented JSON access-log record (reference/log-formats.md, section 2)
APIGW_RECORD = {"requestId": "6f1c0a52", "requestTime": "27/Nov/2026:14:07:09 +0000",
                "httpMethod": "GET", "resourcePath": "/pets/{petId}", "path": "/prod/pets/812",
                "stage": "prod", "status": "200", "apiKeyId": "k3x9q1zt7a"}
APIGW_EXPECTED = (at(14, 7, 9), "k3x9q1zt7a", "GET", "/pets/{petId}", 200)


def subscription(*messages: str, kind: str = "DATA_MESSAGE") -> dict[str, object]:
    """A CloudWatch Logs subscription message, in the shape the CloudWatch Logs docs give
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html:
    messageType, owner, logGroup, logStream, subscriptionFilters, logEvents[id, timestamp,
    message])."""
    return {"messageType": kind, "owner": "123456789012",
            "logGroup": "API-Gateway-Execution-Logs_abc/prod", "logStream": "stream",
            "subscriptionFilters": ["to-firehose"],
            "logEvents": [{"id": str(i), "timestamp": 1795788429000, "message": m}
                          for i, m in enumerate(messages)]}


def test_cloudwatch_subscription_message_on_a_line() -> None:
    line = json.dumps(subscription(json.dumps(APIGW_RECORD), "not json at all"))
    control = json.dumps(subscription("CWL CONTROL MESSAGE: Checking health of destination",
                                      kind="CONTROL_MESSAGE"))
    records, stats = read("apigw", line + "\n" + control + "\n")
    assert summary(records) == [(*APIGW_EXPECTED, 1)]
    # the event whose message is no JSON is counted; the control message holds no record
    assert stats.first_skipped == [(1, "a CloudWatch log event's message is not JSON")]


def test_cloudwatch_subscription_as_firehose_delivers_it() -> None:
    # Firehose writes the records to S3 run together ({...}{...}), gzip-compressed (the
    # input is gunzipped by its magic bytes); a Lambda or Kinesis consumer sees base64 of it
    one = json.dumps(subscription(json.dumps(APIGW_RECORD)))
    other = {**APIGW_RECORD, "apiKeyId": "key_bi", "status": "403"}
    two = json.dumps(subscription(json.dumps(other)))
    records, stats = read("apigw", one + two + "\n")
    assert summary(records) == [(*APIGW_EXPECTED, 1),
                                (at(14, 7, 9), "key_bi", "GET", "/pets/{petId}", 403, 1)]
    packed = base64.b64encode(gzip.compress((one + two).encode())).decode()
    records, stats = read("apigw", f"{packed}\n{json.dumps({'awslogs': {'data': packed}})}\n")
    assert [r.line for r in records] == [1, 1, 2, 2]
    assert stats.skipped == 0


def test_azure_records_envelope_and_bracketed_map() -> None:
    # Azure Monitor diagnostic logs through Event Hub: {"records": [...]}; API Management's
    # GatewayLogs fields (https://learn.microsoft.com/azure/api-management/gateway-log-schema-reference)
    data = {"records": [
        {"time": "2026-11-27T14:03:51.5120000Z", "category": "GatewayLogs",
         "operationName": "Microsoft.ApiManagement/GatewayLogs",
         "properties": {"method": "GET", "url": "https://contoso.azure-api.net/pets/812",
                        "responseCode": 200, "apimSubscriptionId": "key_bi",
                        "clientIp": "203.0.113.7"}},
        {"time": "2026-11-27T14:03:52Z", "properties": {"method": "DELETE"}},
    ]}
    maps = {"method": "properties.method", "path": "properties.url",
            "status": "properties.responseCode", "key_id": 'properties["apimSubscriptionId"]'}
    records, stats = read("jsonl", json.dumps(data) + "\n", maps)
    assert summary(records) == [(at(14, 3, 51.512), "key_bi", "GET",
                                 "https://contoso.azure-api.net/pets/812", 200, 1)]
    assert stats.first_skipped == [(1, "no request path")]


def test_gcloud_logging_read_json_array_over_many_lines() -> None:
    # `gcloud logging read --format json` prints one pretty-printed array of LogEntry
    # (https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry, httpRequest:
    # requestMethod, requestUrl, status, userAgent, remoteIp)
    entries = [
        {"httpRequest": {"requestMethod": "POST", "requestUrl": "https://api.example.com/v1/orders",
                         "status": 201, "remoteIp": "198.51.100.4"},
         "jsonPayload": {"key_id": "key_bi"}, "timestamp": "2026-11-27T14:03:51.123456789Z"},
        {"httpRequest": {"requestMethod": "GET", "requestUrl": "/v1/orders/7", "status": 404},
         "timestamp": "2026-11-27T14:03:52Z"},
    ]
    text = json.dumps(entries, indent=2) + "\n"
    maps = {"method": "httpRequest.requestMethod", "path": "httpRequest.requestUrl",
            "status": "httpRequest.status", "key_id": "jsonPayload.key_id"}
    records, stats = read(None, text, maps, path="entries.json")
    # each record numbered with the line its entry starts on: "[" is line 1
    assert summary(records) == [
        (at(14, 3, 51.123457), "key_bi", "POST", "https://api.example.com/v1/orders", 201, 2),
        (at(14, 3, 52), None, "GET", "/v1/orders/7", 404, 14)]
    assert stats.skipped == 0
    assert text.splitlines()[13] == "  {"


def test_a_broken_json_document_says_where() -> None:
    records, stats = read("jsonl", '[\n  {"time": 1795788231, "method": "GET",\n')
    assert records == []
    assert stats.first_skipped[0][0] == 2
    assert stats.first_skipped[0][1].startswith("invalid JSON document")


def _attr(key: str, value: object) -> dict[str, object]:
    kind = "intValue" if isinstance(value, int) else "stringValue"
    return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}


def test_otlp_json_traces_and_logs() -> None:
    # OTLP JSON as opentelemetry-proto's examples/trace.json and logs.json shape it
    # (https://github.com/open-telemetry/opentelemetry-proto/tree/main/examples); HTTP server
    # attributes of the current (url.path, http.request.method, http.response.status_code)
    # and the old (http.target, http.method, http.status_code) semantic conventions
    server = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
              "name": "GET /v1/orders/{id}", "kind": 2,
              "startTimeUnixNano": "1795788231512000000", "endTimeUnixNano": "1795788231600000000",
              "attributes": [_attr("http.request.method", "GET"), _attr("url.path", "/v1/orders/7"),
                             _attr("http.response.status_code", 200),
                             _attr("enduser.id", "key_bi")]}
    client = {**server, "kind": 3}  # the service's own outgoing call: not a request to it
    internal = {**server, "kind": 1}
    old = {"kind": "SPAN_KIND_SERVER", "startTimeUnixNano": "1795788232000000000",
           "attributes": [_attr("http.method", "POST"), _attr("http.target", "/v1/orders?x=1"),
                          _attr("http.status_code", 201)]}
    traces = {"resourceSpans": [{"resource": {"attributes": [_attr("service.name", "orders")]},
                                 "scopeSpans": [{"scope": {"name": "http"},
                                                 "spans": [server, client, internal, old]}]}]}
    logs = {"resourceLogs": [{"resource": {"attributes": [_attr("enduser.id", "key_bi")]},
                              "scopeLogs": [{"logRecords": [
                                  {"timeUnixNano": "1795788233000000000", "body":
                                   {"stringValue": "handled"},
                                   "attributes": [_attr("http.request.method", "DELETE"),
                                                  _attr("url.path", "/v1/orders/7"),
                                                  _attr("http.response.status_code", 204)]},
                                  {"timeUnixNano": "1795788233000000000",
                                   "body": {"stringValue": "no http attributes"}}]}]}]}
    records, stats = read(None, json.dumps(traces) + "\n" + json.dumps(logs) + "\n")
    assert summary(records) == [
        (at(14, 3, 51.512), "key_bi", "GET", "/v1/orders/7", 200, 1),
        (at(14, 3, 52), None, "POST", "/v1/orders?x=1", 201, 1),
        (at(14, 3, 53), "key_bi", "DELETE", "/v1/orders/7", 204, 2)]
    assert stats.skipped == 0


def test_flattened_otel_rows_with_dotted_names() -> None:
    row = {"timeUnixNano": 1795788231512000000, "http.request.method": "GET",
           "url.path": "/v1/orders/7", "http.response.status_code": 200,
           "enduser.id": "key_bi", "user_agent.original": "curl/8.10.1"}
    records, _ = read("jsonl", json.dumps(row) + "\n")
    assert summary(records) == [(at(14, 3, 51.512), "key_bi", "GET", "/v1/orders/7", 200, 1)]
    assert records[0].user_agent == "curl/8.10.1"


def test_caddy_header_lists_and_bracketed_map() -> None:
    # Caddy's structured access log logs each header's values as a list
    # (https://caddyserver.com/docs/logging: request.headers {"User-Agent": ["curl/7.82.0"]})
    line = {"level": "info", "ts": 1795788231.5241024, "logger": "http.log.access",
            "msg": "handled request",
            "request": {"remote_ip": "127.0.0.1", "proto": "HTTP/2.0", "method": "GET",
                        "host": "localhost", "uri": "/v1/orders",
                        "headers": {"User-Agent": ["curl/7.82.0"], "X-Api-Key.Id": ["key_bi"]}},
            "status": 200}
    maps = {"time": "ts", "method": "request.method", "path": "request.uri",
            "key_id": 'request.headers["X-Api-Key.Id"]',
            "user_agent": "request.headers.User-Agent"}
    records, stats = read("jsonl", json.dumps(line) + "\n", maps)
    assert summary(records) == [(at(14, 3, 51.524102), "key_bi", "GET", "/v1/orders", 200, 1)]
    assert records[0].user_agent == "curl/7.82.0"
    # a number field's list stays malformed
    records, stats = read("jsonl", json.dumps({**line, "status": [200]}) + "\n", maps)
    assert (records, stats.first_skipped) == ([], [(1, "status is not a number")])


@pytest.mark.parametrize(("source", "parts"), [
    ("a", ("a",)), ("a.b", ("a", "b")), ('a["b.c"]', ("a", "b.c")), ("['x.y'].z", ("x.y", "z")),
    ('a.["b.c"]', ("a", "b.c")), ('a["b"]["c"]', ("a", "b", "c")),
])
def test_source_paths(source: str, parts: tuple[str, ...]) -> None:
    from scopeaudit.usage.fields import source_path

    assert source_path(source) == parts


@pytest.mark.parametrize("source", ["a.", "a..b", '.a', 'a["b"]c', 'a["b'])
def test_unreadable_source_paths(source: str) -> None:
    from scopeaudit.usage.fields import source_path

    with pytest.raises(InputError, match="in brackets"):
        source_path(source)


@pytest.mark.parametrize("value", [
    "1795788231", "99999999999", "100000000000", "1795788231512", "253402300799999",
    "253402300800000", "1795788231512345", "1795788231512345678",
])
def test_epoch_rule_in_sql_is_the_readers(value: str) -> None:
    from scopeaudit.engine.plain import epoch_seconds_sql

    (got,), = duckdb.sql(f"SELECT {epoch_seconds_sql(repr(value))}").fetchall()
    assert got == pytest.approx(parse_time(value), abs=1e-6)


def test_nginx_time_iso8601_with_a_fraction() -> None:
    fmt = 'nginx:$remote_addr [$time_iso8601] "$request" $status $http_x_api_key'
    line = '192.0.2.10 [2026-11-27T14:03:51.512+00:00] "GET /v1/a HTTP/1.1" 200 key_bi\n'
    records, _ = read(fmt, line, path="access.log")
    assert summary(records) == [(at(14, 3, 51.512), "key_bi", "GET", "/v1/a", 200, 1)]


def test_haproxy_httplog() -> None:
    # HAProxy's httplog as its configuration manual's example ("8.2.3. HTTP log format",
    # https://docs.haproxy.org/2.8/configuration.html#8.2.3): syslog prefix with a padded
    # day, an accept date with milliseconds and no zone; the first line's request header
    # capture ("capture request header X-Api-Key-Id len 64") names the key
    lines = [
        'Nov 27 14:03:51 localhost haproxy[14389]: 10.0.1.2:33317 [27/Nov/2026:14:03:51.655] '
        'http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {key_bi|1wt.eu} {} '
        '"GET /v1/orders?page=2 HTTP/1.1"',
        'Nov  9 14:03:52 localhost haproxy[14389]: 10.0.1.3:33318 [27/Nov/2026:14:03:52.001] '
        'http-in static/srv1 10/0/30/69/109 403 120 - - ---- 1/1/1/1/0 0/0 '
        '"DELETE /v1/orders/7 HTTP/1.1"',
        '10.0.1.4:4000 [27/Nov/2026:14:03:53.5] http-in static/srv1 0/0/0/1/1 201 1 - - ---- '
        '1/1/1/1/0 0/0 {} {} "POST /v1/orders HTTP/1.1"',
        'Nov 27 14:03:54 localhost haproxy[14389]: Proxy http-in started.',
    ]
    records, stats = read("haproxy", "\n".join(lines) + "\n", path="haproxy.log")
    assert summary(records) == [
        (at(14, 3, 51.655), "key_bi", "GET", "/v1/orders?page=2", 200, 1),
        (at(14, 3, 52.001), None, "DELETE", "/v1/orders/7", 403, 2),
        (at(14, 3, 53.5), None, "POST", "/v1/orders", 201, 3)]
    assert [r.ip for r in records] == ["10.0.1.2", "10.0.1.3", "10.0.1.4"]
    assert stats.first_skipped == [(4, "does not match the log format")]
    with pytest.raises(InputError, match="takes no --map"):
        make_reader("haproxy", "haproxy.log", {"key_id": "x"})
