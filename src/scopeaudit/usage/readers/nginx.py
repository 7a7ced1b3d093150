"""nginx access logs in any ``log_format`` (``combined`` by default), compiled to one regex.

The format string is split into literal text and variables; each variable becomes a named
group, everything else matches literally. Values are bounded by the literal that follows them
(``"$request"`` is "up to the next quote": nginx escapes a quote inside a value as ``\\x22``),
and a few variables have a shape of their own (``$status``, ``$time_local``, ``$msec``, …).

The line-pattern machinery here (:class:`Slot`, :func:`compile_layout`, :class:`LineLayout`,
:class:`PatternReader`) is shared with the Envoy reader, which only parses another syntax.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from functools import partial

import orjson

from scopeaudit.errors import InputError
from scopeaudit.secrets import TOKEN_MARK, redact
from scopeaudit.usage.clients import without_port
from scopeaudit.usage.fields import line_has_token, scrub_text
from scopeaudit.usage.formats import NGINX_COMBINED
from scopeaudit.usage.inputs import iter_lines
from scopeaudit.usage.record import ReadContext, Record
from scopeaudit.usage.timeparse import parse_time

COMBINED = NGINX_COMBINED

# Where the key identity comes from when --map key_id names nothing: those in the format, in
# this order; the first with a value wins.
KEY_VARIABLES = ("http_x_key_id", "http_x_api_key_id", "upstream_http_x_key_id", "api_key_id",
                 "key_id", "remote_user", "http_x_api_key", "http_authorization")
TIME_VARIABLES = ("msec", "time_iso8601", "time_local")
IP_VARIABLES = ("remote_addr", "realip_remote_addr", "http_x_forwarded_for",
                "proxy_add_x_forwarded_for", "http_x_real_ip")

_D = "[0-9]"
_NGINX_SHAPES = {
    "status": f"{_D}+",
    "time_local": rf"{_D}{{2}}/[A-Za-z]{{3}}/{_D}{{4}}:{_D}{{2}}:{_D}{{2}}:{_D}{{2}} [+-]{_D}{{4}}",
    # a fraction too: some builds and log shippers write one (ALB-style times)
    "time_iso8601": rf"{_D}{{4}}-{_D}{{2}}-{_D}{{2}}T{_D}{{2}}:{_D}{{2}}:{_D}{{2}}"
                    rf"(?:\.{_D}{{1,9}})?(?:Z|[+-]{_D}{{2}}:?{_D}{{2}})?",
    "msec": rf"{_D}+(?:\.{_D}+)?",
    # Apache's %b (the Apache presets name it so): a count, or "-" for none; its shape keeps
    # a common-format line from taking whatever follows it as the count
    "bytes_clf": f"{_D}+|-",
}
_VAR_RE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")
_CONFIG_RE = re.compile(r"\s*(?:log_format\s+[A-Za-z0-9_]+\s+)?(?:escape=([a-z]+)\s+)?(.*?);?\s*",
                        re.DOTALL)
_QUOTED_PIECES_RE = re.compile(r"(?:'(?:[^'\\]|\\.)*'\s*)+", re.DOTALL)
_QUOTED_PIECE_RE = re.compile(r"'((?:[^'\\]|\\.)*)'", re.DOTALL)
_CONFIG_ESCAPE_RE = re.compile(r"\\(['\"\\])")
_HEX_ESCAPE_RE = re.compile(rb"\\x([0-9A-Fa-f]{2})")

# What a value between quotes may be, per nginx ``escape=`` mode.
_QUOTED = {
    "default": '[^"]*',  # '"' and '\' are written as \x22 and \x5C
    "json": r'[^"\\]*(?:\\.[^"\\]*)*',  # '"' and '\' are backslash-escaped
    "none": ".*?",  # nothing is escaped: a quote inside a value is ambiguous
}


# --- the line-pattern machinery, shared with envoy.py -------------------------------------


@dataclass(frozen=True)
class Slot:
    """One variable (nginx) or command operator (Envoy) in a format."""

    name: str  # as the format names it: "status", "REQ(:METHOD)"
    shape: str | None = None  # a regex (no capturing groups) when the value has a fixed shape


Segment = str | Slot


def compile_layout(segments: Sequence[Segment], quoted: str, tail: Sequence[Segment] = ()
                   ) -> tuple[re.Pattern[str], dict[str, int]]:
    """One regex for a line, and the 0-based group of each slot name.

    A slot without a shape of its own matches up to the first character of the literal that
    follows it (``quoted`` when that is a quote), anything when it ends the line, and as little
    as possible when another slot follows at once. A name seen twice must repeat its value.
    ``tail``: segments the line may end with or not (a preset's documented addition); a slot
    of it that is absent reads as empty.
    """
    parts: list[str] = []
    groups: dict[str, str] = {}  # slot name -> regex group name
    every = [*segments, *tail]
    for i, seg in enumerate(every):
        if tail and i == len(segments):
            parts.append("(?:")
        if isinstance(seg, str):
            parts.append(re.escape(seg))
            continue
        if seg.name in groups:
            parts.append(f"(?P={groups[seg.name]})")
            continue
        following = every[i + 1] if i + 1 < len(every) else None
        if seg.shape is not None:
            body = seg.shape
        elif following is None:
            body = ".*"
        elif isinstance(following, Slot):
            body = ".*?"
        elif following[0] == '"':
            body = quoted
        else:
            body = f"[^{re.escape(following[0])}]*"
        group = re.sub(r"[^A-Za-z0-9_]", "_", seg.name).strip("_") or "v"
        if not group[0].isalpha():
            group = "v_" + group
        while group in groups.values():
            group += "_"
        groups[seg.name] = group
        parts.append(f"(?P<{group}>{body})")
    if tail:
        parts.append(")?")
    regex = re.compile("".join(parts))
    order = {name: index - 1 for name, index in regex.groupindex.items()}
    return regex, {slot: order[group] for slot, group in groups.items()}


@dataclass(frozen=True)
class LineLayout:
    """Which group of a compiled line holds each canonical field (0-based, into groups())."""

    regex: re.Pattern[str]
    time: int
    status: int
    request: int | None = None  # a whole request line: METHOD TARGET [PROTOCOL]
    method: int | None = None
    targets: tuple[int, ...] = ()  # request target candidates: the first non-empty one wins
    args: int | None = None  # a query string to append to the target (nginx ``$uri``)
    keys: tuple[int, ...] = ()  # key identity candidates: the first non-empty one wins
    user_agent: int | None = None
    ip: int | None = None
    count: int | None = None
    parse_time: Callable[[str], float] = parse_time
    clf_time: bool = False  # the time is $time_local: parsed once per minute, then cached
    unescape: Callable[[str], str] | None = None  # for values holding a backslash


_MISMATCH = "does not match the log format"
# A .log file of JSON lines is read as nginx by its name: the reason says what to pass.
_MISMATCH_JSON = "does not match the log format: the line is JSON (pass --log-format jsonl)"


@dataclass  # not frozen: LogReader.name is a plain (settable) protocol member
class PatternReader:
    """Reads a line-oriented text log through a compiled :class:`LineLayout`."""

    layout: LineLayout
    name: str

    def read(self, stream: io.BufferedIOBase, ctx: ReadContext) -> Iterator[Record]:
        lay = self.layout
        fullmatch = lay.regex.fullmatch
        skip = ctx.skip  # with the raw line: a token on a line that is no record counts
        resolve = ctx.resolver.resolve
        scrub_target = ctx.resolver.scrub_target
        unescape = lay.unescape
        to_epoch = _per_minute(lay.parse_time) if lay.clf_time else lay.parse_time
        last_time, last_when = "", 0.0
        for lineno, raw in iter_lines(stream, ctx.first_line):
            if raw is None:
                skip(lineno, "line longer than 1 MiB")
                continue
            try:
                text = raw.rstrip().decode("utf-8")  # the line end, and trailing blanks
            except UnicodeDecodeError:
                skip(lineno, "invalid UTF-8", raw)
                continue
            found = fullmatch(text)
            if found is None:
                if text.strip():  # blank lines are not records
                    skip(lineno, _MISMATCH_JSON if text.lstrip()[:1] == "{"
                         and text.endswith("}") else _MISMATCH, raw)
                continue
            values = found.groups("")  # a slot of an optional tail that is absent: empty

            stamp = values[lay.time]
            if stamp != last_time:  # consecutive lines mostly share their second
                try:
                    last_when = to_epoch(stamp)
                except (ValueError, OverflowError, OSError):
                    skip(lineno, "unreadable time", raw)
                    continue
                last_time = stamp

            if lay.request is not None:
                parts = values[lay.request].split(" ")
                if len(parts) == 2 or (len(parts) == 3 and parts[2].startswith("HTTP/")):
                    method, target = parts[0], parts[1]
                else:
                    skip(lineno, "malformed request line", raw)
                    continue
            else:
                method = target = ""
                for index in lay.targets:
                    target = values[index]
                    if target and target != "-":
                        break
                if lay.args is not None:
                    query = values[lay.args]
                    if query and query != "-":
                        target = f"{target}?{query}"
            if lay.method is not None:
                method = values[lay.method]
            if not (method.isascii() and method.isalpha()):
                skip(lineno, "no request method", raw)
                continue
            if not target or target == "-":
                skip(lineno, "no request path", raw)
                continue
            if unescape is not None and "\\" in target:
                target = unescape(target)

            code = values[lay.status]
            if not (code.isascii() and code.isdigit()):
                skip(lineno, "no status code" if code in ("", "-") else "status is not a number",
                     raw)
                continue
            status = int(code)
            if status > 999:
                skip(lineno, "status out of range", raw)
                continue

            hits = 1
            if lay.count is not None:
                counted = values[lay.count]
                if counted and counted != "-":
                    if not (counted.isascii() and counted.isdigit() and int(counted) > 0):
                        skip(lineno, "count is not a positive whole number", raw)
                        continue
                    hits = int(counted)

            key: str | None = None
            token = False
            for index in lay.keys:
                ident = values[index]
                if unescape is not None and "\\" in ident:
                    ident = unescape(ident)
                key, token = resolve(ident)
                if key is not None:
                    break
            target, target_key, target_token = scrub_target(target)
            if key is None:
                key = target_key

            ua = _optional(values, lay.user_agent, unescape)
            ip = _address(_optional(values, lay.ip, unescape))
            if (ua is not None and TOKEN_MARK in ua) or (ip is not None and TOKEN_MARK in ip):
                clean_ua, clean_ip = scrub_text(ua), scrub_text(ip)
                token = token or clean_ua != ua or clean_ip != ip
                ua, ip = clean_ua, clean_ip
            yield Record(last_when, key, method.upper(), target, status, ua, ip, hits, lineno,
                         token or target_token or line_has_token(raw))


def _per_minute(parse: Callable[[str], float]) -> Callable[[str], float]:
    """``parse`` for ``dd/Mon/yyyy:HH:MM:SS ±hhmm`` stamps, computing each minute once."""
    minutes: dict[str, float] = {}

    def cached(stamp: str) -> float:
        if len(stamp) != 26:
            return parse(stamp)
        second = stamp[18:20]
        if not (second.isascii() and second.isdigit() and second < "60"):
            return parse(stamp)
        minute = stamp[:18] + stamp[20:]
        base = minutes.get(minute)
        if base is None:
            base = parse(stamp[:18] + "00" + stamp[20:])
            if len(minutes) >= 4096:
                minutes.clear()
            minutes[minute] = base
        return base + int(second)

    return cached


def _optional(values: tuple[str, ...], index: int | None,
              unescape: Callable[[str], str] | None) -> str | None:
    if index is None:
        return None
    value = values[index]
    if not value or value == "-":
        return None
    if unescape is not None and "\\" in value:
        return unescape(value)
    return value


def _address(value: str | None) -> str | None:
    """The client of an address field: the first of a forwarded list, without a port
    (usage.clients.without_port: the rule every reader's addresses are read by)."""
    if value is None:
        return None
    if "," in value:
        value = value.split(",", 1)[0].strip()
    return without_port(value) or None


def slot_names(segments: Sequence[Segment]) -> list[str]:
    return [seg.name for seg in segments if isinstance(seg, Slot)]


# --- nginx ---------------------------------------------------------------------------------


def unescape_default(value: str) -> str:
    """nginx ``escape=default``: ``\\xHH`` is a byte; the bytes are UTF-8 (else replaced)."""
    data = _HEX_ESCAPE_RE.sub(lambda m: bytes((int(m.group(1), 16),)), value.encode("utf-8"))
    return data.decode("utf-8", "replace")


def unescape_json(value: str) -> str:
    """nginx ``escape=json``: the value is the inside of a JSON string."""
    try:
        decoded = orjson.loads(b'"' + value.encode("utf-8") + b'"')
    except orjson.JSONDecodeError:
        return value
    return decoded if isinstance(decoded, str) else value


_UNESCAPE: dict[str, Callable[[str], str] | None] = {
    "default": unescape_default, "json": unescape_json, "none": None}


def parse_format(log_format: str) -> tuple[list[Segment], str]:
    """A ``log_format`` value -> (segments, escape mode).

    Accepts the bare format, or the directive's text as written in nginx.conf:
    ``[log_format NAME] [escape=MODE] 'piece' 'piece' …[;]``.
    """
    config = _CONFIG_RE.fullmatch(log_format)
    escape = "default"
    body = log_format
    if config is not None:
        if config.group(1) is not None:
            escape = config.group(1)
            if escape not in _QUOTED:
                raise InputError(f"nginx log format: unknown escape={escape!r} "
                                 "(use default, json or none)")
        body = config.group(2)
        if _QUOTED_PIECES_RE.fullmatch(body):
            body = "".join(_CONFIG_ESCAPE_RE.sub(r"\1", piece)
                           for piece in _QUOTED_PIECE_RE.findall(body))
        elif config.group(1) is None:
            body = log_format.strip()  # a bare format: exactly, but for blanks around it
    return split_variables(body), escape


def split_variables(body: str) -> list[Segment]:
    """A format's text as literals and ``$variable`` slots, exactly as written."""
    segments: list[Segment] = []
    pos = 0
    for var in _VAR_RE.finditer(body):
        if var.start() > pos:
            segments.append(body[pos:var.start()])
        name = var.group(1) or var.group(2)
        segments.append(Slot(name, _NGINX_SHAPES.get(name)))
        pos = var.end()
    if pos < len(body):
        segments.append(body[pos:])
    return segments


def _variable(source: str) -> str:
    """A --map source naming an nginx variable: ``$var``, ``${var}`` or ``var``."""
    name = source.strip().removeprefix("$")
    if name.startswith("{") and name.endswith("}"):
        name = name[1:-1]
    return name


def nginx_layout(log_format: str, maps: Mapping[str, str], tail: str = "",
                 zone: tzinfo = UTC) -> LineLayout:
    """Compile a ``log_format`` into a layout; InputError names what the format lacks.
    ``tail``: text the lines may end with or not (a preset's documented addition);
    ``zone``: the zone of a time written without one."""
    segments, escape = parse_format(log_format)
    present = slot_names(segments)
    if not present:
        raise InputError(f"nginx log format has no variables: {redact(log_format)[:80]!r}")
    regex, groups = compile_layout(segments, _QUOTED[escape], split_variables(tail))

    def mapped(field: str) -> int | None:
        if field not in maps:
            return None
        name = _variable(maps[field])
        if name not in groups:
            raise InputError(f"--map {field}={redact(maps[field])}: the nginx log format has "
                             f"no ${name}")
        return groups[name]

    def first(names: Sequence[str]) -> int | None:
        found = every(names)
        return found[0] if found else None

    def every(names: Sequence[str]) -> tuple[int, ...]:
        return tuple(groups[name] for name in names if name in groups)

    time = mapped("time")
    if time is None:
        time = first(TIME_VARIABLES)
    if time is None:
        raise InputError("nginx log format has no time variable ($time_local, $time_iso8601 "
                         "or $msec)")
    status = mapped("status")
    if status is None:
        status = first(("status",))
    if status is None:
        raise InputError("nginx log format has no $status")

    request = target = args = None
    if "path" in maps:
        if _variable(maps["path"]) == "request":
            request = mapped("path")
        else:
            target = mapped("path")
    elif "request" in groups:
        request = groups["request"]
    else:
        target = first(("request_uri",))
        if target is None and "uri" in groups:
            target = groups["uri"]
            args = first(("args", "query_string"))
    method = mapped("method")
    if method is None and request is None:
        method = first(("request_method",))
    if request is None and (method is None or target is None):
        raise InputError("nginx log format has no $request (nor $request_method with "
                         "$request_uri or $uri): the method and path are needed")
    key = mapped("key_id")
    keys = (key,) if key is not None else every(KEY_VARIABLES)
    ua = mapped("user_agent")
    if ua is None:
        ua = first(("http_user_agent",))
    ip = mapped("ip")
    if ip is None:
        ip = first(IP_VARIABLES)
    return LineLayout(regex=regex, time=time, status=status, request=request, method=method,
                      targets=() if target is None else (target,), args=args, keys=keys,
                      user_agent=ua, ip=ip, count=mapped("count"),
                      parse_time=parse_time if zone is UTC else partial(parse_time, zone=zone),
                      clf_time=time == groups.get("time_local"), unescape=_UNESCAPE[escape])


def nginx_reader(log_format: str = COMBINED, maps: Mapping[str, str] | None = None,
                 name: str = "nginx", tail: str = "", zone: tzinfo = UTC) -> PatternReader:
    return PatternReader(nginx_layout(log_format, maps or {}, tail, zone), name)
