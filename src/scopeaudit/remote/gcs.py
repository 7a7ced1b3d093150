"""Google Cloud Storage as an object store (remote.store): ``gs://BUCKET/KEY``.

Google's own credential library (google-auth, the extra ``scopeaudit[gcs]``) finds the
credentials in the standard chain (Application Default Credentials: a key file named by
GOOGLE_APPLICATION_CREDENTIALS, ``gcloud auth application-default login``, the metadata
server of GCE, GKE or Cloud Run) and signs the requests; the requests are the JSON API's own,
sent here, so that every part is pinned to the object's generation (``generation=`` and
``ifGenerationMatch=``), the stored bytes are read as they are (no transcoding), and
failures are retried by remote.retry, once. STORAGE_EMULATOR_HOST (Google's variable for a
local emulator) points the requests at one, without credentials, as Google's SDKs do.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from scopeaudit.errors import InputError
from scopeaudit.http.settings import HttpSettings
from scopeaudit.remote import store
from scopeaudit.remote.retry import Failure, call

if TYPE_CHECKING:
    from scopeaudit.remote.window import PullWindow

EXTRA = "scopeaudit[gcs]"
ENDPOINT = "https://storage.googleapis.com"
PAGE_SIZE = 1000  # objects a listing page (the API's own default and most)
READ_ONLY = "https://www.googleapis.com/auth/devstorage.read_only"
WORDS = store.Words(container="bucket", version="generation",
                    list_right="storage.objects.list on the bucket",
                    read_right="storage.objects.get")
# GCS says "slow down" with 429 and 503 (retried by status); these reasons come with others.
THROTTLING = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "backendError"})
_NO_CREDENTIALS = ("no Google Cloud credentials found in the standard chain "
                   "(GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, "
                   "the metadata server of GCE, GKE or Cloud Run)")


@dataclass(frozen=True)
class GsUrl:
    bucket: str
    key: str

    @property
    def url(self) -> str:
        return f"gs://{self.bucket}/{self.key}"


def parse_gs(url: str) -> GsUrl:
    """``gs://bucket/key`` (or ``gcs://``): the key is taken literally (``?`` is a glob
    character). Credentials in the URL are refused."""
    rest = url.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    if "@" in bucket:
        raise InputError("credentials in a gs:// URL are not accepted: they come from the "
                         "standard chain (GOOGLE_APPLICATION_CREDENTIALS, gcloud, the "
                         "metadata server)", file="gs://" + bucket.rsplit("@", 1)[1] + "/" + key)
    if not bucket:
        raise InputError("a gs:// URL needs a bucket: gs://BUCKET/KEY", file=url)
    return GsUrl(bucket, key)


class GcsHttpError(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.text())
        self.failure = failure


def _failure_of(exc: BaseException) -> Failure | None:
    import requests
    from google.auth.exceptions import RefreshError, TransportError
    from urllib3.exceptions import HTTPError as Urllib3Error

    if isinstance(exc, GcsHttpError):
        return exc.failure
    if isinstance(exc, RefreshError):
        return Failure("RefreshError", None, f"cannot get an access token: {exc}")
    if isinstance(exc, requests.RequestException | TransportError | Urllib3Error):
        return Failure(type(exc).__name__, None, str(exc), transient=True)
    return None


def _failure(response: Any) -> Failure:
    """A failed response's error (the JSON API's ``{"error": {...}}``, or its status)."""
    import json

    text = response.content.decode("utf-8", "replace")
    code, message = response.reason or "error", text.strip()[:200]
    try:
        error = json.loads(text)["error"]
        message = str(error.get("message", ""))
        reasons = [str(e.get("reason")) for e in error.get("errors", []) if e.get("reason")]
        code = reasons[0] if reasons else code
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    headers = {k.lower(): v for k, v in response.headers.items()}
    return Failure(code, response.status_code, message, headers=headers)


def _session(settings: HttpSettings) -> tuple[Any, str, Any]:
    """An authorised session from the standard chain, the API's endpoint, and the
    credentials (whose token is remembered as a secret)."""
    try:
        import google.auth
        from google.auth.credentials import AnonymousCredentials
        from google.auth.exceptions import DefaultCredentialsError
        from google.auth.transport.requests import AuthorizedSession
    except ImportError:
        raise InputError(f"gs:// inputs need the {EXTRA} extra: pip install '{EXTRA}'"
                         ) from None
    emulator = os.environ.get("STORAGE_EMULATOR_HOST", "").strip().rstrip("/")
    credentials: Any
    if emulator:
        endpoint = emulator if "://" in emulator else "http://" + emulator
        credentials = AnonymousCredentials()
    else:
        endpoint = ENDPOINT
        try:
            credentials, _ = google.auth.default(scopes=[READ_ONLY])
        except DefaultCredentialsError as exc:
            if os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise InputError("cannot use the credentials GOOGLE_APPLICATION_CREDENTIALS "
                                 f"names: {reason}") from None
            raise InputError(_NO_CREDENTIALS) from None
    session = AuthorizedSession(credentials)
    session.verify = settings.ca_bundle if settings.ca_bundle is not None else True
    return session, endpoint, credentials


class GcsStore:
    words = WORDS

    def __init__(self, bucket: str, settings: HttpSettings) -> None:
        self.container = bucket
        self._settings = settings
        self._session, endpoint, self._credentials = _session(settings)
        self._objects = f"{endpoint}/storage/v1/b/{quote(bucket, safe='')}/o"

    def url(self, key: str) -> str:
        return GsUrl(self.container, key).url

    def _get(self, url: str, params: dict[str, str], headers: dict[str, str] | None = None,
             stream: bool = False) -> Any:
        from scopeaudit.http.credentials import remember

        def send() -> Any:
            response = self._session.get(
                url, params=params, headers=headers, stream=stream,
                timeout=(self._settings.connect_timeout, self._settings.read_timeout))
            token = getattr(self._credentials, "token", None)
            if token:
                remember(str(token))
            if response.status_code >= 400:
                raise GcsHttpError(_failure(response))
            return response

        return call(send, self._settings, _failure_of, THROTTLING)

    def list_page(self, prefix: str, token: str | None
                  ) -> tuple[list[store.Listed], str | None]:
        params = {"prefix": prefix, "maxResults": str(PAGE_SIZE),
                  "fields": "items(name,size,updated),nextPageToken"}
        if token is not None:
            params["pageToken"] = token
        page = self._get(self._objects, params).json()
        listed = [store.Listed(str(o["name"]), int(o.get("size", 0)),
                               datetime.fromisoformat(str(o["updated"])))
                  for o in page.get("items", [])]
        following = page.get("nextPageToken")
        return listed, str(following) if following else None

    def _object(self, key: str) -> str:
        return f"{self._objects}/{quote(key, safe='')}"

    def head(self, key: str) -> store.Version:
        meta = self._get(self._object(key), {"fields": "generation,size"}).json()
        return store.Version(str(meta["generation"]), int(meta.get("size", 0)))

    def read_part(self, key: str, start: int, end: int, version: store.Version) -> Any:
        # generation= pins the read; ifGenerationMatch= makes a replaced object a 412 (a
        # bucket that keeps old versions would still serve the old one)
        response = self._get(self._object(key),
                             {"alt": "media", "generation": version.tag,
                              "ifGenerationMatch": version.tag},
                             {"Range": f"bytes={start}-{end - 1}",
                              "Accept-Encoding": "gzip"},  # the bytes as stored
                             stream=True)
        return _Body(response)

    def meaning(self, failure: Failure) -> store.Meaning:
        if failure.status == 412:
            return "changed"
        if failure.status == 404:
            return "missing"
        if failure.status in (401, 403):
            return "denied"
        return None

    def stream_failure(self, exc: BaseException) -> Failure | None:
        return _failure_of(exc)


class _Body:
    """A response's bytes as sent (never decoded: a gzip object is hashed as stored)."""

    def __init__(self, response: Any) -> None:
        self._response = response

    def read(self, n: int) -> bytes:
        return bytes(self._response.raw.read(n, decode_content=False))

    def close(self) -> None:
        self._response.close()


def expand_gs(pattern: str, settings: HttpSettings, window: PullWindow | None) -> list[str]:
    where = parse_gs(pattern)
    return store.expand(GcsStore(where.bucket, settings), where.key, window)


def open_gs(url: str, settings: HttpSettings) -> io.RawIOBase:
    where = parse_gs(url)
    return store.open_object(GcsStore(where.bucket, settings), where.key, settings)
