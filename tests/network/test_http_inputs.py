"""--keys and --logs from URLs, against a real loopback server that injects faults.

Every expectation is worked out from the server's script: which requests it must see, what
the tool must print, and that no credential appears in any output or log record.
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from network.conftest import FakeTime
from network.fakeserver import FakeServer, Reply, Seen, gz, json_reply, ratelimit_headers
from network.support import FAST, Result, fake_token, record
from network.support import KEYS as KEY_TEXT

KEYS = KEY_TEXT.encode()
# 27 records, one a day from 1 to 27 November, all GET /v1/issues by key_bi.
LOGS = b"".join(record(day) for day in range(1, 28))


def audit(cli, server: FakeServer, logs_target: str, *extra: str) -> Result:  # type: ignore[no-untyped-def]
    return cli("audit", "--no-config", "--keys", server.url("/keys.yaml"), "--logs",
               server.url(logs_target), "--as-of", "2026-11-27", "--jobs", "1",
               "--format", "json", "--no-timestamp", "--fail-on", "never", *FAST, *extra)


def inputs_of(result: Result) -> list[dict]:
    return json.loads(result.out)["inputs"]


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    value = fake_token()
    monkeypatch.setenv("SCOPEAUDIT_HTTP_TOKEN", value)
    return value


@pytest.fixture
def served(server: FakeServer) -> FakeServer:
    server.route("/keys.yaml", Reply(body=KEYS))
    return server


def test_keys_and_logs_from_urls_with_credentials(cli, served: FakeServer, token: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    org_secret = "org-" + fake_token("test")
    monkeypatch.setenv("ORG_KEY", org_secret)
    served.route("/logs.jsonl", Reply(body=LOGS))
    result = audit(cli, served, "/logs.jsonl", "--header", "X-Org-Key: @env:ORG_KEY",
                   "--header", "X-Tenant: north")
    assert result.code == 0
    inputs = inputs_of(result)
    assert [(i["path"], i["kind"]) for i in inputs] == [
        (served.url("/keys.yaml"), "keys"), (served.url("/logs.jsonl"), "logs")]
    assert inputs[0]["sha256"] == hashlib.sha256(KEYS).hexdigest()
    assert inputs[1]["sha256"] == hashlib.sha256(LOGS).hexdigest()
    assert inputs[1]["records"] == 27
    assert len(served.seen) == 2
    for seen in served.seen:
        assert seen.method == "GET"
        assert seen.headers["authorization"] == f"Bearer {token}"
        assert seen.headers["x-org-key"] == org_secret
        assert seen.headers["x-tenant"] == "north"
    result.assert_clean(token, org_secret)


def test_a_429_waits_for_the_rate_limit_reset(cli, served: FakeServer, token: str,
                                              fake_time: FakeTime) -> None:
    served.route("/logs.jsonl",
                 json_reply(429, {"error": "Rate limit exceeded", "code": "RATE_LIMITED"},
                            *ratelimit_headers(10, 0, 1)),
                 Reply(body=LOGS))
    result = audit(cli, served, "/logs.jsonl")
    assert result.code == 0 and inputs_of(result)[1]["records"] == 27
    assert len(served.requests_to("/logs.jsonl")) == 2
    # one wait: X-RateLimit-Reset 1 s plus at most 0.01 s of jitter, not the 0.01 s backoff
    assert len(fake_time.slept) == 1 and 1.0 <= fake_time.slept[0] <= 1.01
    result.assert_clean(token)


def test_a_burst_of_500_and_503_is_retried(cli, served: FakeServer, token: str) -> None:
    served.route("/logs.jsonl", Reply(500), Reply(503), Reply(503), Reply(body=LOGS))
    result = audit(cli, served, "/logs.jsonl", "--http-retries", "3")
    assert result.code == 0 and inputs_of(result)[1]["records"] == 27
    assert len(served.requests_to("/logs.jsonl")) == 4  # three failures, then the logs
    result.assert_clean(token)


def test_failure_after_retries_names_url_and_last_status(cli, served: FakeServer,
                                                         token: str) -> None:
    served.route("/logs.jsonl", Reply(500), Reply(503))
    target = "/logs.jsonl?day=1&X-Amz-Signature=" + token[8:]
    result = audit(cli, served, target, "--http-retries", "2")
    assert result.code == 2
    assert result.out == ""
    shown = served.url("/logs.jsonl?day=1&X-Amz-Signature=[redacted]")
    assert result.err.strip().splitlines()[-1] == (
        f"scopeaudit: error: {shown}: gave up after 3 tries; last status: "
        "HTTP 503 Service Unavailable")
    assert len(served.requests_to("/logs.jsonl")) == 3
    result.assert_clean(token, token[8:])


def test_a_response_slower_than_the_timeout(cli, served: FakeServer, token: str) -> None:
    served.route("/logs.jsonl", Reply(body=LOGS, delay=1.0))
    started = time.monotonic()
    result = audit(cli, served, "/logs.jsonl", "--http-timeout", "0.2", "--http-retries", "1")
    assert time.monotonic() - started < 2.0  # two 0.2 s timeouts, never two full seconds
    assert result.code == 2 and result.out == ""
    assert result.err.strip().endswith(
        f"{served.url('/logs.jsonl')}: gave up after 2 tries; last status: none "
        "(no response within the read timeout)")
    assert len(served.requests_to("/logs.jsonl")) == 2
    result.assert_clean(token)


def test_a_slow_first_response_then_a_fast_one(cli, served: FakeServer, token: str) -> None:
    served.route("/logs.jsonl", Reply(body=LOGS, delay=1.0), Reply(body=LOGS))
    result = audit(cli, served, "/logs.jsonl", "--http-timeout", "0.2")
    assert result.code == 0 and inputs_of(result)[1]["records"] == 27
    assert len(served.requests_to("/logs.jsonl")) == 2


def test_connection_reset_mid_body_is_retried_from_scratch(cli, served: FakeServer,
                                                           token: str) -> None:
    # The first try sends 3 whole records and part of a fourth, then resets: none of them
    # may be counted twice, or at all from the broken try.
    served.route("/logs.jsonl", Reply(body=LOGS, fault="reset", cut=len(record(1)) * 3 + 20),
                 Reply(body=LOGS))
    result = audit(cli, served, "/logs.jsonl")
    assert result.code == 0
    logs = inputs_of(result)[1]
    assert logs["records"] == 27 and logs["sha256"] == hashlib.sha256(LOGS).hexdigest()
    assert len(served.requests_to("/logs.jsonl")) == 2
    result.assert_clean(token)


def test_connection_reset_on_every_try_is_exit_2(cli, served: FakeServer, token: str) -> None:
    served.route("/logs.jsonl", Reply(body=LOGS, fault="reset", cut=100))
    result = audit(cli, served, "/logs.jsonl", "--http-retries", "2")
    assert result.code == 2 and result.out == ""
    assert result.err.strip().endswith(
        f"{served.url('/logs.jsonl')}: gave up after 3 tries; last status: none "
        "(the connection was reset while reading the response)")
    assert len(served.requests_to("/logs.jsonl")) == 3
    result.assert_clean(token)


def test_a_body_shorter_than_its_content_length_is_never_analysed(
        cli, served: FakeServer, token: str) -> None:
    served.route("/logs.jsonl", Reply(body=LOGS, fault="close", cut=len(LOGS) // 2))
    result = audit(cli, served, "/logs.jsonl", "--http-retries", "1")
    assert result.code == 2 and result.out == ""
    assert result.err.strip().endswith(
        "gave up after 2 tries; last status: none (the server closed the connection before "
        "the response was complete)")
    assert len(served.requests_to("/logs.jsonl")) == 2


def test_a_truncated_gzip_body_is_an_error_not_a_short_input(cli, served: FakeServer,
                                                             token: str) -> None:
    # Content-Length matches the bytes sent: only gzip itself can tell the body is cut short.
    # (A local truncated .gz is read up to the cut with a warning; a download is refused.)
    served.route("/logs.jsonl.gz", Reply(body=gz(LOGS)[:120]))
    result = audit(cli, served, "/logs.jsonl.gz")
    assert result.code == 2 and result.out == ""
    assert result.err.strip().splitlines()[-1] == (
        f"scopeaudit: error: {served.url('/logs.jsonl.gz')}: the gzip data ends early: the "
        "download is incomplete, nothing was analysed")
    assert len(served.requests_to("/logs.jsonl.gz")) == 1  # the same bytes would come again
    result.assert_clean(token)


def test_a_truncated_gzip_content_encoding_is_an_error(cli, served: FakeServer,
                                                       token: str) -> None:
    served.route("/logs.jsonl", Reply(body=gz(LOGS)[:120],
                                      headers=(("Content-Encoding", "gzip"),)))
    result = audit(cli, served, "/logs.jsonl")
    assert result.code == 2 and result.out == ""
    assert result.err.strip().endswith(
        "the gzip-encoded body ends early: the download is incomplete, nothing was analysed")


def test_gzip_by_content_encoding_and_by_name(cli, served: FakeServer, token: str) -> None:
    served.route("/a.jsonl", Reply(body=gz(LOGS), headers=(("Content-Encoding", "gzip"),)))
    served.route("/b.jsonl.gz", Reply(body=gz(LOGS)))
    result = cli("audit", "--no-config", "--keys", served.url("/keys.yaml"),
                 "--logs", served.url("/a.jsonl"), "--logs", served.url("/b.jsonl.gz"),
                 "--as-of", "2026-11-27", "--jobs", "1", "--format", "json",
                 "--no-timestamp", "--fail-on", "never", *FAST)
    assert result.code == 0
    a, b = inputs_of(result)[1:]
    assert (a["records"], b["records"]) == (27, 27)
    # the hash is of the entity: the decoded body for Content-Encoding, the .gz file itself
    assert a["sha256"] == hashlib.sha256(LOGS).hexdigest()
    assert b["sha256"] == hashlib.sha256(gz(LOGS)).hexdigest()
    assert served.requests_to("/a.jsonl")[0].headers["accept-encoding"] == "gzip"


def test_a_never_ending_link_chain_stops_the_run(cli, served: FakeServer, token: str) -> None:
    def endless(seen: Seen) -> Reply:
        page = int(seen.query.get("page", ["1"])[0])
        return Reply(body=record(page % 27 + 1),
                     headers=(("Link", f'</logs.jsonl?page={page + 1}>; rel="next"'),))
    served.handle("/logs.jsonl", endless)
    result = audit(cli, served, "/logs.jsonl", "--http-max-pages", "5")
    assert result.code == 2 and result.out == ""
    assert result.err.strip().endswith(
        f"{served.url('/logs.jsonl')}: more than 5 pages (--http-max-pages); stopping: a "
        "pagination loop?")
    assert len(served.requests_to("/logs.jsonl")) == 5
    result.assert_clean(token)


def test_a_link_chain_that_loops_back_is_detected(cli, served: FakeServer, token: str) -> None:
    served.route("/p1", Reply(body=record(1), headers=(("Link", '</p2>; rel="next"'),)))
    served.route("/p2", Reply(body=record(2), headers=(("Link", '</p1>; rel="next"'),)))
    result = audit(cli, served, "/p1", "--log-format", "jsonl")
    assert result.code == 2
    assert result.err.strip().endswith(
        f"{served.url('/p1')}: pagination loops: page 3 is {served.url('/p1')}, fetched before")
    assert [s.path for s in served.seen[1:]] == ["/p1", "/p2"]


def test_link_pagination_reads_every_page(cli, served: FakeServer, token: str) -> None:
    # three pages (days 1-9, 10-18, 19-27); the middle one has no final newline
    pages = [b"".join(record(d) for d in range(1, 10)),
             b"".join(record(d) for d in range(10, 19)).rstrip(b"\n"),
             b"".join(record(d) for d in range(19, 28))]
    served.handle("/logs.jsonl", lambda seen: (
        Reply(body=pages[1], headers=(("Link", f'<{served.url("/page3")}>; rel="next last"'),))
        if seen.query.get("page") == ["2"] else
        Reply(body=pages[0], headers=(("Link", '<https://elsewhere.invalid/help>; rel="help", '
                                               '</logs.jsonl?page=2>; rel="next"'),))))
    served.route("/page3", Reply(body=pages[2]))
    result = audit(cli, served, "/logs.jsonl")
    assert result.code == 0
    assert inputs_of(result)[1]["records"] == 27
    assert [s.target for s in served.seen[1:]] == ["/logs.jsonl", "/logs.jsonl?page=2",
                                                   "/page3"]
    # every page went to the same origin as the URL given: all carried the credential
    assert all(s.headers.get("authorization") == f"Bearer {token}" for s in served.seen)


def test_json_cursor_pagination(cli, served: FakeServer, token: str) -> None:
    def page(seen: Seen) -> Reply:
        cursor = seen.query.get("cursor", ["start"])[0]
        days, following = {"start": (range(1, 14), "c2"), "c2": (range(14, 28), None)}[cursor]
        items = [json.loads(record(d)) for d in days]
        return json_reply(200, {"records": items, "meta": {"next": following}})
    served.handle("/export", page)
    result = audit(cli, served, "/export?since=2026-11-01", "--log-format", "jsonl",
                   "--http-next-field", "meta.next")
    assert result.code == 0
    assert inputs_of(result)[1]["records"] == 27
    assert [s.target for s in served.seen[1:]] == ["/export?since=2026-11-01",
                                                   "/export?since=2026-11-01&cursor=c2"]


def test_credentials_do_not_follow_a_redirect_to_another_host(
        cli, served: FakeServer, other_host: FakeServer, token: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    org_secret = "org-" + fake_token("test")
    monkeypatch.setenv("ORG_KEY", org_secret)
    served.route("/logs.jsonl", Reply(302, headers=(
        ("Location", other_host.url("/bucket/logs.jsonl?X-Amz-Signature=presigned")),)))
    other_host.route("/bucket/logs.jsonl", Reply(body=LOGS))
    result = audit(cli, served, "/logs.jsonl", "--header", "X-Org-Key: @env:ORG_KEY")
    assert result.code == 0 and inputs_of(result)[1]["records"] == 27
    first = served.requests_to("/logs.jsonl")[0]
    assert first.headers["authorization"] == f"Bearer {token}"
    assert first.headers["x-org-key"] == org_secret
    [moved] = other_host.seen
    assert moved.target == "/bucket/logs.jsonl?X-Amz-Signature=presigned"
    assert "authorization" not in moved.headers and "x-org-key" not in moved.headers
    result.assert_clean(token, org_secret, "presigned")


def test_a_same_origin_redirect_keeps_credentials(cli, served: FakeServer, token: str) -> None:
    served.route("/logs.jsonl", Reply(301, headers=(("Location", "/v2/logs.jsonl"),)))
    served.route("/v2/logs.jsonl", Reply(body=LOGS))
    result = audit(cli, served, "/logs.jsonl")
    assert result.code == 0
    assert served.requests_to("/v2/logs.jsonl")[0].headers["authorization"] == f"Bearer {token}"


def test_a_redirect_to_plain_http_elsewhere_is_refused_before_connecting(
        cli, served: FakeServer, token: str) -> None:
    # .invalid never resolves (RFC 6761); the refusal comes before any lookup or connection
    served.route("/logs.jsonl", Reply(302, headers=(
        ("Location", "http://logs.example.invalid/dump.jsonl?token=abc123secret"),)))
    result = audit(cli, served, "/logs.jsonl")
    assert result.code == 2
    assert result.err.strip().endswith(
        f"{served.url('/logs.jsonl')}: redirected to "
        "http://logs.example.invalid/dump.jsonl?token=[redacted], which is refused: refusing "
        "plain http to a non-loopback host (credentials and data would cross the network "
        "unencrypted); use https, or pass --allow-insecure-http")
    assert len(served.seen) == 2
    result.assert_clean(token, "abc123secret")


def test_plain_http_to_a_remote_host_is_refused(cli, served: FakeServer, token: str) -> None:
    result = cli("lint", "--no-config", "--keys", "http://keys.example.invalid/keys.yaml",
                 *FAST)
    assert result.code == 2
    assert "http://keys.example.invalid/keys.yaml: refusing plain http" in result.err
    assert served.seen == []


def test_401_is_not_retried_and_hints_at_the_credential(cli, served: FakeServer,
                                                        token: str) -> None:
    served.route("/logs.jsonl", json_reply(401, {"error": "Authentication required",
                                                 "code": "UNAUTHORIZED"}))
    result = audit(cli, served, "/logs.jsonl")
    assert result.code == 2
    assert result.err.strip().endswith(
        f"{served.url('/logs.jsonl')}: HTTP 401 Unauthorized (check SCOPEAUDIT_HTTP_TOKEN "
        "or --header)")
    assert len(served.requests_to("/logs.jsonl")) == 1
    result.assert_clean(token)


def test_userinfo_is_basic_auth_and_never_shown(cli, served: FakeServer) -> None:
    password = "pw-" + fake_token()[8:]
    served.route("/logs.jsonl", Reply(body=LOGS))
    url = served.url("/logs.jsonl").replace("http://", f"http://auditor:{password}@")
    result = cli("audit", "--no-config", "--keys", served.url("/keys.yaml"), "--logs", url,
                 "--as-of", "2026-11-27", "--jobs", "1", "--format", "json",
                 "--no-timestamp", "--fail-on", "never", *FAST)
    assert result.code == 0
    assert inputs_of(result)[1]["path"] == served.url("/logs.jsonl")
    import base64
    basic = base64.b64encode(f"auditor:{password}".encode()).decode()
    assert served.requests_to("/logs.jsonl")[0].headers["authorization"] == f"Basic {basic}"
    assert "authorization" not in served.requests_to("/keys.yaml")[0].headers
    result.assert_clean(password, basic)


def test_a_plain_credential_header_is_refused(cli, served: FakeServer) -> None:
    secret = fake_token()
    result = cli("lint", "--no-config", "--keys", served.url("/keys.yaml"), "--header",
                 f"Authorization: Bearer {secret}")
    assert result.code == 2
    assert "a credential must come from the environment: 'Authorization: @env:VAR'" in \
        result.err
    assert served.seen == []
    result.assert_clean(secret)


def test_a_header_from_an_unset_variable_is_an_error(cli, served: FakeServer) -> None:
    result = cli("lint", "--no-config", "--keys", served.url("/keys.yaml"), "--header",
                 "X-Api-Key: @env:SCOPEAUDIT_TEST_UNSET")
    assert result.code == 2
    assert result.err.strip() == ("scopeaudit: error: --header X-Api-Key: the environment "
                                  "variable SCOPEAUDIT_TEST_UNSET is not set")
    assert served.seen == []


def test_keys_format_from_content_type(cli, server: FakeServer, token: str) -> None:
    server.route("/export", Reply(body=KEYS, headers=(("Content-Type",
                                                       "application/yaml; charset=utf-8"),)))
    result = cli("lint", "--no-config", "--keys", server.url("/export"), "--as-of",
                 "2026-11-27", "--format", "json", "--no-timestamp", *FAST)
    assert result.code == 0
    doc = json.loads(result.out)
    assert [k["id"] for k in doc["keys"]] == ["key_bi"]
    assert doc["keys"][0]["location"] == {"file": server.url("/export"), "line": 2}


def test_keys_without_a_known_format_is_an_error(cli, server: FakeServer) -> None:
    server.route("/export", Reply(body=KEYS, headers=(("Content-Type", "text/plain"),)))
    result = cli("lint", "--no-config", "--keys", server.url("/export"), *FAST)
    assert result.code == 2
    assert result.err.strip() == (
        f"scopeaudit: error: {server.url('/export')}: cannot tell the key-file format from "
        "the URL or its Content-Type (text/plain); pass --keys-format")


def test_json_key_pages_are_joined(cli, server: FakeServer, token: str) -> None:
    def page(seen: Seen) -> Reply:
        if seen.query.get("cursor") == ["2"]:
            return json_reply(200, {"keys": [{"id": "k2", "owner": "o",
                                              "scopes": ["works:read"]}], "next": None})
        return json_reply(200, {"keys": [{"id": "k1", "owner": "o",
                                          "scopes": ["issues:read"]}], "next": "2"})
    server.handle("/keys", page)
    result = cli("lint", "--no-config", "--keys", server.url("/keys"), "--as-of",
                 "2026-11-27", "--format", "json", "--no-timestamp", "--fail-on", "never",
                 *FAST)
    assert result.code == 0
    assert [k["id"] for k in json.loads(result.out)["keys"]] == ["k1", "k2"]
    assert len(server.seen) == 2


def test_a_truncated_key_file_is_never_linted(cli, server: FakeServer) -> None:
    server.route("/keys.yaml.gz", Reply(body=gz(KEYS)[:40]))
    result = cli("lint", "--no-config", "--keys", server.url("/keys.yaml.gz"), *FAST)
    assert result.code == 2 and result.out == ""
    assert result.err.strip().endswith("the gzip data ends early: the download is incomplete, "
                                       "nothing was analysed")


def test_two_url_inputs_read_by_worker_processes(cli, served: FakeServer, token: str) -> None:
    served.route("/a.jsonl", Reply(body=LOGS[: len(LOGS) // 2 // len(record(1)) * len(record(1))]))
    served.route("/b.jsonl", Reply(body=LOGS))
    result = cli("audit", "--no-config", "--keys", served.url("/keys.yaml"),
                 "--logs", served.url("/a.jsonl"), "--logs", served.url("/b.jsonl"),
                 "--as-of", "2026-11-27", "--jobs", "2", "--format", "json",
                 "--no-timestamp", "--fail-on", "never", *FAST)
    assert result.code == 0
    assert [i["records"] for i in inputs_of(result)[1:]] == [13, 27]
    assert all(s.headers["authorization"] == f"Bearer {token}" for s in served.seen)


def test_a_reset_on_a_later_page_leaves_no_trace(cli, served: FakeServer, token: str) -> None:
    # page 2 breaks mid-line on its first try: the retry must not leave a blank or partial
    # line behind (27 records, none skipped)
    first, second = LOGS[: len(record(1)) * 10], LOGS[len(record(1)) * 10:]
    served.route("/logs.jsonl", Reply(body=first, headers=(("Link", '</page2>; rel="next"'),)))
    served.route("/page2", Reply(body=second, fault="reset", cut=len(record(1)) + 7),
                 Reply(body=second))
    result = audit(cli, served, "/logs.jsonl")
    assert result.code == 0
    logs = inputs_of(result)[1]
    assert (logs["records"], logs["skipped"]) == (27, 0)
    assert [s.path for s in served.seen[1:]] == ["/logs.jsonl", "/page2", "/page2"]
