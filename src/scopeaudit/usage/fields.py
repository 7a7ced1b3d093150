"""Field mapping for structured logs (JSON Lines, CSV): where each canonical field comes from.

Defaults try common names in order; ``--map FIELD=SOURCE`` replaces a field's candidates
with one source, a dotted path into nested JSON (``context.identity.apiKeyId``). Presets for
known formats (API Gateway, Kong) are just mappings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from scopeaudit.errors import InputError
from scopeaudit.secrets import TOKEN_RE
from scopeaudit.usage.record import ReadContext, Record
from scopeaudit.usage.timeparse import parse_time

FIELDS = ("time", "key_id", "method", "path", "status", "user_agent", "ip", "count")

DEFAULTS: dict[str, tuple[str, ...]] = {
    "time": ("time", "ts", "timestamp", "@timestamp", "datetime", "date"),
    "key_id": ("key_id", "key", "api_key_id", "apiKeyId", "key_name", "api_key", "token",
               "authorization"),
    "method": ("method", "http_method", "httpMethod", "verb"),
    "path": ("path", "url", "uri", "request", "target", "request_uri"),
    "status": ("status", "status_code", "statusCode", "response_status", "code"),
    "user_agent": ("user_agent", "ua", "userAgent", "http_user_agent", "agent"),
    "ip": ("ip", "client_ip", "clientIp", "remote_addr", "source_ip", "sourceIp"),
    "count": ("count", "requests", "hits"),
}

PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    # AWS API Gateway access logs in the docs' JSON form (REST and HTTP APIs)
    "apigw": {
        "time": ("requestTimeEpoch", "requestTime"),
        "key_id": ("apiKeyId", "identity.apiKeyId", "principalId", "principal", "clientId"),
        "method": ("httpMethod",),
        "path": ("resourcePath", "routeKey", "path"),
        "status": ("status",),
        "user_agent": ("userAgent", "identity.userAgent"),
        "ip": ("ip", "sourceIp", "identity.sourceIp"),
        "count": ("count",),
    },
    # Kong's log plugins (kong.log.serialize()): the credential id identifies the key
    "kong": {
        "time": ("started_at",),
        "key_id": ("authenticated_entity.id", "consumer.custom_id", "consumer.username",
                   "consumer.id"),
        "method": ("request.method",),
        "path": ("request.uri",),
        "status": ("response.status",),
        "user_agent": ("request.headers.user-agent",),
        "ip": ("client_ip",),
        "count": ("count",),
    },
}

_REQUEST_LINE = re.compile(r"^([A-Za-z]+) (\S+)(?: HTTP/[0-9.]+)?$")


class BadRecord(Exception):
    """A reason a record is malformed; the reader counts it against its line."""


def parse_maps(values: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``--map FIELD=SOURCE`` values, checked."""
    out: dict[str, str] = {}
    for value in values:
        field, sep, source = value.partition("=")
        field, source = field.strip(), source.strip()
        if not sep or not source:
            raise InputError(f"--map expects FIELD=SOURCE, got {value!r}")
        if field not in FIELDS:
            raise InputError(f"--map: unknown field {field!r} (fields: {', '.join(FIELDS)})")
        out[field] = source
    return out


def _getter(source: str) -> Callable[[Mapping[str, Any]], Any]:
    if "." not in source:
        return lambda obj: obj.get(source)
    parts = source.split(".")

    def get(obj: Mapping[str, Any]) -> Any:
        # A flat key with dots in it wins over the nested path (some exporters flatten).
        if source in obj:
            return obj[source]
        value: Any = obj
        for part in parts:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        return value

    return get


@dataclass(frozen=True)
class FieldMap:
    """Candidate getters per canonical field, tried in order; the first non-empty wins."""

    getters: Mapping[str, tuple[Callable[[Mapping[str, Any]], Any], ...]]
    sources: Mapping[str, tuple[str, ...]]

    @classmethod
    def build(cls, overrides: Mapping[str, str], preset: str | None = None) -> FieldMap:
        base = PRESETS[preset] if preset else DEFAULTS
        sources = {f: ((overrides[f],) if f in overrides else base.get(f, ())) for f in FIELDS}
        return cls({f: tuple(_getter(s) for s in srcs) for f, srcs in sources.items()}, sources)

    def get(self, obj: Mapping[str, Any], field: str) -> Any:
        for getter in self.getters[field]:
            value = getter(obj)
            if value is not None and value != "" and value != "-":
                return value
        return None

    def record(self, obj: Mapping[str, Any], line: int, ctx: ReadContext,
               raw_has_token: bool) -> Record:
        """One structured record -> Record; raises BadRecord with the reason."""
        get = self.get
        raw_time = get(obj, "time")
        if raw_time is None:
            raise BadRecord("no time field")
        try:
            when = parse_time(raw_time)
        except (ValueError, OverflowError, OSError):
            raise BadRecord("unreadable time") from None
        target = get(obj, "path")
        method = get(obj, "method")
        # A full request line ("GET /x HTTP/1.1", or a routeKey "GET /orders") holds the
        # method too; its target is the path even when a method field is also present.
        if isinstance(target, str) and (method is None or " " in target):
            request = _REQUEST_LINE.match(target.strip())
            if request is not None:
                if method is None:
                    method = request.group(1)
                target = request.group(2)
            elif method is None and " " in target.strip():
                method, _, target = target.strip().partition(" ")
        if not isinstance(target, str) or not target:
            raise BadRecord("no request path")
        if not isinstance(method, str) or not (method.isascii() and method.isalpha()):
            raise BadRecord("no request method")
        status = _status(get(obj, "status"))
        hits = _count(get(obj, "count"))
        key, token = ctx.resolver.resolve(get(obj, "key_id"))
        target, target_key, target_token = ctx.resolver.scrub_target(target)
        if key is None:
            key = target_key
        ua, ip = get(obj, "user_agent"), get(obj, "ip")
        ua = ua if isinstance(ua, str) else None
        ip = ip if isinstance(ip, str) else None
        if (ua is not None and "sk_" in ua) or (ip is not None and "sk_" in ip):
            # A token pasted into another kept field (a User-Agent, say) is not kept either.
            clean_ua, clean_ip = scrub_text(ua), scrub_text(ip)
            token = token or clean_ua != ua or clean_ip != ip
            ua, ip = clean_ua, clean_ip
        return Record(when, key, method.upper(), target, status, ua, ip, hits, line,
                      token or target_token or raw_has_token)


def _status(value: Any) -> int:
    if isinstance(value, bool):
        raise BadRecord("status is not a number")
    if isinstance(value, int):
        status = value
    elif (isinstance(value, str) and value.strip().isdigit()) or (
            isinstance(value, float) and value.is_integer()):
        status = int(value)
    else:
        raise BadRecord("no status code" if value is None else "status is not a number")
    if not 0 <= status <= 999:
        raise BadRecord("status out of range")
    return status


def _count(value: Any) -> int:
    if value is None:
        return 1
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.strip().isdigit() and int(value) > 0:
        return int(value)
    raise BadRecord("count is not a positive whole number")


TOKEN_BYTES_RE = re.compile(TOKEN_RE.pattern.encode())


def scrub_text(value: str | None) -> str | None:
    """``value`` with any token in it replaced by ``[token]`` (for kept free-text fields)."""
    if value is None or "sk_" not in value:
        return value
    return TOKEN_RE.sub("[token]", value)


def line_has_token(raw: bytes) -> bool:
    """A token anywhere in the raw line (a header, the referer, …): cheap test first."""
    return (b"sk_live_" in raw or b"sk_test_" in raw) and TOKEN_BYTES_RE.search(raw) is not None
