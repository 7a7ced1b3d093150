"""The review of issue #6: where credentials may go, what reaches an output, and inputs that
must be refused. Every expectation is worked out by hand from the server's script."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from network.fakeserver import FakeServer, Reply, gz
from network.support import FAST, fake_token
from network.test_http_inputs import KEYS, LOGS, audit, inputs_of, record
from scopeaudit.errors import InputError
from scopeaudit.http.client import _environment_proxy
from scopeaudit.http.policy import display_url, is_url, redact_urls
from scopeaudit.usage.identity import KeyResolver


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    value = fake_token()
    monkeypatch.setenv("SCOPEAUDIT_HTTP_TOKEN", value)
    return value


@pytest.fixture
def served(server: FakeServer) -> FakeServer:
    server.route("/keys.yaml", Reply(body=KEYS))
    return server


def origin_of(server: FakeServer) -> str:
    return server.url("")


# --- 1: URL credentials never reach stderr -------------------------------------------------

def test_an_unknown_log_format_of_a_url_hides_its_credentials(cli, served: FakeServer) -> None:
    url = served.url("/logs?token=abcsecret123").replace("http://", "http://u:supersecretpw@")
    result = cli("audit", "--no-config", "--keys", served.url("/keys.yaml"), "--logs", url,
                 *FAST)
    assert result.code == 2
    assert result.err.strip() == (
        f"scopeaudit: error: {served.url('/logs?token=[redacted]')}: cannot tell the log "
        "format from the file name; pass --log-format (" + result.err.split("(", 1)[1].strip())
    result.assert_clean("supersecretpw", "abcsecret123")


def test_an_upper_case_scheme_is_a_url(cli, served: FakeServer) -> None:
    served.route("/logs.jsonl", Reply(body=LOGS))
    url = served.url("/logs.jsonl?sig=abcsecret123").replace("http://", "HTTP://u:pw1234@")
    result = cli("audit", "--no-config", "--keys", served.url("/keys.yaml"), "--logs", url,
                 "--as-of", "2026-11-27", "--jobs", "1", "--format", "json", "--no-timestamp",
                 "--fail-on", "never", *FAST)
    assert result.code == 0, result.err
    assert inputs_of(result)[1]["records"] == 27
    assert is_url("HTTPS://x.example.test/") and not is_url("./https:/x")
    result.assert_clean("pw1234", "abcsecret123")


def test_the_last_resort_error_line_hides_urls_and_known_secrets() -> None:
    from scopeaudit.cli import shown_error as _shown_error
    from scopeaudit.http.credentials import remember, secret_scope

    with secret_scope() as known:
        remember("hunter2-secret")
        exc = InputError("fetched HTTPS://u:pw9999@h.example.test/a?sig=AAA1, and hunter2-secret",
                         file="http://u:pw8888@h.example.test/x?token=T0K3N&page=2", line=3)
        shown = _shown_error(exc, known.redact_text)
    assert shown == ("http://h.example.test/x?token=[redacted]&page=2:3: fetched "
                     "https://h.example.test/a?sig=[redacted], and [redacted]")


# --- 2: a configuration file cannot say where credentials go -------------------------------

@pytest.mark.parametrize(("line", "key"), [
    ('header = ["X-Leak: @env:MY_CI_SECRET"]', "header"),
    ("allow-insecure-http = true", "allow-insecure-http"),
    ('ca-bundle = "evil.pem"', "ca-bundle"),
    ('http-token-origin = ["https://evil.example.test"]', "http-token-origin"),
])
def test_credential_options_are_refused_in_a_configuration_file(
        cli, served: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str,
        key: str) -> None:
    monkeypatch.setenv("MY_CI_SECRET", "ci-secret-value")
    config = tmp_path / "scopeaudit.toml"
    config.write_text(f'fail-on = "never"\n{line}\n')
    result = cli("lint", "--config", str(config), "--keys", served.url("/keys.yaml"), *FAST)
    assert result.code == 2
    assert result.err.strip() == (
        f"scopeaudit: error: {config}:2: {key!r} cannot be set in a configuration file: it "
        "decides where credentials are sent or which TLS servers are trusted; set it on the "
        "command line or in the environment "
        f"(SCOPEAUDIT_{key.upper().replace('-', '_')})")
    assert served.seen == []  # refused before any request
    result.assert_clean("ci-secret-value")


def test_a_url_input_is_refused_in_a_configuration_file(cli, served: FakeServer,
                                                        tmp_path: Path, token: str) -> None:
    config = tmp_path / "scopeaudit.toml"
    config.write_text(f'keys = "{served.url("/keys.yaml")}"\n')
    result = cli("lint", "--config", str(config), *FAST)
    assert result.code == 2
    assert f"{config}:1: 'keys': a URL cannot be set in a configuration file" in result.err
    assert served.seen == []
    result.assert_clean(token)


def test_headers_from_the_environment_still_work(cli, served: FakeServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPORT_KEY", "export-key-value")
    monkeypatch.setenv("SCOPEAUDIT_HEADER", "X-Export-Key: @env:EXPORT_KEY\nX-Tenant: north")
    result = cli("lint", "--no-config", "--keys", served.url("/keys.yaml"), "--fail-on",
                 "never", *FAST)
    assert result.code == 0, result.err
    assert served.seen[0].headers["x-export-key"] == "export-key-value"
    assert served.seen[0].headers["x-tenant"] == "north"
    result.assert_clean("export-key-value")


# --- 3: no proxy for loopback or plain http ------------------------------------------------

@pytest.fixture
def proxy_listener() -> Iterator[tuple[str, list[str]]]:
    """A listener on 127.0.0.3 standing in for a proxy: it records every connection."""
    sock = socket.socket()
    sock.bind(("127.0.0.3", 0))
    sock.listen()
    sock.settimeout(0.05)
    seen: list[str] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            seen.append("connection")
            conn.close()
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.3:{sock.getsockname()[1]}", seen
    stop.set()
    thread.join()
    sock.close()


def test_loopback_traffic_never_goes_through_a_proxy(
        cli, served: FakeServer, token: str, proxy_listener: tuple[str, list[str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    proxy, seen = proxy_listener
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"):
        monkeypatch.setenv(name, proxy)
    served.route("/logs.jsonl", Reply(body=LOGS))
    result = audit(cli, served, "/logs.jsonl")
    assert result.code == 0, result.err
    assert seen == []  # the proxy saw nothing, the server everything
    assert len(served.seen) == 2
    result.assert_clean(token)


def test_only_https_to_remote_hosts_may_use_the_environments_proxy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example.test:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3129")
    assert _environment_proxy("https://logs.example.test/x") == \
        "http://proxy.example.test:3129"
    assert _environment_proxy("http://logs.example.test/x") is None  # plain http: direct
    assert _environment_proxy("https://127.0.0.5/x") is None
    assert _environment_proxy("https://localhost/x") is None
    monkeypatch.setenv("NO_PROXY", ".example.test")
    assert _environment_proxy("https://logs.example.test/x") is None


# --- 4: credentials per origin -------------------------------------------------------------

def test_an_origin_scoped_header_goes_to_its_origin_only(
        cli, served: FakeServer, other_host: FakeServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPORT_KEY", "export-key-value")
    other_host.route("/logs.jsonl", Reply(body=LOGS))
    result = cli("audit", "--no-config", "--keys", served.url("/keys.yaml"), "--logs",
                 other_host.url("/logs.jsonl"), "--as-of", "2026-11-27", "--jobs", "1",
                 "--format", "json", "--fail-on", "never", "--header",
                 f"{origin_of(other_host)}=X-Export-Key: @env:EXPORT_KEY", *FAST)
    assert result.code == 0, result.err
    assert other_host.seen[0].headers["x-export-key"] == "export-key-value"
    assert "x-export-key" not in served.seen[0].headers
    result.assert_clean("export-key-value")


def test_the_token_goes_only_to_the_origins_named(cli, served: FakeServer,
                                                  other_host: FakeServer, token: str) -> None:
    other_host.route("/logs.jsonl", Reply(body=LOGS))
    result = cli("audit", "--no-config", "--keys", served.url("/keys.yaml"), "--logs",
                 other_host.url("/logs.jsonl"), "--as-of", "2026-11-27", "--jobs", "1",
                 "--format", "json", "--fail-on", "never", "--http-token-origin",
                 origin_of(served), *FAST)
    assert result.code == 0, result.err
    assert served.seen[0].headers["authorization"] == f"Bearer {token}"
    assert "authorization" not in other_host.seen[0].headers
    result.assert_clean(token)


def test_a_next_page_on_another_host_gets_no_credentials(
        cli, served: FakeServer, other_host: FakeServer, token: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPORT_KEY", "export-key-value")
    first, second = LOGS[: len(record(1)) * 10], LOGS[len(record(1)) * 10:]
    served.route("/logs.jsonl", Reply(body=first, headers=(
        ("Link", f'<{other_host.url("/page2")}>; rel="next"'),)))
    other_host.route("/page2", Reply(body=second))
    result = audit(cli, served, "/logs.jsonl", "--header", "X-Export-Key: @env:EXPORT_KEY")
    assert result.code == 0, result.err
    assert inputs_of(result)[1]["records"] == 27
    assert served.requests_to("/logs.jsonl")[0].headers["x-export-key"] == "export-key-value"
    page2 = other_host.requests_to("/page2")[0].headers
    assert "authorization" not in page2 and "x-export-key" not in page2
    result.assert_clean(token, "export-key-value")


# --- 6: an unframed body is refused unless gzip --------------------------------------------

def test_a_body_without_framing_is_refused(cli, served: FakeServer, token: str) -> None:
    # cut short, it would look complete: no Content-Length or chunking says otherwise
    served.route("/logs.jsonl", Reply(body=LOGS, unframed=True, cut=len(record(1)) * 5))
    result = audit(cli, served, "/logs.jsonl")
    assert result.code == 2 and result.out == ""
    assert result.err.strip() == (
        f"scopeaudit: error: {served.url('/logs.jsonl')}: the response has neither a "
        "Content-Length nor chunked framing, so a cut connection cannot be told from its "
        "end; refusing it (a gzip body, which checks itself, would be accepted)")
    result.assert_clean(token)


def test_an_unframed_gzip_body_is_accepted_whole_and_refused_cut(
        cli, served: FakeServer, token: str) -> None:
    served.route("/whole.jsonl", Reply(body=gz(LOGS), unframed=True))
    result = audit(cli, served, "/whole.jsonl")
    assert result.code == 0, result.err
    assert inputs_of(result)[1]["records"] == 27
    served.route("/cut.jsonl", Reply(body=gz(LOGS), unframed=True, cut=len(gz(LOGS)) - 9))
    result = audit(cli, served, "/cut.jsonl")
    assert result.code == 2
    assert "the gzip data ends early" in result.err


# --- 8: no redirect or next page from a remote origin to loopback ---------------------------

def test_a_redirect_from_a_remote_origin_to_loopback_is_refused(
        cli, served: FakeServer, remote_name: str, token: str) -> None:
    served.route("/logs.jsonl", Reply(302, headers=(
        ("Location", served.url("/admin/secrets")),)))
    remote = served.url("/logs.jsonl").replace("127.0.0.1", remote_name)
    result = cli("audit", "--no-config", "--keys", served.url("/keys.yaml"), "--logs", remote,
                 "--allow-insecure-http", "--jobs", "1", *FAST)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert result.err.strip().endswith(
        f"{remote}: {remote} points to a loopback address ({served.url('/admin/secrets')}); "
        "refused: a remote server may not steer requests at this machine")
    assert served.requests_to("/admin/secrets") == []
    result.assert_clean(token)


def test_a_next_page_from_a_remote_origin_to_loopback_is_refused(
        cli, served: FakeServer, remote_name: str) -> None:
    served.route("/logs.jsonl", Reply(body=LOGS, headers=(
        ("Link", f'<{served.url("/admin")}>; rel="next"'),)))
    remote = served.url("/logs.jsonl").replace("127.0.0.1", remote_name)
    result = cli("audit", "--no-config", "--keys", served.url("/keys.yaml"), "--logs", remote,
                 "--allow-insecure-http", "--jobs", "1", *FAST)
    assert result.code == 2
    assert "points to a loopback address" in result.err
    assert served.requests_to("/admin") == []


# --- 9, 10: hashes and inputs --------------------------------------------------------------

def test_a_retried_page_does_not_change_the_sha256(cli, served: FakeServer,
                                                   token: str) -> None:
    # page 1 lacks a final newline: one "\n" is inserted before page 2, once, however many
    # tries page 2 takes
    first, second = LOGS[: len(record(1)) * 10].rstrip(b"\n"), LOGS[len(record(1)) * 10:]
    served.route("/logs.jsonl", Reply(body=first, headers=(("Link", '</page2>; rel="next"'),)))
    served.route("/page2", Reply(body=second, fault="reset", cut=len(record(1)) + 7),
                 Reply(body=second))
    result = audit(cli, served, "/logs.jsonl")
    assert result.code == 0, result.err
    logs = inputs_of(result)[1]
    assert (logs["records"], logs["skipped"]) == (27, 0)
    assert logs["sha256"] == hashlib.sha256(first + b"\n" + second).hexdigest()
    assert logs["sha256"] == hashlib.sha256(LOGS).hexdigest()
    assert len(served.requests_to("/page2")) == 2


def test_urls_differing_only_in_a_secret_are_two_inputs(cli, served: FakeServer) -> None:
    served.handle("/logs.jsonl", lambda seen: Reply(
        body=LOGS[: len(record(1)) * (5 if seen.query["sig"] == ["AAA1"] else 7)]))
    result = cli("audit", "--no-config", "--keys", served.url("/keys.yaml"),
                 "--logs", served.url("/logs.jsonl?sig=AAA1"),
                 "--logs", served.url("/logs.jsonl?sig=BBB2"), "--as-of", "2026-11-27",
                 "--jobs", "1", "--format", "json", "--fail-on", "never", *FAST)
    assert result.code == 0, result.err
    shown = served.url("/logs.jsonl?sig=[redacted]")
    assert [(i["path"], i["records"]) for i in inputs_of(result)[1:]] == \
        [(shown, 5), (shown, 7)]
    result.assert_clean("AAA1", "BBB2")


# --- 11: header values are checked, never shown ---------------------------------------------

@pytest.mark.parametrize("bad", ["line1\nX-Injected: 1", "caf\u00e9-key"])
def test_a_header_value_that_cannot_be_sent_is_an_error(
        cli, served: FakeServer, monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("EXPORT_KEY", bad)
    result = cli("lint", "--no-config", "--keys", served.url("/keys.yaml"), "--header",
                 "X-Export-Key: @env:EXPORT_KEY", *FAST)
    assert result.code == 2
    assert result.err.strip() == (
        "scopeaudit: error: --header X-Export-Key: the value of EXPORT_KEY holds a character "
        "a header cannot carry (only visible ASCII, space and tab)")
    assert served.seen == []
    result.assert_clean(bad, "line1", "caf")


def test_a_token_that_cannot_be_sent_is_an_error(cli, served: FakeServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOPEAUDIT_HTTP_TOKEN", "tok\u00e9n-value")
    result = cli("lint", "--no-config", "--keys", served.url("/keys.yaml"), *FAST)
    assert result.code == 2
    assert "the value of SCOPEAUDIT_HTTP_TOKEN holds a character" in result.err
    result.assert_clean("tok\u00e9n-value")


# --- 14: userinfo and a token; URLs shown as given ------------------------------------------

def test_userinfo_and_a_token_for_the_same_url_is_an_error(cli, served: FakeServer,
                                                           token: str) -> None:
    url = served.url("/keys.yaml").replace("http://", "http://u:pw5555@")
    result = cli("lint", "--no-config", "--keys", url, *FAST)
    assert result.code == 2
    assert result.err.strip() == (
        f"scopeaudit: error: {served.url('/keys.yaml')}: the URL holds user:password and an "
        "Authorization (SCOPEAUDIT_HTTP_TOKEN or --header) applies to it too; give one of them")
    assert served.seen == []
    result.assert_clean(token, "pw5555")


@pytest.mark.parametrize(("url", "shown"), [
    ("https://h.example.test/x?q=a+b&flag&n=%20&sig=s3&b=1",
     "https://h.example.test/x?q=a+b&flag&n=%20&sig=[redacted]&b=1"),
    ("https://h.example.test/x?refresh_token=r1&X-Amz-Security-Token=t2",
     "https://h.example.test/x?refresh_token=[redacted]&X-Amz-Security-Token=[redacted]"),
])
def test_display_url_keeps_what_is_not_secret_as_given(url: str, shown: str) -> None:
    assert display_url(url) == shown
    assert redact_urls(f"at {url}: failed") == f"at {shown}: failed"


@pytest.mark.parametrize("tail", ["", ":", "]:", ").", ": failed"])
def test_a_url_shown_redacted_is_shown_the_same_again(tail: str) -> None:
    # every message passes redact_urls once more: "[redacted]" must not become "[redacted]]"
    shown = display_url("https://h.example.test/x?page=2&sig=s3cr3t")
    assert shown == "https://h.example.test/x?page=2&sig=[redacted]"
    assert redact_urls(f"at {shown}{tail}") == f"at {shown}{tail}"


@pytest.mark.parametrize(("text", "shown"), [
    ("fetch http://[::1]: refused", "fetch http://[::1]: refused"),
    ("(see http://[::1]/x?sig=s3).", "(see http://[::1]/x?sig=[redacted])."),
    ("[at http://h.example.test/x]", "[at http://h.example.test/x]"),
])
def test_a_bracket_of_the_url_is_the_urls_own(text: str, shown: str) -> None:
    # an IPv6 host's "]" used to be cut as punctuation: "<unparseable URL>]"
    assert redact_urls(text) == shown


# --- 15: one list of secret parameter names --------------------------------------------------

def test_the_readers_and_url_display_hide_the_same_parameters() -> None:
    resolver = KeyResolver(())
    for name in ("api_key", "access_token", "refresh_token", "X-Goog-Signature", "sig",
                 "password", "client_secret", "sessionid"):
        target, _, _ = resolver.scrub_target(f"/v1/issues?page=2&{name}=s3cr3t")
        assert target == f"/v1/issues?page=2&{name}=[redacted]", name
        assert display_url(f"https://h.example.test/v1/issues?page=2&{name}=s3cr3t") == \
            f"https://h.example.test/v1/issues?page=2&{name}=[redacted]"


# --- 7: what the probe copies from the server ------------------------------------------------

def test_the_probe_json_escapes_invisible_characters() -> None:
    from scopeaudit.catalog.loader import load_builtin
    from scopeaudit.lint import catalog_info
    from scopeaudit.probe.model import ProbeReport, Result, ScopeResult
    from scopeaudit.render.probe_view import render_probe_json, render_probe_table

    result = ScopeResult("users:read", "read", Result.UNVERIFIABLE, 418, "TEAPOT",
                         "GET /v1/users?limit=1", "HTTP 418 \x1b[2JI'm a teapot\u202e")
    report = ProbeReport("0", "https://api.example.test", "sha256:0", "live",
                         catalog_info(load_builtin()), (result,))
    doc = json.loads(render_probe_json(report))
    assert doc["scopes"][0]["reason"] == "HTTP 418 \\x1b[2JI'm a teapot\\u202e"
    table = render_probe_table(report)
    assert "\x1b" not in table and "\u202e" not in table

