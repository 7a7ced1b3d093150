"""YAML 1.2 key files (ruamel.yaml), with a line for every value.

Anchors, aliases, merge keys and explicit tags (other than ``!!str``, ``!!seq`` and
``!!map``) are refused before anything is built: a key file has no need for them, and
refusing them at the event level is what stops an alias bomb ("billion laughs") from ever
being expanded or walked. Nesting is limited for the same reason (and so that no recursion
can run out of stack).
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from scopeaudit.errors import InputError
from scopeaudit.inventory.tree import PMap, PNode, PScalar, PSeq
from scopeaudit.secrets import redact

if TYPE_CHECKING:
    from ruamel.yaml.constructor import RoundTripConstructor
    from ruamel.yaml.error import StreamMark
    from ruamel.yaml.nodes import ScalarNode

_STANDARD_TAG = "tag:yaml.org,2002:"
# Explicit tags a key file may use: "!!str 007" keeps a number as text. Other tags are of
# no use in a key file, and an explicit !!int or !!float on text that is no number would
# fail deep inside the loader.
_ALLOWED_TAGS = frozenset(_STANDARD_TAG + name for name in ("str", "seq", "map"))
_MAX_DEPTH = 64
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what ends a line for ruamel's YAML 1.2 reader

# (0-based line, 0-based column) of a scalar -> its text as written
_RawTexts = dict[tuple[int, int], str]


def _one_line(text: str) -> str:
    """A parser's message as one line of text with every token redacted."""
    return redact(" ".join(text.split()))


def _mark_line(mark: StreamMark | None, text: str) -> int | None:
    """The 1-based line of a parser mark; an error at the end of the stream is reported on
    the last line that holds anything, not on a line past the end of the file."""
    if mark is None:
        return None
    last_line = text.rstrip().count("\n") + 1
    return max(1, min(int(mark.line) + 1, last_line))


@functools.cache
def _constructor() -> type[RoundTripConstructor]:
    from ruamel.yaml.constructor import RoundTripConstructor

    class KeyFileConstructor(RoundTripConstructor):
        """Round-trip construction, except that a plain scalar which only looks like a date
        or a number (``2026-02-30``, ``0x_``) stays text: the schema then reports it against
        its field and line, instead of ``datetime`` or ``int`` raising inside the loader."""

        def construct_yaml_timestamp(self, node: ScalarNode, values: Any = None) -> Any:
            try:
                return super().construct_yaml_timestamp(node, values)
            except (ValueError, IndexError, OverflowError):
                return str(node.value)

        def construct_yaml_int(self, node: ScalarNode) -> Any:
            try:
                return super().construct_yaml_int(node)
            except (ValueError, IndexError):
                return str(node.value)

        def construct_yaml_float(self, node: ScalarNode) -> Any:
            try:
                return super().construct_yaml_float(node)
            except (ValueError, IndexError):
                return str(node.value)

    for name in ("timestamp", "int", "float"):
        KeyFileConstructor.add_constructor(
            _STANDARD_TAG + name, getattr(KeyFileConstructor, f"construct_yaml_{name}")
        )
    return KeyFileConstructor


def parse_yaml(text: str, source: str) -> PNode:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    yaml = YAML(typ="rt")
    yaml.Constructor = _constructor()
    yaml.allow_duplicate_keys = False
    raw: _RawTexts = {}
    try:
        documents = 0
        depth = 0
        for event in yaml.parse(text):
            line = event.start_mark.line + 1
            kind = type(event).__name__
            if kind == "AliasEvent" or getattr(event, "anchor", None):
                raise InputError("anchors and aliases are not allowed in key files",
                                 file=source, line=line)
            tag = getattr(event, "tag", None)
            if tag is not None and str(tag) not in _ALLOWED_TAGS:
                shown = str(tag).replace(_STANDARD_TAG, "!!", 1)
                raise InputError(f"YAML tag {redact(shown)!r} is not allowed in key files",
                                 file=source, line=line)
            if kind in ("MappingStartEvent", "SequenceStartEvent"):
                depth += 1
                if depth > _MAX_DEPTH:
                    raise InputError(f"nested deeper than {_MAX_DEPTH} levels", file=source,
                                     line=line)
            elif kind in ("MappingEndEvent", "SequenceEndEvent"):
                depth -= 1
            elif kind == "ScalarEvent" and event.value:
                if event.value == "<<" and not event.style:
                    raise InputError("merge keys ('<<') are not allowed in key files",
                                     file=source, line=line)
                mark = event.start_mark
                raw.setdefault((mark.line, mark.column), str(event.value))
            elif kind == "DocumentStartEvent":
                documents += 1
                if documents > 1:
                    raise InputError("a key file holds one YAML document, found another",
                                     file=source, line=line)
        data = yaml.load(text)
    except ReaderError as exc:
        # A character YAML does not allow (a control character); position is its index.
        position = exc.position if isinstance(exc.position, int) else None
        line = len(_LINE_BREAK.split(text[:position])) if position is not None else None
        shown = f"U+{exc.character:04X}" if isinstance(exc.character, int) else "a character"
        raise InputError(f"invalid YAML: {shown} is not allowed in a YAML file", file=source,
                         line=line) from None
    except MarkedYAMLError as exc:
        line = _mark_line(exc.problem_mark or exc.context_mark, text)
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"invalid YAML: {_one_line(problem)}", file=source, line=line) from None
    except YAMLError as exc:
        raise InputError(f"invalid YAML: {_one_line(str(exc))}", file=source) from None
    if data is None:
        raise InputError("the file holds no key definitions", file=source, line=1)
    return _convert(data, (0, 0), raw)


def _convert(value: Any, position: tuple[int, int], raw: _RawTexts) -> PNode:
    """``position`` is where a scalar value starts (0-based line and column)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, CommentedMap):
        items: dict[str, tuple[int, PNode]] = {}
        for k, v in value.items():
            key_line = value.lc.key(k)[0] + 1
            if v is None:
                # An empty value has no position of its own (ruamel gives the next token's):
                # it is reported on its key's line.
                items[str(k)] = (key_line, PScalar(None, key_line))
            else:
                items[str(k)] = (key_line, _convert(v, _pos(value.lc.value(k)), raw))
        return PMap(items, value.lc.line + 1)
    if isinstance(value, CommentedSeq):
        return PSeq(
            tuple(_convert(v, _pos(value.lc.item(i)), raw) for i, v in enumerate(value)),
            value.lc.line + 1,
        )
    plain = _plain(value)
    number = isinstance(plain, int | float) and not isinstance(plain, bool)
    return PScalar(plain, position[0] + 1, raw.get(position) if number else None)


def _pos(line_and_column: Any) -> tuple[int, int]:
    return int(line_and_column[0]), int(line_and_column[1])


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
