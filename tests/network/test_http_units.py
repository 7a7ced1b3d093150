"""The pure parts of the HTTP layer: URL display, the waits a server asks for, header specs,
redaction of log records."""

from __future__ import annotations

import logging
from email.utils import formatdate

import pytest

from network.support import fake_token
from scopeaudit.errors import InputError
from scopeaudit.http.credentials import (
    HeaderSpec,
    RedactingFilter,
    parse_header,
    redact_text,
    remember,
    secret_scope,
)
from scopeaudit.http.policy import check_url, display_url, is_loopback, origin
from scopeaudit.http.retry import backoff_wait, server_wait
from scopeaudit.http.settings import HttpSettings


@pytest.mark.parametrize(("url", "shown"), [
    ("https://u:p@logs.example.test/a.jsonl", "https://logs.example.test/a.jsonl"),
    ("https://b.s3.example.test/k.jsonl.gz?X-Amz-Credential=AK%2F1&X-Amz-Date=20261127"
     "&X-Amz-Signature=abc",
     "https://b.s3.example.test/k.jsonl.gz?X-Amz-Credential=[redacted]&X-Amz-Date=20261127"
     "&X-Amz-Signature=[redacted]"),
    ("https://x.example.test/e?sv=2022&sig=s3cr3t&se=2026",
     "https://x.example.test/e?sv=2022&sig=[redacted]&se=2026"),
    ("https://acct.blob.core.windows.net/logs/a.gz?sv=2024-11-04&sp=r&se=2027-01-01&sig=s3",
     "https://acct.blob.core.windows.net/logs/a.gz"),  # an Azure SAS: the query goes whole
    ("https://x.example.test/e?api_key=1&page=2#frag",
     "https://x.example.test/e?api_key=[redacted]&page=2"),
    ("http://[::1]:8080/x", "http://[::1]:8080/x"),
])
def test_display_url(url: str, shown: str) -> None:
    assert display_url(url) == shown


def test_a_token_anywhere_in_a_url_is_hidden() -> None:
    token = fake_token()
    shown = display_url(f"https://h.example.test/{token}/logs?q={token}")
    assert token not in shown


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("LOCALHOST.", True), ("10.0.0.1", False),
    # *.localhost goes to the resolver, which may answer anything
    ("api.localhost", False), ("localhost.", True), ("127.0.0.1.example.test", False),
    ("localhost.example.test", False), ("api.insp.ac", False),
])
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_url_policy() -> None:
    check_url("https://api.insp.ac/v1", False)
    check_url("http://127.0.0.1:8080/x", False)
    check_url("http://logs.example.test/x", True)
    for bad in ("http://logs.example.test/x", "ftp://h/x", "file:///etc/passwd", "https:///x"):
        with pytest.raises(InputError):
            check_url(bad, False)
    assert origin("https://H.example.test/a") == origin("https://h.example.test:443/b")
    assert origin("http://127.0.0.1:1/") != origin("http://127.0.0.1:2/")


def test_server_wait() -> None:
    now = 1_800_000_000.0
    assert server_wait({"retry-after": "7"}, 503, now) == 7.0
    assert server_wait({"retry-after": formatdate(now + 30, usegmt=True)}, 503, now) == \
        pytest.approx(30, abs=1)
    # insp.ac: seconds until the reset on a 429 ...
    assert server_wait({"x-ratelimit-reset": "12", "x-ratelimit-remaining": "0"}, 429, now) == 12
    # ... also when a gateway sends an epoch instead
    assert server_wait({"x-ratelimit-reset": str(int(now) + 5)}, 429, now) == 5
    # a 5xx with budget left: the client's own backoff
    assert server_wait({"x-ratelimit-reset": "12", "x-ratelimit-remaining": "3"}, 503, now) \
        is None
    assert server_wait({}, 429, now) is None
    settings = HttpSettings(backoff=1.0, backoff_max=5.0)
    assert [backoff_wait(n, settings) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]


def test_header_specs() -> None:
    assert parse_header("X-Api-Key: @env:ORG_KEY") == HeaderSpec("X-Api-Key", env="ORG_KEY")
    assert parse_header("X-Tenant:  north ") == HeaderSpec("X-Tenant", value="north")
    token = fake_token()
    for refused, secret in (("Authorization: Bearer abc123", "abc123"),
                            ("X-Api-Key: abc123", "abc123"), ("Cookie: s=zz99", "zz99"),
                            (f"X-Note: {token}", token)):
        with pytest.raises(InputError) as exc:
            parse_header(refused)
        assert "must come from the environment" in exc.value.message
        assert secret not in exc.value.message
    for malformed in ("no colon", "Bad Name: x"):
        with pytest.raises(InputError):
            parse_header(malformed)


def test_redaction_of_log_records() -> None:
    secret = "pw-" + fake_token()[8:]
    with secret_scope() as known:
        remember(secret)
        record = logging.LogRecord("httpx", logging.INFO, __file__, 1,
                                   'HTTP Request: %s %s "%s"', ("GET",
                                   f"https://u:{secret}@h.example.test/x?token=abc&page=2",
                                   secret), None)
        RedactingFilter(known).filter(record)
        message = record.getMessage()
        assert secret not in message and "abc" not in message
        assert "https://h.example.test/x?token=[redacted]&page=2" in message
        assert redact_text(f"Bearer {fake_token()}").startswith("Bearer …[sha256:")
        assert redact_text(secret) == "[redacted]"
        # the filter is on httpx's loggers for the scope's lifetime only
        assert any(isinstance(f, RedactingFilter) for f in logging.getLogger("httpx").filters)
    assert not any(isinstance(f, RedactingFilter) for f in logging.getLogger("httpx").filters)
    # outside the run, its secrets are forgotten
    assert redact_text(secret) == secret
