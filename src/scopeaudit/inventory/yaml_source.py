"""YAML 1.2 key files (ruamel.yaml), with a line for every value.

Anchors, aliases and explicit non-standard tags are refused before anything is built: a
key file has no need for them, and refusing them at the event level is what stops an alias
bomb ("billion laughs") from ever being expanded or walked.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from scopeaudit.errors import InputError
from scopeaudit.inventory.tree import PMap, PNode, PScalar, PSeq

_STANDARD_TAG = "tag:yaml.org,2002:"


def parse_yaml(text: str, source: str) -> PNode:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        documents = 0
        for event in yaml.parse(text):
            line = event.start_mark.line + 1
            kind = type(event).__name__
            if kind == "AliasEvent" or getattr(event, "anchor", None):
                raise InputError("anchors and aliases are not allowed in key files",
                                 file=source, line=line)
            tag = getattr(event, "tag", None)
            if tag is not None and not str(tag).startswith(_STANDARD_TAG):
                raise InputError(f"YAML tag {str(tag)!r} is not allowed in key files",
                                 file=source, line=line)
            if kind == "DocumentStartEvent":
                documents += 1
                if documents > 1:
                    raise InputError("a key file holds one YAML document, found another",
                                     file=source, line=line)
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"invalid YAML: {problem}", file=source, line=line) from None
    except YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", file=source) from None
    if data is None:
        raise InputError("the file holds no key definitions", file=source, line=1)
    return _convert(data, 1)


def _convert(value: Any, line: int) -> PNode:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, CommentedMap):
        items: dict[str, tuple[int, PNode]] = {}
        for k, v in value.items():
            key_line = value.lc.key(k)[0] + 1
            value_line = value.lc.value(k)[0] + 1
            items[str(k)] = (key_line, _convert(v, _own_line(v, value_line)))
        return PMap(items, value.lc.line + 1)
    if isinstance(value, CommentedSeq):
        return PSeq(
            tuple(_convert(v, _own_line(v, value.lc.item(i)[0] + 1)) for i, v in enumerate(value)),
            value.lc.line + 1,
        )
    return PScalar(_plain(value), line)


def _own_line(value: Any, fallback: int) -> int:
    lc = getattr(value, "lc", None)
    return lc.line + 1 if lc is not None and lc.line is not None else fallback


def _plain(value: Any) -> Any:
    """ruamel's scalar subclasses (ScalarString, ScalarFloat, TimeStamp) as plain values."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, value.hour, value.minute,
                        value.second, value.microsecond, value.tzinfo)
    if isinstance(value, date):
        return date(value.year, value.month, value.day)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)
