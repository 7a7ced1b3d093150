"""A loopback proxy in front of a local cloud API (moto, fake-gcs-server, Azurite) that
injects the faults the server cannot: throttling (S3's 503 SlowDown, CloudWatch's
ThrottlingException, GCS's 429, Azure's ServerBusy), a denied listing, an action run between
two requests (an object replaced while it is read), a connection dropped half-way through a
body.

It forwards real HTTP to the real local API and answers from its script only where a fault
is due; every request is recorded (method, target, headers, body) for the assertions.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length",
                  "proxy-connection", "te", "trailer", "upgrade"})


@dataclass(frozen=True)
class Seen:
    method: str
    target: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)

    @property
    def is_listing(self) -> bool:
        return self.method == "GET" and "list-type" in self.query

    @property
    def target_action(self) -> str:
        """CloudWatch Logs' operation (X-Amz-Target: Logs_20140328.FilterLogEvents)."""
        return self.headers.get("x-amz-target", "").rpartition(".")[2]


@dataclass
class Fault:
    """Answer ``status``/``body`` instead of forwarding (or run ``action``, then forward)
    for the next ``times`` requests ``when`` accepts."""

    when: Callable[[Seen], bool]
    status: int = 503
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    times: int = 1
    action: Callable[[], None] | None = None
    cut: int | None = None  # forward, but send only this many bytes of the body, then close
    hits: int = 0


def s3_error(status: int, code: str, message: str) -> tuple[int, bytes, tuple[tuple[str, str]]]:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message><RequestId>TESTREQUEST</RequestId></Error>").encode()
    return status, body, (("Content-Type", "application/xml"),)


def json_error(status: int, kind: str, message: str
               ) -> tuple[int, bytes, tuple[tuple[str, str]]]:
    body = json.dumps({"__type": kind, "message": message}).encode()
    return status, body, (("Content-Type", "application/x-amz-json-1.1"),)


@dataclass
class AwsProxy:
    upstream: tuple[str, int]
    faults: list[Fault] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def fault(self, when: Callable[[Seen], bool], answer: tuple[int, bytes, tuple[tuple[str,
              str], ...]] | None = None, *, times: int = 1,
              action: Callable[[], None] | None = None, cut: int | None = None) -> Fault:
        status, body, headers = answer or (200, b"", ())
        added = Fault(when, status, body, headers, times, action, cut)
        self.faults.append(added)
        return added

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> AwsProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path,
                            {k.lower(): v for k, v in self.headers.items()}, body)
                due: Fault | None = None
                with proxy._lock:
                    proxy.seen.append(seen)
                    for fault in proxy.faults:
                        if fault.hits < fault.times and fault.when(seen):
                            fault.hits += 1
                            due = fault
                            break
                if due is not None and due.action is None and due.cut is None:
                    self._answer(due.status, due.headers, due.body)
                    return
                if due is not None and due.action is not None:
                    due.action()
                self._forward(seen, due.cut if due is not None else None)

            def _answer(self, status: int, headers: tuple[tuple[str, str], ...],
                        body: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _forward(self, seen: Seen, cut: int | None = None) -> None:
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                    conn.request(seen.method, seen.target, body=seen.body or None,
                                 headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    self.send_response(response.status)
                    for name, value in response.getheaders():
                        if name.lower() not in _HOP:
                            self.send_header(name, value)
                    length = response.getheader("content-length")
                    self.send_header("Content-Length",
                                     length if self.command == "HEAD" and length
                                     else str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data if cut is None else data[:cut])
                    if cut is not None:  # the connection drops half-way through the body
                        self.wfile.flush()
                        self.close_connection = True
                finally:
                    conn.close()

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
