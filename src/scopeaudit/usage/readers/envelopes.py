"""Records inside envelopes, unwrapped by their content, and whole JSON documents.

Gateways that ship through a log pipeline deliver their access-log records inside something
else:

* a CloudWatch Logs subscription (to Firehose, S3, Lambda): ``{"messageType":
  "DATA_MESSAGE", "logEvents": [{"timestamp": ..., "message": "<the record as JSON text>"},
  ...]}``, gzip-compressed, base64-encoded on the way (``H4sI...``), and concatenated with no
  separator when Firehose writes them to S3 (``{...}{...}``);
* Azure diagnostic settings (Event Hub, storage): ``{"records": [...]}``;
* ``gcloud logging read --format json``: one JSON array, pretty-printed over many lines;
  Kong's http-log batches: a JSON array on a line;
* OpenTelemetry OTLP JSON (``resourceSpans`` / ``resourceLogs``): every server span or log
  record with HTTP attributes is one request; its attributes (and its resource's) become one
  flat record keyed by the attribute names (``url.path``, ``http.request.method``, ...).

:func:`unwrap` gives the records of one parsed JSON value; :func:`sniff` tells, from the head
of an input, whether it is one JSON value per line or a document to parse whole.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import orjson


class Rejected(NamedTuple):
    """An item of an envelope that is no record: why, and the item (a token in it counts)."""

    reason: str
    value: Any = None


# What an item of an envelope can be: a record (a dict), or one rejected.
Item = dict[str, Any] | Rejected

MAX_DEPTH = 4  # envelopes inside envelopes (an array of subscription records, say)
# A JSON document is parsed whole: past this it must be converted to JSON Lines first.
MAX_DOCUMENT = 256 << 20
GZIP_BASE64 = b"H4sI"  # how base64 of a gzip stream starts (CloudWatch subscription data)
# OTLP span kinds that are a request served: SERVER (2), and none given (an INTERNAL span
# inside a server span would count its request twice)
_SERVER_KINDS = (None, 0, 2, "SPAN_KIND_SERVER", "SPAN_KIND_UNSPECIFIED")
_HTTP_METHOD_ATTRIBUTES = ("http.request.method", "http.method")


def unwrap(value: Any, depth: int = 0) -> Iterator[Item]:
    """The records of one JSON value: itself when it is a plain record, else the records of
    the envelope it is (recursively); Rejected for an item that is no record."""
    if isinstance(value, list):
        if depth >= MAX_DEPTH:
            yield Rejected("envelopes nested too deep", value)
            return
        for item in value:
            if isinstance(item, dict | list):
                yield from unwrap(item, depth + 1)
            else:
                yield Rejected("a batch item is not a JSON object", item)
        return
    if not isinstance(value, dict):
        yield Rejected("not a JSON object", value)
        return
    if depth >= MAX_DEPTH:
        yield value
        return
    events = value.get("logEvents")
    if isinstance(events, list) and "messageType" in value:
        yield from _log_events(value, events, depth)
        return
    awslogs = value.get("awslogs")
    if isinstance(awslogs, Mapping) and isinstance(awslogs.get("data"), str):
        yield from _decoded(awslogs["data"].encode("ascii", "replace"), depth)
        return
    records = value.get("records")
    if isinstance(records, list) and len(value) <= 2:
        for item in records:
            yield from unwrap(item, depth + 1) if isinstance(item, dict | list) else (
                Rejected("a records item is not a JSON object", item),)
        return
    if isinstance(value.get("resourceSpans"), list) or isinstance(value.get("resourceLogs"),
                                                                  list):
        yield from otlp_records(value)
        return
    yield value


def is_envelope(value: Mapping[str, Any]) -> bool:
    """A JSON object that holds records rather than being one (see unwrap)."""
    return (("messageType" in value and isinstance(value.get("logEvents"), list))
            or isinstance(value.get("awslogs"), Mapping)
            or (isinstance(value.get("records"), list) and len(value) <= 2)
            or isinstance(value.get("resourceSpans"), list)
            or isinstance(value.get("resourceLogs"), list))


def _log_events(envelope: Mapping[str, Any], events: list[Any], depth: int) -> Iterator[Item]:
    """A CloudWatch Logs subscription message: each log event's message is the record, as
    JSON text. CONTROL_MESSAGE (the destination's reachability check) holds none."""
    if envelope.get("messageType") == "CONTROL_MESSAGE":
        return
    for event in events:
        message = event.get("message") if isinstance(event, Mapping) else None
        if not isinstance(message, str):
            yield Rejected("a CloudWatch log event has no message", event)
            continue
        try:
            record = orjson.loads(message)
        except orjson.JSONDecodeError:
            yield Rejected("a CloudWatch log event's message is not JSON", message)
            continue
        if isinstance(record, dict | list):
            yield from unwrap(record, depth + 1)
        else:
            yield Rejected("a CloudWatch log event's message is not a JSON object", record)


def decode_base64_gzip(raw: bytes) -> bytes | None:
    """The JSON text inside base64 of gzip (a subscription record's data), or None."""
    try:
        return gzip.decompress(base64.b64decode(raw.strip(), validate=True))
    except (binascii.Error, ValueError, EOFError, OSError, zlib.error):
        return None


def _decoded(raw: bytes, depth: int) -> Iterator[Item]:
    text = decode_base64_gzip(raw)
    if text is None:
        yield Rejected("base64 data that is not gzip")
        return
    for _, value in iter_values(text):
        if isinstance(value, str) and value.startswith("\0"):
            yield Rejected(value[1:])
            return
        yield from unwrap(value, depth + 1)


# --- OpenTelemetry OTLP JSON ----------------------------------------------------------------


def _any_value(value: Any) -> Any:
    """An OTLP AnyValue as a plain value (intValue is a JSON string: int64)."""
    if not isinstance(value, Mapping):
        return None
    for name in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if name in value:
            return value[name]
    array = value.get("arrayValue")
    if isinstance(array, Mapping) and isinstance(array.get("values"), list):
        return [_any_value(v) for v in array["values"]]
    return None


def _attributes(attributes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(attributes, list):
        for attribute in attributes:
            if isinstance(attribute, Mapping) and isinstance(attribute.get("key"), str):
                out[attribute["key"]] = _any_value(attribute.get("value"))
    return out


def otlp_records(document: Mapping[str, Any]) -> Iterator[Item]:
    """OTLP JSON traces and logs: one flat record per server span or log record that has an
    HTTP method attribute (either semantic convention), with its resource's attributes under
    its own, and its time as ``startTimeUnixNano`` / ``timeUnixNano``. Spans of other kinds
    (a client's call, an internal step) and records without HTTP attributes are no requests
    to the API, and are passed over."""
    for resource_key, scope_key, item_key, time_keys in (
            ("resourceSpans", "scopeSpans", "spans", ("startTimeUnixNano",)),
            ("resourceLogs", "scopeLogs", "logRecords", ("timeUnixNano",
                                                         "observedTimeUnixNano"))):
        for resource in _list(document.get(resource_key)):
            base = _attributes(_mapping(resource.get("resource")).get("attributes"))
            scopes = _list(resource.get(scope_key)) or _list(
                resource.get("instrumentationLibrarySpans"))  # the pre-1.0 name
            for scope in scopes:
                for item in _list(scope.get(item_key)):
                    if item.get("kind") not in _SERVER_KINDS:
                        continue
                    attributes = {**base, **_attributes(item.get("attributes"))}
                    if not any(a in attributes for a in _HTTP_METHOD_ATTRIBUTES):
                        continue
                    for key in time_keys:
                        stamp = item.get(key)
                        if stamp not in (None, "", "0", 0):
                            attributes[time_keys[0]] = stamp
                            break
                    yield attributes


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# --- documents --------------------------------------------------------------------------------


def sniff(head: bytes) -> bool:
    """Whether an input whose first bytes are ``head`` is a JSON document to parse whole (an
    array; a value over several lines; values run together, ``{...}{...}``) rather than one
    JSON value per line. A first line that is a complete value, or that is broken in some
    other way, is JSON Lines (a broken line is then skipped with its reason)."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text[:1] == b"[":
        return True
    if text[:1] != b"{":
        return False
    line = text.split(b"\n", 1)[0].rstrip()
    try:
        orjson.loads(line)
        return False
    except orjson.JSONDecodeError:
        pass
    return line[-1:] in (b"{", b"[", b",") or run_together(line)  # pretty-printed, or not


def run_together(line: bytes) -> bool:
    """A line holding one JSON object after another with nothing between them."""
    text = line.decode("utf-8", "replace").strip()
    try:
        _, end = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return False
    return text[end:].lstrip()[:1] in ("{", "[")


def iter_values(data: bytes, first_line: int = 1) -> Iterator[tuple[int, Any]]:
    """The values of a JSON document, each with the line it starts on: the items of a
    top-level array one by one, then any value after another (Firehose's ``{...}{...}``).
    A string starting with NUL ends the document: its reason (the rest cannot be read)."""
    text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")
    decode = json.JSONDecoder().raw_decode
    pos, line = 0, first_line

    def skip_blank(at: int) -> int:
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        return at

    def advance(to: int) -> None:
        nonlocal pos, line
        line += text.count("\n", pos, to)
        pos = to

    advance(skip_blank(0))
    while pos < len(text):
        try:
            if text[pos] == "[":
                advance(skip_blank(pos + 1))
                expect_item = True
                while pos < len(text) and text[pos] != "]":
                    if not expect_item:
                        if text[pos] != ",":
                            raise ValueError("expected ',' or ']'")
                        advance(skip_blank(pos + 1))
                    item, end = decode(text, pos)
                    yield line, item
                    advance(skip_blank(end))
                    expect_item = False
                if pos >= len(text):
                    raise ValueError("the array is not closed")
                advance(skip_blank(pos + 1))
                continue
            value, end = decode(text, pos)
        except ValueError as exc:
            yield line, f"\0invalid JSON document ({str(exc).split(':')[0]})"
            return
        yield line, value
        advance(skip_blank(end))
