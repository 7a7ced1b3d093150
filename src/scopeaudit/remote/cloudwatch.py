"""CloudWatch Logs as a log input: ``cloudwatch://LOG_GROUP[?stream=PREFIX]``.

The events of the group (of its streams starting with PREFIX) are read with FilterLogEvents,
page by page, each page retried on throttling; each event's message is one line of the
input, in the --log-format given for it. The time range is the pull window's, written into
the input's URL (``start=``/``end=``, whole UTC days) so that the report says exactly what
was read; a user may give them too.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode

from scopeaudit.errors import InputError
from scopeaudit.http.settings import HttpSettings
from scopeaudit.remote.aws import AwsError, call, client, gave_up

if TYPE_CHECKING:
    from scopeaudit.remote.window import PullWindow

_PARAMS = ("stream", "region", "start", "end")
PAGE_LIMIT: int | None = None  # events a page (None: the service's own, up to 10,000)


@dataclass(frozen=True)
class LogGroupUrl:
    group: str
    stream: str | None = None
    region: str | None = None
    start: date | None = None  # the first day read (UTC)
    end: date | None = None  # the last day read, inclusive

    @property
    def url(self) -> str:
        query = [(name, value) for name, value in (
            ("stream", self.stream), ("region", self.region),
            ("start", self.start.isoformat() if self.start else None),
            ("end", self.end.isoformat() if self.end else None)) if value is not None]
        shown = "cloudwatch://" + quote(self.group, safe="/._-#:")
        return shown + ("?" + urlencode(query, safe="/") if query else "")


def parse_cloudwatch(url: str) -> LogGroupUrl:
    from urllib.parse import unquote

    rest = url.split("://", 1)[1]
    group, _, query = rest.partition("?")
    group = unquote(group)
    if not group:
        raise InputError("a cloudwatch:// URL needs a log group: cloudwatch://LOG_GROUP",
                         file=url)
    values: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in _PARAMS:
            raise InputError(f"unknown parameter {name!r} (parameters: "
                             f"{', '.join(_PARAMS)})", file=url)
        values[name] = value
    days = {}
    for name in ("start", "end"):
        if name in values:
            try:
                days[name] = date.fromisoformat(values[name])
            except ValueError:
                raise InputError(f"{name}= expects a date as YYYY-MM-DD", file=url) from None
    return LogGroupUrl(group, values.get("stream") or None, values.get("region") or None,
                       days.get("start"), days.get("end"))


def expand_cloudwatch(pattern: str, window: PullWindow | None) -> str:
    """The input a cloudwatch:// value stands for: itself, with the pull window's days as
    start=/end= where it names none."""
    parsed = parse_cloudwatch(pattern)
    if window is not None:
        parsed = LogGroupUrl(parsed.group, parsed.stream, parsed.region,
                             parsed.start or window.first, parsed.end or window.last)
    return parsed.url


def _millis(day: date) -> int:
    return int(datetime.combine(day, time.min, UTC).timestamp() * 1000)


def open_log_group(url: str, settings: HttpSettings) -> io.RawIOBase:
    where = parse_cloudwatch(url)
    logs = client("logs", settings, where.region)
    return _LinesReader(_events(logs, where, url, settings))


def _events(logs: Any, where: LogGroupUrl, shown: str, settings: HttpSettings
            ) -> Iterator[bytes]:
    request: dict[str, Any] = {"logGroupName": where.group}
    if where.stream:
        request["logStreamNamePrefix"] = where.stream
    if where.start is not None:
        request["startTime"] = _millis(where.start)
    if PAGE_LIMIT is not None:
        request["limit"] = PAGE_LIMIT
    if where.end is not None:
        request["endTime"] = _millis(where.end + timedelta(days=1)) - 1
    seen: set[str] = set()
    while True:
        try:
            page: dict[str, Any] = call(partial(logs.filter_log_events, **request), settings)
        except AwsError as exc:
            raise InputError(_error(exc, where), file=shown) from None
        for event in page.get("events", []):
            message = str(event.get("message", ""))
            # an event's own line end is not a line of its own
            yield message.removesuffix("\n").removesuffix("\r").encode("utf-8") + b"\n"
        token = page.get("nextToken")
        if not token:
            return
        if token in seen:
            raise InputError("the log events' pagination loops (a page token came back)",
                             file=shown)
        seen.add(token)
        request["nextToken"] = token


def _error(exc: AwsError, where: LogGroupUrl) -> str:
    failure = exc.failure
    if failure.code == "ResourceNotFoundException":
        return f"no such log group: {where.group!r} ({failure.message})"
    if failure.code in ("AccessDeniedException", "AccessDenied") or failure.status == 403:
        return ("access denied reading the log group (the credentials need "
                f"logs:FilterLogEvents): {failure.text()}")
    return f"cannot read the log events: {gave_up(exc)}"


class _LinesReader(io.RawIOBase):
    """A byte stream of the lines an iterator gives, pulled as the reader asks."""

    def __init__(self, lines: Iterator[bytes]) -> None:
        super().__init__()
        self._lines = lines
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while len(self._pending) < len(buffer):
            line = next(self._lines, None)
            if line is None:
                break
            self._pending += line
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n
