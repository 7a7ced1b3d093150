"""The format of an input given no ``--log-format``: from its first lines, else its name.

A local file's first lines are looked at (gunzipped when gzip): JSON (a line, an array, an
envelope) is read as the preset whose fields its first record has, else as JSON Lines
whatever the file is named (a ``.log`` of JSON is JSON); ``#Fields:`` directives are
CloudFront's W3C log; a text line is tried against the line presets' layouts (ALB, HAProxy,
ingress-nginx, Traefik, Envoy's default, nginx combined, Apache); a header row of names is
CSV (Tyk's CSV pump by its columns). Nothing recognised, or an input that cannot be looked at
first (stdin, a URL, s3://): the file name decides, as ``.jsonl``, ``.csv``, ``.log``. A wrong
guess is fixed with ``--log-format``.
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from scopeaudit.errors import InputError
from scopeaudit.usage.formats import lookup, usage_names

HEAD_BYTES = 1 << 16
SAMPLE_LINES = 5
_BY_SUFFIX = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
              ".log": "nginx"}
# Rotated copies keep their format: access.log.1, access.log.2.gz, access.log-20261127.gz
_ROTATION_RE = re.compile(r"(?:\.[0-9]{1,4}|-[0-9]{8,10})$")
# Line presets in the order they are tried: the most particular layouts first (a line of
# ingress-nginx's layout starts as nginx combined does)
_LINE_ORDER = ("alb", "haproxy", "ingress-nginx", "traefik", "envoy", "nginx",
               "apache-combined", "apache-common")
_NAME_RE = re.compile(r"[A-Za-z_@][A-Za-z0-9_.@()\- ]*")


@dataclass(frozen=True)
class Detection:
    name: str  # the format the input is read as
    by_content: bool  # its first lines said so
    by_name: str | None  # what its file name alone says

    @property
    def noted(self) -> bool:
        """Whether to say it: the content chose what the name would not."""
        return self.by_content and self.name != self.by_name


# A memo of (path, size, mtime) -> Detection: a pure function of the file's bytes, bounded
_SEEN: dict[tuple[str, int, int], Detection] = {}


def detect(path: str) -> Detection:
    """The format to read ``path`` as; InputError when neither its lines nor its name tell."""
    by_name = name_format(path)
    stamp = _stamp(path)
    if stamp is not None and stamp in _SEEN:
        return _SEEN[stamp]
    head = _head(path) if stamp is not None else None
    found = from_content(head) if head else None
    if found is None:
        if by_name is None:
            from scopeaudit.usage.inputs import input_label

            told = "the first lines or the file name" if head else "the file name"
            raise InputError(f"cannot tell the log format from {told}; pass --log-format "
                             f"({usage_names()})", file=input_label(path))
        result = Detection(by_name, False, by_name)
    else:
        result = Detection(found, True, by_name)
    if stamp is not None:
        if len(_SEEN) >= 4096:
            _SEEN.clear()
        _SEEN[stamp] = result
    return result


def name_format(path: str) -> str | None:
    """What the file name says (``.jsonl``, ``.csv``, ``.log``, rotated or gzipped), or None."""
    from scopeaudit.http.policy import is_url

    name = urlsplit(path).path if is_url(path) else path
    name = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    name = name.removesuffix(".gz")
    name = _ROTATION_RE.sub("", name)
    for suffix, kind in _BY_SUFFIX.items():
        if name.endswith(suffix):
            return kind
    return None


def _stamp(path: str) -> tuple[str, int, int] | None:
    """A local regular file's identity for the memo; None for what cannot be looked at
    before it is read (stdin, URLs, remote inputs, pipes)."""
    from scopeaudit.http.policy import is_url
    from scopeaudit.remote import is_remote

    if path == "-" or is_url(path) or is_remote(path):
        return None
    try:
        info = Path(path).stat()
    except (OSError, ValueError):
        return None
    if not Path(path).is_file():
        return None
    return path, info.st_size, info.st_mtime_ns


def _head(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
            if head[:2] == b"\x1f\x8b":
                handle.seek(0)
                with gzip.GzipFile(fileobj=handle) as unzipped:
                    return unzipped.read(HEAD_BYTES)
            return head
    except (OSError, EOFError, zlib.error):
        return None


def from_content(head: bytes) -> str | None:
    """The format the first lines of an input are in, or None."""
    if b"\0" in head[:4096]:
        return None  # binary (Parquet, say): no text log
    text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")
    lines = [line.rstrip() for line in text.split("\n")[:200] if line.strip()]
    if len(text) >= HEAD_BYTES - 4 and len(lines) > 1:
        lines.pop()  # the last line may be cut off by the head's end
    if not lines:
        return None
    first = lines[0].lstrip()
    if first[:1] == "{" or (first[:1] == "[" and _json_array(first)):
        return _json_preset(head, lines[0]) or "jsonl"
    if first.startswith(("#Version:", "#Fields:")):
        return "cloudfront"
    sample = lines[:SAMPLE_LINES]
    for name in _LINE_ORDER:
        regex = _line_regex(name)
        matched = sum(1 for line in sample if regex.fullmatch(line))
        if matched and matched * 2 >= len(sample):
            return name
    return _csv_header(first)


def _json_array(line: str) -> bool:
    """A line starting a JSON array (Envoy's lines start with "[2026-..." too)."""
    rest = line[1:].lstrip()
    if not rest or rest[0] in "{[\"]":
        return True
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


@cache
def _line_regex(name: str) -> re.Pattern[str]:
    from scopeaudit.usage.readers.envoy import envoy_layout
    from scopeaudit.usage.readers.haproxy import haproxy_reader
    from scopeaudit.usage.readers.nginx import nginx_layout

    entry = lookup(name)
    if entry.family == "envoy":
        return envoy_layout(entry.layout, {}).regex
    if entry.family == "haproxy":
        return haproxy_reader().layout.regex
    return nginx_layout(entry.layout, {}, entry.tail).regex


def _csv_header(line: str) -> str | None:
    """A header row of field names: CSV (Tyk's CSV pump by its columns)."""
    if "," not in line:
        return None
    try:
        cells = next(csv.reader([line]), [])
    except csv.Error:
        return None
    if len(cells) < 3 or not all(_NAME_RE.fullmatch(c.strip()) for c in cells):
        return None
    if {"Method", "ResponseCode", "TimeStamp"} <= {c.strip() for c in cells}:
        return "tyk-csv"
    return "csv"


def _json_preset(head: bytes, first: str) -> str | None:
    from scopeaudit.usage.readers.envelopes import iter_values, unwrap

    value: Any
    try:
        value = orjson.loads(first)
    except orjson.JSONDecodeError:
        values = iter_values(head)
        try:
            _, value = next(values)
        except (StopIteration, ValueError):
            return None
        if isinstance(value, str):
            return None  # the document is broken off or invalid: JSON all the same
    for item in unwrap(value):
        return _preset_of(item) if isinstance(item, Mapping) else None
    return None


def _preset_of(obj: Mapping[str, Any]) -> str | None:
    """The JSON preset whose fields a record has (checked by fields only that preset's
    product writes)."""
    request, response = obj.get("request"), obj.get("response")
    category = obj.get("category")
    if isinstance(request, Mapping) and "ts" in obj and (
            str(obj.get("logger", "")).startswith("http.log.access") or "status" in obj):
        return "caddy"
    if "EdgeStartTimestamp" in obj or "ClientRequestMethod" in obj:
        return "cloudflare"
    if isinstance(obj.get("httpRequest"), Mapping):
        return "gcp-lb"
    if category == "GatewayLogs" or "ApimSubscriptionId" in obj:
        return "azure-apim"
    if category == "FrontDoorAccessLog":
        return "azure-frontdoor"
    if "RequestMethod" in obj and "DownstreamStatus" in obj:
        return "traefik-json"
    if isinstance(request, Mapping) and isinstance(response, Mapping) and "started_at" in obj:
        return "kong"
    if "httpMethod" in obj and "requestId" in obj and ("resourcePath" in obj
                                                       or "routeKey" in obj):
        return "apigw"
    if "response_code" in obj and "raw_path" in obj:
        return "tyk"
    if "request.verb" in obj:
        return "apigee"
    if "start_time" in obj and "response_code" in obj and "method" in obj:
        return "istio"
    if "http.request.method" in obj or "http.method" in obj:
        return "otel"  # OpenTelemetry's attributes, flat (an OTLP record unwraps to them)
    return None
