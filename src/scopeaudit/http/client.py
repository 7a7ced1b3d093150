"""One GET with everything around it: timeouts, retries with backoff and jitter, the
server's Retry-After and X-RateLimit-* headers, TLS verification and redirects that never
carry a credential to another origin.

Redirects are followed here rather than by httpx: httpx drops ``Authorization`` on a
cross-origin redirect but keeps custom headers (``X-Api-Key: …``), so credentials are added
per hop, and only to the origin they were given for.

Proxies: loopback targets and plain http are always sent directly, never through a proxy
(a proxy named in HTTP_PROXY would otherwise see the Bearer token of a loopback request in
clear). Only https to other hosts goes through the HTTPS_PROXY (or ALL_PROXY) of the
environment, honouring NO_PROXY; TLS through it is end to end, verified as always.
"""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from scopeaudit import __version__
from scopeaudit.errors import InputError
from scopeaudit.http.credentials import redact_known, secret_scope
from scopeaudit.http.policy import check_url, display_url, is_loopback, origin
from scopeaudit.http.retry import (
    RETRY_STATUSES,
    backoff_wait,
    jitter,
    reset_seconds,
    server_wait,
)
from scopeaudit.http.settings import HttpSettings
from scopeaudit.visible import one_line

T = TypeVar("T")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class HttpFailure(InputError):
    """A request that could not be completed: after every try, or at once when trying again
    cannot help (TLS verification, a refused redirect). Names the URL without credentials."""

    def __init__(self, message: str, url: str, *, status: int | None = None,
                 tries: int = 1) -> None:
        super().__init__(message, file=display_url(url))
        self.status = status
        self.tries = tries


class Credentials:
    """Headers that carry credentials, bound to one origin. Its repr never shows them."""

    def __init__(self, url: str, headers: Mapping[str, str]) -> None:
        self.origin = origin(url)
        self._headers = dict(headers)

    def for_url(self, url: str) -> dict[str, str]:
        return dict(self._headers) if origin(url) == self.origin else {}

    def __repr__(self) -> str:
        return f"Credentials(origin={self.origin!r}, headers=[{len(self._headers)} hidden])"


def status_text(response: httpx.Response) -> str:
    """``HTTP 503 Service Unavailable``: the reason phrase is the server's, so it is
    redacted (a server may echo ``Bearer <key>``), its invisible characters are shown as
    escapes and it is cut short, never printed as it came. Redacted before the cut: half a
    token is no longer recognisable as one."""
    reason = one_line(redact_known(response.reason_phrase), 60)
    return f"HTTP {response.status_code} {reason}".rstrip()


def refuse_loopback_from_remote(current: str, target: str, url: str) -> None:
    """A redirect or next page from a remote origin to a loopback address is refused: a
    remote server must not steer the tool at services on this machine (SSRF)."""
    here, there = urlsplit(current).hostname or "", urlsplit(target).hostname or ""
    if not is_loopback(here) and is_loopback(there):
        raise HttpFailure(f"{display_url(current)} points to a loopback address "
                          f"({display_url(target)}); refused: a remote server may not steer "
                          "requests at this machine", url)


def _environment_proxy(url: str) -> str | None:
    """The proxy for an https request to a remote host, from HTTPS_PROXY/ALL_PROXY unless
    NO_PROXY excludes the host; None for everything else (sent directly)."""
    import urllib.request

    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "https" or is_loopback(host):
        return None
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get("https") or proxies.get("all")
    if not proxy or _no_proxy(host, proxies.get("no", "")):
        return None
    return proxy


def _no_proxy(host: str, no_proxy: str) -> bool:
    """NO_PROXY as curl reads it: ``*``, or host names matching exactly or as a suffix."""
    host = host.lower().rstrip(".")
    for entry in (e.strip().lower().lstrip(".") for e in no_proxy.split(",")):
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return True
    return False


def _verify(ca_bundle: str | None) -> ssl.SSLContext | bool:
    """--ca-bundle, else SSL_CERT_FILE / SSL_CERT_DIR from the environment (as httpx's own
    trust_env would take them), else the default CA certificates."""
    import os

    cafile = ca_bundle or os.environ.get("SSL_CERT_FILE") or None
    capath = None if ca_bundle else (os.environ.get("SSL_CERT_DIR") or None)
    if cafile is None and capath is None:
        return True
    try:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    except (OSError, ssl.SSLError) as exc:
        what = "the CA bundle" if ca_bundle else "SSL_CERT_FILE / SSL_CERT_DIR"
        raise InputError(f"cannot load {what}: {getattr(exc, 'strerror', None) or exc}",
                         file=cafile or capath) from None


def describe_transport_error(exc: httpx.TransportError) -> str:
    """A fixed phrase per failure: exception texts can quote hosts, paths or headers."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "the connection timed out"
    if isinstance(exc, httpx.ReadTimeout):
        return "no response within the read timeout"
    if isinstance(exc, httpx.TimeoutException):
        return "the request timed out"
    if isinstance(exc, httpx.ConnectError):
        return "the connection failed"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server closed the connection before the response was complete"
    if isinstance(exc, httpx.ReadError):
        return "the connection was reset while reading the response"
    return f"the request failed ({type(exc).__name__})"


def _tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class RouteLimits:
    """insp.ac limits per key and route: when a route's budget is spent, the next request to
    it waits for the reset the server announced."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._blocked_until: dict[tuple[tuple[str, str, int], str], float] = {}

    @staticmethod
    def _route(url: str) -> tuple[tuple[str, str, int], str]:
        return origin(url), urlsplit(url).path

    def update(self, url: str, headers: Mapping[str, str]) -> None:
        if headers.get("x-ratelimit-remaining", "").strip() != "0":
            self._blocked_until.pop(self._route(url), None)
            return
        reset = reset_seconds(headers, time.time())
        if reset is not None:
            self._blocked_until[self._route(url)] = self._clock() + reset

    def wait_needed(self, url: str) -> float:
        until = self._blocked_until.get(self._route(url))
        return 0.0 if until is None else max(0.0, until - self._clock())


class Fetcher:
    """GETs with retries. Only GET can be sent: nothing here can change data."""

    def __init__(self, settings: HttpSettings, credentials: Credentials | None = None, *,
                 follow_redirects: bool = True, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None) -> None:
        self.settings = settings
        self._credentials = credentials
        self._follow = follow_redirects
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.limits = RouteLimits(clock)
        self._verify = _verify(settings.ca_bundle)
        self._clients: dict[str | None, httpx.Client] = {}  # by proxy (None: direct)
        self._scope = secret_scope()
        self._scope.__enter__()  # the run's secrets, or this fetcher's own until close()

    def _client(self, url: str) -> httpx.Client:
        proxy = _environment_proxy(url)
        client = self._clients.get(proxy)
        if client is None:
            settings = self.settings
            timeout = httpx.Timeout(connect=settings.connect_timeout,
                                    read=settings.read_timeout, write=settings.read_timeout,
                                    pool=settings.connect_timeout)
            # trust_env=False: httpx would otherwise route by HTTP_PROXY on its own, loopback
            # and plain http included; the proxy decision is _environment_proxy's alone.
            client = httpx.Client(timeout=timeout, verify=self._verify, trust_env=False,
                                  proxy=proxy, follow_redirects=False,
                                  headers={"User-Agent": f"scopeaudit/{__version__}",
                                           "Accept-Encoding": "gzip"})
            self._clients[proxy] = client
        return client

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        self._scope.__exit__(None, None, None)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(self, url: str, consume: Callable[[httpx.Response, str], T]) -> T:
        """GET ``url``; ``consume(response, final_url)`` for the first response that is not
        retryable; a TransportError it raises while reading the body is retried like any
        other. GET is the only method there is: nothing here can change data."""
        settings = self.settings
        last_status: str | None = None
        for attempt in range(1, settings.tries + 1):
            self._pause(url, self.limits.wait_needed(url), attempt, last_status)
            wait: float | None = None
            error: str | None = None
            try:
                with self._send(url) as (response, final_url):
                    self.limits.update(final_url, response.headers)
                    if response.status_code not in RETRY_STATUSES:
                        return consume(response, final_url)
                    last_status = status_text(response)
                    wait = server_wait(response.headers, response.status_code, time.time())
            except httpx.InvalidURL:
                # its message quotes the URL, credentials and all
                raise HttpFailure("not a valid URL", url, tries=attempt) from None
            except httpx.TransportError as exc:
                if _tls_failure(exc):
                    raise HttpFailure("TLS certificate verification failed (is --ca-bundle "
                                      "needed?)", url, tries=attempt) from None
                error = describe_transport_error(exc)
            if attempt == settings.tries:
                raise HttpFailure(_gave_up(attempt, last_status, error), url,
                                  status=_code(last_status), tries=attempt)
            if wait is not None and wait > settings.max_wait:
                raise HttpFailure(f"{last_status}: the server asks to wait {wait:.0f} s, more "
                                  f"than the {settings.max_wait:.0f} s limit", url,
                                  status=_code(last_status), tries=attempt)
            self._sleep((wait if wait is not None else backoff_wait(attempt, settings))
                        + jitter(settings, self._rng))
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _pause(self, url: str, wait: float, attempt: int, last_status: str | None) -> None:
        if wait <= 0:
            return
        if wait > self.settings.max_wait:
            raise HttpFailure(f"the route's rate limit resets in {wait:.0f} s, more than the "
                              f"{self.settings.max_wait:.0f} s limit", url,
                              status=_code(last_status), tries=attempt - 1)
        self._sleep(wait + jitter(self.settings, self._rng))

    @contextmanager
    def _send(self, url: str) -> Iterator[tuple[httpx.Response, str]]:
        current = url
        for _ in range(self.settings.max_redirects + 1):
            if current == url:
                check_url(current, self.settings.allow_insecure_http)
            else:
                try:
                    check_url(current, self.settings.allow_insecure_http)
                except InputError as exc:
                    raise HttpFailure(f"redirected to {display_url(current)}, which is "
                                      f"refused: {exc.message}", url) from None
            headers = self._credentials.for_url(current) if self._credentials else {}
            client = self._client(current)
            request = client.build_request("GET", current, headers=headers)
            response = client.send(request, stream=True)
            location = response.headers.get("location")
            if not (self._follow and response.status_code in _REDIRECTS and location):
                try:
                    yield response, current
                finally:
                    response.close()
                return
            response.close()
            following = urljoin(current, location)
            refuse_loopback_from_remote(current, following, url)
            current = following
        raise HttpFailure(f"more than {self.settings.max_redirects} redirects", url)


def _code(status: str | None) -> int | None:
    if status is None:
        return None
    return int(status.split()[1])


def _gave_up(tries: int, last_status: str | None, error: str | None) -> str:
    what = f"gave up after {tries} {'try' if tries == 1 else 'tries'}"
    if error is None:
        return f"{what}; last status: {last_status}"
    if last_status is None:
        return f"{what}; last status: none ({error})"
    return f"{what}; last error: {error} (last status seen: {last_status})"
