"""A real HTTP server on a loopback address, scripted per test, that injects faults.

It speaks HTTP/1.1 over real sockets (``http.server``, a thread per connection) so the client
is tested as it runs for users, not through a mocked transport. Each route answers from a
script: a list of replies consumed one per request (the last one repeats), or a function of
the request. Every request is recorded, headers included, for the tests' assertions.
"""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Seen:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]  # lower-case names

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds before the status line: a slow server
    # "reset": send the headers and `cut` bytes of the body, then reset the connection (RST);
    # "close": the same, but an orderly close (FIN), short of the Content-Length
    fault: str | None = None
    cut: int = 0
    # no Content-Length and no chunked framing: the body ends when the connection closes
    # (after `cut` bytes when cut > 0)
    unframed: bool = False
    reason: str | None = None  # the status line's reason phrase (default: the standard one)


Script = Callable[[Seen], Reply]


def json_reply(status: int, doc: object, *headers: tuple[str, str]) -> Reply:
    return Reply(status, json.dumps(doc).encode(), (("Content-Type", "application/json"),
                                                    *headers))


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up (a timeout, a refused redirect) breaks the pipe of a late
        # reply; that is the test's scenario, not an error to print into captured stderr.
        pass


@dataclass
class FakeServer:
    host: str = "127.0.0.1"
    tls: ssl.SSLContext | None = None  # serve https with this context
    seen: list[Seen] = field(default_factory=list)
    _routes: dict[str, Script] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> FakeServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in separate writes: without TCP_NODELAY each
            # keep-alive response waits out the client's delayed ACK (about 40 ms)
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                pass  # the test output stays clean

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                seen = Seen(self.command, self.path,
                            {k.lower(): v for k, v in self.headers.items()})
                with owner._lock:
                    owner.seen.append(seen)
                owner._answer(self, owner._script_for(seen.path)(seen))

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self._httpd = _QuietServer((self.host, 0), Handler)
        if self.tls is not None:
            self._httpd.socket = self.tls.wrap_socket(self._httpd.socket, server_side=True)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, target: str) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self.port}{target}"

    def route(self, path: str, *replies: Reply) -> None:
        """Answer ``path`` with ``replies`` in turn, the last one for every later request."""
        queue = list(replies)

        def script(_: Seen) -> Reply:
            with self._lock:
                return queue.pop(0) if len(queue) > 1 else queue[0]
        self._routes[path] = script

    def handle(self, path: str, script: Script) -> None:
        """Answer ``path`` (or every path under it, if it ends with '/*') with a function."""
        self._routes[path] = script

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    def _script_for(self, path: str) -> Script:
        if path in self._routes:
            return self._routes[path]
        for prefix, script in sorted(self._routes.items(), key=lambda kv: -len(kv[0])):
            if prefix.endswith("/*") and path.startswith(prefix[:-1]):
                return script
        return lambda _: json_reply(404, {"error": "Not found", "code": "NOT_FOUND"})

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        handler.send_response(reply.status, reply.reason)
        names = {name.lower() for name, _ in reply.headers}
        for name, value in reply.headers:
            handler.send_header(name, value)
        if reply.unframed:
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.wfile.write(reply.body[:reply.cut] if reply.cut else reply.body)
            handler.wfile.flush()
            handler.close_connection = True
            return
        if "content-length" not in names:
            handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        if reply.fault is None:
            if handler.command != "HEAD":
                handler.wfile.write(reply.body)
            return
        handler.wfile.write(reply.body[:reply.cut])
        handler.wfile.flush()
        handler.close_connection = True
        sock: socket.socket = handler.connection
        if reply.fault == "reset":
            # SO_LINGER with a zero timeout: close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


def ratelimit_headers(limit: int, remaining: int, reset: int | float
                      ) -> tuple[tuple[str, str], ...]:
    return (("X-RateLimit-Limit", str(limit)), ("X-RateLimit-Remaining", str(remaining)),
            ("X-RateLimit-Reset", str(reset)))


UNAUTHORIZED = {"error": "Authentication required", "code": "UNAUTHORIZED"}
FORBIDDEN = {"error": "Insufficient permissions", "code": "FORBIDDEN"}
RATE_LIMITED = {"error": "Rate limit exceeded", "code": "RATE_LIMITED"}


class InspacApi:
    """The documented insp.ac behaviour for the probe: Bearer keys with scopes, 401 and 403
    envelopes, X-RateLimit-* on every response, and GET-only collection routes."""

    # collection path -> the scope guarding it (as the insp.ac docs and the catalog say)
    ROUTES: ClassVar[dict[str, str]] = {
        "/v1/issues": "issues:read", "/v1/works": "works:read", "/v1/sites": "sites:read",
        "/v1/assets": "assets:read", "/v1/users": "users:read",
        "/v1/checkins": "checkins:read", "/v1/logs": "logs:read",
        "/v1/sensor-readings": "sensors:read", "/v1/templates": "templates:read",
        "/v1/runs": "runs:read", "/v1/schedules": "schedules:read",
        "/v1/calendar": "calendar:read", "/v1/integrations": "integrations:read",
    }

    def __init__(self, keys: dict[str, set[str]]) -> None:
        self.keys = keys  # token -> scopes
        self.overrides: dict[str, list[Reply]] = {}  # path -> replies before the real one

    def __call__(self, seen: Seen) -> Reply:
        queued = self.overrides.get(seen.path)
        if queued:
            return queued.pop(0)
        limits = ratelimit_headers(100, 99, 60)
        auth = seen.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        if token is None or token not in self.keys:
            return json_reply(401, UNAUTHORIZED, *limits)
        scope = self.ROUTES.get(seen.path)
        if scope is None:
            return json_reply(404, {"error": "Not found", "code": "NOT_FOUND"}, *limits)
        if seen.method != "GET":
            return json_reply(405, {"error": "Method not allowed", "code": "BAD_REQUEST"},
                              *limits)
        if scope not in self.keys[token]:
            return json_reply(403, FORBIDDEN, *limits)
        return json_reply(200, {"data": [], "next": None}, *limits)
