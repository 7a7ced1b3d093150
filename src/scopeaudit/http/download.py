"""Downloading an input completely, or not at all.

Every page is streamed into a spool (memory, then a temporary file) and checked before
anything reads it: the body must match its framing (httpx refuses a short Content-Length or
chunked body), a gzip body (by Content-Encoding or by content) must end where gzip says it
ends, and pagination must end. Only then is the spool handed to a reader, so a partial
download is an error and never analysed as if it were complete.
"""

from __future__ import annotations

import base64
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import orjson

from scopeaudit.compression import GZIP_MAGIC
from scopeaudit.errors import InputError
from scopeaudit.http.client import (
    Credentials,
    Fetcher,
    HttpFailure,
    refuse_loopback_from_remote,
    status_text,
)
from scopeaudit.http.credentials import TOKEN_ENV, env_secret, remember
from scopeaudit.http.policy import (
    check_url,
    display_url,
    is_url,
    origin,
    split_userinfo,
)
from scopeaudit.http.settings import HttpSettings
from scopeaudit.limits import MAX_DOCUMENT

_SPOOL_IN_MEMORY = 8 << 20
_MAX_ENVELOPE = 64 << 20  # a JSON page larger than this is not parsed as a cursor page
_ITEM_FIELDS = ("data", "items", "records", "results", "keys", "logs", "entries")


def credentials_for(url: str, settings: HttpSettings) -> tuple[str, Credentials]:
    """The URL without userinfo, and the credentials for its origin: SCOPEAUDIT_HTTP_TOKEN as
    a Bearer token (unless --http-token-origin names other origins), the --header values that
    apply to it, or the URL's own userinfo as Basic auth. Userinfo and another Authorization
    for the same URL is an error: which one the user meant cannot be guessed."""
    bare, userinfo = split_userinfo(url)
    where = origin(bare)
    headers: dict[str, str] = {}
    token = env_secret(TOKEN_ENV, header="Authorization")  # remembered even if not sent
    if token and (not settings.token_origins or where in settings.token_origins):
        headers["Authorization"] = f"Bearer {token}"
    for spec in settings.headers:
        if not spec.applies_to(where):
            continue
        for existing in [h for h in headers if h.lower() == spec.name.lower()]:
            del headers[existing]
        headers[spec.name] = spec.resolve()
    if userinfo is not None:
        user, password = userinfo
        remember(password)
        if any(h.lower() == "authorization" for h in headers):
            raise InputError("the URL holds user:password and an Authorization "
                             f"({TOKEN_ENV} or --header) applies to it too; give one of them",
                             file=display_url(url))
        basic = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        remember(basic)
        try:
            headers["Authorization"] = _header_safe(f"Basic {basic}")
        except ValueError:
            raise InputError("the URL's user:password cannot be sent", file=display_url(url)
                             ) from None
    return bare, Credentials(bare, headers)


def _header_safe(value: str) -> str:
    value.encode("ascii")
    return value


class _Decoder:
    """Content-Encoding: identity or gzip (the only one asked for). A gzip stream that stops
    before its end is an incomplete download."""

    def __init__(self, encoding: str, url: str) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._gzip: _Gunzip | None = None
        elif encoding in ("gzip", "x-gzip"):
            self._gzip = _Gunzip(keep=True)
        else:
            raise HttpFailure(f"unsupported Content-Encoding {encoding!r}", url)
        self._url = url

    def feed(self, data: bytes) -> bytes:
        if self._gzip is None:
            return data
        try:
            return self._gzip.feed(data)
        except zlib.error:
            raise _incomplete(self._url, "the gzip-encoded body is corrupt") from None

    def finish(self) -> None:
        if self._gzip is not None and not self._gzip.complete:
            raise _incomplete(self._url, "the gzip-encoded body ends early")


class _Gunzip:
    """Incremental gunzip of one or more members (concatenated pages stay valid gzip), in
    bounded steps so that a small compressed chunk cannot balloon in memory."""

    _STEP = 1 << 20

    def __init__(self, keep: bool, limit: int | None = None) -> None:
        self._d = zlib.decompressobj(wbits=31)
        self._keep = keep
        self._limit = limit
        self.size = 0
        self.complete = False

    def feed(self, data: bytes) -> bytes:
        """Raises zlib.error on corrupt data, OverflowError past ``limit``."""
        out: list[bytes] = []
        while data:
            chunk = self._d.decompress(data, self._STEP)
            self.size += len(chunk)
            if self._limit is not None and self.size > self._limit:
                raise OverflowError
            if self._keep:
                out.append(chunk)
            if self._d.unconsumed_tail:
                data = self._d.unconsumed_tail
            elif self._d.eof and self._d.unused_data:
                data = self._d.unused_data
                self._d = zlib.decompressobj(wbits=31)
            else:
                data = b""
        self.complete = self._d.eof
        return b"".join(out)


def _incomplete(url: str, what: str) -> HttpFailure:
    return HttpFailure(f"{what}: the download is incomplete, nothing was analysed", url)


@dataclass(frozen=True)
class PageInfo:
    url: str  # after redirects; may hold secrets, so never shown as it is
    content_type: str
    link_next: str | None


class _Sink:
    """Where page bodies go. ``begin``/``abort`` bracket one try, so a try that fails half-way
    leaves nothing behind; ``end`` checks the finished page and returns a JSON cursor."""

    def begin(self, url: str) -> None:
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def end(self, info: PageInfo, settings: HttpSettings) -> object:
        raise NotImplementedError


class SpoolSink(_Sink):
    """Log pages, concatenated in a spool: gzip pages as gzip members, text pages each
    starting on a new line, JSON cursor pages as one JSON record per line."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - returned
            max_size=_SPOOL_IN_MEMORY)
        self._start = 0
        self._head = b""
        self._tail = b"\n"
        self._start_tail = b"\n"
        self._check: _Gunzip | None = None
        self._corrupt = False
        self._gzip_pages: bool | None = None

    def begin(self, url: str) -> None:
        if self._tail != b"\n" and self._gzip_pages is False:
            # the previous page lacked a final newline; written once, before this page's
            # first try, so a retried try (abort, begin) does not write a second one
            self.file.write(b"\n")
            self._tail = b"\n"
        self._start = self.file.tell()
        self._start_tail = self._tail
        self._head = b""
        self._check = None
        self._corrupt = False

    def write(self, data: bytes) -> None:
        if not data:
            return
        if len(self._head) < 2:
            self._head += data[:2 - len(self._head)]
            if len(self._head) == 2 and self._head == GZIP_MAGIC:
                self._check = _Gunzip(keep=False)
        if self._check is not None and not self._corrupt:
            try:
                self._check.feed(data)
            except zlib.error:
                self._corrupt = True  # reported by end(), which knows the page
        self.file.write(data)
        self._tail = data[-1:]

    def abort(self) -> None:
        self.file.seek(self._start)
        self.file.truncate()
        self._tail = self._start_tail  # as if the failed try never wrote anything

    def end(self, info: PageInfo, settings: HttpSettings) -> object:
        is_gzip = self._check is not None
        if self._corrupt:
            raise _incomplete(info.url, "the gzip data is corrupt")
        if self._check is not None and not self._check.complete:
            raise _incomplete(info.url, "the gzip data ends early")
        if self._gzip_pages is not None and self._gzip_pages != is_gzip and \
                self.file.tell() > self._start:
            raise HttpFailure("the pages mix gzip and plain bodies", info.url)
        if self.file.tell() > self._start:
            self._gzip_pages = is_gzip
        if is_gzip or self.file.tell() - self._start > _MAX_ENVELOPE:
            return None
        self.file.seek(self._start)
        envelope = json_envelope(self.file.read(), settings)
        if envelope is None:
            return None
        items, cursor = envelope
        self.file.seek(self._start)
        self.file.truncate()
        for item in items:
            self.file.write(orjson.dumps(item) + b"\n")
        self._tail = b"\n"
        return cursor


class MemorySink(_Sink):
    """A key file's pages, kept whole (key files are small)."""

    def __init__(self, url: str) -> None:
        self.pages: list[bytes] = []
        self.content_type = ""
        self._url = url
        self._buffer: list[bytes] = []
        self._size = 0

    def begin(self, url: str) -> None:
        self._buffer = []

    def write(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > MAX_DOCUMENT:
            raise HttpFailure(f"larger than {MAX_DOCUMENT >> 20} MiB; not a key file?",
                              self._url)
        self._buffer.append(data)

    def abort(self) -> None:
        self._size -= sum(len(b) for b in self._buffer)
        self._buffer = []

    def end(self, info: PageInfo, settings: HttpSettings) -> object:
        page = b"".join(self._buffer)
        if page[:2] == GZIP_MAGIC:
            gunzip = _Gunzip(keep=True, limit=MAX_DOCUMENT)
            try:
                page = gunzip.feed(page)
            except zlib.error:
                raise _incomplete(info.url, "the gzip data is corrupt") from None
            except OverflowError:
                raise HttpFailure(f"larger than {MAX_DOCUMENT >> 20} MiB uncompressed; not a "
                                  "key file?", info.url) from None
            if not gunzip.complete:
                raise _incomplete(info.url, "the gzip data ends early")
        self.pages.append(page)
        if not self.content_type:
            self.content_type = info.content_type
        envelope = json_envelope(page, settings)
        return None if envelope is None else envelope[1]


def json_envelope(data: bytes, settings: HttpSettings) -> tuple[list[Any], object] | None:
    """(items, next) when ``data`` is one JSON object holding the next field (even null) and
    a list of items; None for anything else (it is then read as it is)."""
    if data.lstrip()[:1] != b"{":
        return None
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(doc, dict):
        return None
    found, cursor = _dotted(doc, settings.next_field)
    if not found:
        return None
    if settings.items_field is not None:
        has_items, items = _dotted(doc, settings.items_field)
        return (items, cursor) if has_items and isinstance(items, list) else None
    for name in _ITEM_FIELDS:
        if isinstance(doc.get(name), list):
            return doc[name], cursor
    return None


def _dotted(doc: dict[str, Any], path: str) -> tuple[bool, object]:
    value: object = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _next_from_cursor(cursor: object, page_url: str, first_url: str,
                      settings: HttpSettings) -> str | None:
    if cursor is None or cursor is False or cursor == "":
        return None
    if isinstance(cursor, str) and (is_url(cursor) or cursor.startswith(("/", "?"))):
        return urljoin(page_url, cursor)
    if not isinstance(cursor, str | int):
        raise HttpFailure(f"the JSON field {settings.next_field!r} is neither a URL nor a "
                          "cursor", page_url)
    parts = urlsplit(first_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k != settings.cursor_param]
    query.append((settings.cursor_param, str(cursor)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _read_page(sink: _Sink) -> Callable[[httpx.Response, str], PageInfo]:
    def consume(response: httpx.Response, final_url: str) -> PageInfo:
        if not 200 <= response.status_code < 300 or response.status_code == 206:
            hint = (" (check SCOPEAUDIT_HTTP_TOKEN or --header)"
                    if response.status_code in (401, 403) else "")
            raise HttpFailure(f"{status_text(response)}{hint}", final_url,
                              status=response.status_code)
        encoding = response.headers.get("content-encoding", "")
        decoder = _Decoder(encoding, final_url)
        # Without Content-Length or chunked framing the body ends when the connection closes,
        # so a cut connection looks like a complete body: only gzip, which knows where it
        # ends, can be trusted then.
        framed = "content-length" in response.headers or "chunked" in \
            response.headers.get("transfer-encoding", "").lower()
        head = b""
        sink.begin(final_url)
        try:
            for raw in response.iter_raw():
                if len(head) < 2:
                    head += raw[:2 - len(head)]
                sink.write(decoder.feed(raw))
            decoder.finish()
            if not framed and head and not (encoding.strip().lower() in ("gzip", "x-gzip")
                                            or head == GZIP_MAGIC):
                raise HttpFailure("the response has neither a Content-Length nor chunked "
                                  "framing, so a cut connection cannot be told from its end; "
                                  "refusing it (a gzip body, which checks itself, would be "
                                  "accepted)", final_url, status=response.status_code)
        except BaseException:
            sink.abort()
            raise
        link = next((found.get("url") for found in response.links.values()
                     if "next" in found.get("rel", "").lower().split()), None)
        return PageInfo(final_url, response.headers.get("content-type", ""),
                        urljoin(final_url, link) if link else None)
    return consume


def fetch_pages(url: str, settings: HttpSettings, sink: _Sink,
                fetcher_factory: Callable[[Credentials], Fetcher] | None = None) -> int:
    """Every page of ``url`` into ``sink`` (Link rel="next", else the JSON cursor); returns
    the number of pages. A loop or more than ``max_pages`` pages stops the run."""
    check_url(url, settings.allow_insecure_http)
    bare, credentials = credentials_for(url, settings)
    make = fetcher_factory or (lambda c: Fetcher(settings, c))
    seen: set[str] = set()
    current = bare
    pages = 0
    with make(credentials) as fetcher:
        while True:
            if current in seen:
                raise HttpFailure(f"pagination loops: page {pages + 1} is "
                                  f"{display_url(current)}, fetched before", url)
            seen.add(current)
            info = fetcher.get(current, _read_page(sink))
            pages += 1
            cursor = sink.end(info, settings)
            following = info.link_next or _next_from_cursor(cursor, info.url, bare, settings)
            if following is None:
                return pages
            refuse_loopback_from_remote(info.url, following, url)
            if pages >= settings.max_pages:
                raise HttpFailure(f"more than {settings.max_pages} pages (--http-max-pages); "
                                  "stopping: a pagination loop?", url)
            current = following


def download_log(url: str, settings: HttpSettings) -> IO[bytes]:
    """The whole input (every page) in a spool, positioned at its start."""
    sink = SpoolSink()
    try:
        fetch_pages(url, settings, sink)
    except BaseException:
        sink.file.close()
        raise
    sink.file.seek(0)
    return sink.file


@dataclass(frozen=True)
class Document:
    pages: tuple[bytes, ...]
    content_type: str


def download_document(url: str, settings: HttpSettings) -> Document:
    sink = MemorySink(url)
    fetch_pages(url, settings, sink)
    return Document(tuple(sink.pages), sink.content_type)
