"""A real S3 / CloudWatch Logs API on 127.0.0.1 (moto's server mode) behind a fault proxy,
and the environment that points the tool at it: a fake credential chain, a fixed region,
no instance metadata, no shared config. Nothing here can reach AWS."""

from __future__ import annotations

import secrets
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from network.awsproxy import AwsProxy


@dataclass(frozen=True)
class AwsLocal:
    proxy: AwsProxy
    admin: Any  # an S3 client straight to moto, for setting up (never through the proxy)
    logs_admin: Any  # the same for CloudWatch Logs
    access_key: str
    secret_key: str
    session_token: str

    @property
    def secrets(self) -> tuple[str, str, str]:
        return self.access_key, self.secret_key, self.session_token


@pytest.fixture(scope="session")
def moto_server() -> Iterator[tuple[str, int]]:
    pytest.importorskip("moto.server")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield host, port
    server.stop()


@pytest.fixture
def aws(moto_server: tuple[str, int], monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsLocal]:
    import boto3

    host, port = moto_server
    direct = f"http://{host}:{port}"
    request = urllib.request.Request(f"{direct}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    access_key = "AKIA" + secrets.token_hex(8).upper()
    secret_key = secrets.token_urlsafe(30)
    session_token = secrets.token_urlsafe(40)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_REGION", "AWS_ENDPOINT_URL_S3",
                 "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"):
        monkeypatch.delenv(name, raising=False)
    proxy = AwsProxy((host, port)).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", session_token)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    kwargs = {"endpoint_url": direct, "region_name": "us-east-1",
              "aws_access_key_id": "admin", "aws_secret_access_key": "admin"}
    yield AwsLocal(proxy, boto3.client("s3", **kwargs), boto3.client("logs", **kwargs),
                   access_key, secret_key, session_token)
    proxy.stop()
