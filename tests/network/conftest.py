"""Fixtures for the HTTP tests: loopback servers, fake credentials built at run time, and a
runner that captures everything the tool writes (stdout, stderr, log records) so each test
can assert that no credential appears anywhere."""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from network.awslocal import aws, moto_server  # noqa: F401 - fixtures of the S3/CloudWatch tests
from network.azurelocal import azure, azurite  # noqa: F401 - fixtures of the Azure Blob tests
from network.fakeserver import FakeServer
from network.gcslocal import gcs  # noqa: F401 - the fixture of the GCS tests
from network.support import KEYS, Result


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # No proxy from the environment, and no NO_PROXY either: a NO_PROXY=* here once hid
    # loopback traffic going to a proxy (test_http_security sets a proxy on purpose).
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy", "NO_PROXY", "no_proxy", "SCOPEAUDIT_HTTP_TOKEN",
                 "INSPAC_API_KEY", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)


# Host names a test makes resolve to a loopback address: a "remote" origin that is still
# served on this machine (see the `remote_name` fixture).
ALIASES: dict[str, str] = {}


@pytest.fixture
def remote_name() -> Iterator[str]:
    """A name that is not loopback by policy (is_loopback is False) but resolves to
    127.0.0.1 here, so a "remote" origin can be tested without leaving the machine."""
    ALIASES["remote.example.test"] = "127.0.0.1"
    yield "remote.example.test"
    ALIASES.clear()


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every connection and name lookup of these tests must stay on loopback: anything else
    is recorded (and refused) and fails the test."""
    strays: list[str] = []
    connect, lookup = socket.socket.connect, socket.getaddrinfo

    def guarded_connect(sock: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else str(address)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and \
                not ipaddress.ip_address(host).is_loopback:
            strays.append(f"connect {host}")
            raise ConnectionRefusedError("test guard: loopback only")
        connect(sock, address)  # type: ignore[arg-type]

    def guarded_lookup(host: object, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in ALIASES:
            return lookup(ALIASES[name], *args, **kwargs)  # type: ignore[arg-type]
        if name not in ("localhost", "127.0.0.1", "127.0.0.2", "127.0.0.3", "::1"):
            strays.append(f"lookup {name}")
            raise socket.gaierror("test guard: loopback only")
        return lookup(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)
    yield
    assert strays == [], "traffic left loopback"


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    """The log-input tests' key file (support.KEYS)."""
    path = tmp_path / "keys.yaml"
    path.write_text(KEYS)
    return path


@pytest.fixture
def server() -> Iterator[FakeServer]:
    srv = FakeServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def other_host() -> Iterator[FakeServer]:
    """Another origin: a different loopback address (and port)."""
    srv = FakeServer(host="127.0.0.2").start()
    yield srv
    srv.stop()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    from scopeaudit.cli import main

    def run(*args: str) -> Result:
        caplog.clear()
        with caplog.at_level(logging.DEBUG), pytest.raises(SystemExit) as exc:
            main(list(args))
        out, err = capsys.readouterr()
        code = exc.value.code
        logs = "\n".join(r.getMessage() for r in caplog.records)
        return Result(code if isinstance(code, int) else 0, out, err, logs)
    return run


class FakeTime:
    """A clock that a Fetcher sleeps on: sleeping advances it at once, and is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """Every Fetcher the run makes sleeps on a FakeTime: a test of waits takes no time."""
    from scopeaudit.http.client import Fetcher

    fake = FakeTime()
    defaults = dict(Fetcher.__init__.__kwdefaults__ or {})
    monkeypatch.setattr(Fetcher.__init__, "__kwdefaults__",
                        {**defaults, "sleep": fake.sleep, "clock": fake.monotonic})
    return fake
