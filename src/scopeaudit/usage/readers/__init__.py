"""Log readers, one module per format family, and the table that names them.

``make_reader(spec, path, maps)`` turns the user's ``--log-format`` value (or, without one, what
the input's first lines or its file name say: readers.detect) into a
:class:`~scopeaudit.usage.record.LogReader`, from the table of formats (usage.formats).
Two JSON presets compute fields here: API Gateway (a FieldMap whose path and method know
about stages, route keys and greedy resources) and Kong (JSON Lines whose line may also be
an http-log batch, a JSON array).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

from scopeaudit.errors import InputError
from scopeaudit.secrets import redact
from scopeaudit.usage.fields import FieldMap, Getter
from scopeaudit.usage.formats import (
    CSV,
    ENVOY,
    FORMATS,
    HAPROXY,
    JSON,
    NGINX,
    NGINX_COMBINED,
    NO_OPTIONS,
    W3C,
    ReadOptions,
    lookup,
    usage_names,
)
from scopeaudit.usage.readers.csv_reader import CsvReader
from scopeaudit.usage.readers.detect import detect
from scopeaudit.usage.readers.envoy import envoy_reader
from scopeaudit.usage.readers.haproxy import haproxy_reader
from scopeaudit.usage.readers.jsonl import JsonLinesReader
from scopeaudit.usage.readers.nginx import nginx_reader
from scopeaudit.usage.readers.w3c import W3cReader
from scopeaudit.usage.record import LogReader

__all__ = ["CsvReader", "JsonLinesReader", "KongReader", "apigw_fields", "format_kind",
           "make_reader"]

def make_reader(spec: str | None, path: str, maps: Mapping[str, str],
                options: ReadOptions = NO_OPTIONS) -> LogReader:
    """The reader for one input. ``spec`` is ``--log-format``; None: the format is detected
    from the input's first lines, else told by its file name (readers.detect)."""
    if spec is None:
        spec = detect(path).name
    name, sep, fmt = spec.partition(":")
    entry = lookup(name)
    if sep and not entry.takes_format:
        takes = " and ".join(e.name for e in FORMATS if e.takes_format)
        raise InputError(f"--log-format {redact(spec)!r}: only {takes} take a format string "
                         f"(formats: {usage_names()})")
    if sep and not fmt.strip():
        raise InputError(f"--log-format {entry.name}: the "
                         f"{'log_format' if entry.family == NGINX else 'format'} after the "
                         "colon is empty")
    zone = options.zone
    family = entry.family
    if family == NGINX:
        layout = fmt if sep and fmt.strip() != "combined" else (
            NGINX_COMBINED if sep else entry.layout)
        return nginx_reader(layout, maps, entry.name, "" if sep else entry.tail, zone)
    if family == ENVOY:
        return envoy_reader(fmt if sep else entry.layout, maps)
    if family == HAPROXY:
        if maps:
            raise InputError("--log-format haproxy takes no --map: its fields are fixed (the key "
                             "is the first captured request header)")
        return haproxy_reader(zone)
    fields = FieldMap.build(maps, entry.fields, zone)
    if family == W3C:
        return W3cReader(fields, entry.name, entry.delimiter)
    if family == CSV:
        return CsvReader(fields, entry.name, options.csv_delimiter or entry.delimiter,
                         options.csv_columns)
    assert family == JSON
    if entry.name == "apigw":
        return JsonLinesReader(apigw_fields(maps, zone), name="apigw")
    if entry.name == "kong":
        return KongReader(fields)
    return JsonLinesReader(fields, name=entry.name)


def format_kind(spec: str | None, path: str) -> str:
    """The format's name (``jsonl``, ``nginx``, ``caddy``, ...) that ``make_reader`` would
    read the input as (an alias as the name it stands for)."""
    if spec is None:
        return detect(path).name
    name = spec.partition(":")[0].strip().lower()
    try:
        return lookup(name).name
    except InputError:
        return name  # make_reader says what is wrong, in its place


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


def apigw_fields(maps: Mapping[str, str], zone: tzinfo = UTC) -> FieldMap:
    """The ``apigw`` preset, with a path (resourcePath, else the routeKey's path, else the
    actual path without its stage; a greedy ``{proxy+}`` template falls back to the actual
    path) and a method (httpMethod, else the routeKey's) unless ``--map`` names them."""
    base = FieldMap.build(maps, lookup("apigw").fields, zone)
    getters: dict[str, tuple[Getter, ...]] = dict(base.getters)
    sources = dict(base.sources)
    if "path" not in maps:
        getters["path"] = (_apigw_path,)
        sources["path"] = ("resourcePath", "routeKey", "path (less the stage)")
    if "method" not in maps:
        getters["method"] = (_apigw_method,)
        sources["method"] = ("httpMethod", "routeKey")
    return FieldMap(getters, sources, zone)


# --- Kong ----------------------------------------------------------------------------------


@dataclass  # not frozen: LogReader.name is a plain (settable) protocol member
class KongReader(JsonLinesReader):
    """Kong log plugins' JSON (``kong.log.serialize()``): one object per line, or an http-log
    batch (a JSON array of them) on a line, which every JSON reader unwraps; a batch's
    records share its line number."""

    name: str = "kong"
    not_a_record = "not a JSON object or array"
