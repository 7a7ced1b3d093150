"""`scopeaudit probe` against a loopback server that behaves as the insp.ac docs say (Bearer
keys with scopes, 401/403 envelopes, X-RateLimit-* headers, 429 RATE_LIMITED) and injects
faults. Expectations come from the scripted key: 13 read scopes in the built-in catalog, one
GET each; 13 write scopes never requested."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

import pytest

from network.conftest import FakeTime
from network.fakeserver import (
    FORBIDDEN,
    RATE_LIMITED,
    FakeServer,
    InspacApi,
    Reply,
    json_reply,
    ratelimit_headers,
)
from network.support import FAST, Result, fake_token

READ_PATHS = ["/v1/issues", "/v1/works", "/v1/sites", "/v1/assets", "/v1/users",
              "/v1/checkins", "/v1/logs", "/v1/sensor-readings", "/v1/templates", "/v1/runs",
              "/v1/schedules", "/v1/calendar", "/v1/integrations"]


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    value = fake_token()
    monkeypatch.setenv("INSPAC_API_KEY", value)
    return value


@pytest.fixture
def api(server: FakeServer, key: str) -> InspacApi:
    fake = InspacApi({key: {"issues:read", "users:read", "works:write"}})
    server.handle("/v1/*", fake)
    return fake


def probe(cli, server: FakeServer, *extra: str) -> Result:  # type: ignore[no-untyped-def]
    return cli("probe", "--base-url", server.url(""), "--no-timestamp", *FAST, *extra)


def by_scope(result: Result) -> dict[str, dict]:
    return {s["scope"]: s for s in json.loads(result.out)["scopes"]}


def test_each_read_scope_is_probed_once_with_a_get(cli, server: FakeServer, api: InspacApi,
                                                   key: str) -> None:
    result = probe(cli, server, "--format", "json")
    assert result.code == 0
    doc = json.loads(result.out)
    assert doc["schema"] == "scopeaudit/probe/v1"
    assert doc["key"] == {"fingerprint": "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:12],
                          "kind": "live"}
    assert doc["summary"] == {"granted": 2, "missing": 11, "unverifiable": 0, "not_probed": 13}
    scopes = by_scope(result)
    assert scopes["issues:read"] == {"scope": "issues:read", "kind": "read",
                                     "result": "granted", "status": 200, "code": None,
                                     "request": "GET /v1/issues?limit=1", "reason": None}
    assert scopes["works:read"]["result"] == "missing"
    assert (scopes["works:read"]["status"], scopes["works:read"]["code"]) == (403, "FORBIDDEN")
    # works:write is granted to the key, but a write scope is never probed
    assert scopes["works:write"] == {
        "scope": "works:write", "kind": "write", "result": "not probed", "status": None,
        "code": None, "request": None,
        "reason": "write scope: no request that could change data is sent"}
    assert [s.method for s in server.seen] == ["GET"] * 13
    assert [s.target for s in server.seen] == [p + "?limit=1" for p in READ_PATHS]
    assert all(s.headers["authorization"] == f"Bearer {key}" for s in server.seen)
    assert doc["declared"] is None and doc["findings"] == []
    result.assert_clean(key)


def test_table_view(cli, server: FakeServer, api: InspacApi, key: str) -> None:
    result = probe(cli, server)
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == (f"insp.ac v1 probe of {server.url('')} with key sha256:"
                        f"{hashlib.sha256(key.encode()).hexdigest()[:12]} (live)")
    assert "2 granted, 11 missing, 0 unverifiable, 13 not probed" in lines
    row = next(line for line in lines if line.startswith("users:read "))
    assert row.split()[:5] == ["users:read", "granted", "200", "GET", "/v1/users?limit=1"]
    result.assert_clean(key)


def test_401_stops_the_probe(cli, server: FakeServer, api: InspacApi,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    revoked = fake_token()
    monkeypatch.setenv("INSPAC_API_KEY", revoked)
    result = probe(cli, server)
    assert result.code == 2 and result.out == ""
    assert result.err.strip() == (
        f"scopeaudit: error: {server.url('/v1/issues?limit=1')}: key invalid or revoked "
        "(HTTP 401 Unauthorized UNAUTHORIZED on GET /v1/issues?limit=1)")
    assert len(server.seen) == 1
    result.assert_clean(revoked)


def test_a_429_waits_for_the_reset_and_retries(cli, server: FakeServer, api: InspacApi,
                                               key: str, fake_time: FakeTime) -> None:
    api.overrides["/v1/issues"] = [json_reply(429, RATE_LIMITED, *ratelimit_headers(5, 0, 1))]
    result = probe(cli, server, "--format", "json")
    # X-RateLimit-Reset: 1 (plus at most 0.01 s of jitter), not the 0.01 s backoff
    assert len(fake_time.slept) == 1 and 1.0 <= fake_time.slept[0] <= 1.01
    assert result.code == 0
    assert by_scope(result)["issues:read"]["result"] == "granted"
    assert len(server.requests_to("/v1/issues")) == 2 and len(server.seen) == 14
    result.assert_clean(key)


def test_a_spent_route_budget_is_waited_out_before_the_retry(
        cli, server: FakeServer, api: InspacApi, key: str, fake_time: FakeTime) -> None:
    # a 503 that also says the route's budget is spent: the retry waits for its reset
    api.overrides["/v1/users"] = [json_reply(503, {"error": "Service unavailable",
                                                   "code": "INTERNAL_ERROR"},
                                             *ratelimit_headers(5, 0, 1))]
    result = probe(cli, server, "--format", "json")
    # the reset (1 s plus jitter) is slept once; the route's own block has then run out
    assert len(fake_time.slept) == 1 and 1.0 <= fake_time.slept[0] <= 1.01
    assert by_scope(result)["users:read"]["result"] == "granted"
    assert len(server.requests_to("/v1/users")) == 2


def test_a_burst_of_500s_past_the_retries_is_unverifiable(
        cli, server: FakeServer, api: InspacApi, key: str) -> None:
    api.overrides["/v1/users"] = [Reply(500), Reply(503), Reply(500)]
    result = probe(cli, server, "--format", "json", "--http-retries", "2")
    assert result.code == 0
    users = by_scope(result)["users:read"]
    assert (users["result"], users["status"]) == ("unverifiable", 500)
    assert users["reason"] == "gave up after 3 tries; last status: HTTP 500 Internal Server Error"
    assert len(server.requests_to("/v1/users")) == 3 and len(server.seen) == 15
    assert json.loads(result.out)["summary"]["unverifiable"] == 1
    result.assert_clean(key)


def test_a_route_slower_than_the_timeout_is_unverifiable(
        cli, server: FakeServer, api: InspacApi, key: str) -> None:
    api.overrides["/v1/works"] = [Reply(200, b"{}", delay=1.0)] * 2
    result = probe(cli, server, "--format", "json", "--http-timeout", "0.2",
                   "--http-retries", "1")
    assert result.code == 0
    works = by_scope(result)["works:read"]
    assert (works["result"], works["status"]) == ("unverifiable", None)
    assert works["reason"] == ("gave up after 2 tries; last status: none (no response within "
                               "the read timeout)")
    assert len(server.requests_to("/v1/works")) == 2
    result.assert_clean(key)


def test_an_api_that_never_answers_is_exit_2(cli, key: str) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli("probe", "--base-url", f"http://127.0.0.1:{port}", *FAST, "--http-retries",
                 "1")
    assert result.code == 2 and result.out == ""
    assert result.err.strip() == (
        f"scopeaudit: error: http://127.0.0.1:{port}/v1/issues?limit=1: no answer from the "
        "API: gave up after 2 tries; last status: none (the connection failed)")
    result.assert_clean(key)


def test_a_redirect_is_not_followed(cli, server: FakeServer, other_host: FakeServer,
                                    api: InspacApi, key: str) -> None:
    api.overrides["/v1/logs"] = [Reply(302, headers=(("Location",
                                                      other_host.url("/v1/logs?limit=1")),))]
    result = probe(cli, server, "--format", "json")
    logs = by_scope(result)["logs:read"]
    assert (logs["result"], logs["status"]) == ("unverifiable", 302)
    assert logs["reason"] == (f"HTTP 302 Found: redirected to {other_host.url('/v1/logs?limit=1')}"
                              ", not followed (the key would go with it)")
    assert other_host.seen == []
    result.assert_clean(key)


def test_404_counts_only_on_a_route_the_catalog_knows(cli, server: FakeServer,
                                                      api: InspacApi, key: str) -> None:
    not_found = json_reply(404, {"error": "Not found", "code": "NOT_FOUND"})
    api.overrides["/v1/checkins"] = [not_found]  # documented route
    api.overrides["/v1/calendar"] = [not_found]  # the catalog only infers /v1/calendar/**
    scopes = by_scope(probe(cli, server, "--format", "json"))
    assert (scopes["checkins:read"]["result"], scopes["checkins:read"]["status"]) == (
        "granted", 404)
    assert scopes["calendar:read"]["result"] == "unverifiable"
    assert scopes["calendar:read"]["reason"] == ("HTTP 404 Not Found NOT_FOUND: the route is "
                                                 "not documented and may not exist")


def test_404_on_an_implied_route_is_unverifiable(cli, server: FakeServer, api: InspacApi,
                                                 key: str) -> None:
    # /v1/issues is implied by issues:read's "grants" sentence, not documented: it may not
    # exist, so its 404 proves nothing (and can never make a false SA212)
    api.overrides["/v1/issues"] = [json_reply(404, {"error": "Not found",
                                                    "code": "NOT_FOUND"})]
    issues = by_scope(probe(cli, server, "--format", "json"))["issues:read"]
    assert (issues["result"], issues["status"]) == ("unverifiable", 404)


def test_an_invalid_error_code_is_not_copied(cli, server: FakeServer, api: InspacApi,
                                             key: str) -> None:
    api.overrides["/v1/sites"] = [json_reply(403, {"code": "FORBIDDEN\n<script>x</script>"})]
    api.overrides["/v1/works"] = [json_reply(403, {"code": "forbidden"})]
    result = probe(cli, server, "--format", "json")
    scopes = by_scope(result)
    for scope in ("sites:read", "works:read"):
        assert (scopes[scope]["result"], scopes[scope]["code"]) == ("unverifiable",
                                                                    "(invalid)")
    assert scopes["sites:read"]["reason"] == ("HTTP 403 Forbidden (invalid): a 403 without "
                                              "the FORBIDDEN code (a proxy or firewall?)")
    assert "<script>" not in result.out and "forbidden" not in result.out


def test_a_definition_without_matchers_is_compared_with_a_warning(
        cli, server: FakeServer, api: InspacApi, key: str, tmp_path: Path) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS)
    result = probe(cli, server, "--keys", str(keys), "--key-id", "key_bi", "--fail-on",
                   "never")
    assert result.code == 0
    assert result.err.strip() == (
        f"scopeaudit: warning: {keys}:2: key 'key_bi' has no sha256, prefix or last4 "
        "matcher, so the key in INSPAC_API_KEY could not be confirmed to be this definition; "
        "comparing anyway")
    result.assert_clean(key)


def test_only_an_operation_needing_exactly_the_scope_probes_it() -> None:
    from scopeaudit.catalog.model import Catalog, Operation, Provenance, Scope
    from scopeaudit.probe.plan import plan_targets

    doc = Provenance.DOCUMENTED
    catalog = Catalog("t", "1", (Scope("a:read", ""), Scope("b:read", ""), Scope("c:read", "")),
                      (Operation("either", "GET", "/v1/a", (frozenset({"a:read"}),
                                                             frozenset({"b:read"})), doc),
                       Operation("anyone", "GET", "/v1/b", (frozenset({"b:read"}),
                                                             frozenset()), doc),
                       Operation("both", "GET", "/v1/c", (frozenset({"c:read", "a:read"}),),
                                 doc),
                       Operation("only", "GET", "/v1/c/list", (frozenset({"c:read"}),), doc)))
    plans = plan_targets(catalog)
    # an alternative (a or b) or an anonymous route answers 2xx without proving the scope
    assert plans["a:read"] is None and plans["b:read"] is None
    assert plans["c:read"] is not None and plans["c:read"].operation == "only"


def test_a_403_without_the_forbidden_code_is_unverifiable(
        cli, server: FakeServer, api: InspacApi, key: str) -> None:
    api.overrides["/v1/sites"] = [Reply(403, b"<html>blocked</html>")]
    sites = by_scope(probe(cli, server, "--format", "json"))["sites:read"]
    assert (sites["result"], sites["status"]) == ("unverifiable", 403)


KEYS = """\
keys:
  - id: key_bi
    owner: data@example.test
    scopes:
      - issues:read
      - works:read
      - sites:write
"""


def test_drift_from_the_definition(cli, server: FakeServer, api: InspacApi, key: str,
                                   tmp_path: Path) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS)
    result = probe(cli, server, "--keys", str(keys), "--key-id", "key_bi", "--format", "json")
    # live: issues:read, users:read (and works:write, never probed). Declared: issues:read,
    # works:read, sites:write. So works:read is declared but refused (SA211, medium, at its
    # line 6) and users:read is granted but undeclared (SA212, high, at the key's line 2);
    # sites:write is a write scope: not probed, not compared. High fails the default gate.
    assert result.code == 1
    doc = json.loads(result.out)
    assert doc["declared"] == {"source": str(keys), "key": "key_bi",
                               "scopes": ["issues:read", "sites:write", "works:read"]}
    assert [(f["rule"], f["name"], f["severity"], f["scope"], f["location"]["line"],
             f["confidence"]) for f in doc["findings"]] == [
        ("SA212", "undeclared-grant", "high", "users:read", 2, "high"),
        ("SA211", "declared-scope-not-granted", "medium", "works:read", 6, None)]
    result.assert_clean(key)

    table = probe(cli, server, "--keys", str(keys), "--key-id", "key_bi", "--fail-on", "never")
    assert table.code == 0
    assert f"compared with key_bi in {keys}: 2 findings" in table.out
    assert "SA211" in table.out and "SA212" in table.out
    table.assert_clean(key)


def test_drift_on_medium_fails_a_medium_gate(cli, server: FakeServer, key: str,
                                             tmp_path: Path) -> None:
    server.handle("/v1/*", InspacApi({key: {"issues:read"}}))
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS)
    # only SA211 (works:read declared, refused): medium
    assert probe(cli, server, "--keys", str(keys), "--key-id", "key_bi").code == 0
    assert probe(cli, server, "--keys", str(keys), "--key-id", "key_bi", "--fail-on",
                 "medium").code == 1


def test_a_definition_of_another_key_is_refused(cli, server: FakeServer, api: InspacApi,
                                                key: str, tmp_path: Path) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS.replace("    owner:", '    last4: "zzzz"\n    owner:'))
    result = probe(cli, server, "--keys", str(keys), "--key-id", "key_bi")
    assert result.code == 2
    assert result.err.strip() == (f"scopeaudit: error: {keys}:2: INSPAC_API_KEY is not the "
                                  "key 'key_bi': its last4 does not match the definition")
    assert server.seen == []
    result.assert_clean(key)


def test_no_key_in_the_environment(cli, server: FakeServer) -> None:
    server.handle("/v1/*", InspacApi({}))
    result = probe(cli, server)
    assert result.code == 2
    assert result.err.strip() == ("scopeaudit: error: set INSPAC_API_KEY to the key to probe (a "
                                  "key is never taken as an argument: it would land in shell "
                                  "history)")
    assert server.seen == []


def test_plain_http_to_a_remote_api_is_refused(cli, key: str) -> None:
    result = cli("probe", "--base-url", "http://api.example.invalid", *FAST)
    assert result.code == 2
    assert result.err.startswith("scopeaudit: error: http://api.example.invalid: refusing "
                                 "plain http to a non-loopback host")
    result.assert_clean(key)


def test_the_server_refuses_a_missing_scope_with_the_documented_envelope(
        server: FakeServer, api: InspacApi, key: str) -> None:
    # the fake API itself: what the probe's expectations rest on
    import httpx

    with httpx.Client() as client:
        response = client.get(server.url("/v1/works?limit=1"),
                              headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403 and response.json() == FORBIDDEN
    assert response.headers["X-RateLimit-Remaining"] == "99"


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_a_reason_phrase_echoing_the_key_is_redacted(cli, server: FakeServer, api: InspacApi,
                                                     key: str, fmt: str) -> None:
    # a server (or a proxy before it) that echoes the Authorization header in its reason
    # phrase; and one whose phrase the 60-character cut would leave holding the token's
    # first 19 characters, which no pattern recognises as a token any more: redacted before
    # the cut, no part of it survives
    api.overrides["/v1/sites"] = [Reply(418, reason=f"Bearer {key}")]
    api.overrides["/v1/users"] = [Reply(418, reason="x" * 40 + key)]
    result = probe(cli, server, "--format", fmt)
    assert result.code == 0
    if fmt == "json":
        scopes = by_scope(result)
        # the key is INSPAC_API_KEY, a known secret of the run
        assert scopes["sites:read"]["reason"] == "HTTP 418 Bearer [redacted]"
        assert scopes["users:read"]["reason"] == "HTTP 418 " + "x" * 40 + "[redacted]"
    result.assert_clean(key, key[:len("sk_live_") + 6])


def test_a_reason_phrase_echoing_a_key_of_any_shape_is_redacted(
        cli, server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # INSPAC_API_KEY need not look like an insp.ac token: it is a known secret of the run
    odd_key = "ops-" + "7f3a9c2e5b1d4e8f"
    monkeypatch.setenv("INSPAC_API_KEY", odd_key)
    fake = InspacApi({odd_key: {"issues:read"}})
    fake.overrides["/v1/sites"] = [Reply(418, reason=f"key {odd_key} refused")]
    server.handle("/v1/*", fake)
    result = probe(cli, server, "--format", "json")
    assert by_scope(result)["sites:read"]["reason"] == "HTTP 418 key [redacted] refused"
    result.assert_clean(odd_key)
