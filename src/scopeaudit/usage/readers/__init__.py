"""Log readers, one module per format family, and the table that names them.

``make_reader(spec, path, maps)`` turns the user's ``--log-format`` value (or, without one, the
file name) into a :class:`~scopeaudit.usage.record.LogReader`. The two JSON presets live here:
API Gateway (a FieldMap whose path and method know about stages, route keys and greedy
resources) and Kong (JSON Lines whose line may also be an http-log batch, a JSON array).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scopeaudit.errors import InputError
from scopeaudit.secrets import redact
from scopeaudit.usage.fields import FieldMap, Getter
from scopeaudit.usage.readers.csv_reader import CsvReader
from scopeaudit.usage.readers.envoy import DEFAULT as ENVOY_DEFAULT
from scopeaudit.usage.readers.envoy import envoy_reader
from scopeaudit.usage.readers.haproxy import haproxy_reader
from scopeaudit.usage.readers.jsonl import JsonLinesReader
from scopeaudit.usage.readers.nginx import COMBINED, nginx_reader
from scopeaudit.usage.record import LogReader

__all__ = ["FORMATS", "CsvReader", "JsonLinesReader", "KongReader", "apigw_fields",
           "format_kind", "make_reader"]

FORMATS = ("jsonl", "csv", "nginx", "nginx:<log_format>", "envoy", "envoy:<format>", "apigw",
           "kong", "haproxy")
_BY_SUFFIX = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
              ".log": "nginx"}
# Rotated copies keep their format: access.log.1, access.log.2.gz, access.log-20261127.gz
_ROTATION_RE = re.compile(r"(?:\.[0-9]{1,4}|-[0-9]{8,10})$")


def make_reader(spec: str | None, path: str, maps: Mapping[str, str]) -> LogReader:
    """The reader for one input. ``spec`` is ``--log-format``; None picks by file name."""
    if spec is None:
        return make_reader(_by_name(path), path, maps)
    kind, sep, fmt = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "nginx":
        if sep and fmt.strip() and fmt.strip() != "combined":
            return nginx_reader(fmt, maps)
        if sep and not fmt.strip():
            raise InputError("--log-format nginx: the log_format after the colon is empty")
        return nginx_reader(COMBINED, maps)
    if kind == "envoy":
        if sep and not fmt.strip():
            raise InputError("--log-format envoy: the format after the colon is empty")
        return envoy_reader(fmt if sep else ENVOY_DEFAULT, maps)
    if sep:
        raise InputError(f"--log-format {redact(spec)!r}: only nginx and envoy take a format "
                         f"string (formats: {', '.join(FORMATS)})")
    if kind in ("jsonl", "ndjson", "json"):
        return JsonLinesReader(FieldMap.build(maps))
    if kind == "csv":
        return CsvReader(FieldMap.build(maps))
    if kind == "apigw":
        return JsonLinesReader(apigw_fields(maps), name="apigw")
    if kind == "kong":
        return KongReader(FieldMap.build(maps, preset="kong"))
    if kind == "haproxy":
        if maps:
            raise InputError("--log-format haproxy takes no --map: its fields are fixed (the key "
                             "is the first captured request header)")
        return haproxy_reader()
    raise InputError(f"unknown --log-format {redact(spec)!r} (formats: {', '.join(FORMATS)})")


def format_kind(spec: str | None, path: str) -> str:
    """The format family (``jsonl``, ``nginx``, ...) that ``make_reader`` would use."""
    return (spec if spec is not None else _by_name(path)).partition(":")[0].strip().lower()


def _by_name(path: str) -> str:
    from scopeaudit.http.policy import is_url
    from scopeaudit.usage.inputs import input_label

    name = urlsplit(path).path if is_url(path) else path
    name = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    name = name.removesuffix(".gz")
    name = _ROTATION_RE.sub("", name)
    for suffix, kind in _BY_SUFFIX.items():
        if name.endswith(suffix):
            return kind
    raise InputError("cannot tell the log format from the file name; pass --log-format "
                     f"({', '.join(FORMATS)})", file=input_label(path))


# --- AWS API Gateway -----------------------------------------------------------------------


def _given(value: Any) -> str | None:
    """A usable string value: API Gateway writes ``-`` for a missing one."""
    if isinstance(value, str):
        text = value.strip()
        if text and text != "-":
            return text
    return None


def _without_stage(path: str, stage: str | None) -> str:
    """``$context.path`` includes the stage (``/prod/pets/1``); the API's path does not."""
    if stage is None or stage == "$default":
        return path
    prefix = "/" + stage
    if path == prefix:
        return "/"
    if path.startswith(prefix) and path[len(prefix)] in "/?":
        return path[len(prefix):] if path[len(prefix)] == "/" else "/" + path[len(prefix):]
    return path


def _greedy(template: str) -> bool:
    return "+}" in template  # {proxy+}: a greedy resource matches anything below it


def _route_key(obj: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """An HTTP API ``routeKey`` as (method, template); ``$default`` is no route."""
    route = _given(obj.get("routeKey"))
    if route is None or route == "$default":
        return None, None
    method, sep, template = route.partition(" ")
    if not sep:
        return None, route  # the older form: only the path
    return (method if method.upper() != "ANY" else None), template.strip() or None


def _apigw_path(obj: Mapping[str, Any]) -> Any:
    resource = _given(obj.get("resourcePath"))
    if resource is not None and not _greedy(resource):
        return resource
    _, template = _route_key(obj)
    if template is not None and not _greedy(template):
        return template
    path = _given(obj.get("path"))
    if path is None:
        return None
    return _without_stage(path, _given(obj.get("stage")))


def _apigw_method(obj: Mapping[str, Any]) -> Any:
    method = _given(obj.get("httpMethod"))
    if method is not None:
        return method
    return _route_key(obj)[0]


def apigw_fields(maps: Mapping[str, str]) -> FieldMap:
    """The ``apigw`` preset, with a path (resourcePath, else the routeKey's path, else the
    actual path without its stage; a greedy ``{proxy+}`` template falls back to the actual
    path) and a method (httpMethod, else the routeKey's) unless ``--map`` names them."""
    base = FieldMap.build(maps, preset="apigw")
    getters: dict[str, tuple[Getter, ...]] = dict(base.getters)
    sources = dict(base.sources)
    if "path" not in maps:
        getters["path"] = (_apigw_path,)
        sources["path"] = ("resourcePath", "routeKey", "path (less the stage)")
    if "method" not in maps:
        getters["method"] = (_apigw_method,)
        sources["method"] = ("httpMethod", "routeKey")
    return FieldMap(getters, sources)


# --- Kong ----------------------------------------------------------------------------------


@dataclass  # not frozen: LogReader.name is a plain (settable) protocol member
class KongReader(JsonLinesReader):
    """Kong log plugins' JSON (``kong.log.serialize()``): one object per line, or an http-log
    batch (a JSON array of them) on a line, which every JSON reader unwraps; a batch's
    records share its line number."""

    name: str = "kong"
    not_a_record = "not a JSON object or array"
