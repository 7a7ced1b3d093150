"""Envoy access logs: the default text format, or any format string of command operators.

A format is literal text and ``%OPERATOR%``, ``%OPERATOR(ARG)%`` or ``%OPERATOR(ARG):LEN%``
operators; it is compiled to one regex like an nginx ``log_format`` (the machinery is shared).
Envoy writes ``-`` for an unset value and does not escape quotes inside values. The status
``0`` (no response was started) is kept as status 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from scopeaudit.errors import InputError
from scopeaudit.secrets import redact
from scopeaudit.usage.formats import ENVOY_DEFAULT
from scopeaudit.usage.readers.nginx import LineLayout, PatternReader, Segment, Slot, compile_layout
from scopeaudit.usage.timeparse import parse_time

DEFAULT = ENVOY_DEFAULT

# Where the key identity comes from when --map key_id names nothing: those in the format, in
# this order (any %DYNAMIC_METADATA(...)% where shown); the first with a value wins.
KEY_OPERATORS = ("REQ(X-API-KEY-ID)", "REQ(X-KEY-ID)", "DYNAMIC_METADATA", "REQ(X-API-KEY)",
                 "REQ(AUTHORIZATION)")
IP_OPERATORS = ("DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", "DOWNSTREAM_REMOTE_ADDRESS",
                "REQ(X-FORWARDED-FOR)")

_OPERATOR_RE = re.compile(r"%([A-Z][A-Z0-9_]*)(?:\((.*?)\))?(?::([0-9]+))?%", re.DOTALL)
_HEADER_OPERATORS = frozenset({"REQ", "RESP", "TRAILER", "REQ_WITHOUT_QUERY"})
_D = "[0-9]"
_ISO_TIME = (rf"{_D}{{4}}-{_D}{{2}}-{_D}{{2}}T{_D}{{2}}:{_D}{{2}}:{_D}{{2}}(?:\.{_D}+)?"
             rf"(?:Z|[+-]{_D}{{2}}:?{_D}{{2}})?")
_SUBSECONDS_RE = re.compile(r"%[1-9]?f")


def _canonical(name: str, arg: str | None) -> str:
    """An operator as compared: header names are case-insensitive, so upper-cased."""
    if arg is None:
        return name
    if name in _HEADER_OPERATORS:
        arg = arg.upper()
    return f"{name}({arg})"


def parse_format(fmt: str) -> tuple[list[Segment], dict[str, str]]:
    """A format string -> (segments, START_TIME argument per slot name where one is given)."""
    text = fmt.strip()
    if text.endswith("\\n"):  # the docs and YAML configs end it with a written newline
        text = text[:-2].rstrip()
    segments: list[Segment] = []
    time_formats: dict[str, str] = {}
    pos = 0
    for op in _OPERATOR_RE.finditer(text):
        if op.start() > pos:
            segments.append(text[pos:op.start()])
        name, arg = op.group(1), op.group(2)
        slot = _canonical(name, arg)
        shape: str | None = None
        if name == "START_TIME":
            if arg is None:
                shape = _ISO_TIME
            else:
                time_formats[slot] = arg
                shape = _strftime_shape(arg)
        elif name == "RESPONSE_CODE":
            shape = f"{_D}+|-"
        segments.append(Slot(slot, shape))
        pos = op.end()
    if pos < len(text):
        segments.append(text[pos:])
    return segments, time_formats


_STRFTIME_SHAPES = {
    "Y": f"{_D}{{4}}", "m": f"{_D}{{2}}", "d": f"{_D}{{2}}", "H": f"{_D}{{2}}",
    "M": f"{_D}{{2}}", "S": f"{_D}{{2}}", "y": f"{_D}{{2}}", "j": f"{_D}{{3}}",
    "e": f"[ 0-9]{_D}", "z": f"(?:Z|[+-]{_D}{{2}}:?{_D}{{2}})", "Z": "[A-Za-z]+",
    "b": "[A-Za-z]{3}", "a": "[A-Za-z]{3}", "s": f"{_D}+", "f": f"{_D}+", "T":
    f"{_D}{{2}}:{_D}{{2}}:{_D}{{2}}", "F": f"{_D}{{4}}-{_D}{{2}}-{_D}{{2}}", "%": "%",
}
_STRFTIME_RE = re.compile(r"%([1-9]?f|[A-Za-z%])")


def _strftime_shape(fmt: str) -> str | None:
    """A regex for the values of ``%START_TIME(fmt)%``; None if ``fmt`` uses a directive
    without a known shape (then the value is bounded by the literal after it)."""
    parts: list[str] = []
    pos = 0
    for directive in _STRFTIME_RE.finditer(fmt):
        parts.append(re.escape(fmt[pos:directive.start()]))
        shape = _STRFTIME_SHAPES.get(directive.group(1)[-1])
        if shape is None:
            return None
        parts.append(shape)
        pos = directive.end()
    parts.append(re.escape(fmt[pos:]))
    return "".join(parts)


def _operator(source: str) -> str:
    """A --map source naming an operator: ``%REQ(X-KEY)%``, ``REQ(x-key)``, ``ROUTE_NAME``, or
    a bare header name (``x-api-key-id``), which means ``REQ(X-API-KEY-ID)``."""
    text = source.strip().strip("%")
    op = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]*)(?:\((.*)\))?", text, re.DOTALL)
    if op is not None and (op.group(2) is not None or text.upper() == text):
        return _canonical(op.group(1).upper(), op.group(2))
    return f"REQ({text.upper()})"


def _timestamp(fmt: str) -> Callable[[str], float]:
    """A parser for ``%START_TIME(fmt)%`` values: whatever parse_time reads, else ``fmt``."""
    pattern = _SUBSECONDS_RE.sub("%f", fmt)

    def parse(value: str) -> float:
        try:
            return parse_time(value)
        except ValueError:
            pass
        parsed = datetime.strptime(value, pattern)  # raises ValueError
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()

    return parse


def envoy_layout(fmt: str, maps: Mapping[str, str]) -> LineLayout:
    """Compile an Envoy format string; InputError names what the format lacks."""
    segments, time_formats = parse_format(fmt)
    regex, groups = compile_layout(segments, '[^"]*')
    if not groups:
        raise InputError(f"Envoy format has no command operators: {redact(fmt)[:80]!r}")

    def mapped(field: str) -> int | None:
        if field not in maps:
            return None
        op = _operator(maps[field])
        if op not in groups:
            raise InputError(f"--map {field}={redact(maps[field])}: the Envoy format has no "
                             f"%{op}%")
        return groups[op]

    def every(names: Sequence[str]) -> tuple[int, ...]:
        return tuple(index for name in names for slot, index in groups.items()
                     if slot == name or slot.startswith(name + "("))

    def first(names: Sequence[str]) -> int | None:
        found = every(names)
        return found[0] if found else None

    time_slot = next((slot for slot in groups if slot.split("(")[0] == "START_TIME"), None)
    time = mapped("time")
    if time is None and time_slot is not None:
        time = groups[time_slot]
    if time is None:
        raise InputError("Envoy format has no %START_TIME%")
    to_epoch: Callable[[str], float] = parse_time
    if "time" not in maps and time_slot in time_formats:
        to_epoch = _timestamp(time_formats[time_slot])
    status = mapped("status")
    if status is None:
        status = groups.get("RESPONSE_CODE")
    if status is None:
        raise InputError("Envoy format has no %RESPONSE_CODE%")
    method = mapped("method")
    if method is None:
        method = groups.get("REQ(:METHOD)")
    target = mapped("path")
    targets = (target,) if target is not None else _path_slots(groups)
    if method is None or not targets:
        raise InputError("Envoy format has no %REQ(:METHOD)% and %REQ(:PATH)% (or "
                         "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%): the method and path are needed")
    key = mapped("key_id")
    keys = (key,) if key is not None else every(KEY_OPERATORS)
    ua = mapped("user_agent")
    if ua is None:
        ua = groups.get("REQ(USER-AGENT)")
    ip = mapped("ip")
    if ip is None:
        ip = first(IP_OPERATORS)
    return LineLayout(regex=regex, time=time, status=status, method=method, targets=targets,
                      keys=keys, user_agent=ua, ip=ip, count=mapped("count"),
                      parse_time=to_epoch)


def _path_slots(groups: Mapping[str, int]) -> tuple[int, ...]:
    """Request target candidates: the original path if a route rewrote it, else ``:path``."""
    ranked: list[tuple[int, int]] = []
    for slot, index in groups.items():
        name, _, arg = slot.partition("(")
        headers = arg.rstrip(")").split("?")
        header_op = name in ("REQ", "REQ_WITHOUT_QUERY")
        if header_op and "X-ENVOY-ORIGINAL-PATH" in headers:
            rank = 0
        elif header_op and ":PATH" in headers:
            rank = 1
        elif name == "PATH":  # Envoy 1.28+: %PATH%, %PATH(WQ:ORIG)%
            rank = 2
        else:
            continue
        ranked.append((rank, index))
    return tuple(index for _, index in sorted(ranked))


def envoy_reader(fmt: str = DEFAULT, maps: Mapping[str, str] | None = None) -> PatternReader:
    return PatternReader(envoy_layout(fmt, maps or {}), "envoy")
