"""From a positioned tree to Key values: one set of field rules for every key-file format."""

from __future__ import annotations

import re
from datetime import date, datetime

from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.inventory.tree import PKey, PMap, PNode, PScalar, PSeq, describe
from scopeaudit.model import Key, Location, ScopeGrant
from scopeaudit.secrets import TOKEN_RE, fingerprint, redact
from scopeaudit.window import written_date

KNOWN_FIELDS = (
    "id", "name", "scopes", "owner", "created", "expires", "tags", "description",
    "prefix", "last4", "sha256", "code",
    # remediation (scopeaudit.remediate): scopes a fix never removes, a key marked for
    # revocation, and the reason new access is granted (lint --against)
    "keep", "revoke", "justification",
)
_SHA256_RE = re.compile(r"(?:sha256:)?([0-9a-fA-F]{64})")


class KeyReader:
    """Reads key definitions, one entry at a time: a parser calls it with each entry of the
    key list as soon as it has read it. Its warnings wait until the tree is read, so that
    they come in the order they always had: the top level's first, then the entries'."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.shared = _Shared(source)
        self.warnings = Diagnostics()

    def __call__(self, node: PNode) -> PKey:
        if isinstance(node, PKey):
            return node
        return PKey(_key(node, self.source, self.warnings, self.shared), node.line)

    def restart(self) -> None:
        self.warnings = Diagnostics()


def keys_from_tree(root: PNode, source: str, diagnostics: Diagnostics,
                   reader: KeyReader | None = None) -> tuple[Key, ...]:
    """The keys of a tree, whose key list may hold entries its parser gave ``reader``."""
    reader = reader or KeyReader(source)
    if isinstance(root, PMap):
        for name, (line, _) in root.items.items():
            if name != "keys":
                diagnostics.warn(f"unknown top-level field {name!r} ignored", file=source,
                                 line=line)
        if "keys" not in root.items:
            raise InputError("expected a 'keys' list at the top level", file=source,
                             line=root.line)
        entries = root.items["keys"][1]
    else:
        entries = root
    if not isinstance(entries, PSeq):
        raise InputError(f"'keys' must be a list of key definitions, found {describe(entries)}",
                         file=source, line=entries.line)
    keys = tuple(reader(entry).key for entry in entries.items)
    diagnostics.warnings.extend(reader.warnings.warnings)
    return keys


class _Shared:
    """Values that many keys of one file hold alike, made once: the Location of a line (a
    CSV row's key and every scope it grants), each scope name, tag and owner as written
    (redacted once) and each date. A file of 100,000 keys then holds a few dozen scope names,
    not half a million, and redacts each of them once."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.locations: dict[int, Location] = {}
        self.words: dict[str, str] = {}
        self.dates: dict[str, date | None] = {}

    def location(self, line: int) -> Location:
        found = self.locations.get(line)
        if found is None:
            found = self.locations[line] = Location(self.source, line)
        return found

    def word(self, written: str) -> str:
        """A scope name, tag or owner: stripped and redacted."""
        found = self.words.get(written)
        if found is None:
            found = self.words[written] = redact(written.strip())
        return found

    def date(self, written: str) -> date | None:
        if written in self.dates:
            return self.dates[written]
        found = self.dates[written] = written_date(written)
        return found


def _key(node: PNode, source: str, diagnostics: Diagnostics, shared: _Shared) -> Key:
    if not isinstance(node, PMap):
        raise InputError(f"a key definition must be a mapping, found {describe(node)}",
                         file=source, line=node.line)
    fields = node.items
    for field_name, (line, _) in fields.items():
        if field_name not in KNOWN_FIELDS:
            diagnostics.warn(f"unknown field {field_name!r} ignored", file=source, line=line)
    if "id" not in fields:
        raise InputError("key definition has no 'id'", file=source, line=node.line)
    key_id = _identifier(fields["id"][1], "id", source)
    if "scopes" not in fields:
        raise InputError(f"key {key_id!r} has no 'scopes'", file=source, line=node.line)
    grants = _scopes(fields["scopes"][1], source, shared)

    def text(name: str) -> str | None:
        if name not in fields:
            return None
        node = _scalar_node(fields[name][1], name, source)
        value = node.value
        if value is None:
            return None
        if isinstance(value, bool | date | datetime):
            raise InputError(f"{name!r} must be text, found {describe(node)}",
                             file=source, line=node.line)
        return _as_written(node)

    prefix, last4 = text("prefix"), text("last4")
    sha256: str | None = text("sha256")
    # A matcher holding a full token is a leak (SA210 reports it); keep only its fingerprint.
    # ``search``, not ``fullmatch``: " sk_live_…" or "sk_live_…/x" must not be kept either.
    token = TOKEN_RE.search(prefix) if prefix is not None else None
    if token is not None:
        sha256, prefix = sha256 or fingerprint(token.group(0)), None
    if last4 is not None and len(last4) != 4:
        raise InputError(f"'last4' must be 4 characters, found {len(last4)}", file=source,
                         line=fields["last4"][1].line)
    if sha256 is not None:
        match = _SHA256_RE.fullmatch(sha256)
        if match is None:
            raise InputError("'sha256' must be 64 hex digits (the SHA-256 of the full token)",
                             file=source, line=fields["sha256"][1].line)
        sha256 = match.group(1).lower()
    key_name, owner, description = text("name"), text("owner"), text("description")
    justification, per_scope = _justification(fields.get("justification"), source)
    return Key(
        id=key_id,
        location=shared.location(node.line),
        scope_grants=grants,
        name=redact(key_name) if key_name is not None else None,
        owner=redact(owner) if owner is not None else None,
        created=_date(fields.get("created"), "created", source, shared),
        expires=_date(fields.get("expires"), "expires", source, shared),
        tags=_tags(fields.get("tags"), source, shared),
        description=redact(description) if description is not None else None,
        prefix=prefix,
        last4=last4,
        sha256=sha256,
        code=_code(fields.get("code"), source),
        keep=_keep(fields.get("keep"), source, shared),
        revoke=_flag(fields.get("revoke"), "revoke", source),
        justification=justification,
        scope_justifications=per_scope,
    )


def _scalar_node(node: PNode, name: str, source: str) -> PScalar:
    if not isinstance(node, PScalar):
        raise InputError(f"{name!r} must be a single value, found {describe(node)}",
                         file=source, line=node.line)
    return node


def _as_written(node: PScalar) -> str:
    """A scalar as text; a number as it is written (``007`` stays ``007``, not ``7``)."""
    value = node.value
    if isinstance(value, int | float) and not isinstance(value, bool) and node.raw:
        return node.raw
    return str(value)


def _identifier(node: PNode, name: str, source: str) -> str:
    scalar = _scalar_node(node, name, source)
    value = scalar.value
    # A number is an id too, taken as written: "id: 007" is "007", "id: 1.10" is "1.10".
    text = _as_written(scalar).strip()
    if isinstance(value, bool) or not isinstance(value, str | int | float) or text == "":
        raise InputError(f"{name!r} must be non-empty text, found {describe(node)}",
                         file=source, line=node.line)
    if TOKEN_RE.search(text):
        raise InputError(f"{name!r} holds a full token; use an id, never the token",
                         file=source, line=node.line)
    return text


def _scopes(node: PNode, source: str, shared: _Shared) -> tuple[ScopeGrant, ...]:
    if not isinstance(node, PSeq):
        raise InputError(f"'scopes' must be a list, found {describe(node)}",
                         file=source, line=node.line)
    grants = []
    for item in node.items:
        if (not isinstance(item, PScalar) or not isinstance(item.value, str)
                or not item.value.strip()):
            raise InputError(f"a scope must be a name such as 'issues:read', found "
                             f"{describe(item)}", file=source, line=item.line)
        grants.append(ScopeGrant(shared.word(item.value), shared.location(item.line)))
    return tuple(grants)


def _keep(entry: tuple[int, PNode] | None, source: str, shared: _Shared) -> tuple[str, ...]:
    """``keep``: scope names a fix never removes; a list, or (CSV) one cell split as scopes."""
    if entry is None:
        return ()
    node = entry[1]
    if isinstance(node, PScalar) and isinstance(node.value, str):
        return tuple(s for s in re.split(r"[;\s]+", redact(node.value)) if s)
    if isinstance(node, PSeq):
        return tuple(g.name for g in _scopes(node, source, shared))
    raise InputError(f"'keep' must be a list of scope names, found {describe(node)}",
                     file=source, line=node.line)


def _justification(entry: tuple[int, PNode] | None, source: str
                   ) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """``justification``: text for the whole key, or a mapping of scope -> text."""
    if entry is None:
        return None, ()
    node = entry[1]
    if isinstance(node, PMap):
        out = []
        for scope, (line, value) in node.items.items():
            if not isinstance(value, PScalar) or not str(value.value or "").strip():
                raise InputError(f"the justification of {redact(scope)!r} must be text",
                                 file=source, line=line)
            out.append((redact(scope.strip()), redact(str(value.value).strip())))
        return None, tuple(out)
    text = _scalar_node(node, "justification", source).value
    if text is None or not str(text).strip():
        return None, ()
    return redact(str(text).strip()), ()


def _flag(entry: tuple[int, PNode] | None, name: str, source: str) -> bool:
    """A yes/no field: a YAML/JSON boolean, or (CSV) true/false/yes/no/1/0/empty."""
    if entry is None:
        return False
    node = _scalar_node(entry[1], name, source)
    value = node.value
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0", ""):
        return False
    raise InputError(f"{name!r} must be true or false, found {redact(str(value))[:40]!r}",
                     file=source, line=node.line)


def _tags(entry: tuple[int, PNode] | None, source: str, shared: _Shared) -> tuple[str, ...]:
    if entry is None:
        return ()
    node = entry[1]
    if isinstance(node, PScalar) and isinstance(node.value, str):
        # Redacted before it is split: "Bearer <secret>" split into words would no longer
        # look like a Bearer value (and a redacted token holds no separator).
        return tuple(t for t in re.split(r"[;,\s]+", redact(node.value)) if t)
    if isinstance(node, PSeq):
        tags = []
        for item in node.items:
            # a word (a number as written); not an empty entry, which would read as "None"
            if (not isinstance(item, PScalar) or item.value is None
                    or isinstance(item.value, bool) or not _as_written(item).strip()):
                raise InputError(f"a tag must be a word, found {describe(item)}",
                                 file=source, line=item.line)
            tags.append(shared.word(_as_written(item)))
        return tuple(tags)
    raise InputError(f"'tags' must be a list of words, found {describe(node)}", file=source,
                     line=node.line)


def _code(entry: tuple[int, PNode] | None, source: str) -> tuple[str, ...]:
    """``code:``: the globs of the source files that use the key (one glob, or a list)."""
    if entry is None:
        return ()
    node = entry[1]
    items = node.items if isinstance(node, PSeq) else [node]
    globs = []
    for item in items:
        if not isinstance(item, PScalar) or not isinstance(item.value, str) \
                or not item.value.strip():
            raise InputError(f"'code' must be a path or glob, or a list of them, found "
                             f"{describe(item)}", file=source, line=item.line)
        globs.append(item.value.strip())
    return tuple(globs)


def _date(entry: tuple[int, PNode] | None, name: str, source: str,
          shared: _Shared) -> date | None:
    if entry is None:
        return None
    node = _scalar_node(entry[1], name, source)
    value = node.value
    if value is None:
        return None
    found = shared.date(value) if isinstance(value, str) else written_date(value)
    if found is not None:
        return found
    shown = redact(_as_written(node))[:40]
    raise InputError(f"{name!r} is not a date (expected YYYY-MM-DD): {shown!r}",
                     file=source, line=node.line)
