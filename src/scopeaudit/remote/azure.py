"""Azure Blob Storage as an object store (remote.store), through Microsoft's SDK
(azure-storage-blob, with azure-identity: the extra ``scopeaudit[azure]``).

URLs: ``az://CONTAINER/KEY`` (the account from the environment), or with the account
named: ``az://CONTAINER@ACCOUNT.blob.core.windows.net/KEY``,
``abfs[s]://CONTAINER@ACCOUNT.dfs.core.windows.net/KEY`` (a Data Lake Gen2 account is read
through its Blob endpoint). Credentials come from the standard chain only, as the Azure CLI
reads it: AZURE_STORAGE_CONNECTION_STRING; else AZURE_STORAGE_ACCOUNT with
AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN; else azure-identity's DefaultAzureCredential
(a service principal or workload identity from the environment, a managed identity, the Azure
CLI's login). A SAS in the URL itself is refused, and the URL is shown without its query.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from scopeaudit.errors import InputError
from scopeaudit.http.settings import HttpSettings
from scopeaudit.remote import store
from scopeaudit.remote.retry import Failure, call

if TYPE_CHECKING:
    from scopeaudit.remote.window import PullWindow

EXTRA = "scopeaudit[azure]"
WORDS = store.Words(container="container", version="ETag",
                    list_right="the Storage Blob Data Reader role, or a SAS with list "
                               "permission",
                    read_right="the Storage Blob Data Reader role, or a SAS with read "
                               "permission")
PAGE_SIZE: int | None = None  # blobs a listing page (None: the service's own, 5,000)
THROTTLING = frozenset({"ServerBusy", "OperationTimedOut", "InternalError"})
_ACCOUNT_HOST = re.compile(r"^([a-z0-9]{3,24})\.(?:blob|dfs)\.core\.windows\.net$", re.I)
# A query that is a SAS (its signature), not a glob's '?': cut off wherever it appears.
_SAS = re.compile(r"\?(?=[^/]*\bsig=)")
_NO_ACCOUNT = ("an az:// URL without an account needs AZURE_STORAGE_CONNECTION_STRING or "
               "AZURE_STORAGE_ACCOUNT in the environment (or name the account: "
               "az://CONTAINER@ACCOUNT.blob.core.windows.net/KEY)")


@dataclass(frozen=True)
class AzUrl:
    scheme: str  # as written: az, abfs or abfss
    container: str
    host: str | None  # ACCOUNT.blob.core.windows.net as written; None: from the environment
    key: str

    @property
    def account(self) -> str | None:
        match = _ACCOUNT_HOST.match(self.host or "")
        return match.group(1).lower() if match else None

    def with_key(self, key: str) -> AzUrl:
        return AzUrl(self.scheme, self.container, self.host, key)

    @property
    def url(self) -> str:
        where = f"{self.container}@{self.host}" if self.host else self.container
        return f"{self.scheme}://{where}/{self.key}"


def without_query(url: str) -> str:
    """An az:// URL as it may be shown: without a SAS query."""
    match = _SAS.search(url)
    return url[:match.start()] if match else url


def parse_az(url: str) -> AzUrl:
    scheme, _, rest = url.partition("://")
    shown = without_query(url)
    if shown != url:
        raise InputError("a SAS in an az:// URL is not accepted: credentials come from the "
                         "standard chain (AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_"
                         "TOKEN, a managed identity, the Azure CLI's login)", file=shown)
    where, _, key = rest.partition("/")
    container, at, host = where.partition("@")
    if at and not _ACCOUNT_HOST.match(host):
        # what stands before the '@' may be a credential: it is not shown
        raise InputError("the account must be named by its host: "
                         f"{scheme}://CONTAINER@ACCOUNT.blob.core.windows.net/KEY "
                         "(credentials in the URL are not accepted)",
                         file=f"{scheme}://{host}/{key}")
    if not container:
        raise InputError(f"a {scheme}:// URL needs a container: {scheme}://CONTAINER/KEY",
                         file=url)
    return AzUrl(scheme.lower(), container, host or None, key)


def _connection_account(connection: str) -> str | None:
    for field in connection.split(";"):
        name, _, value = field.partition("=")
        if name.strip().lower() == "accountname":
            return value.strip().lower()
    return None


def _service(where: AzUrl, settings: HttpSettings) -> Any:
    """A BlobServiceClient from the standard chain, its retries off (remote.retry retries)."""
    try:
        from azure.storage.blob import BlobServiceClient
    except ImportError:
        raise InputError(f"az:// and abfs:// inputs need the {EXTRA} extra: pip install "
                         f"'{EXTRA}'") from None
    from scopeaudit.http.credentials import remember

    options: dict[str, Any] = {
        "retry_total": 0, "connection_timeout": settings.connect_timeout,
        "read_timeout": settings.read_timeout,
        "max_single_get_size": 4 << 20, "max_chunk_get_size": 4 << 20,
        "connection_verify": settings.ca_bundle if settings.ca_bundle is not None else True}
    connection = os.environ.get("AZURE_STORAGE_CONNECTION_STRING", "").strip()
    if connection and where.account in (None, _connection_account(connection)):
        for field in connection.split(";"):
            name, _, value = field.partition("=")
            if name.strip().lower() in ("accountkey", "sharedaccesssignature"):
                remember(value.strip())
        try:
            return BlobServiceClient.from_connection_string(connection, **options)
        except ValueError:
            raise InputError("AZURE_STORAGE_CONNECTION_STRING is not a valid connection "
                             "string") from None
    account = where.account or os.environ.get("AZURE_STORAGE_ACCOUNT", "").strip().lower()
    if not account:
        raise InputError(_NO_ACCOUNT, file=where.url)
    credential: Any
    key = os.environ.get("AZURE_STORAGE_KEY", "").strip()
    sas = os.environ.get("AZURE_STORAGE_SAS_TOKEN", "").strip()
    if key:
        remember(key)
        credential = {"account_name": account, "account_key": key}
    elif sas:
        remember(sas.lstrip("?"))
        for field in sas.lstrip("?").split("&"):  # its signature, wherever it is quoted alone
            name, _, value = field.partition("=")
            if name == "sig":
                remember(value)
                remember(unquote(value))
        credential = sas
    else:
        try:
            from azure.identity import DefaultAzureCredential
        except ImportError:
            raise InputError(f"az:// inputs without a key or SAS in the environment need "
                             f"azure-identity, part of the {EXTRA} extra: pip install "
                             f"'{EXTRA}'") from None
        credential = DefaultAzureCredential()
    return BlobServiceClient(f"https://{account}.blob.core.windows.net",
                             credential=credential, **options)


def _failure_of(exc: BaseException) -> Failure | None:
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        IncompleteReadError,
        ServiceRequestError,
        ServiceResponseError,
    )

    if isinstance(exc, ClientAuthenticationError) and exc.status_code is None:
        # azure-identity found no credential (or could not get a token): not retried
        return Failure("no Azure credentials", None, _first_line(exc.message))
    if isinstance(exc, HttpResponseError):
        response: Any = exc.response
        headers = {str(k).lower(): str(v) for k, v in response.headers.items()} \
            if response is not None else {}
        code = str(headers.get("x-ms-error-code") or
                   getattr(getattr(exc, "error_code", None), "value", None) or
                   getattr(response, "reason", None) or "error")
        return Failure(code, exc.status_code, _first_line(exc.message), headers=headers)
    if isinstance(exc, ServiceRequestError | ServiceResponseError | IncompleteReadError):
        return Failure(type(exc).__name__, None, _first_line(str(exc)), transient=True)
    return None


def _first_line(text: str | None) -> str:
    # the SDK's messages run on with RequestId, Time and the error body: its first line says it
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


class AzureStore:
    words = WORDS

    def __init__(self, where: AzUrl, settings: HttpSettings) -> None:
        self.container = where.container
        self._where = where
        self._settings = settings
        self._client = _service(where, settings).get_container_client(where.container)

    def url(self, key: str) -> str:
        return self._where.with_key(key).url

    def list_page(self, prefix: str, token: str | None
                  ) -> tuple[list[store.Listed], str | None]:
        def page() -> tuple[list[store.Listed], str | None]:
            pages = self._client.list_blobs(name_starts_with=prefix or None,
                                              results_per_page=PAGE_SIZE,
                                              include=["metadata"]).by_page(
                continuation_token=token)
            # a Data Lake Gen2 account lists its directories as empty blobs marked
            # hdi_isfolder: a glob such as **/* must not read them as empty log files
            listed = [store.Listed(b.name, int(b.size or 0), b.last_modified)
                      for b in next(pages)
                      if (b.metadata or {}).get("hdi_isfolder", "").lower() != "true"]
            return listed, pages.continuation_token or None

        return call(page, self._settings, _failure_of, THROTTLING)

    def head(self, key: str) -> store.Version:
        properties = call(lambda: self._client.get_blob_client(key).get_blob_properties(),
                          self._settings, _failure_of, THROTTLING)
        return store.Version(str(properties.etag), int(properties.size or 0))

    def read_part(self, key: str, start: int, end: int, version: store.Version) -> Any:
        from azure.core import MatchConditions

        return _Body(call(lambda: self._client.get_blob_client(key).download_blob(
            offset=start, length=end - start, etag=version.tag,
            match_condition=MatchConditions.IfNotModified, max_concurrency=1,
            decompress=False),  # the bytes as stored: gzip is read (and hashed) by content
            self._settings, _failure_of, THROTTLING))

    def meaning(self, failure: Failure) -> store.Meaning:
        if failure.status == 412 or failure.code == "ConditionNotMet":
            return "changed"
        if failure.status == 404:
            return "missing"
        if failure.status in (401, 403):
            return "denied"
        return None

    def stream_failure(self, exc: BaseException) -> Failure | None:
        return _failure_of(exc)


class _Body:
    """A download's bytes as the reader asks for them (the downloader has no close: the
    part's last response is read to its end, or dropped with it)."""

    def __init__(self, downloader: Any) -> None:
        self._downloader = downloader

    def read(self, n: int) -> bytes:
        return bytes(self._downloader.read(n))

    def close(self) -> None:
        self._downloader = None


def expand_az(pattern: str, settings: HttpSettings, window: PullWindow | None
              ) -> list[str]:
    where = parse_az(pattern)
    return store.expand(AzureStore(where, settings), where.key, window)


def open_az(url: str, settings: HttpSettings) -> io.RawIOBase:
    where = parse_az(url)
    return store.open_object(AzureStore(where, settings), where.key, settings)
