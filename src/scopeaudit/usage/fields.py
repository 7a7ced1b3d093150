"""Field mapping for structured logs (JSON Lines, CSV): where each canonical field comes from.

Defaults try common names in order; ``--map FIELD=SOURCE`` replaces a field's candidates
with one source, a dotted path into nested JSON (``context.identity.apiKeyId``); a key that
holds dots itself is written in brackets (``request.headers["X-Api-Key"]``,
``["url.path"]``). A list value (Caddy logs each header as a list) gives its first element.
Presets for known formats (API Gateway, Kong, ...) are just mappings (usage.formats).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, tzinfo
from operator import itemgetter
from typing import Any

from scopeaudit.errors import InputError
from scopeaudit.secrets import TOKEN_BYTES_RE, TOKEN_MARK, TOKEN_MARK_BYTES, TOKEN_RE
from scopeaudit.usage.formats import DEFAULTS as DEFAULTS  # re-exported: the readers' defaults
from scopeaudit.usage.record import ReadContext, Record
from scopeaudit.usage.timeparse import iso_utc_fast, parse_time

FIELDS = ("time", "key_id", "method", "path", "status", "user_agent", "ip", "count")

# FIELDS' indexes of the text fields: a list value there is its first element
_TEXT_FIELDS = frozenset(FIELDS.index(f) for f in ("key_id", "method", "path", "user_agent",
                                                   "ip"))
# valid method as logged -> its upper-case form (a memo of a pure check, bounded)
_METHODS: dict[str, str] = {}
# What a method is (ASCII letters: "poſt" upper-cases to POST, and is none), a whole number
# written as text (a status, a count: ASCII digits, whitespace around them ignored; "²" is a
# digit to str.isdigit() and none to int()), and the protocol a request line may end with:
# the one definition, which the warehouse SQL is compiled from (sql/warehouse.py).
METHOD_TEXT = "[A-Za-z]+"
NUMBER_TEXT = "[0-9]+"
PROTOCOL_TEXT = " HTTP/[0-9.]+"
_REQUEST_LINE = re.compile(rf"^({METHOD_TEXT}) (\S+)(?:{PROTOCOL_TEXT})?$")
_METHOD_RE = re.compile(METHOD_TEXT)
_NUMBER_RE = re.compile(NUMBER_TEXT)


class BadRecord(Exception):
    """A reason a record is malformed; the reader counts it against its line."""


def parse_maps(values: Sequence[str], fields: Sequence[str] = FIELDS,
               source_name: str = "SOURCE") -> dict[str, str]:
    """``--map FIELD=SOURCE`` values, checked: FIELD one of ``fields`` (the readers' by
    default; the warehouse query names its columns, ``source_name`` COLUMN)."""
    out: dict[str, str] = {}
    for value in values:
        field, sep, source = value.partition("=")
        field, source = field.strip(), source.strip()
        if not sep or not source:
            raise InputError(f"--map expects FIELD={source_name}, got {value!r}")
        if field not in fields:
            raise InputError(f"--map: unknown field {field!r} (fields: {', '.join(fields)})")
        out[field] = source
    return out


Getter = str | Callable[[Mapping[str, Any]], Any]


_PATH_PART_RE = re.compile(r"""\[(?:"([^"]*)"|'([^']*)')\]|([^.\[\]]+)""")


def source_path(source: str) -> tuple[str, ...]:
    """A source's keys, outermost first: dots separate them, and a key in brackets
    (``["url.path"]``, ``['X-Api-Key']``) is taken whole, dots and all."""
    parts: list[str] = []
    pos = 0
    while pos < len(source):
        joined = not parts or source[pos] == "["  # a bracket needs no dot before it
        if parts and source[pos] == ".":
            pos, joined = pos + 1, True
        found = _PATH_PART_RE.match(source, pos)
        if found is None or not joined:
            raise InputError(f"--map: cannot read the source {source!r}: write a key that "
                             'holds dots in brackets, e.g. request.headers["X-Api-Key"]')
        quoted = found.group(1) if found.group(1) is not None else found.group(2)
        parts.append(quoted if quoted is not None else found.group(3))
        pos = found.end()
    return tuple(parts)


def _getter(source: str) -> Getter:
    """A plain name stays a string (looked up with dict.get, the fast path); a dotted path
    becomes a function walking the nested objects."""
    if "." not in source and "[" not in source:
        return source
    parts = source_path(source)
    if len(parts) == 1:
        return parts[0]

    def get(obj: Mapping[str, Any]) -> Any:
        # A flat key with dots in it wins over the nested path (some exporters flatten).
        if source in obj:
            return obj[source]
        value: Any = obj
        for part in parts:
            if value.__class__ is list:
                value = value[0] if value else None
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        return value

    return get


def first_of_list(value: Any) -> Any:
    """A list value's first element (Caddy logs a header's values as a list), else the
    value itself; an empty list is no value."""
    while value.__class__ is list:
        value = value[0] if value else None
    return value


def first_value(obj: Mapping[str, Any], getters: tuple[Getter, ...]) -> Any:
    """The first candidate's value that is not missing, empty or ``-``."""
    for getter in getters:
        value = obj.get(getter) if isinstance(getter, str) else getter(obj)
        if value is not None and value != "" and value != "-":
            return value
    return None


@dataclass(frozen=True)
class FieldMap:
    """Candidate getters per canonical field, tried in order; the first non-empty wins."""

    getters: Mapping[str, tuple[Getter, ...]]
    sources: Mapping[str, tuple[str, ...]]
    zone: tzinfo = UTC  # the zone of a time written without one (--tz)
    # Plans per record shape (see _extractor): a memo, not configuration.
    _plans: dict[tuple[str, ...], Callable[[Mapping[str, Any]], list[Any]]] = dataclass_field(
        default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def build(cls, overrides: Mapping[str, str],
              preset: Mapping[str, tuple[str, ...]] | None = None,
              zone: tzinfo = UTC) -> FieldMap:
        """``preset``: a format's field sources (usage.formats); None: the DEFAULTS."""
        base = DEFAULTS if preset is None else preset
        sources = {f: ((overrides[f],) if f in overrides else base.get(f, ())) for f in FIELDS}
        getters = {f: tuple(_getter(s) for s in srcs) for f, srcs in sources.items()}
        # A bracketed flat key (["url.path"]) is that key: the engine finds columns by name
        return cls(getters, {f: tuple(g if isinstance(g, str) else s
                                      for g, s in zip(getters[f], srcs, strict=True))
                             for f, srcs in sources.items()}, zone)

    def _extractor(self, obj: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], list[Any]]:
        """A function giving the eight raw field values (FIELDS order) of records with the
        keys of ``obj``; computed once per record shape.

        Exact: a plain-name candidate absent from the record's keys would be skipped anyway,
        so only those are dropped; dotted and computed getters are always kept. When every
        field then has at most one plain name, one C-level itemgetter fetches them all.
        Values still need the "" / "-" check (see record).
        """
        signature = tuple(obj)
        cache = self._plans
        extract = cache.get(signature)
        if extract is not None:
            return extract
        entries = [tuple(g for g in self.getters.get(field, ())
                         if not isinstance(g, str) or g in obj) for field in FIELDS]
        names = [e[0] for e in entries if e]
        if all(len(e) <= 1 for e in entries) and all(isinstance(n, str) for n in names) \
                and len(names) >= 2:
            getter = itemgetter(*names)
            missing = [i for i, e in enumerate(entries) if not e]

            def extract(o: Mapping[str, Any]) -> list[Any]:
                values = list(getter(o))
                for i in missing:
                    values.insert(i, None)
                return values
        else:
            def extract(o: Mapping[str, Any]) -> list[Any]:
                return [first_value(o, e) if e else None for e in entries]
        if len(cache) < 1024:
            cache[signature] = extract
        return extract

    def get(self, obj: Mapping[str, Any], field: str) -> Any:
        return first_value(obj, self.getters[field])

    def missing(self, obj: Mapping[str, Any]) -> tuple[str, ...]:
        """The fields a record needs (and its key identity) that ``obj`` has no value for:
        what a message about an input whose records lack them names. A method is not
        missing when the path is a whole request line ("GET /x HTTP/1.1")."""
        path = self.get(obj, "path")
        out = []
        for name in ("time", "method", "path", "status", "key_id"):
            if self.get(obj, name) is not None:
                continue
            if name == "method" and isinstance(path, str) and " " in path.strip():
                continue
            out.append(name)
        return tuple(out)

    def record(self, obj: Mapping[str, Any], line: int, ctx: ReadContext,
               raw_has_token: bool) -> Record:
        """One structured record -> Record; raises BadRecord with the reason."""
        values = self._extractor(obj)(obj)
        try:
            return self._record(values, line, ctx, raw_has_token)
        except BadRecord:
            # A text field's list value is its first element (a header's values): looked for
            # only once a record fails (the fast path takes values as they are), or in the
            # fields that never fail. A number field's list stays malformed.
            if not any(values[i].__class__ is list for i in _TEXT_FIELDS):
                raise
        return self._record([first_of_list(v) if i in _TEXT_FIELDS else v
                             for i, v in enumerate(values)], line, ctx, raw_has_token)

    def _record(self, values: list[Any], line: int, ctx: ReadContext,
                raw_has_token: bool) -> Record:
        if "" in values or "-" in values:  # empty markers count as missing
            values = [None if v == "" or v == "-" else v for v in values]
        raw_time, raw_key, method, target, raw_status, ua, ip, raw_count = values
        if raw_time is None:
            raise BadRecord("no time field")
        when = iso_utc_fast(raw_time) if raw_time.__class__ is str else None
        if when is None:
            try:
                when = parse_time(raw_time, self.zone)
            except (ValueError, OverflowError, OSError):
                raise BadRecord("unreadable time") from None
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
        upper = _METHODS.get(method) if method.__class__ is str else None
        if upper is None:
            if not isinstance(method, str) or not _METHOD_RE.fullmatch(method):
                raise BadRecord("no request method")
            upper = method.upper()
            if len(_METHODS) < 1024:
                _METHODS[method] = upper
        status = raw_status if raw_status.__class__ is int and 0 <= raw_status <= 999 \
            else _status(raw_status)
        hits = 1 if raw_count is None else _count(raw_count)
        if raw_key.__class__ is list:
            raw_key = first_of_list(raw_key)
        key, token = ctx.resolver.resolve(raw_key)
        target, target_key, target_token = ctx.resolver.scrub_target(target)
        if key is None:
            key = target_key
        if ua.__class__ is not str:
            ua = first_of_list(ua) if ua.__class__ is list else None
            ua = ua if ua.__class__ is str else None
        if ip.__class__ is not str:
            ip = first_of_list(ip) if ip.__class__ is list else None
            ip = ip if ip.__class__ is str else None
        if (ua is not None and TOKEN_MARK in ua) or (ip is not None and TOKEN_MARK in ip):
            # A token pasted into another kept field (a User-Agent, say) is not kept either.
            clean_ua, clean_ip = scrub_text(ua), scrub_text(ip)
            token = token or clean_ua != ua or clean_ip != ip
            ua, ip = clean_ua, clean_ip
        # tuple.__new__ builds the same Record without NamedTuple's Python-level __new__:
        # this line runs once per log record.
        return tuple.__new__(Record, (when, key, upper, target, status, ua, ip, hits,
                                      line, token or target_token or raw_has_token))


def _status(value: Any) -> int:
    if isinstance(value, bool):
        raise BadRecord("status is not a number")
    if isinstance(value, int):
        status = value
    elif (isinstance(value, str) and _NUMBER_RE.fullmatch(value.strip())) or (
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
    if isinstance(value, str) and _NUMBER_RE.fullmatch(value.strip()) and int(value) > 0:
        return int(value)
    raise BadRecord("count is not a positive whole number")


def scrub_text(value: str | None) -> str | None:
    """``value`` with any token in it replaced by ``[token]`` (for kept free-text fields)."""
    if value is None or TOKEN_MARK not in value:
        return value
    return TOKEN_RE.sub("[token]", value)


def line_has_token(raw: bytes) -> bool:
    """A token anywhere in the raw line (a header, the referer, …): cheap test first."""
    return TOKEN_MARK_BYTES in raw and TOKEN_BYTES_RE.search(raw) is not None
