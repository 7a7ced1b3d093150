"""Gateway presets (#18): one fixture per preset under tests/data/formats/, each written for
this file from the product's documented layout (the source of each is in CASES, and in
tests/data/formats/SOURCES.md), read with its preset and by detection; the expected records
and verdicts are worked out by hand from the fixture lines.

Every fixture holds the same three requests: key_bi lists issues and gets issue 42, key_ops
creates an issue. 2026-11-27T00:00:00Z is 1_795_737_600 (test_timeparse.py), so 14:03:51 is
T0 = 1_795_788_231, 14:04:00 is T1 = 1_795_788_240 and 14:05:00 is T2 = 1_795_788_300.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from scopeaudit.cli import main
from scopeaudit.errors import InputError
from scopeaudit.model import Key, Location
from scopeaudit.usage.formats import FORMATS, lookup, read_options
from scopeaudit.usage.formats_doc import README_END, README_START, formats_text, readme_table
from scopeaudit.usage.identity import KeyResolver
from scopeaudit.usage.options import LogOptions
from scopeaudit.usage.readers import make_reader
from scopeaudit.usage.readers.detect import detect, from_content
from scopeaudit.usage.record import InputStats, ReadContext, Record

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "formats"
T0, T1, T2 = 1_795_788_231, 1_795_788_240, 1_795_788_300
KEYS = tuple(Key(id=k, location=Location("keys.yaml", i), scope_grants=(), name=k)
             for i, k in enumerate(("key_bi", "key_ops"), 2))

Row = tuple[float, str | None, str, str, int]


def three(first: str = "/v1/issues", second: str = "/v1/issues/42", keys: bool = True,
          times: tuple[float, float, float] = (T0, T1, T2)) -> list[Row]:
    """The fixtures' three requests, as a reader gives them."""
    bi, ops = ("key_bi", "key_ops") if keys else (None, None)
    return [(times[0], bi, "GET", first, 200), (times[1], bi, "GET", second, 200),
            (times[2], ops, "POST", first, 201)]


ALB_URL = "https://api.example.com:443/v1/issues"
# fixture, preset, what detection reads it as, expected records; the layout's documentation
CASES: list[tuple[str, str, str, list[Row]]] = [
    # https://httpd.apache.org/docs/current/logs.html#common (%h %l %u %t "%r" %>s %b)
    ("apache-common.log", "apache-common", "apache-common", three()),
    # https://httpd.apache.org/docs/current/logs.html#combined, + "%{X-Api-Key-Id}i" on the
    # first two lines (the documented addition); the third has only the Basic user
    ("apache-combined.log", "apache-combined", "apache-combined", three()),
    # https://httpd.apache.org/docs/current/mod/mod_log_config.html#formats: combined +
    # "%{X-API-Key}i"
    ("apache-key.log", "apache-key", "apache-combined", three()),
    # https://docs.haproxy.org/3.0/configuration.html#8.2.3 (option httplog, a captured
    # request header first), with and without the syslog prefix
    ("haproxy.log", "haproxy", "haproxy", three(times=(T0, T1 + 0.25, T2))),
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html
    # (no key field: the records are unattributed)
    ("alb.log", "alb", "alb",
     three(ALB_URL, ALB_URL + "/42", keys=False, times=(T0, T1 + 0.5, T2))),
    # https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html
    ("cloudfront.log", "cloudfront", "cloudfront",
     three(second="/v1/issues/42?limit=10", keys=False)),
    # https://doc.traefik.io/traefik/observability/access-logs/#clf-common-log-format
    ("traefik.log", "traefik", "traefik", three()),
    # https://doc.traefik.io/traefik/observability/access-logs/#json-format, a kept header
    ("traefik.json", "traefik-json", "traefik-json", three()),
    # https://caddyserver.com/docs/caddyfile/directives/log#structured-logs
    ("caddy.json", "caddy", "caddy", three(times=(T0, T1 + 0.5, T2))),
    # https://developers.cloudflare.com/logs/reference/log-fields/zone/http_requests/
    # (EdgeStartTimestamp in nanoseconds, the default), RequestHeaders: an object of string
    # pairs keyed by the lower-case header names of the zone's custom fields rule
    # (https://developers.cloudflare.com/logs/reference/custom-fields/)
    ("cloudflare.json", "cloudflare", "cloudflare", three()),
    # https://cloud.google.com/load-balancing/docs/https/https-logging-monitoring#log-entries,
    # as `gcloud logging read --format json` prints it: one array over many lines
    ("gcp-lb.json", "gcp-lb", "gcp-lb",
     three("https://api.example.com/v1/issues",
           "https://api.example.com/v1/issues/42?limit=10", keys=False,
           times=(T0, T1 + 0.5, T2))),
    # https://learn.microsoft.com/en-us/azure/api-management/gateway-log-schema-reference,
    # in diagnostic settings' {"records": [...]}
    ("azure-apim.json", "azure-apim", "azure-apim",
     three("https://contoso.azure-api.net/v1/issues",
           "https://contoso.azure-api.net/v1/issues/42")),
    # https://learn.microsoft.com/en-us/azure/frontdoor/monitor-front-door#access-log
    ("azure-frontdoor.json", "azure-frontdoor", "azure-frontdoor",
     three(ALB_URL, ALB_URL + "/42", keys=False)),
    # https://github.com/TykTechnologies/tyk-pump/blob/master/analytics/analytics.go (json
    # tags); an API on listen path /v1/ with strip_listen_path, so path and raw_path are
    # /issues... and only original_path is what the client sent (tyk's
    # gateway/handler_success.go RecordHit: RawPath is r.URL.Path after SanitizeProxyPaths)
    ("tyk.json", "tyk", "tyk", three(times=(T0, T1 + 0.25, T2))),
    # the same file's GetFieldNames/GetLineValues (the CSV pump; times as Go's
    # time.String(), one with a monotonic reading, one in CET; OriginalPath as above)
    ("tyk.csv", "tyk-csv", "tyk-csv", three(times=(T0, T1 + 0.25, T2))),
    # https://cloud.google.com/apigee/docs/api-platform/reference/policies/message-logging-policy
    # with the payload the preset documents
    ("apigee.json", "apigee", "apigee", three()),
    # https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/log-format/
    # + "$http_x_api_key_id" on the first two lines
    ("ingress-nginx.log", "ingress-nginx", "ingress-nginx", three()),
    # https://istio.io/latest/docs/tasks/observability/logs/access-log/ (JSON encoding: the
    # keys of EnvoyJSONLogFormatIstio in istio/istio pilot/pkg/model/telemetry_logging.go) +
    # "api_key_id": "%REQ(X-API-KEY-ID)%"
    ("istio.json", "istio", "istio", three()),
    # https://gateway.envoyproxy.io/docs/tasks/observability/proxy-accesslog/#default-access-log
    # (the keys of EnvoyJSONLogFields in envoyproxy/gateway internal/xds/translator/
    # accesslog.go: x-envoy-origin-path, user-agent, :authority) + "x-api-key-id"
    ("envoy-gateway.json", "envoy-gateway", "istio", three()),
    # https://opentelemetry.io/docs/specs/semconv/http/http-spans/ flattened: the current
    # conventions with a captured header, the older ones with enduser.id
    ("otel.json", "otel", "otel", three()),
    # https://nginx.org/en/docs/http/ngx_http_log_module.html (combined, a Basic user)
    ("nginx.log", "nginx", "nginx", three()),
    # https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage
    ("envoy.log", "envoy", "envoy", three(keys=False)),
    # https://developer.konghq.com/plugins/file-log/ (a record, then an http-log batch)
    ("kong.json", "kong", "kong", three()),
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html in a
    # CloudWatch Logs subscription message
    ("apigw.json", "apigw", "apigw", three(second="/v1/issues/{id}")),
]


def read(spec: str | None, path: Path, **options: str) -> tuple[list[Record], InputStats]:
    stats = InputStats(str(path))
    ctx = ReadContext(stats, KeyResolver(KEYS), on_token=lambda key, line: None)
    reader = make_reader(spec, str(path), {}, read_options(
        options.get("delimiter"), options.get("columns"), options.get("tz")))
    with path.open("rb") as handle:
        return list(reader.read(handle, ctx)), stats  # type: ignore[arg-type]


def rows(records: list[Record]) -> list[Row]:
    return [(round(r.time, 6), r.key, r.method, r.target, r.status) for r in records]


@pytest.mark.parametrize(("fixture", "preset", "detected", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_preset_reads_its_fixture(fixture: str, preset: str, detected: str,
                                  expected: list[Row]) -> None:
    records, stats = read(preset, DATA / fixture)
    assert stats.skipped == 0, stats.first_skipped
    assert rows(records) == expected


@pytest.mark.parametrize(("fixture", "preset", "detected", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_detected_from_the_first_lines(fixture: str, preset: str, detected: str,
                                       expected: list[Row]) -> None:
    assert detect(str(DATA / fixture)).name == detected
    records, stats = read(None, DATA / fixture)
    assert stats.skipped == 0, stats.first_skipped
    assert rows(records) == expected


def test_every_preset_has_a_fixture() -> None:
    covered = {lookup(c[1]).name for c in CASES}
    assert {e.name for e in FORMATS} - {"jsonl", "csv"} <= covered


def test_user_agents_and_clients() -> None:
    records, _ = read("apache-combined", DATA / "apache-combined.log")
    # Apache writes a quote in a value as \" (the format's own escape)
    assert records[0].user_agent == 'bi-export/2.1 ("nightly")'
    records, _ = read("alb", DATA / "alb.log")
    assert [r.ip for r in records] == ["192.0.2.10", "192.0.2.10", "198.51.100.7"]
    records, _ = read("caddy", DATA / "caddy.json")
    assert [r.user_agent for r in records] == ["bi-export/2.1", "bi-export/2.1", "ops-sync/1.0"]


def test_haproxy_syslog_padded_day(tmp_path: Path) -> None:
    # syslog pads a one-digit day ("Oct  1"); the accept date is HAProxy's own
    log = tmp_path / "haproxy.log"
    log.write_text('Oct  1 10:00:00 lb1 haproxy[14389]: 192.0.2.10:51514 '
                   '[01/Oct/2026:10:00:00.123] fe_api be_api/api1 0/0/1/12/13 200 512 - - '
                   '---- 1/1/0/0/0 0/0 {key_bi} "GET /v1/issues HTTP/1.1"\n')
    records, stats = read("haproxy", log)
    # 2026-10-01T10:00:00Z = 1_795_737_600 - 57 days + 10 h = 1_790_812_800 + 36_000
    assert rows(records) == [(1_790_848_800.123, "key_bi", "GET", "/v1/issues", 200)]
    assert stats.skipped == 0


def test_tz_for_times_without_a_zone(tmp_path: Path) -> None:
    log = tmp_path / "haproxy.log"
    log.write_bytes((DATA / "haproxy.log").read_bytes())
    records, _ = read("haproxy", log, tz="Europe/Paris")  # CET: UTC+1 in November
    assert [round(r.time, 3) for r in records] == [T0 - 3600, T1 + 0.25 - 3600, T2 - 3600]
    records, _ = read("haproxy", log, tz="-05:30")
    assert round(records[0].time) == T0 + 5 * 3600 + 1800
    # a time with its own zone keeps it
    records, _ = read("apache-common", DATA / "apache-common.log", tz="Europe/Paris")
    assert records[0].time == T0
    with pytest.raises(InputError, match="--tz expects"):
        read_options(None, None, "Mars/Olympus")


def test_csv_delimiter_and_headerless_columns(tmp_path: Path) -> None:
    tsv = tmp_path / "usage.tsv"
    tsv.write_text("time\tkey_id\tmethod\tpath\tstatus\n"
                   "2026-11-27T14:03:51Z\tkey_bi\tGET\t/v1/issues\t200\n")
    records, _ = read("csv", tsv, delimiter="tab")
    assert rows(records) == [(T0, "key_bi", "GET", "/v1/issues", 200)]
    bare = tmp_path / "usage.csv"
    bare.write_text("2026-11-27T14:03:51Z;key_bi;GET;/v1/issues;200\n"
                    "2026-11-27T14:05:00Z;key_ops;POST;/v1/issues;201\n")
    records, stats = read("csv", bare, delimiter=";", columns="time,key,verb,url,code")
    assert rows(records) == [(T0, "key_bi", "GET", "/v1/issues", 200),
                             (T2, "key_ops", "POST", "/v1/issues", 201)]
    assert stats.skipped == 0
    with pytest.raises(InputError, match="--csv-columns has no column for status"):
        read("csv", bare, delimiter=";", columns="time,key,verb,url,other")
    with pytest.raises(InputError, match="--csv-delimiter expects one character"):
        read_options("ab", None, None)


def test_csv_columns_given_for_a_file_with_a_header_say_so(tmp_path: Path) -> None:
    """--csv-columns on a file whose first row is a header: that row is skipped with a
    reason that says what to do, not as a row of the wrong width."""
    log = tmp_path / "usage.csv"
    log.write_text("time,key_id,method,path,status\n"
                   "2026-11-27T14:03:51Z,key_bi,GET,/v1/issues,200\n")
    records, stats = read("csv", log, columns="time,key_id,method,path,status")
    assert rows(records) == [(T0, "key_bi", "GET", "/v1/issues", 200)]
    assert stats.skipped == 1 and stats.first_skipped[0][0] == 1
    assert "a header row, where --csv-columns names the columns" in stats.first_skipped[0][1]
    # a first data row is data, whatever --csv-columns names
    log.write_text("2026-11-27T14:03:51Z,key_bi,GET,/v1/issues,200\n")
    records, stats = read("csv", log, columns="time,key_id,method,path,status")
    assert len(records) == 1 and stats.skipped == 0


def test_csv_options_say_an_undetected_input_is_csv(tmp_path: Path) -> None:
    # a .tsv/.txt that neither its first lines nor its name tell: --csv-delimiter or
    # --csv-columns say it is CSV; a JSON file beside it is still read as JSON
    tsv = tmp_path / "usage.tsv"
    tsv.write_text("2026-11-27T14:03:51Z\tkey_bi\tGET\t/v1/issues\t200\n")
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text('{"ts": "2026-11-27T14:03:51Z", "key_id": "key_bi", "method": "GET", '
                     '"path": "/v1/issues", "status": 200}\n')
    with_csv = LogOptions(paths=(), read=read_options("tab", "time,key_id,method,path,status",
                                                      None))
    assert with_csv.format_for(str(tsv)) == "csv"
    assert with_csv.format_for(str(jsonl)) is None  # detected as JSON when read
    assert LogOptions(paths=()).format_for(str(tsv)) is None  # no CSV options: detection


def test_a_log_file_of_json_is_read_as_json(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text('{"time": "2026-11-27T14:03:51Z", "key_id": "key_bi", "method": "GET", '
                   '"path": "/v1/issues", "status": 200}\n')
    found = detect(str(log))
    assert (found.name, found.by_name, found.noted) == ("jsonl", "nginx", True)
    records, _ = read(None, log)
    assert rows(records) == [(T0, "key_bi", "GET", "/v1/issues", 200)]


def test_detection_falls_back_to_the_name_and_says_when_neither_tells(tmp_path: Path) -> None:
    odd = tmp_path / "access.log"
    odd.write_text("something else entirely\n")
    found = detect(str(odd))
    assert (found.name, found.by_content) == ("nginx", False)
    none = tmp_path / "export.dat"
    none.write_text("something else entirely\n")
    with pytest.raises(InputError, match="cannot tell the log format"):
        detect(str(none))
    assert from_content(b"\x00\x01PAR1") is None  # binary is no text log


def test_cli_notes_the_detected_format_and_judges_by_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS_YAML)
    log = tmp_path / "gateway.txt"
    log.write_bytes((DATA / "haproxy.log").read_bytes())
    code, out, err = _run(capsys, "--keys", str(keys), "--logs", str(log))
    assert f"scopeaudit: {log}: read as haproxy (detected; --log-format to override)" in err
    assert code in (0, 1)
    _check_verdicts(json.loads(out))


# key_bi holds issues:read and issues:write and only reads; key_ops holds issues:write and
# creates one: by the rules of evidence (a scope is used when a request needing it was
# accepted in the window), key_bi used issues:read, not issues:write, key_ops issues:write.
KEYS_YAML = """keys:
  - id: key_bi
    name: BI export
    created: 2026-01-01
    scopes: [issues:read, issues:write]
  - id: key_ops
    name: Ops sync
    created: 2026-01-01
    scopes: [issues:write]
"""
WITH_KEYS = [c for c in CASES if c[3][0][1] is not None]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["audit", *args, "--since", "2026-11-27", "--until", "2026-11-27",
              "--as-of", "2026-11-28", "--no-timestamp", "--format", "json"])
    out, err = capsys.readouterr()
    return (exc.value.code if isinstance(exc.value.code, int) else 0), out, err


def _check_verdicts(report: dict[str, object]) -> None:
    keys = {k["id"]: k for k in report["keys"]}  # type: ignore[attr-defined]
    assert keys["key_bi"]["scopes"] == {"issues:read": "used", "issues:write": "unused"}
    assert keys["key_ops"]["scopes"] == {"issues:write": "used"}


@pytest.mark.parametrize(("fixture", "preset"), [(c[0], c[1]) for c in WITH_KEYS],
                         ids=[c[0] for c in WITH_KEYS])
def test_verdicts_through_the_cli(fixture: str, preset: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS_YAML)
    code, out, err = _run(capsys, "--keys", str(keys), "--logs", str(DATA / fixture),
                          "--log-format", preset)
    assert code in (0, 1), err
    _check_verdicts(json.loads(out))


@pytest.mark.parametrize("fixture", [c[0] for c in CASES if c[3][0][1] is None])
def test_formats_without_a_key_say_so(fixture: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    # no request can be attributed: all three are counted as unattributed, and no scope is
    # judged used
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS_YAML)
    preset = next(c[1] for c in CASES if c[0] == fixture)
    code, out, err = _run(capsys, "--keys", str(keys), "--logs", str(DATA / fixture),
                          "--log-format", preset)
    assert code in (0, 1), err
    report = json.loads(out)
    assert report["usage"]["unattributed"] == 3
    assert all(state != "used" for k in report["keys"] for state in k["scopes"].values())


def test_formats_command_lists_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["formats"])
    out = capsys.readouterr().out
    assert exc.value.code in (0, None)
    for entry in FORMATS:
        assert f"\n{entry.name}: {entry.product}\n" in "\n" + out
    assert "add:" in formats_text("haproxy") and "capture request header" in formats_text(
        "haproxy")
    with pytest.raises(SystemExit) as exc:
        main(["formats", "no-such"])
    assert exc.value.code == 2


def test_formats_shows_an_example_line_as_it_is_written(
        capsys: pytest.CaptureFixture[str]) -> None:
    # CloudFront's example is tab-separated: copied from the terminal it must still read
    with pytest.raises(SystemExit) as exc:
        main(["formats", "cloudfront"])
    out = capsys.readouterr().out
    assert exc.value.code in (0, None)
    example = next(line for line in out.splitlines() if "FRA56-P1" in line)
    assert "\t" in example and "\\x09" not in example


def test_readme_table_is_the_formats_table() -> None:
    readme = (ROOT / "README.md").read_text()
    found = re.search(re.escape(README_START) + r"\n(.*?)\n" + re.escape(README_END), readme,
                      re.DOTALL)
    assert found is not None, "the README lacks the formats table"
    assert found.group(1) == readme_table()


def test_example_lines_of_the_table_read(tmp_path: Path) -> None:
    # every preset's example line is one record of its format (or, for CSV, a header)
    for entry in FORMATS:
        if entry.family in ("csv", "w3c"):
            continue
        stats = InputStats("example")
        ctx = ReadContext(stats, KeyResolver(KEYS), on_token=lambda key, line: None)
        reader = make_reader(entry.name, "example", {})
        got = list(reader.read(io.BufferedReader(io.BytesIO(  # type: ignore[arg-type]
            entry.example.encode() + b"\n")), ctx))
        assert len(got) == 1 and stats.skipped == 0, (entry.name, stats.first_skipped)


def test_report_states_the_format_and_the_zone(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS_YAML)
    code, out, err = _run(capsys, "--keys", str(keys), "--logs", str(DATA / "haproxy.log"),
                          "--tz", "+01:00")
    assert code in (0, 1), err
    report = json.loads(out)
    logs = [i for i in report["inputs"] if i["kind"] == "logs"]
    assert [(i["format"], i["time_zone"]) for i in logs] == [("haproxy", "+01:00")]
    # 14:03:51 at +01:00 is 13:03:51 UTC, still on 2026-11-27: the same verdicts
    _check_verdicts(report)
    with pytest.raises(SystemExit):
        main(["audit", "--keys", str(keys), "--logs", str(DATA / "haproxy.log"), "--tz",
              "+01:00", "--since", "2026-11-27", "--until", "2026-11-27", "--as-of",
              "2026-11-28", "--no-timestamp", "--format", "markdown"])
    assert "times written without a zone read as +01:00 (--tz)" in capsys.readouterr().out


def test_csv_options_read_by_the_streaming_reader_whatever_the_engine(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # DuckDB's SQL reads CSV by commas with a header: with --csv-columns the audit reads
    # through the streaming reader even when --engine duckdb is asked for
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS_YAML)
    bare = tmp_path / "usage.csv"
    bare.write_text("2026-11-27T14:03:51Z|key_bi|GET|/v1/issues|200\n"
                    "2026-11-27T14:04:00Z|key_bi|GET|/v1/issues/42|200\n"
                    "2026-11-27T14:05:00Z|key_ops|POST|/v1/issues|201\n")
    code, out, err = _run(capsys, "--keys", str(keys), "--logs", str(bare), "--engine",
                          "duckdb", "--csv-delimiter", "pipe", "--csv-columns",
                          "time,key_id,method,path,status")
    assert code in (0, 1), err
    _check_verdicts(json.loads(out))


@pytest.mark.parametrize(("fixture", "preset", "says"), [
    ("alb.log", "alb", "ALB logs carry no header"),
    # read by the W3C and JSON readers, not a line layout: warned all the same
    ("cloudfront.log", "cloudfront", "standard logs carry no header"),
    ("gcp-lb.json", "gcp-lb", "the load balancer's log carries no header"),
    ("apache-common.log", "apache-common", "only key field is $remote_user"),
    ("traefik.log", "traefik", "accesslog.fields.headers.names.X-Api-Key-Id=keep"),
])
def test_a_preset_without_a_key_says_what_to_add(fixture: str, preset: str, says: str,
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS_YAML)
    code, _out, err = _run(capsys, "--keys", str(keys), "--logs", str(DATA / fixture),
                          "--log-format", preset)
    assert code in (0, 1)
    warning = next(line for line in err.splitlines() if "no key field" in line
                   or "only key field" in line)
    assert says in warning
    assert "log_format with $http_x_api_key" not in warning  # not nginx's advice


def test_glob_format_takes_a_preset_and_detection_reads_gzip(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import gzip

    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS_YAML)
    log = tmp_path / "edge.log"
    log.write_bytes((DATA / "traefik.log").read_bytes())
    # GLOB=FORMAT names a preset (the glob form is told by a format name after the '=')
    code, out, err = _run(capsys, "--keys", str(keys), "--logs", str(log), "--log-format",
                          "*.log=traefik")
    assert code in (0, 1), err
    _check_verdicts(json.loads(out))
    packed = tmp_path / "tyk-export.gz"
    packed.write_bytes(gzip.compress((DATA / "tyk.csv").read_bytes()))
    assert detect(str(packed)).name == "tyk-csv"


def test_tyk_path_is_the_path_the_client_sent(tmp_path: Path) -> None:
    # Tyk records raw_path after strip_listen_path has cut the listen path off and path as
    # the tracked endpoint: original_path (tyk #7791, June 2026) first; raw_path when an older
    # gateway leaves original_path empty or absent (here without strip_listen_path); the
    # tracked endpoint's path last
    base = {"method": "GET", "response_code": 200, "alias": "key_bi",
            "timestamp": "2026-11-27T14:03:51Z"}
    paths = [{"path": "/issues", "raw_path": "/issues", "original_path": "/v1/issues"},
             {"path": "/v1/issues/{id}", "raw_path": "/v1/issues/42", "original_path": ""},
             {"path": "/v1/issues", "raw_path": "/v1/issues"}]
    log = tmp_path / "tyk.json"
    log.write_text("".join(json.dumps(base | p) + "\n" for p in paths))
    records, _ = read("tyk", log)
    assert [r.target for r in records] == ["/v1/issues", "/v1/issues/42", "/v1/issues"]


def test_an_apache_layout_is_shown_as_apache_users_know_it() -> None:
    """Apache's layouts are read as nginx layouts with nginx's escape=json; `formats` shows
    them without that nginx parameter (nginx's own formats keep what they have)."""
    from scopeaudit.usage.formats_doc import describe

    for name in ("apache-common", "apache-combined", "apache-key"):
        shown = describe(lookup(name))
        assert "escape=json" not in shown and "$remote_addr $ident" in shown, name
    assert "$remote_addr - $remote_user" in describe(lookup("nginx"))
