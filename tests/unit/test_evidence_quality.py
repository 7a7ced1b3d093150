"""Issue #16: confidence that knows what the logs could not show.

Each situation is built by hand: logs without a key identity (stock nginx combined), a log in
the wrong format (API Gateway's CLF read as nginx), a run missing one of two sources (with and
without history, and declared), a quarterly key whose last run precedes the window, and a key
that expired inside the window. Expectations are worked out from the fixtures, never copied
from the program's output.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from support import run_quiet

SCHEMA = jsonschema.Draft202012Validator(json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "schema" / "audit-v1.schema.json")
    .read_text(encoding="utf-8")))
EDGE_FORMAT = ('$remote_addr $http_x_key_id [$time_local] "$request" $status '
               '$body_bytes_sent "$http_user_agent"')



def audit(tmp: Path, keys: str, logs: list[Path], *extra: str, fmt: str = "json"
          ) -> tuple[int, Any, str]:
    """An audit of ``logs``: (exit code, the report (parsed JSON, or text), stderr)."""
    (tmp / "keys.yaml").write_text(keys)
    out = tmp / f"report.{fmt}"
    out.unlink(missing_ok=True)
    args = ["audit", "--keys", str(tmp / "keys.yaml"), "--format", fmt, "--no-timestamp",
            "--as-of", "2026-12-01", "-o", str(out), "--jobs", "1", "--no-config"]
    for log in logs:
        args += ["--logs", str(log)]
    code, err = run_quiet(*args, *extra)
    assert "Traceback" not in err
    if not out.exists():
        return code, None, err
    text = out.read_text(encoding="utf-8")
    if fmt != "json":
        return code, text, err
    report = json.loads(text)
    SCHEMA.validate(report)  # every report here holds the new fields: all are published
    return code, report, err


def stamp(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def jsonl(path: Path, rows: list[tuple[date, str | None, str, str, int]]) -> Path:
    path.write_text("".join(json.dumps(
        {"ts": stamp(d).isoformat().replace("+00:00", "Z"), "key_id": key, "method": method,
         "path": target, "status": status}) + "\n" for d, key, method, target, status in rows))
    return path


def combined_line(day: date, target: str, hour: int = 10) -> str:
    return (f'203.0.113.5 - - [{stamp(day, hour):%d/%b/%Y:%H:%M:%S +0000}] "GET {target} '
            f'HTTP/1.1" 200 512 "-" "curl/8.0"')


def confidences(report: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str]]:
    return {(k["id"], s): (c["level"], c["basis"]) for k in report["keys"]
            for s, c in k.get("confidence", {}).items()}


def rules(report: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(f["rule"], f["key"]) for f in report["findings"]]


KEYS_AB = """keys:
  - {id: key_a, created: 2025-01-01, owner: o, expires: 2027-12-31,
     scopes: [issues:read, works:write]}
  - {id: key_b, created: 2025-01-01, owner: o, expires: 2027-12-31, scopes: [sites:read]}
"""


# --- logs without a key identity ---------------------------------------------------------------


@pytest.fixture
def combined_log(tmp_path: Path) -> Path:
    """92 days of stock nginx combined logs (2026-08-01..10-31), 4 requests a day: no key."""
    log = tmp_path / "access.log"
    log.write_text("".join(combined_line(d, "/v1/issues?page=1", h) + "\n"
                           for d in days(date(2026, 8, 1), date(2026, 10, 31)) for h in range(4)))
    return log


def test_stock_combined_logs_support_no_removal(tmp_path: Path, combined_log: Path) -> None:
    code, report, err = audit(tmp_path, KEYS_AB, [combined_log])
    # window: the 90 days up to 10-31 (08-03..10-31): 4 x 90 = 360 accepted, none attributed
    assert report["window"] == {"since": "2026-08-03", "until": "2026-10-31", "days": 90}
    log_input = report["inputs"][1]
    assert (log_input["accepted"], log_input["unattributed"], log_input["key_field"]) == (
        360, 360, False)
    # no removal above low: every key's removals are deferred, SA108 instead of SA101
    assert {lv for lv, _ in confidences(report).values()} == {"low"}
    assert all("no accepted request in" in basis and "names a key" in basis
               for _, basis in confidences(report).values())
    assert "SA101" not in {r for r, _ in rules(report)}
    # SA304 (high: the format has no key field) leads the report, and fails the gate
    assert rules(report)[0] == ("SA304", None)
    first = report["findings"][0]
    assert first["severity"] == "high" and first["location"] == {"file": str(combined_log),
                                                                  "line": 1}
    assert code == 1
    assert report["evidence"]["supports_removals"] is False
    assert report["evidence"]["accepted"] == 360 and report["evidence"]["unattributed"] == 360
    # warned before reading: the format, and what would add a key
    assert f"{combined_log}: the log format's only key field is $remote_user" in err
    assert "--map key_id=$VARIABLE" in err and "$http_x_api_key" in err \
        and "$http_authorization" in err


def test_every_format_leads_with_the_evidence(tmp_path: Path, combined_log: Path) -> None:
    for fmt, first_line in (("table", 0), ("markdown", None), ("html", None)):
        _, text, _ = audit(tmp_path, KEYS_AB, [combined_log], fmt=fmt)
        assert isinstance(text, str)
        if fmt == "table":
            line = text.splitlines()[first_line]
        elif fmt == "markdown":
            # under the title and the one-line verdict, before the actions and the summary
            line = text.split("\n\n")[2]
            assert text.index(line) < text.index("### Actions") < text.index("### Summary")
        else:  # the first element after the heading
            summary = text[text.index('<h2 id="summary-h">Summary</h2>'):]
            line = [s for s in summary.splitlines() if s.strip()][1]
            assert line.strip().startswith('<p class="evidence bad">'), line
        assert "Evidence: 368 records read, 0 skipped" in line, (fmt, line)
        assert "none of the 360 accepted requests in the window attributed to a key" in line
        assert "1 source" in line and "logs cover 90 of the window" in line
        assert "The evidence cannot support removals" in line
        assert "no removal is above low confidence" in line


def test_a_keyless_format_with_a_query_token_counts_what_it_attributed(tmp_path: Path
                                                                      ) -> None:
    # nginx combined has no key field; one of the three requests carries a token in its
    # query string (key_a's prefix), the other two name no key: "2 of the 3", not "none"
    token = "sk_live_aaaa" + "Q" * 24
    log = tmp_path / "access.log"
    log.write_text("".join(combined_line(date(2026, 10, 30), target, h) + "\n"
                           for h, target in enumerate([f"/v1/issues?api_key={token}",
                                                        "/v1/issues", "/v1/sites"])))
    keys = KEYS_AB.replace("owner: o, expires: 2027-12-31,\n     scopes: [issues:read",
                           "owner: o, expires: 2027-12-31, prefix: sk_live_aaaa,\n"
                           "     scopes: [issues:read")
    code, report, err = audit(tmp_path, keys, [log])
    assert code == 1  # SA304 is high
    assert token not in err and token not in json.dumps(report)
    log_input = report["inputs"][1]
    assert (log_input["accepted"], log_input["unattributed"], log_input["key_field"]) == (
        3, 2, False)
    sa304 = [f for f in report["findings"] if f["rule"] == "SA304"]
    assert len(sa304) == 1 and sa304[0]["severity"] == "high"
    assert sa304[0]["message"].startswith(
        f"2 of the 3 accepted requests in the window in {log} can be attributed to no key")
    assert "only the 1 with a token in the query string" in sa304[0]["message"]
    assert report["evidence"]["supports_removals"] is False


def test_a_format_with_a_key_field_gets_no_warning(tmp_path: Path) -> None:
    log = tmp_path / "edge.log"
    log.write_text('203.0.113.5 key_a [01/Nov/2026:10:00:00 +0000] "GET /v1/issues '
                   'HTTP/1.1" 200 5 "ua"\n')
    code, report, err = audit(tmp_path, KEYS_AB, [log], "--log-format", f"nginx:{EDGE_FORMAT}",
                              "--fail-on", "never")
    assert code == 0 and "key field" not in err
    assert report["inputs"][1]["key_field"] is True
    # a header no key candidate names: a key field only when --map names it
    custom = 'nginx:$remote_addr $http_x_token [$time_local] "$request" $status ' \
             '$body_bytes_sent "$http_user_agent"'
    _, report, err = audit(tmp_path, KEYS_AB, [log], "--log-format", custom, "--fail-on",
                           "never")
    assert f"{log}: the log format has no key field" in err
    assert report["inputs"][1]["key_field"] is False
    _, report, err = audit(tmp_path, KEYS_AB, [log], "--log-format", custom,
                           "--map", "key_id=$http_x_token", "--fail-on", "never")
    assert "key field" not in err and report["inputs"][1]["key_field"] is True
    assert report["inputs"][1]["unattributed"] == 0


def test_envoy_default_format_has_no_key_field(tmp_path: Path) -> None:
    """Envoy's default access-log format (Istio's too) logs no key: warned before reading, and
    SA304 is high."""
    log = tmp_path / "envoy.log"
    log.write_text('[2026-11-01T10:00:00.000Z] "GET /v1/issues HTTP/1.1" 200 - 0 12 3 2 '
                   '"203.0.113.5" "curl/8" "req-1" "api.example" "10.0.0.1:80"\n')
    _, report, err = audit(tmp_path, KEYS_AB, [log], "--log-format", "envoy",
                           "--fail-on", "never")
    assert f"{log}: the log format has no key field" in err and "%REQ(X-API-KEY-ID)%" in err
    assert report["inputs"][1]["key_field"] is False
    assert [(f["rule"], f["severity"]) for f in report["findings"][:1]] == [("SA304", "high")]


@pytest.mark.parametrize(("keyless", "extra", "sa304"), [
    (1, (), None),  # 1 of 200: 0.5 %, within the 1 % allowed
    (3, (), "medium"),  # 3 of 200: 1.5 %
    (3, ("--max-unattributed", "2"), None),
    (1, ("--max-unattributed", "0"), "medium"),
])
def test_unattributed_threshold(tmp_path: Path, keyless: int, extra: tuple[str, ...],
                                sa304: str | None) -> None:
    window = days(date(2026, 9, 2), date(2026, 11, 30))
    rows: list[tuple[date, str | None, str, str, int]] = [
        (window[i % 90], "key_a", "GET", "/v1/issues", 200) for i in range(200 - keyless)]
    rows += [(window[i], None, "GET", "/v1/issues", 200) for i in range(keyless)]
    rows += [(window[0], None, "GET", "/v1/issues", 401)]  # refused: not an accepted request
    _, report, _ = audit(tmp_path, KEYS_AB, [jsonl(tmp_path / "l.jsonl", rows)],
                         "--fail-on", "never", *extra)
    assert (report["inputs"][1]["accepted"], report["inputs"][1]["unattributed"]) == (
        200, keyless)
    found = [f for f in report["findings"] if f["rule"] == "SA304"]
    if sa304 is None:
        assert not found
        assert confidences(report)[("key_a", "works:write")][0] == "high"
    else:
        assert [f["severity"] for f in found] == [sa304]
        assert report["findings"][0]["rule"] == "SA304"
        assert {lv for lv, _ in confidences(report).values()} == {"low"}


# --- inputs that gave nothing ------------------------------------------------------------------


def test_a_clf_log_read_as_nginx_is_an_input_error(tmp_path: Path) -> None:
    # API Gateway's CLF access log format: no referer and user agent, a request id at the end
    log = tmp_path / "apigw.log"
    start = datetime(2026, 11, 1, tzinfo=UTC)
    log.write_text("".join(
        f'203.0.113.5 - - [{start + timedelta(hours=i):%d/%b/%Y:%H:%M:%S +0000}] '
        f'"GET /v1/issues HTTP/1.1" 200 512 req-{i}\n' for i in range(139)))
    code, report, err = audit(tmp_path, KEYS_AB, [log])
    assert (code, report) == (2, None)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"scopeaudit: error: {log}: no record could be read: 0 read, "
                               "139 skipped (139 does not match the log format)")
    assert "nginx combined (chosen from the file name)" in lines[0]
    assert "--log-format" in lines[0] and "--allow-empty" in lines[0]
    # deliberately accepted: a warning, and every removal deferred
    code, report, err = audit(tmp_path, KEYS_AB, [log], "--allow-empty", "--fail-on", "never")
    assert code == 0 and "no record could be read" in err and "(accepted: --allow-empty)" in err
    assert {lv for lv, _ in confidences(report).values()} == {"low"}
    assert report["evidence"]["supports_removals"] is False
    assert any(f"nothing in {log} could be read" in limit
               for limit in report["evidence"]["limits"])


def test_every_skip_reason_is_counted(tmp_path: Path) -> None:
    good = [combined_line(date(2026, 11, 1), "/v1/issues")]
    bad_time = ['203.0.113.5 - - [31/Foo/2026:10:00:00 +0000] "GET /v1/issues HTTP/1.1" 200 5 '
                '"-" "ua"'] * 94
    other = ['haproxy[1]: 203.0.113.5:4000 [14/Nov/2026:10:00:00.000] fe be/s1 200 512'] * 40
    log = tmp_path / "haproxy.log"
    log.write_text("\n".join(bad_time + other) + "\n")
    code, _, err = audit(tmp_path, KEYS_AB, [log])
    # both reasons, by count, not only the first one met
    assert code == 2
    assert "0 read, 134 skipped (94 unreadable time, 40 does not match the log format)" in err
    log.write_text("\n".join(good + bad_time + other) + "\n")
    code, report, err = audit(tmp_path, KEYS_AB, [log], "--fail-on", "never")
    assert code == 0
    assert report["inputs"][1]["skip_reasons"] == [
        {"reason": "unreadable time", "count": 94},
        {"reason": "does not match the log format", "count": 40}]
    assert "134 malformed records skipped (first at lines 2, 3, 4" in err
    assert ("): unreadable time (94 records); does not match the log format (40 records)"
            in err)
    _, table, _ = audit(tmp_path, KEYS_AB, [log], "--fail-on", "never", fmt="table")
    assert "unreadable time (94 records); does not match the log format (40 records)" in table
    _, markdown, _ = audit(tmp_path, KEYS_AB, [log], "--fail-on", "never", fmt="markdown")
    assert "94 unreadable time; 40 does not match the log format" in markdown


def test_json_records_without_the_fields_name_them(tmp_path: Path) -> None:
    # API Gateway's JSON as logged, read with the default field names: no time, no path
    log = tmp_path / "gateway.jsonl"
    log.write_text(json.dumps({"requestId": "r1", "requestTime": "01/Nov/2026:10:00:00 +0000",
                               "httpMethod": "GET", "resourcePath": "/v1/issues",
                               "status": "200"}) + "\n")
    code, _, err = audit(tmp_path, KEYS_AB, [log], "--log-format", "jsonl")
    assert code == 2
    assert "0 read, 1 skipped (1 no time field)" in err
    assert "the records lack the fields time, path" in err
    assert "--map FIELD=SOURCE" in err


def test_a_log_file_of_json_lines_says_pass_jsonl(tmp_path: Path) -> None:
    # without --log-format a .log file of JSON is read as JSON (#18: detected from its first
    # lines, and said on stderr); read as nginx, each line says what to pass
    log = jsonl(tmp_path / "gw.log", [(date(2026, 11, 1), "key_a", "GET", "/v1/issues", 200)])
    code, _, err = audit(tmp_path, KEYS_AB, [log], "--log-format", "nginx")
    assert code == 2 and "the line is JSON (pass --log-format jsonl)" in err
    for given in ((), ("--log-format", "jsonl")):
        code, report, err = audit(tmp_path, KEYS_AB, [log], *given, "--fail-on", "never")
        assert code == 0 and report["inputs"][1]["records"] == 1
        assert ("read as jsonl (detected" in err) == (not given)


def test_an_empty_input_is_an_error(tmp_path: Path) -> None:
    good = jsonl(tmp_path / "a.jsonl", [(date(2026, 11, 1), "key_a", "GET", "/v1/issues", 200)])
    empty = tmp_path / "b.jsonl"
    empty.write_text("")
    code, _, err = audit(tmp_path, KEYS_AB, [good, empty])
    assert code == 2
    assert err.strip() == (f"scopeaudit: error: {empty}: no record read: the input is empty; "
                           "--allow-empty accepts it")
    code, report, err = audit(tmp_path, KEYS_AB, [good, empty], "--allow-empty",
                              "--fail-on", "never")
    assert code == 0 and "no record read: the input is empty (accepted" in err
    # an empty input loses no evidence: nothing deferred for it
    assert report["evidence"]["supports_removals"] is True


# --- sources -------------------------------------------------------------------------------------

KEYS_TWO_SOURCES = """keys:
  - {id: key_gw, created: 2025-01-01, owner: o, expires: 2027-12-31,
     scopes: [issues:read, works:write]}
  - {id: key_edge, created: 2025-01-01, owner: o, expires: 2027-12-31,
     scopes: [issues:read, sites:read, works:write]}
"""


@pytest.fixture
def two_sources(tmp_path: Path) -> tuple[Path, Path]:
    """A gateway (JSON Lines, key_gw) and an edge proxy (nginx, key_edge), 90 days each."""
    window = days(date(2026, 9, 2), date(2026, 11, 30))
    gateway = jsonl(tmp_path / "gateway.jsonl",
                    [(d, "key_gw", "GET", "/v1/issues", 200) for d in window])
    edge = tmp_path / "edge.log"
    edge.write_text("".join(
        f'198.51.100.7 key_edge [{stamp(d):%d/%b/%Y:%H:%M:%S +0000}] "GET /v1/sites/4 '
        f'HTTP/1.1" 200 10 "app"\n' for d in window))
    return gateway, edge


def test_each_key_says_which_sources_carried_its_traffic(tmp_path: Path,
                                                         two_sources: tuple[Path, Path]) -> None:
    gateway, edge = two_sources
    _, report, _ = audit(tmp_path, KEYS_TWO_SOURCES, [gateway, edge], "--log-format",
                         f"*.log=nginx:{EDGE_FORMAT}", "--fail-on", "never")
    sources = {k["id"]: k["sources"] for k in report["keys"]}
    assert sources == {
        "key_gw": [{"source": str(gateway), "days": 90, "last_seen": "2026-11-30"}],
        "key_edge": [{"source": str(edge), "days": 90, "last_seen": "2026-11-30"}]}
    assert [(s["name"], s["inputs"], s["days"]) for s in report["evidence"]["sources"]] == [
        (str(gateway), 1, 90), (str(edge), 1, 90)]
    assert confidences(report)[("key_edge", "works:write")][0] == "high"


def test_a_source_missing_since_the_last_run_defers_its_keys(
        tmp_path: Path, two_sources: tuple[Path, Path]) -> None:
    gateway, edge = two_sources
    history = tmp_path / "audits.sqlite"
    fmt = ("--log-format", f"*.log=nginx:{EDGE_FORMAT}")
    code, first, _ = audit(tmp_path, KEYS_TWO_SOURCES, [gateway, edge], *fmt, "--history",
                           str(history), "--fail-on", "never")
    assert code == 0 and "SA306" not in {r for r, _ in rules(first)}
    rows = sqlite3.connect(history).execute(
        "SELECT key_id, source, last_seen FROM run_sources ORDER BY key_id").fetchall()
    assert rows == [("key_edge", str(edge), "2026-11-30"), ("key_gw", str(gateway), "2026-11-30")]

    # without history the missing source cannot be told from a dead key: SA101, high
    _, alone, _ = audit(tmp_path, KEYS_TWO_SOURCES, [gateway], "--fail-on", "never")
    assert ("SA101", "key_edge") in rules(alone)
    assert confidences(alone)[("key_edge", "works:write")][0] == "high"

    # with it: key_edge's removals deferred, a warning and SA306 naming the source
    code, second, err = audit(tmp_path, KEYS_TWO_SOURCES, [gateway], "--history",
                              str(history), "--fail-on", "never")
    assert code == 0
    assert ("SA101", "key_edge") not in rules(second)
    assert ("SA108", "key_edge") in rules(second)
    edge_removals = {s: c for (k, s), c in confidences(second).items() if k == "key_edge"}
    assert set(edge_removals) == {"issues:read", "sites:read", "works:write"}
    for level, basis in edge_removals.values():
        assert level == "low"
        assert (f"at most low: source {str(edge)!r} carried this key's traffic in an earlier "
                "run (last on 2026-11-30) and has no input in this run") in basis
    # key_gw's traffic is all here: its removal stands
    assert confidences(second)[("key_gw", "works:write")][0] == "high"
    sa305 = [f for f in second["findings"] if f["rule"] == "SA306"]
    assert len(sa305) == 1 and sa305[0] == second["findings"][0]
    assert sa305[0]["evidence"] == {"source": str(edge), "keys": ["key_edge"],
                                    "last_seen": "2026-11-30"}
    assert sa305[0]["location"] == {"file": str(history), "line": 1}
    assert f"source {str(edge)!r} carried the traffic of 1 key(s) in an earlier run" in err
    assert second["evidence"]["missing_sources"] == [
        {"name": str(edge), "keys": ["key_edge"], "last_seen": "2026-11-30"}]


def test_a_source_seen_only_before_this_window_is_not_missing(
        tmp_path: Path, two_sources: tuple[Path, Path]) -> None:
    """An earlier run saw the edge's traffic up to 2026-11-30; a window that starts after it
    could not have held that traffic, so nothing is missing from it."""
    gateway, edge = two_sources
    history = tmp_path / "audits.sqlite"
    audit(tmp_path, KEYS_TWO_SOURCES, [gateway, edge], "--log-format",
          f"*.log=nginx:{EDGE_FORMAT}", "--history", str(history), "--fail-on", "never")
    _, report, err = audit(tmp_path, KEYS_TWO_SOURCES, [gateway], "--history", str(history),
                           "--since", "2026-12-01", "--until", "2026-12-31",
                           "--fail-on", "never")
    assert "SA306" not in {r for r, _ in rules(report)} and "earlier run" not in err
    assert report["evidence"]["missing_sources"] == []


def test_a_declared_source_must_have_an_input(tmp_path: Path, two_sources: tuple[Path, Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    gateway, edge = two_sources
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / "scopeaudit.toml").write_text(
        '[[source]]\nname = "gateway"\npattern = "*gateway*.jsonl"\n'
        '[[source]]\nname = "edge"\npattern = "*/edge.log"\n')
    (tmp_path / "keys.yaml").write_text(KEYS_TWO_SOURCES)
    base = ["audit", "--keys", "keys.yaml", "--format", "json", "--no-timestamp", "--as-of",
            "2026-12-01", "--fail-on", "never", "--log-format", f"*.log=nginx:{EDGE_FORMAT}"]
    code, err = run_quiet(*base, "--logs", str(gateway))
    assert code == 2
    assert err.strip() == (
        "scopeaudit: error: scopeaudit.toml:4: the configuration declares the "
        "source 'edge' (pattern '*/edge.log') and no --logs input matches it: an audit without "
        "it cannot see the traffic it carries")
    out = tmp_path / "r.json"
    code, err = run_quiet(*base, "--logs", str(gateway), "--logs", str(edge), "-o", str(out))
    assert code == 0, err
    report = json.loads(out.read_text())
    assert [(s["name"], s["declared"]) for s in report["evidence"]["sources"]] == [
        ("gateway", True), ("edge", True)]
    assert {k["id"]: [u["source"] for u in k["sources"]] for k in report["keys"]} == {
        "key_gw": ["gateway"], "key_edge": ["edge"]}
    assert [i["source"] for i in report["inputs"][1:]] == ["gateway", "edge"]


@pytest.mark.parametrize(("text", "message"), [
    ('[[source]]\npattern = "x"\n', "[[source]] needs a 'name' (a string)"),
    ('[[source]]\nname = "x"\n', "[[source]] needs a 'pattern' (a string)"),
    ('[[source]]\nname = "x"\npattern = "a"\nglob = "b"\n', "unknown key 'glob' in [[source]]"),
    ('[[source]]\nname = "x"\npattern = "a"\n[[source]]\nname = "x"\npattern = "b"\n',
     "[[source]] 'x' is declared twice"),
    ('source = "x"\n', "'source' must be an array of tables: [[source]]"),
])
def test_source_declarations_are_checked(tmp_path: Path, text: str, message: str) -> None:
    from scopeaudit.cli import option_types
    from scopeaudit.config import load
    from scopeaudit.errors import InputError

    path = tmp_path / "scopeaudit.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=re.escape(message)):
        load(path, option_types())


# --- use before the window ---------------------------------------------------------------------

KEYS_QUARTERLY = """keys:
  - {id: key_daily, created: 2025-01-01, owner: o, expires: 2027-12-31, scopes: [sites:read]}
  - {id: key_quarterly, created: 2025-01-01, owner: o, expires: 2027-12-31,
     scopes: [issues:read, works:write]}
  - {id: key_gone, created: 2025-01-01, owner: o, expires: 2027-12-31,
     scopes: [issues:read, works:write]}
"""


@pytest.fixture
def quarterly_log(tmp_path: Path) -> Path:
    """A daily key over the window 2026-09-02..11-30 (--until 11-30), a quarterly job that last
    ran on 2026-09-01, one day before it (and 91 and 182 days before that), and a key used
    once, on 2026-08-10 (23 days before the window)."""
    window = days(date(2026, 9, 2), date(2026, 11, 30))
    rows: list[tuple[date, str | None, str, str, int]] = [
        (d, "key_daily", "GET", "/v1/sites", 200) for d in window]
    rows += [(d, "key_quarterly", "GET", "/v1/issues", 200)
             for d in (date(2026, 3, 3), date(2026, 6, 2), date(2026, 9, 1))]
    rows.append((date(2026, 8, 10), "key_gone", "GET", "/v1/issues", 200))
    return jsonl(tmp_path / "jobs.jsonl", sorted(rows))


def test_a_quarterly_job_before_the_window_is_not_a_dead_key(tmp_path: Path,
                                                            quarterly_log: Path) -> None:
    _, report, _ = audit(tmp_path, KEYS_QUARTERLY, [quarterly_log], "--until", "2026-11-30",
                         "--fail-on", "never")
    assert report["window"]["since"] == "2026-09-02"
    key = next(k for k in report["keys"] if k["id"] == "key_quarterly")
    # its runs: 03-03, 06-02, 09-01: 91 days apart; the next (11-01 + 30 = 12-01) falls after
    # the window's end, 11-30, so no 90-day window could have shown it
    assert key["before_window"] == {"last_used": "2026-09-01", "days_before": 1,
                                    "interval_days": 91}
    assert key["scopes_before_window"] == {"issues:read": key["before_window"]}
    assert key["deferred"] == ["issues:read", "works:write"]
    for scope in ("issues:read", "works:write"):
        level, basis = confidences(report)[("key_quarterly", scope)]
        assert level == "low"
        assert ("at most low: the key last used on 2026-09-01, 1 day before the window, at "
                "intervals of up to 91 days: its next use would fall after the window") in basis
    assert ("SA101", "key_quarterly") not in rules(report)
    assert ("SA108", "key_quarterly") in rules(report)


def test_sa101_says_when_a_key_was_last_used(tmp_path: Path, quarterly_log: Path) -> None:
    _, report, _ = audit(tmp_path, KEYS_QUARTERLY, [quarterly_log], "--until", "2026-11-30",
                         "--fail-on", "never")
    key = next(k for k in report["keys"] if k["id"] == "key_gone")
    assert key["before_window"] == {"last_used": "2026-08-10", "days_before": 23,
                                    "interval_days": None}
    # used within one window length before the window: at most medium (else high here)
    for scope in ("issues:read", "works:write"):
        level, basis = confidences(report)[("key_gone", scope)]
        assert level == "medium"
        assert "at most medium: the key last used on 2026-08-10, 23 days before the window" \
            in basis
    sa101 = next(f for f in report["findings"] if f["rule"] == "SA101")
    assert sa101["key"] == "key_gone" and sa101["confidence"] == "medium"
    assert sa101["message"].startswith("key 'key_gone' made no accepted request in the window "
                                       "(last used on 2026-08-10, before the window)")
    assert sa101["evidence"]["last_used"] == "2026-08-10"


def test_a_scope_used_only_before_the_window(tmp_path: Path) -> None:
    """A key in daily use whose write scope was last used 40 days before the window: that
    removal is at most medium, the read scope's unused removal is not capped."""
    keys = """keys:
  - {id: k, created: 2025-01-01, owner: o, expires: 2027-12-31,
     scopes: [sites:read, issues:read, works:write]}
"""
    window = days(date(2026, 9, 2), date(2026, 11, 30))
    rows: list[tuple[date, str | None, str, str, int]] = [
        (d, "k", "GET", "/v1/sites", 200) for d in window]
    rows.append((date(2026, 7, 24), "k", "POST", "/v1/works", 201))
    _, report, _ = audit(tmp_path, keys, [jsonl(tmp_path / "l.jsonl", sorted(rows))],
                         "--until", "2026-11-30", "--fail-on", "never")
    key = report["keys"][0]
    assert key["remove"] == ["issues:read", "works:write"]
    assert key["scopes_before_window"] == {"works:write": {
        "last_used": "2026-07-24", "days_before": 40, "interval_days": None}}
    level, basis = confidences(report)[("k", "works:write")]
    assert level == "medium" and basis.endswith(
        "at most medium: works:write last used on 2026-07-24, 40 days before the window")
    assert confidences(report)[("k", "issues:read")][0] == "high"


# --- a key that expired inside the window ------------------------------------------------------


def test_a_key_that_expired_inside_the_window_was_observed_until_expiry(tmp_path: Path) -> None:
    keys = """keys:
  - {id: key_daily, created: 2025-01-01, owner: o, expires: 2027-12-31, scopes: [sites:read]}
  - {id: key_x, created: 2025-01-01, owner: o, expires: 2026-11-14,
     scopes: [issues:read, works:write]}
"""
    window = days(date(2026, 11, 1), date(2026, 11, 30))
    rows: list[tuple[date, str | None, str, str, int]] = [
        (d, "key_daily", "GET", "/v1/sites", 200) for d in window]
    rows += [(d, "key_x", "GET", "/v1/issues", 200) for d in window if d <= date(2026, 11, 14)]
    _, report, _ = audit(tmp_path, keys, [jsonl(tmp_path / "l.jsonl", sorted(rows))],
                         "--since", "30d", "--until", "2026-11-30", "--fail-on", "never")
    # 11-01..11-14 of the window's 30 days: short of medium's 30 observed days
    assert confidences(report)[("key_x", "works:write")] == (
        "low", "key expired 2026-11-14: observed 14 of the window's 30 days; logs cover 14 of "
               "those 14 days (100%); key active on 14 days (14 accepted requests)")


def test_removal_confidence_ends_at_expiry() -> None:
    from scopeaudit.evidence import removal_confidence
    from scopeaudit.model import ConfidencePolicy, Key, Location, Window

    window = Window(date(2026, 9, 2), date(2026, 11, 30))
    covered = frozenset(range(20_000, 21_000))

    def basis(created: date | None, expires: date | None, first_seen: float | None = None
              ) -> tuple[str, str]:
        key = Key("k", Location("k.yaml", 1), (), created=created, expires=expires)
        conf = removal_confidence(key, window, covered, first_seen, 0, 0, ConfidencePolicy())
        return conf.level, conf.basis.split("; logs cover")[0]

    assert basis(date(2026, 10, 1), date(2026, 11, 10)) == (
        "medium", "key created 2026-10-01 and expired 2026-11-10: observed 41 of the window's "
                  "90 days")
    assert basis(None, date(2026, 9, 20)) == (
        "low", "creation date unknown; expired 2026-09-20: observed 19 of the window's 90 days")
    seen = datetime(2026, 10, 1, tzinfo=UTC).timestamp()
    assert basis(None, date(2026, 11, 10), seen) == (
        "medium", "creation date unknown; first seen 2026-10-01; expired 2026-11-10: observed "
                  "41 of 90 days")
    # expiring on the window's last day, or later, changes nothing
    assert basis(date(2025, 1, 1), date(2026, 11, 30)) == (
        "high", "key existed for the whole window (90 days)")


def test_an_aggregator_reads_one_input() -> None:
    """Per-input counts come from an aggregator's cells: it refuses a second input."""
    from scopeaudit.catalog import load_builtin
    from scopeaudit.usage.aggregate import Aggregator
    from scopeaudit.usage.record import Record

    agg = Aggregator(load_builtin())
    when = stamp(date(2026, 11, 1)).timestamp()
    agg.consume([Record(when, "k", "GET", "/v1/issues", 200, None, None, 2, 1, False),
                 Record(when, "k", "GET", "/v1/issues", 403, None, None, 1, 2, False),
                 Record(when, None, "GET", "/v1/issues", 200, None, None, 1, 3, False)], "a")
    day = int(when // 86400)
    assert agg.usage.accepted_by_input == {"a": {day: 3}}
    assert agg.usage.unattributed_by_input == {"a": {day: 1}}
    assert agg.usage.key_days_by_input == {"a": {"k": {day}}}
    with pytest.raises(ValueError, match="one input"):
        agg.consume([], "b")
