"""The plain layout: the one record layout whose lines DuckDB aggregates in SQL, and the
value patterns a plain line's fields must have for SQL to read them exactly as the streaming
reader does (see :mod:`scopeaudit.engine.duckdb_engine`)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import orjson

from scopeaudit.usage.fields import FIELDS, FieldMap
from scopeaudit.usage.timeparse import (
    END_EPOCH,
    ISO_DATE,
    MS_THRESHOLD,
    NS_THRESHOLD,
    US_THRESHOLD,
)


def sql_literal(text: str) -> str:
    """A SQL string literal (DuckDB: quotes doubled, no other escapes)."""
    return "'" + text.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    """A SQL identifier, quoted (quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def epoch_seconds_sql(text: str) -> str:
    """SQL of the reader's epoch rule (timeparse.epoch_unit): seconds, or milliseconds from
    MS_THRESHOLD on, microseconds and nanoseconds past them, of a plain epoch value's text."""
    number = f"CAST({text} AS DOUBLE)"
    return (f"CASE WHEN {number} < {MS_THRESHOLD} THEN {number} "
            f"WHEN {number} < {US_THRESHOLD!r} THEN {number} / 1000.0 "
            f"WHEN {number} < {NS_THRESHOLD!r} THEN {number} / 1000000.0 "
            f"ELSE {number} / 1000000000.0 END")


def before_end_sql(seconds: str) -> str:
    """SQL: a time the reader accepts (from 1970 and before year 10000: timeparse)."""
    return f"({seconds} >= 0 AND {seconds} < {END_EPOCH!r})"


def iso_in_range_sql(text: str) -> str:
    """SQL: a plain ISO time (its year first, four digits) the reader accepts: from 1970."""
    return f"{text} >= '1970'"


# Value patterns of a plain line. Strings: printable ASCII without '"' and '\' (so no escapes:
# the text between the quotes is the value); numbers without exponents; the forms SQL reads
# exactly as the Python reader does, per role.
_S = r"[ !#-\[\]-~]"  # a string character
_S_NOSPACE = r"[!#-\[\]-~]"
_PATH_HEAD = r"[!#-<>@-\[\]-~]"  # no space, '=' or '?' before the query
_NUM = r"-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,17})?"
_LITERAL = rf"(?:{_NUM}|true|false|null)"
# A calendar date Python's datetime accepts (timeparse.ISO_DATE: years 0001-9999, the
# Gregorian leap years), so that SQL may read it without checking it: every plain ISO time is
# a valid one
_ISO = (rf"{ISO_DATE}T(?:[01][0-9]|2[0-3]):[0-5][0-9]"
        r":[0-5][0-9](?:\.[0-9]{1,9})?Z")
_EPOCH = r"[0-9]{1,15}(?:\.[0-9]{1,9})?"  # in a string: leading zeros are fine
_EPOCH_NUMBER = r"(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,9})?"  # a JSON number: none
_WS = r"[ \t]*"
_NAME_OK = re.compile(r"[ !#-\[\]-~]+")
ROLE_PATTERNS: dict[tuple[str, bool], str] = {
    # (field, string-valued?) -> the value pattern; a missing pair means "never plain"
    ("time", True): f'"(?:{_ISO}|{_EPOCH})"',
    ("time", False): _EPOCH_NUMBER,
    ("key_id", True): f'"{_S_NOSPACE}*"',  # no space: no Bearer/Basic/scheme credentials
    ("key_id", False): "null",
    ("method", True): '"[A-Za-z]+"',
    # an origin-form path: a target without its leading '/' keys oddly in the aggregator's
    # cache (see groups.route_key), so the Python side keeps those
    ("path", True): f'"/{_PATH_HEAD}*(?:\\?{_S_NOSPACE}*)?"',
    ("status", True): '"[0-9]{1,3}"',
    ("status", False): "(?:0|[1-9][0-9]{0,2})",
    ("count", True): '"(?:0{0,10}[1-9][0-9]{0,17}|-)?"',
    ("count", False): "(?:[1-9][0-9]{0,17}|null)",
    ("user_agent", True): f'"{_S}*"',
    ("user_agent", False): _LITERAL,
    ("ip", True): f'"{_S}*"',
    ("ip", False): _LITERAL,
}
_REQUIRED = ("time", "method", "path", "status")
# A plain CSV row: unquoted cells (printable ASCII without '"' and ','), one per column
_CSV_CELL = r"[ !#-+\--~]*"
_CSV_NOSPACE = r"[!#-+\--~]"
_CSV_PATTERNS: dict[str, str] = {
    "time": f"(?:{_ISO}|{_EPOCH})",
    "key_id": f"{_CSV_NOSPACE}*",
    "method": "[A-Za-z]+",
    "path": f"/[!#-+\\--<>@-~]*(?:\\?{_CSV_NOSPACE}*)?",
    "status": "[0-9]{1,3}",
    "count": "(?:0{0,10}[1-9][0-9]{0,17}|-)?",
}


@dataclass(frozen=True)
class Layout:
    """The record layout plain lines have: these keys in this order, each always a string or
    always a non-string, and for each field the one key it comes from (FieldMap's candidates
    present in the layout: one at most, else the layout is not used)."""

    keys: tuple[str, ...]
    strings: tuple[bool, ...]
    roles: Mapping[str, str]  # field -> key
    csv: bool = False  # CSV: the keys are the header's columns, every cell a string

    def regex(self) -> str:
        role_of = {key: field for field, key in self.roles.items()}
        if self.csv:
            return ",".join(_CSV_PATTERNS.get(role_of.get(key, ""), _CSV_CELL)
                            for key in self.keys)
        pairs = []
        for key, string in zip(self.keys, self.strings, strict=True):
            role = role_of.get(key)
            if role is None:
                value = f'"{_S}*"' if string else _LITERAL
            else:
                value = ROLE_PATTERNS[(role, string)]
            pairs.append(f'"{_re2_escape(key)}"{_WS}:{_WS}{value}')
        return _WS + r"\{" + _WS + f"{_WS},{_WS}".join(pairs) + _WS + r"\}" + _WS

    def part(self, key: str) -> int:
        """The 1-based index of a CSV layout's column (its cell in the line split on ',')."""
        assert self.csv
        return self.keys.index(key) + 1


def _re2_escape(text: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else f"\\x{ord(c):02x}" for c in text)


def field_columns(fields: FieldMap, names: Collection[str]) -> dict[str, str] | None:
    """Each field's one column (key) among ``names``: FieldMap's candidates for it that are
    present. None when a field has two: which one counts then depends on the values, and
    Python decides."""
    roles: dict[str, str] = {}
    for field in FIELDS:
        present = [s for s in fields.sources.get(field, ()) if s in names]
        if len(present) > 1:
            return None
        if present:
            roles[field] = present[0]
    return roles


def find_layout(sample: tuple[bytes, ...], fields: FieldMap) -> Layout | None:
    """The most common flat record layout among the sample lines that plain lines can have,
    or None (the input is then read by the streaming reader)."""
    seen: Counter[tuple[tuple[str, ...], tuple[bool, ...]]] = Counter()
    for raw in sample:
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(obj, dict) or not obj:
            continue
        if any(isinstance(v, dict | list) for v in obj.values()):
            continue
        if all(_NAME_OK.fullmatch(k) for k in obj):
            seen[(tuple(obj), tuple(isinstance(v, str) for v in obj.values()))] += 1
    for (keys, strings), _ in seen.most_common(3):
        roles = field_columns(fields, keys)
        # Every field in a form SQL reads; one key for each field (--map key_id=ua, say:
        # Python checks that key for both fields, the layout's pattern for one)
        if roles is not None and all(
                (name, strings[keys.index(key)]) in ROLE_PATTERNS
                for name, key in roles.items()) and len(set(roles.values())) == len(roles) \
                and all(name in roles for name in _REQUIRED):
            return Layout(keys, strings, roles)
    return None


def find_csv_layout(header: bytes, fields: FieldMap) -> Layout | None:
    """The layout of a CSV input whose first line is a plain header (the CSV reader's own
    header checks run on it separately), or None."""
    try:
        text = header.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not text.strip() or '"' in text or not _NAME_OK.fullmatch(text.rstrip("\n")):
        return None
    names = tuple(name.strip() for name in text.rstrip("\n").split(","))
    if len(set(names)) != len(names):
        return None  # the reader's dict keeps the last of two same-named columns
    roles = field_columns(fields, names)
    if roles is None or not all(name in roles for name in _REQUIRED) or \
            len(set(roles.values())) < len(roles):
        return None  # (a column for two fields: as find_layout)
    return Layout(names, (True,) * len(names), roles, csv=True)


