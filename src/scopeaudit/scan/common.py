"""What the language modules share: reading nodes, constants, and turning a reconstructed
string into a call's target.

A reconstructed string is a ``str`` in which ``{}`` stands for a part the code computes at
run time (an f-string's ``{id}``, a template literal's ``${id}``, a ``%s`` of Sprintf), or
None when nothing of it can be read (a parameter, a function's result).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from scopeaudit.model import Location
from scopeaudit.scan.model import PLACEHOLDER, CallSite

if TYPE_CHECKING:
    from tree_sitter import Node

T = TypeVar("T")

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_PLACEHOLDERS = re.compile(r"(?:\{\})+")
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def text(node: Node) -> str:
    raw = node.text
    return raw.decode("utf-8", "replace") if raw is not None else ""


def location(path: str, node: Node) -> Location:
    row, column = node.start_point
    return Location(path, row + 1, column + 1)


def walk(node: Node) -> Iterator[Node]:
    """Every node under ``node``, in source order (iteratively: deep trees stay cheap)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def concat(left: str | None, right: str | None) -> str | None:
    """``left + right`` where one side may be unknown: an unknown side beside a known string
    is one run-time part; both unknown is nothing known."""
    if left is None and right is None:
        return None
    return (PLACEHOLDER if left is None else left) + (PLACEHOLDER if right is None else right)


_CONFLICT = object()


class Bindings(Generic[T]):
    """Names bound to one value, per function scope of one file.

    A plain name binds in the function that assigns it (or the file, at top level); a
    dotted one (``self.client``, ``this.api``) binds file-wide, since methods share it. A
    name bound twice in one scope to different values, or bound to something unreadable
    (``None``: a parameter, a loop variable), has no value there. A lookup tries the
    enclosing scopes from the innermost out.
    """

    def __init__(self, scope_types: frozenset[str]) -> None:
        self._scope_types = scope_types
        self._values: dict[tuple[int, str], object] = {}

    def scopes(self, node: Node) -> list[int]:
        """The ids of the function scopes around ``node``, innermost first, then 0 (file)."""
        out = []
        parent = node.parent
        while parent is not None:
            if parent.type in self._scope_types:
                out.append(parent.id)
            parent = parent.parent
        out.append(0)
        return out

    def bind(self, node: Node, name: str, value: T | None) -> None:
        key = (0 if "." in name else self.scopes(node)[0], name)
        if key in self._values and self._values[key] != value:
            self._values[key] = _CONFLICT
        else:
            self._values[key] = value

    def get(self, node: Node, name: str) -> T | None:
        for scope in ([0] if "." in name else self.scopes(node)):
            if (scope, name) in self._values:
                found = self._values[(scope, name)]
                return None if found is _CONFLICT else cast("T | None", found)
        return None


def method_of(value: str | None) -> str | None:
    """An HTTP method name read off the code, upper-cased; None when it is not one."""
    if value is None or PLACEHOLDER in value:
        return None
    upper = value.strip().upper()
    return upper if upper in METHODS else None


def join_base(base: str | None, path: str) -> str:
    """A path joined to a client's base URL as httpx, axios and ky's prefixUrl join them: an
    absolute URL stands alone; otherwise one slash between the two."""
    if base is None or _ABSOLUTE.match(path):
        return path
    if not path:
        return base
    return base.rstrip("/") + "/" + path.lstrip("/")


def site(path: str, node: Node, language: str, client: str, method: str | None,
         target: str | None, base: str | None = None, base_known: bool = True,
         method_reason: str = "") -> CallSite:
    """A call site, its target normalised and explained when it cannot be read.

    The target is undetermined when the code gives no string at all, or only a run-time
    value with no literal path in it. A target that starts with a run-time part followed by
    a path (``f"{self.url}/v1/issues"``) has an unknown origin: the path is what follows.
    """
    reasons: list[str] = []
    if method is None:
        reasons.append(method_reason or "the method is computed at run time")
    shown: str | None = None
    if target is None:
        reasons.append("the URL is computed at run time")
    else:
        joined = _PLACEHOLDERS.sub(PLACEHOLDER, join_base(base, target))
        if joined.startswith(PLACEHOLDER + "/"):
            joined = joined[len(PLACEHOLDER):]
            base_known = False
        literal = joined.replace(PLACEHOLDER, "").strip("/")
        if not literal or not (joined.startswith("/") or _ABSOLUTE.match(joined)):
            reasons.append(f"the URL is computed at run time ({joined!r})"
                           if literal else "the URL is computed at run time")
        else:
            shown = joined
    return CallSite(location(path, node), language, client, method,
                    shown, "; ".join(reasons), base_known)
