"""One redaction for a finished result on its way out: every string inside it.

Strings from outside reach an Audit (or a probe report) by many roads: the name of a log or
key file (``logs/sk_live_….jsonl``), a server's reason phrase, a header, a client's user
agent, a suppression's reason. Rather than each renderer, history and baseline remembering
which fields may hold one, the finished value is walked once and every string in it passes
:func:`scopeaudit.http.credentials.redact_known` (the run's known secrets, tokens and Bearer
values). A value without a secret comes back as the same object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from enum import Enum
from types import MappingProxyType
from typing import Any, TypeVar

from scopeaudit.http.credentials import redact_known

T = TypeVar("T")


def redacted(value: T) -> T:
    """``value`` with every string in it (dataclass fields, tuple, list, set and mapping
    items and keys, at any depth) redacted."""
    result: T = _Walk(redact_known).walk(value)
    return result


# numbers, and the tool's own vocabulary (severities, results): no text from outside
_LEAVES = (type(None), bool, int, float, Enum)
# per dataclass: the fields its constructor takes (what dataclasses.replace can set)
_INIT_FIELDS: dict[type, tuple[str, ...] | None] = {}


class _Walk:
    def __init__(self, scrub: Callable[[str], str]) -> None:
        self.scrub = scrub
        # the same names, scopes and paths recur thousands of times: each is scrubbed once
        self.clean: set[str] = set()
        self.changed: dict[str, str] = {}

    def walk(self, value: Any) -> Any:
        if isinstance(value, str):
            if isinstance(value, Enum):
                return value
            if value in self.clean:
                return value  # unchanged: the same object
            found = self.changed.get(value)
            if found is None:
                found = self.scrub(value)
                if found == value:
                    self.clean.add(value)
                    return value
                self.changed[value] = found
            return found
        if isinstance(value, _LEAVES):
            return value
        names = _init_fields(type(value))
        if names is not None:
            changes = {}
            for name in names:
                old = getattr(value, name)
                new = self.walk(old)
                if new is not old:
                    changes[name] = new
            return dataclasses.replace(value, **changes) if changes else value
        if isinstance(value, tuple | list | set | frozenset):
            items = [self.walk(item) for item in value]
            if all(new is old for new, old in zip(items, value, strict=True)):
                return value
            if hasattr(value, "_fields"):  # a named tuple
                return type(value)(*items)
            return type(value)(items)
        if isinstance(value, Mapping):
            pairs = [(self.walk(k), self.walk(v)) for k, v in value.items()]
            if all(nk is k and nv is v for (nk, nv), (k, v) in zip(pairs, value.items(),
                                                                   strict=True)):
                return value
            if isinstance(value, MappingProxyType):
                return MappingProxyType(dict(pairs))
            return type(value)(pairs) if isinstance(value, dict) else dict(pairs)
        return value  # dates, and anything else that holds no text


def _init_fields(cls: type) -> tuple[str, ...] | None:
    """The constructor's fields of dataclass ``cls``; None for anything else."""
    if cls not in _INIT_FIELDS:
        _INIT_FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.init) \
            if dataclasses.is_dataclass(cls) else None
    return _INIT_FIELDS[cls]
