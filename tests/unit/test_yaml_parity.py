"""The YAML key-file reader against the one it replaced.

Key files were read by ruamel.yaml twice over (its parser for the checks, then its round-trip
loader for the values), in Python: 111 s for 100,000 keys. They are now read in one pass over
parser events, from libyaml when it is installed. What a key file means must not have
changed: ``reference_parse_yaml`` below is the old reader, kept verbatim as the oracle, and
generated key files (and fragments of YAML) must give the same tree, value for value and
line for line, through both event sources (libyaml and ruamel.yaml's parser).

Deliberate differences, each asserted here: a collection as a mapping key is refused (it was
turned into text like ``"('a',)"``); texts ruamel.yaml refused although YAML 1.2 allows
them (a tab between tokens, a block scalar whose first lines are blank) are read when libyaml
reads them; a file with two problems may be reported at the first one in the file; a tag
that contradicts its node (``!!str`` on a mapping) is refused (the old reader let the
mapping through); a document marker after a block scalar's indicator (``|`` then ``---``)
starts a second document when libyaml reads it, as YAML says (ruamel.yaml's parser took the
marker as the scalar's text), and a second document is refused; "|#" is read by libyaml
(ruamel.yaml refused it); a file that is one scalar, no key file either way, may be read to
another value; the old reader's crash on a collection as a key ("? - a") is a refusal.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.inventory import KeysFormat, parse_inventory
from scopeaudit.inventory.schema import keys_from_tree
from scopeaudit.inventory.tree import PMap, PNode, PScalar, PSeq
from scopeaudit.inventory.yaml_source import (
    _constructor,
    _mark_line,
    _one_line,
    _plain,
    parse_yaml,
)
from scopeaudit.secrets import redact

# --------------------------------------------------------------------------------------------
# The oracle: the reader as it was (ruamel.yaml's parser for the checks, its round-trip
# loader for the values), unchanged but for its imports.
# --------------------------------------------------------------------------------------------

_STANDARD_TAG = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(_STANDARD_TAG + name for name in ("str", "seq", "map"))
_MAX_DEPTH = 64
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_RawTexts = dict[tuple[int, int], str]


def reference_parse_yaml(text: str, source: str) -> PNode:
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
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, CommentedMap):
        items: dict[str, tuple[int, PNode]] = {}
        for k, v in value.items():
            key_line = value.lc.key(k)[0] + 1
            if v is None:
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


# --------------------------------------------------------------------------------------------
# Comparing the two
# --------------------------------------------------------------------------------------------

Outcome = PNode | tuple[str, int | None, str]
# What ruamel.yaml's parser refused although YAML 1.2 allows it, and libyaml reads.
_RUAMEL_ONLY_REFUSALS = ("found character '\\t' that cannot start any token",
                         "more indented follow up line than first in a block scalar",
                         # "|#": libyaml takes a comment with no blank before it
                         "expected chomping or indentation indicators, but found '#'",
                         # "|\t": libyaml takes a tab after the indicator as a separator
                         "expected chomping or indentation indicators, but found '\\t'")


def outcome(parse: Any, text: str) -> Outcome:
    try:
        tree: PNode = parse(text, "k.yaml")
    except InputError as exc:
        return ("error", exc.line, exc.message)
    return tree


def assert_same_reading(text: str) -> Outcome:
    """Both event sources read ``text`` as the old reader did; returns the old reading."""
    try:
        old = outcome(reference_parse_yaml, text)
    except TypeError:
        # the old reader crashed on a collection as a mapping key ("? - a") and on a tag
        # that contradicts its node ("!!str" on a sequence): both now refused
        for libyaml in (True, False):
            new = outcome(lambda t, s, lib=libyaml: parse_yaml(t, s, libyaml=lib), text)
            assert isinstance(new, tuple) and (
                "complex mapping keys" in new[2] or "node, but found" in new[2]), (new, text)
        return ("error", None, "the old reader crashed")
    for libyaml in (True, False):
        new = outcome(lambda t, s, lib=libyaml: parse_yaml(t, s, libyaml=lib), text)
        if not isinstance(old, tuple):
            if isinstance(new, tuple) and "complex mapping keys" in new[2]:
                continue  # deliberate: a list or mapping as a key is refused
            if isinstance(new, tuple) and "node, but found" in new[2]:
                continue  # deliberate: a tag that contradicts its node ("!!str" on a mapping)
            if isinstance(new, tuple) and libyaml and "found another" in new[2]:
                continue  # libyaml ends a block scalar at a document marker ("|\n---")
            if libyaml and isinstance(old, PScalar) and isinstance(new, PScalar):
                # a whole file that is one scalar is no key file (the schema refuses either
                # reading); libyaml and ruamel.yaml differ on such edge texts ("|\n#")
                continue
            assert new == old, (libyaml, text)
        elif not isinstance(new, tuple):
            assert libyaml and any(m in old[2] for m in _RUAMEL_ONLY_REFUSALS), (old, text)
        else:
            assert new[1] is not None and new[1] >= 1, (new, text)
    return old


def assert_same_inventory(text: str, tree: Outcome) -> None:
    """The whole reading (keys and warnings, or the error) as before, ``tree`` being the old
    reader's. Entries are now read as soon as each is parsed, so of two problems in a file
    the first one in the file is reported (it used to be the YAML one, wherever it was)."""
    diagnostics = Diagnostics()
    old: Any
    try:
        if isinstance(tree, tuple):
            raise InputError(tree[2], file="k.yaml", line=tree[1])
        old = (keys_from_tree(tree, "k.yaml", diagnostics), [str(w) for w in
                                                             diagnostics.warnings])
    except InputError as exc:
        old = ("error", exc.line, exc.message)
    diagnostics = Diagnostics()
    new: Any
    try:
        inventory = parse_inventory(text.encode("utf-8"), "k.yaml", KeysFormat.YAML,
                                    diagnostics)
        new = (inventory.keys, [str(w) for w in diagnostics.warnings])
    except InputError as exc:
        new = ("error", exc.line, exc.message)
    if old[0] != "error":
        if new[0] == "error" and "complex mapping keys" in new[2]:
            return
        assert new == old, text
    elif new[0] != "error":
        assert any(m in old[2] for m in _RUAMEL_ONLY_REFUSALS), (old, text)
    elif "invalid YAML" not in old[2]:
        assert new == old, text  # the YAML was read: the same problem of a key definition
    else:
        assert new[1] <= old[1], (old, new, text)
        if new[1] == old[1] and "duplicate key" in old[2]:
            assert "duplicate key" in new[2], (old, new, text)


# --------------------------------------------------------------------------------------------
# Generated key files
# --------------------------------------------------------------------------------------------

# Plain scalars as people write them, including those YAML types: numbers kept as written,
# YAML 1.1 booleans that stay text, dates (and a date that does not exist).
PLAIN = ["key_a", "issues:read", "works:write", "ops@example.com", "BI export (Looker)", "007",
         "0x1F", "1_000", "1.50", "-1", ".inf", "1e3", "0o17", "true", "False", "yes", "no",
         "on", "null", "~", "2026-01-01", "2026-02-30", "2026-01-01T10:00:00Z",
         "2026-01-01 10:00:00.5 +01:00", "=", "sk_live_ABCDEFGHIJKLMNOPQRST", "a#b", "é",
         "😀", "it's", "a-b", "12:30", ".5", "a\\b", "x y z", "Bearer abcdefghij"]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from(
    list("\"'\\#:-[]{},&*!|>%@` \t")), max_size=12)


@st.composite
def scalar(draw: st.DrawFn, indent: int) -> str:
    style = draw(st.sampled_from(["plain", "plain", "plain", "single", "double", "block",
                                  "multiline"]))
    if style == "plain":
        return draw(st.sampled_from(PLAIN))
    value = draw(TEXT)
    if style == "single":
        return "'" + value.replace("'", "''") + "'"
    if style == "double":
        return json.dumps(value, ensure_ascii=draw(st.booleans()) and value.isascii())
    pad = " " * (indent + 2)
    if style == "block":
        lines = draw(st.lists(st.sampled_from(["text", "  more", "", "#x", "a: b", "é"]),
                              min_size=1, max_size=3))
        head = draw(st.sampled_from(["|", ">", "|-", ">+", "|+", ">-"]))
        return head + "".join("\n" + (pad + line if line else "") for line in lines)
    words = draw(st.lists(st.sampled_from(["rotate", "yearly", "by", "ops", "a:b"]),
                          min_size=2, max_size=4))
    return words[0] + "".join("\n" + pad + word for word in words[1:])


@st.composite
def value(draw: st.DrawFn, indent: int) -> list[str]:
    """A field's value: the text after ``key:`` and any lines below it."""
    kind = draw(st.sampled_from(["scalar", "scalar", "flow", "block", "empty"]))
    if kind == "scalar":
        return [" " + draw(scalar(indent))]
    if kind == "empty":
        return [""]
    items = draw(st.lists(st.sampled_from([*PLAIN, "'x, y'", '"[a]"']), max_size=4))
    if kind == "flow":
        return [" [" + ", ".join(items) + draw(st.sampled_from(["", ","])) + "]"]
    pad = " " * (indent + draw(st.sampled_from([0, 2])))
    note = draw(st.sampled_from(["", "  # why"]))
    return [""] + [f"{pad}- {item}{note}" for item in items] if items else [" []"]


FIELDS = ["id", "id", "name", "owner", "scopes", "scopes", "tags", "created", "expires",
          "prefix", "last4", "description", "colour", "1", "true"]


@st.composite
def key_file(draw: st.DrawFn) -> str:
    bare = draw(st.booleans())
    indent = 0 if bare else 2
    lines = [draw(st.sampled_from(["", "# keys", "---", "%YAML 1.2\n---"]))]
    if not bare:
        lines.append("keys:")
    for _ in range(draw(st.integers(1, 4))):
        fields = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=6, unique=True))
        for i, field in enumerate(fields):
            lead = " " * indent + ("- " if i == 0 else "  ")
            first, *rest = draw(value(indent + 2))
            lines.append(f"{lead}{field}:{first}")
            lines.extend(rest)
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "  # next", "#"])))
    if not bare and draw(st.booleans()):
        lines.append(draw(st.sampled_from(["team: ops", "version: 2"])))
    text = "\n".join(line for line in lines if line is not None) + "\n"
    return text.replace("\n", "\r\n") if draw(st.booleans()) else text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key_file())
def test_generated_key_files_read_as_before(text: str) -> None:
    assert_same_inventory(text, assert_same_reading(text))


_SNIPPETS = ["keys:", "\n", "  ", "- ", "id: ", "scopes: ", "[", "]", "{", "}", ",", ":", '"',
             "'", "&a ", "*a", "!!str ", "!!int ", "<<: ", "#", "\t", "007", "2026-02-30",
             "0x_", "~", "\r", "|", ">", "? ", "---", "issues:read", "é", "1.0", "true"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_SNIPPETS), max_size=40).map("".join))
def test_fragments_of_yaml_read_as_before(text: str) -> None:
    assert_same_reading(text)


# --------------------------------------------------------------------------------------------
# The cases by hand
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "keys:\n  - id: 007\n    scopes: [issues:read]\n    created: 2026-01-01\n",
    "- id: 0x1F\n  last4: 0123\n  expires: 2026-02-30\n  tags: [1.50, yes, on]\n",
    "1: a\n'1': b\n",                                    # two keys, both named "1"
    "%YAML 1.1\n---\nkeys:\n  - id: yes\n    x: 010\n",  # YAML 1.1: a boolean, an octal
    "a: >\n  folded\n  text\n\nb: |-\n  kept\n  lines\n",
    "a: \"\\u00e9\\/\\N\"\nb: 'it''s'\nc: plain\n  continued\n",
    "keys:\n  -\n  - id: a\n",
    "'\\ufeffa': 1\n",
])
def test_hand_picked_documents_read_as_before(text: str) -> None:
    assert_same_reading(text)


def test_a_tag_that_contradicts_its_sequence_is_refused() -> None:
    """Found by hypothesis: the old reader crashed (TypeError) on it."""
    assert_same_reading("!!str \n- ")


@pytest.mark.parametrize(("text", "line"), [
    ("[a, b]: c\n", 1),
    ("keys:\n  - id: a\n    ? [x]\n    : y\n", 3),
    ("keys:\n  - {a: b}: c\n", 2),
])
def test_a_collection_as_a_mapping_key_is_refused(text: str, line: int) -> None:
    # it used to become the text "('a', 'b')" (an unknown field, with a warning)
    assert not isinstance(outcome(reference_parse_yaml, text), tuple)
    for libyaml in (True, False):
        with pytest.raises(InputError, match="complex mapping keys") as error:
            parse_yaml(text, "k.yaml", libyaml=libyaml)
        assert error.value.line == line


@pytest.mark.parametrize(("text", "line", "message"), [
    # these were internal errors (a TypeError and an AssertionError from inside ruamel.yaml)
    ("keys:\n  - id: !!str [x]\n", 2, "expected a scalar node, but found sequence"),
    ("%YAML 1.3\n---\nkeys: []\n", None, "invalid YAML"),  # (libyaml: line 1)
    # two keys ruamel.yaml holds equal (1, 1.0 and true), and NaN, which it does too
    ("keys:\n  - id: a\n    1: x\n    1.0: y\n", 4, "duplicate key '1.0'"),
    ("keys:\n  - id: a\n    .nan: x\n    .NaN: y\n", 4, "duplicate key 'nan'"),
])
def test_errors_name_their_line(text: str, line: int | None, message: str) -> None:
    for libyaml in (True, False):
        with pytest.raises(InputError) as error:
            parse_yaml(text, "k.yaml", libyaml=libyaml)
        assert error.value.line in (line, 1 if libyaml else line)
        assert message in error.value.message


def test_yaml_1_2_that_libyaml_refuses_is_read_by_ruamel() -> None:
    # an empty key and "a:" in a flow mapping: YAML 1.2, not 1.1
    text = "keys:\n  - id: a\n    : x\n    scopes: [b:, {c:, d}]\n"
    old = reference_parse_yaml(text, "k.yaml")
    assert parse_yaml(text, "k.yaml") == old
    assert isinstance(old, PMap)


def test_dates_and_numbers_are_plain_values() -> None:
    tree = parse_yaml("a: 2026-01-01\nb: 2026-01-01 10:00:00\nc: 1_000\nd: 0x1F\n", "k.yaml")
    assert isinstance(tree, PMap)
    values = {name: node for name, (_, node) in tree.items.items()}
    assert [type(values[n]).__name__ for n in "abcd"] == ["PScalar"] * 4
    assert [type(values[n].value) for n in "abcd"] == [date, datetime, int, int]  # type: ignore[union-attr]
    assert values["d"] == PScalar(31, 4, "0x1F")
