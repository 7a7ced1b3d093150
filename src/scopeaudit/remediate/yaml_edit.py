"""YAML key files edited in place: ruamel's round-trip parse says where each key, scope and
comment is; the edit replaces only those spans of the text (textedit), so every other byte
(comments, order, quoting, blank lines, line breaks) is kept. A re-dump, even ruamel's
round-trip one, re-indents and re-flows what it did not need to touch.

* a removed block-list scope's line becomes a comment with the evidence (and the comment
  the line had, if any);
* a flow list (``[a, b,\\n c]``) is rebuilt from its own items and separators, and the
  evidence comments go on the lines just above its key;
* ``revoke: true`` goes on the line after the key's ``id``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from scopeaudit.errors import InputError
from scopeaudit.model import Audit
from scopeaudit.remediate.plan import Plan
from scopeaudit.remediate.textedit import Lines, Span, apply_spans

_KEEP = re.compile(r"#.*\bscopeaudit:\s*keep\b")


@dataclass(frozen=True)
class _Item:
    scope: str
    start: int  # offset of the scalar
    end: int  # offset just after it
    line: int  # 0-based


@dataclass(frozen=True)
class _Entry:
    key_id: str
    mapping: Any  # CommentedMap
    items: tuple[_Item, ...]
    flow: bool


def _load(text: str, source: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="rt")
    try:
        return yaml.load(text)
    except YAMLError:  # the audit read the file already: this is only a safety net
        raise InputError("cannot be read as YAML for editing", file=source) from None


def _entries(text: str, source: str, lines: Lines) -> Iterator[_Entry]:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    data = _load(text, source)
    keys = data.get("keys") if isinstance(data, CommentedMap) else data
    if not isinstance(keys, CommentedSeq):
        return
    for mapping in keys:
        if not isinstance(mapping, CommentedMap) or "id" not in mapping:
            continue
        scopes = mapping.get("scopes")
        if not isinstance(scopes, CommentedSeq):
            continue
        flow = bool(scopes.fa.flow_style())
        items = []
        for i, value in enumerate(scopes):
            line, column = scopes.lc.item(i)
            start = lines.offset(line, column)
            items.append(_Item(str(value).strip(), start, _scalar_end(text, start, flow), line))
        yield _Entry(str(mapping["id"]).strip(), mapping, tuple(items), flow)


def comment_pins(text: str, source: str) -> frozenset[tuple[str, str]]:
    """(key id, scope) for every scope whose line ends in a ``# scopeaudit: keep`` comment
    (in a flow list: every scope on that line)."""
    lines = Lines(text)
    pins = set()
    for entry in _entries(text, source, lines):
        for item in entry.items:
            if _KEEP.search(text[item.end:lines.end(item.line)]):
                pins.add((entry.key_id, item.scope))
    return frozenset(pins)


def edit_yaml(text: str, source: str, plan: Plan, audit: Audit) -> str:
    lines = Lines(text)
    spans: list[Span] = []
    removals = {(r.key_id, r.scope): r for r in plan.removals}
    revoked = {r.key_id: r for r in plan.revocations}
    for entry in _entries(text, source, lines):
        gone = [i for i in entry.items if (entry.key_id, i.scope) in removals]
        notes = {i.scope: removals[(entry.key_id, i.scope)].evidence(audit) for i in gone}
        if gone and entry.flow:
            spans.extend(_flow_edit(text, lines, entry, {i.start for i in gone}, notes, source))
        elif gone:
            spans.extend(_block_edit(text, lines, entry, gone, notes, source))
        if entry.key_id in revoked:
            spans.append(_revoke_line(lines, entry, revoked[entry.key_id].evidence(audit),
                                      source))
    return apply_spans(text, spans)


def _block_edit(text: str, lines: Lines, entry: _Entry, gone: list[_Item],
                notes: dict[str, str], source: str) -> list[Span]:
    spans = []
    noted: set[str] = set()
    for item in gone:
        head = text[lines.start(item.line):item.start]
        if not re.fullmatch(r"[ \t]*-[ \t]+", head):
            raise InputError(f"cannot edit the scope {item.scope!r} of {entry.key_id!r}: "
                             "not on a line of its own", file=source, line=item.line + 1)
        indent = head[:head.index("-")]
        tail = text[item.end:lines.end(item.line)].strip()
        was = f" (was: {tail})" if tail.startswith("#") else ""
        note = notes[item.scope]
        # a scope listed twice leaves one comment, at its first line
        body = f"{indent}# {note}{was}" if item.scope not in noted else \
            (f"{indent}{tail}" if was else "")
        noted.add(item.scope)
        end = lines.end(item.line)
        newline = text[lines.start(item.line) + len(lines.content(item.line)):end]
        spans.append(Span(lines.start(item.line), end, body + newline if body else ""))
    return spans


def _flow_edit(text: str, lines: Lines, entry: _Entry, gone: set[int],
               notes: dict[str, str], source: str) -> list[Span]:
    """Rebuild ``[a, b, c]`` without the removed items: between two kept items goes the
    separator that preceded the second in the file, or, if one of the separators skipped
    holds a line break, the last of those (so the list keeps its line breaks)."""
    scopes = entry.mapping["scopes"]
    items = entry.items
    open_at = lines.offset(scopes.lc.line, scopes.lc.col)
    close_at = _closing_bracket(text, items[-1].end, source)
    seps = [text[a.end:b.start] for a, b in itertools.pairwise(items)]
    kept = [i for i, item in enumerate(items) if item.start not in gone]
    dropped = [seps[i] for i in range(len(seps)) if items[i].start in gone
               or items[i + 1].start in gone]
    if any("#" in s for s in dropped):
        raise InputError(f"cannot edit the scopes of {entry.key_id!r}: a comment inside "
                         "the flow list; write it as a block list", file=source,
                         line=scopes.lc.line + 1)
    out = [text[open_at:items[0].start]]
    for n, i in enumerate(kept):
        if n:
            between = seps[kept[n - 1]:i]
            broken = [s for s in between if "\n" in s or "\r" in s]
            out.append(broken[-1] if broken else between[-1])
        out.append(text[items[i].start:items[i].end])
    out.append(text[items[-1].end:close_at + 1])
    key_line, key_col = entry.mapping.lc.key("scopes")
    indent = " " * key_col
    comments = "".join(f"{indent}# {note}{lines.newline}" for note in notes.values())
    return [Span(open_at, close_at + 1, "".join(out)),
            Span(lines.start(key_line), lines.start(key_line), comments)]


def _revoke_line(lines: Lines, entry: _Entry, note: str, source: str) -> Span:
    mapping = entry.mapping
    if mapping.fa.flow_style():
        raise InputError(f"cannot mark {entry.key_id!r} for revocation: a flow mapping; "
                         "write it as a block mapping", file=source)
    line, col = mapping.lc.key("id")
    value_line = mapping.lc.value("id")[0]
    at = lines.end(max(line, value_line))
    prefix = "" if lines.text[:at].endswith(("\n", "\r")) else lines.newline
    return Span(at, at, f"{prefix}{' ' * col}revoke: true  # {note}{lines.newline}")


def _closing_bracket(text: str, at: int, source: str) -> int:
    i = at
    while i < len(text):
        ch = text[i]
        if ch == "]":
            return i
        if ch == "#":
            while i < len(text) and text[i] not in "\r\n":
                i += 1
            continue
        i += 1
    raise InputError("an unclosed flow list", file=source)


def _scalar_end(text: str, start: int, flow: bool) -> int:
    """Where the scalar starting at ``start`` ends: after its closing quote, or (plain)
    before a comment, the line's end or, in a flow list, a ',' or ']'."""
    ch = text[start]
    if ch in "'\"":
        i = start + 1
        while i < len(text):
            if text[i] == ch:
                if ch == "'" and text.startswith("''", i):
                    i += 2
                    continue
                return i + 1
            i += 2 if ch == '"' and text[i] == "\\" else 1
        return len(text)
    stops = ",]\r\n" if flow else "\r\n"
    i = start
    while i < len(text) and text[i] not in stops:
        if text[i] == "#" and text[i - 1] in " \t":
            break
        i += 1
    while i > start and text[i - 1] in " \t":
        i -= 1
    return i
