"""TLS verification stays on: a server with a certificate nobody trusts is refused (without
retrying, and before any request reaches it) unless --ca-bundle names its CA."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from network.fakeserver import FakeServer, Reply
from network.support import FAST, fake_token

KEYS = b"keys:\n  - id: k1\n    owner: o\n    expires: 2027-12-31\n    scopes: [issues:read]\n"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed certificate for 127.0.0.1, made at run time with the openssl tool."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
                   check=True, capture_output=True)
    return folder


@pytest.fixture
def https_server(certificate: Path) -> Iterator[FakeServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate / "cert.pem", certificate / "key.pem")
    srv = FakeServer(tls=context).start()
    srv.route("/keys.yaml", Reply(body=KEYS))
    yield srv
    srv.stop()


def test_an_untrusted_certificate_is_refused(cli, https_server: FakeServer,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    token = fake_token()
    monkeypatch.setenv("SCOPEAUDIT_HTTP_TOKEN", token)
    result = cli("lint", "--no-config", "--keys", https_server.url("/keys.yaml"), *FAST)
    assert result.code == 2
    assert result.err.strip() == (
        f"scopeaudit: error: {https_server.url('/keys.yaml')}: TLS certificate verification "
        "failed (is --ca-bundle needed?)")
    assert https_server.seen == []  # the request (and its credential) never left the client
    result.assert_clean(token)


def test_ca_bundle_trusts_the_server(cli, https_server: FakeServer, certificate: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    token = fake_token()
    monkeypatch.setenv("SCOPEAUDIT_HTTP_TOKEN", token)
    result = cli("lint", "--no-config", "--keys", https_server.url("/keys.yaml"), "--as-of",
                 "2026-11-27", "--ca-bundle", str(certificate / "cert.pem"), *FAST)
    assert result.code == 0
    [seen] = https_server.seen
    assert seen.headers["authorization"] == f"Bearer {token}"
    result.assert_clean(token)


def test_a_missing_ca_bundle_is_an_error(cli, https_server: FakeServer, tmp_path: Path) -> None:
    result = cli("lint", "--no-config", "--keys", https_server.url("/keys.yaml"),
                 "--ca-bundle", str(tmp_path / "none.pem"), *FAST)
    assert result.code == 2
    assert result.err.startswith(f"scopeaudit: error: {tmp_path / 'none.pem'}: cannot load "
                                 "the CA bundle")
