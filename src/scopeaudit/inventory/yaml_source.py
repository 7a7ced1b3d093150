"""YAML 1.2 key files, with a line for every value.

The tree is built in one pass over the parser's events, each node with the line it starts on.
The events come from libyaml (PyYAML's C extension) when it is installed, which is about fifty
times faster than a parser in Python; else, and for a text holding a character that ends a
line in YAML 1.1 but not in 1.2 (U+0085, U+2028, U+2029, where libyaml would count lines and
fold text differently), from ruamel.yaml's parser. libyaml reads YAML 1.1's syntax, all but
the same as 1.2's: a text it refuses is read again by ruamel.yaml's parser (up to 1 MiB),
which accepts the little that only 1.2 allows and words its errors as before. What a scalar
means is decided by ruamel.yaml's YAML 1.2 resolver and round-trip constructor in both cases
(``on`` and ``no`` stay text, ``2026-01-01`` is a date, ``007`` keeps its digits as written).
tests/unit/test_yaml_parity.py holds the reader this replaced, as the oracle it must match.

Anchors, aliases, merge keys, complex (collection) mapping keys and explicit tags (other than
``!!str``, ``!!seq`` and ``!!map``) are refused as their events arrive, before anything is
built: a key file has no need for them, and refusing aliases at the event level is what stops
an alias bomb ("billion laughs") from ever being expanded or walked. Nesting is limited for
the same reason.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from scopeaudit.errors import InputError
from scopeaudit.inventory.tree import EntryReader, OpenSeq, PMap, PNode, PScalar, PSeq
from scopeaudit.secrets import redact

if TYPE_CHECKING:
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import RoundTripConstructor
    from ruamel.yaml.nodes import ScalarNode

_STANDARD_TAG = "tag:yaml.org,2002:"
_STR = _STANDARD_TAG + "str"
_SEQ = _STANDARD_TAG + "seq"
_MAP = _STANDARD_TAG + "map"
# Explicit tags a key file may use: "!!str 007" keeps a number as text. Other tags are of
# no use in a key file, and an explicit !!int or !!float on text that is no number would
# fail deep inside the loader.
_ALLOWED_TAGS = frozenset({_STR, _SEQ, _MAP})
_NODE_KIND = {_STR: "scalar", _SEQ: "sequence", _MAP: "mapping"}
_MAX_DEPTH = 64
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what ends a line for ruamel's YAML 1.2 reader
# Line breaks in YAML 1.1 (libyaml) that are ordinary characters in YAML 1.2.
_YAML_1_1_BREAKS = re.compile("[\x85\u2028\u2029]")
# A text libyaml refuses is parsed again by ruamel.yaml's parser up to this size (it is about
# fifty times slower: beyond this, libyaml's verdict stands).
_SECOND_OPINION = 1 << 20
# Plain scalars typed and kept for reuse (dates, scope names, owners repeat): a bound, so a
# file of distinct values cannot grow the cache past it.
_CACHE_SIZE = 4096

_SCALAR, _MAPPING_START, _SEQUENCE_START, _END, _ALIAS, _DOCUMENT_START, _OTHER = range(7)
_KINDS = {"ScalarEvent": _SCALAR, "MappingStartEvent": _MAPPING_START,
          "SequenceStartEvent": _SEQUENCE_START, "MappingEndEvent": _END,
          "SequenceEndEvent": _END, "AliasEvent": _ALIAS, "DocumentStartEvent": _DOCUMENT_START}


def _one_line(text: str) -> str:
    """A parser's message as one line of text with every token redacted."""
    return redact(" ".join(text.split()))


def _mark_line(mark: Any, text: str) -> int | None:
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


def _libyaml() -> Callable[[str], Any] | None:
    """PyYAML's libyaml parser, when PyYAML was built with it."""
    try:
        # the C extension itself, as yaml.cyaml imports it (absent without libyaml)
        from yaml._yaml import CParser
    except ImportError:
        return None
    return CParser


def parse_yaml(text: str, source: str, entry: EntryReader | None = None, *,
               libyaml: bool = True) -> PNode:
    """The key file's tree; ``entry`` reads each entry of the key list as it is finished.
    ``libyaml=False`` takes ruamel.yaml's parser whatever is installed (the tests compare
    the two)."""
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.reader import Reader

    bad = Reader.NON_PRINTABLE.search(text)
    if bad is not None:
        # A character YAML does not allow (a control character): refused before parsing, as
        # ruamel.yaml's reader does.
        line = len(_LINE_BREAK.split(text[: bad.start()]))
        raise InputError(f"invalid YAML: U+{ord(bad.group()):04X} is not allowed in a YAML "
                         "file", file=source, line=line)
    parser = _libyaml() if libyaml and _YAML_1_1_BREAKS.search(text) is None else None
    if parser is not None:
        from yaml.error import YAMLError as LibyamlError

        try:
            # get_event gives None once the stream has ended
            return _compose(iter(parser(text).get_event, None), text, source, entry)
        except LibyamlError as exc:
            if len(text) > _SECOND_OPINION:
                raise _input_error(exc, text, source) from None
        # libyaml reads YAML 1.1: the few texts of YAML 1.2 it refuses (an empty key, "[a:]")
        # and its terser messages make ruamel.yaml's parser the judge of a text it refused.
        if entry is not None:
            entry.restart()
    try:
        return _compose(_ruamel_events(text), text, source, entry)
    except (YAMLError, AssertionError) as exc:
        # (ruamel.yaml asserts what a %YAML directive's version may be: "%YAML 1.3")
        raise _input_error(exc, text, source) from None


def _ruamel_events(text: str) -> Iterator[Any]:
    from ruamel.yaml import YAML

    return YAML(typ="rt").parse(text)  # type: ignore[no-any-return]


def _input_error(exc: Exception, text: str, source: str) -> InputError:
    """A parser's error (ruamel.yaml's or PyYAML's, of the same design) as one line."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None)
    if mark is None and problem is None:
        return InputError(f"invalid YAML: {_one_line(str(exc))}", file=source)
    return InputError(f"invalid YAML: {_one_line(problem or 'invalid YAML')}", file=source,
                      line=_mark_line(mark, text))


def _compose(events: Iterator[Any], text: str, source: str,
             entry: EntryReader | None) -> PNode:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")  # its resolver and constructor type the scalars
    yaml.Constructor = _constructor()
    root = _Composer(source, yaml, entry).compose(events)
    if root is None or (isinstance(root, PScalar) and root.value is None):
        raise InputError("the file holds no key definitions", file=source, line=1)
    return root


class _Map:
    __slots__ = ("items", "key", "key_line", "line", "seen")

    def __init__(self, line: int) -> None:
        self.line = line
        self.items: dict[str, tuple[int, PNode]] = {}
        self.seen: set[Any] = set()  # the keys as constructed: 1 and 1.0 are one key
        self.key: str | None = None  # the key whose value comes next
        self.key_line = 0


class _Composer:
    """Events -> tree, in one pass, with the checks a key file needs on every event."""

    def __init__(self, source: str, yaml: YAML, entry: EntryReader | None) -> None:
        self.source = source
        self.yaml = yaml
        self.entry = entry
        self.constructor = yaml.constructor
        # Generator constructors (an unknown tag's TaggedScalar) run to their end at once.
        self.constructor.deep_construct = True
        # first character of a plain scalar -> the (tag, match) pairs that may type it: the
        # resolver's own table, read once the document's YAML version is known
        self.candidates: dict[str, list[tuple[str, Any]]] | None = None
        self.anywhere: list[tuple[str, Any]] = []
        # plain scalars typed, for reuse (dates, scope names and owners repeat)
        self.plain: dict[str, tuple[Any, Any, str | None]] = {}

    def fail(self, message: str, line: int) -> InputError:
        return InputError(message, file=self.source, line=line)

    def compose(self, events: Iterator[Any]) -> PNode | None:
        stack: list[_Map | OpenSeq] = []
        root: list[PNode] = []
        documents = 0
        kinds: dict[type, int] = {}
        scalar = self.scalar
        for event in events:
            kind = kinds.get(type(event))
            if kind is None:
                kind = kinds[type(event)] = _KINDS.get(type(event).__name__, _OTHER)
            if kind == _SCALAR:
                scalar(event, stack, root)
            elif kind == _END:
                done = stack.pop()
                node: PNode = (PMap(done.items, done.line) if isinstance(done, _Map)
                               else PSeq(tuple(done.items), done.line))
                self.add(stack, root, node)
            elif kind in (_MAPPING_START, _SEQUENCE_START):
                line = event.start_mark.line + 1
                if event.anchor:
                    raise self.fail("anchors and aliases are not allowed in key files", line)
                if event.tag is not None:
                    self.check_tag(event.tag, "mapping" if kind == _MAPPING_START
                                   else "sequence", line)
                top = stack[-1] if stack else None
                if isinstance(top, _Map) and top.key is None:
                    raise self.fail("complex mapping keys (a list or mapping as a key) are "
                                    "not allowed in key files", line)
                if len(stack) >= _MAX_DEPTH:
                    raise self.fail(f"nested deeper than {_MAX_DEPTH} levels", line)
                if kind == _MAPPING_START:
                    stack.append(_Map(line))
                else:
                    # the document's list, or the list under the document's "keys"
                    entries = self.entry is not None and (
                        not stack or (len(stack) == 1 and isinstance(top, _Map)
                                      and top.key == "keys"))
                    stack.append(OpenSeq(line, entries))
            elif kind == _ALIAS:
                raise self.fail("anchors and aliases are not allowed in key files",
                                event.start_mark.line + 1)
            elif kind == _DOCUMENT_START:
                documents += 1
                if documents > 1:
                    raise self.fail("a key file holds one YAML document, found another",
                                    event.start_mark.line + 1)
                if event.version is not None:
                    self.yaml.version = event.version  # %YAML 1.1: its booleans and octals
        return root[0] if root else None

    def check_tag(self, tag: Any, kind: str, line: int) -> str:
        name = str(tag)
        if name not in _ALLOWED_TAGS:
            shown = name.replace(_STANDARD_TAG, "!!", 1)
            raise self.fail(f"YAML tag {redact(shown)!r} is not allowed in key files", line)
        if _NODE_KIND[name] != kind:
            raise self.fail(f"invalid YAML: expected a {_NODE_KIND[name]} node, but found "
                            f"{kind}", line)
        return name

    def scalar(self, event: Any, stack: list[_Map | OpenSeq], root: list[PNode]) -> None:
        """A scalar put where it goes: a mapping's key or value, a list's item, the root.
        (The one hot path: a key file is mostly scalars.)"""
        line = event.start_mark.line + 1
        if event.anchor:
            raise self.fail("anchors and aliases are not allowed in key files", line)
        value = event.value
        style = event.style
        if not style and value == "<<":
            raise self.fail("merge keys ('<<') are not allowed in key files", line)
        tag = event.tag
        raw: str | None = None
        if tag is None and event.implicit[0]:
            # plain: its text decides its type
            typed = self.plain.get(value)
            if typed is None:
                typed = self.typed(value, event.start_mark, line)
            constructed, plain, raw = typed
        else:
            if tag is not None:
                self.check_tag(tag, "scalar", line)  # !!str: text, as a quoted scalar is
            if style == ">":
                # ruamel.yaml's parser marks where a folded scalar was folded with U+0007
                # (which no text can hold: it is refused above); its constructor takes the
                # marks out.
                value = value.replace("\a", "")
            constructed = plain = value
        if not stack:
            # The document itself is one scalar: reported on line 1, as the document.
            start = (event.start_mark.line, event.start_mark.column)
            root.append(PScalar(plain, 1, raw if start == (0, 0) else None))
            return
        top = stack[-1]
        if isinstance(top, _Map):
            if top.key is None:
                self.set_key(top, constructed, line)
            else:
                # An empty value has no position of its own (a parser gives the next
                # token's): it is reported on its key's line.
                key_line = top.key_line
                top.items[top.key] = (key_line, PScalar(plain, line, raw) if plain is not None
                                      else PScalar(None, key_line))
                top.key = None
            return
        node: PNode = PScalar(plain, line, raw)
        if top.entries and self.entry is not None:
            node = self.entry(node)
        top.items.append(node)

    def set_key(self, top: _Map, key: Any, line: int) -> None:
        # Keys compare as ruamel.yaml compares them (1, 1.0 and true are one key), and every
        # NaN is the same key to it too; they are named as text (1 and "1" are both "1").
        same = _NAN if isinstance(key, float) and math.isnan(key) else key
        if same in top.seen:
            raise self.fail(f"invalid YAML: duplicate key {redact(str(key))!r}", line)
        top.seen.add(same)
        top.key = key if isinstance(key, str) else str(key)
        top.key_line = line

    def typed(self, value: str, mark: Any, line: int) -> tuple[Any, Any, str | None]:
        """A plain scalar as ruamel.yaml constructs it, as a plain value, and its text when
        it is a number (kept as written where text is expected)."""
        candidates = self.candidates
        if candidates is None:
            table = self.yaml.resolver.versioned_resolver
            # (pattern.match: the compiled pattern's, not through ruamel's lazy wrapper)
            self.anywhere = [(str(tag), pattern.match) for tag, pattern in table.get(None, [])]
            candidates = self.candidates = {
                first: [(str(tag), pattern.match) for tag, pattern in pairs] + self.anywhere
                for first, pairs in table.items() if first is not None}
        pairs = candidates.get(value[:1], self.anywhere)
        if not pairs:
            return value, value, None  # (most: no rule even looks at it)
        tag = _STR
        for name, match in pairs:
            if match(value):
                tag = name
                break
        if tag == _STR:
            typed: tuple[Any, Any, str | None] = (value, value, None)
            if len(self.plain) < _CACHE_SIZE:
                self.plain[value] = typed
            return typed
        from ruamel.yaml.error import MarkedYAMLError
        from ruamel.yaml.nodes import ScalarNode
        from ruamel.yaml.tag import Tag

        try:
            constructed = self.constructor.construct_non_recursive_object(
                ScalarNode(Tag(suffix=tag), value, start_mark=mark))
        except MarkedYAMLError as exc:
            raise self.fail(f"invalid YAML: {_one_line(exc.problem or 'invalid scalar')}",
                            line) from None
        plain = _plain(constructed)
        number = isinstance(plain, int | float) and not isinstance(plain, bool)
        typed = (constructed, plain, value if number else None)
        if len(self.plain) < _CACHE_SIZE:
            self.plain[value] = typed
        return typed

    def add(self, stack: list[_Map | OpenSeq], root: list[PNode], node: PNode) -> None:
        """A finished list or mapping put where it goes (a key it cannot be)."""
        if not stack:
            root.append(node)
            return
        top = stack[-1]
        if isinstance(top, OpenSeq):
            if top.entries and self.entry is not None:
                node = self.entry(node)
            top.items.append(node)
        else:
            assert top.key is not None  # a collection as a key is refused when it starts
            top.items[top.key] = (top.key_line, node)
            top.key = None


_NAN = object()


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
