"""A real Azure Blob Storage API on 127.0.0.1 (Azurite, from npm: .ci/run installs it in
.ci/node) behind the loopback fault proxy, and the environment that points the tool at it
(AZURE_STORAGE_CONNECTION_STRING, the Azure CLI's own variable). Nothing here can reach
Azure."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from network.awsproxy import AwsProxy
from network.gcslocal import free_port

ACCOUNT = "devstoreaccount1"
# Azurite's published development key (the same in every Azurite): not a secret, but
# treated as one by the tests, which check that it is never shown.
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
               "KBHBeksoGMGw==")
_LOCAL = Path(__file__).resolve().parents[2] / ".ci" / "node" / "node_modules" / ".bin"


def _azurite() -> str:
    local = _LOCAL / "azurite-blob"
    if local.exists():
        return str(local)
    found = shutil.which("azurite-blob")
    if found is None:
        if os.environ.get("CI"):  # CI installs it: its absence there is a failure
            pytest.fail("Azurite is not installed in .ci/node", pytrace=False)
        pytest.skip("Azurite is not installed (.ci/run installs it: npm install --prefix "
                    ".ci/node azurite)")
    return found


def connection_string(blob_endpoint: str) -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={blob_endpoint}/{ACCOUNT};")


@dataclass(frozen=True)
class AzureLocal:
    proxy: AwsProxy
    admin: Any  # a ContainerClient factory straight to Azurite: admin.get_container_client


@pytest.fixture(scope="session")
def azurite() -> Iterator[str]:
    """One Azurite for the session (Node starts in a second or two); each test uses
    containers of its own."""
    command = _azurite()
    port = free_port()
    # its debug log and extent files would go to the working folder: a temporary one
    with tempfile.TemporaryDirectory() as folder:
        process = subprocess.Popen(
            [command, "--blobHost", "127.0.0.1", "--blobPort", str(port),
             "--inMemoryPersistence", "--silent", "--skipApiVersionCheck",
             "--disableProductStyleUrl"],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        direct = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{direct}/{ACCOUNT}?comp=list", timeout=2).close()
                    break
                except urllib.error.HTTPError:
                    break  # it answers (403: the request is not signed)
                except (urllib.error.URLError, OSError):
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("Azurite did not start") from None
                    time.sleep(0.1)
            yield direct
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture
def azure(azurite: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AzureLocal]:
    from azure.storage.blob import BlobServiceClient

    admin = BlobServiceClient.from_connection_string(connection_string(azurite))
    for container in admin.list_containers():
        admin.delete_container(container.name)
    proxy = AwsProxy(("127.0.0.1", int(azurite.rsplit(":", 1)[1]))).start()
    for name in ("AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN",
                 "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
                 "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", connection_string(proxy.url))
    yield AzureLocal(proxy, admin)
    proxy.stop()
