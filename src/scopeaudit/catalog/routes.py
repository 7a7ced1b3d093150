"""Route matching: a logged method and raw request target -> the catalog operation.

The rules, each with its own unit test:

* scheme and host are stripped from an absolute target; so are the query and fragment;
* a run of slashes is one slash (``//v1//issues`` is ``/v1/issues``), as servers route it
  (nginx's ``merge_slashes``, on by default); then one trailing slash is ignored
  (``/v1/issues/`` and ``/v1/issues//`` are ``/v1/issues``);
* each segment is percent-decoded once, after splitting, so ``%2F`` never becomes a separator;
* literal segments beat templates (``/v1/issues/export`` before ``/v1/issues/{id}``), and a
  failed literal branch falls back to the template branch;
* a trailing ``**`` segment in a template matches whatever remains (resource-prefix fallbacks);
* HEAD matches GET when no HEAD operation exists; OPTIONS is a CORS preflight, never use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import unquote

from scopeaudit.catalog.operations import Operation

_PARAM_RE = re.compile(r"\{[^{}/]+\}")
_ABSOLUTE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")
# A run of literal slashes, routed as one; the warehouse SQL uses this very pattern
# (``%2F`` is no slash here: segments are decoded after the split).
REPEATED_SLASHES = "//+"
_REPEATED_SLASHES_RE = re.compile(REPEATED_SLASHES)


class MatchKind(Enum):
    MATCHED = "matched"
    PREFLIGHT = "preflight"  # OPTIONS: carries no credentials, never counts as use
    UNMATCHED = "unmatched"  # a well-formed request that no operation describes
    INVALID = "invalid"  # not an origin-form or absolute path at all


@dataclass(frozen=True)
class RouteMatch:
    kind: MatchKind
    path: str  # the normalised path (query stripped, decoded), for grouping unmatched shapes
    operation: Operation | None = None


def split_target(target: str) -> list[str] | None:
    """Normalise a raw request target into decoded path segments, none of them empty, or None
    if it is no path."""
    target = target.strip()
    absolute = _ABSOLUTE_RE.match(target)
    if absolute:
        # The path of an absolute URI may be empty (``https://host?x``): that is ``/``.
        target = "/" + target[absolute.end():].removeprefix("/")
    for sep in ("#", "?"):
        cut = target.find(sep)
        if cut >= 0:
            target = target[:cut]
    if not target.startswith("/"):
        return None
    if "//" in target:
        target = _REPEATED_SLASHES_RE.sub("/", target)
    if len(target) > 1 and target.endswith("/"):
        target = target[:-1]
    if target == "/":
        return []
    return [unquote(seg) for seg in target[1:].split("/")]


def template_segments(path: str) -> list[str]:
    return [seg for seg in path.strip("/").split("/") if seg != ""] if path.strip("/") else []


def shape_of(path: str) -> str:
    """A template's shape: parameter names replaced by ``{}`` so same-shape templates merge."""
    return _PARAM_RE.sub("{}", path)


# A template segment as the router tries it: a literal (its decoded text), the literal parts
# of a mixed segment (``{id}.json`` is ("", ".json"), a parameter between each two), or None
# for a parameter.
TemplateSegment = str | tuple[str, ...] | None


@dataclass(frozen=True)
class Terminal:
    """One end of the router's search: the template segments after a base path that lead to
    it, whether it is a ``**`` tried with one or more segments left (``more``), the method
    and the operation."""

    segments: tuple[TemplateSegment, ...]
    more: bool
    method: str
    operation: Operation


@dataclass
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    # segments mixing literal text and parameters, e.g. ``{id}.json``: tried after literals
    mixed: list[tuple[re.Pattern[str], _Node]] = field(default_factory=list)
    param: _Node | None = None
    ops: dict[str, Operation] = field(default_factory=dict)
    rest_ops: dict[str, Operation] = field(default_factory=dict)  # trailing ``**``


class Router:
    def __init__(self, operations: Iterable[Operation], base_paths: tuple[str, ...] = ("",)):
        self._root = _Node()
        # Longest base path first, so ``/api/v2`` is stripped before ``/api``.
        # No base path at all means no prefix, not "match nothing".
        self._bases = sorted({b.rstrip("/") for b in base_paths} or {""},
                             key=lambda b: (-len(b), b))
        for op in operations:
            self._add(op)

    @property
    def base_paths(self) -> tuple[str, ...]:
        """The base paths in the order a path is tried against them (longest first; "" is
        no base path)."""
        return tuple(self._bases)

    def terminals(self) -> Iterator[Terminal]:
        """Every end of the search in the order ``match`` tries them below a base path: the
        first that matches a path is the router's answer (what the warehouse SQL compiles
        the router from: sql/routing.py). A ``**`` comes twice: matching no more segments
        (right after the node's own operations) and one or more (after all its children)."""

        def walk(node: _Node, segs: tuple[TemplateSegment, ...]) -> Iterator[Terminal]:
            for method, op in node.ops.items():
                yield Terminal(segs, False, method, op)
            for method, op in node.rest_ops.items():
                yield Terminal(segs, False, method, op)
            for literal, child in node.literal.items():
                yield from walk(child, (*segs, literal))
            for pattern, child in node.mixed:
                yield from walk(child, (*segs, _mixed_parts(pattern)))
            if node.param is not None:
                yield from walk(node.param, (*segs, None))
            for method, op in node.rest_ops.items():
                yield Terminal(segs, True, method, op)

        yield from walk(self._root, ())

    def literal_segments(self) -> frozenset[str]:
        """Every literal segment a path could meet: those of the templates and of the base
        paths (what the route key must never fold: usage/routekey.py)."""
        found: set[str] = set()
        for base in self._bases:
            found.update(base.split("/"))
        for node in self._nodes():
            found.update(node.literal)
        return frozenset(found)

    def mixed_patterns(self) -> tuple[str, ...]:
        """The regexes of the segments that mix literal text and parameters (``{id}.json``),
        each matched against a whole segment."""
        return tuple(sorted({p.pattern for node in self._nodes() for p, _ in node.mixed}))

    def _nodes(self) -> Iterable[_Node]:
        stack = [self._root]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(node.literal.values())
            stack.extend(child for _, child in node.mixed)
            if node.param is not None:
                stack.append(node.param)

    def _add(self, op: Operation) -> None:
        node = self._root
        segments = template_segments(op.path)
        method = op.method.upper()
        for i, seg in enumerate(segments):
            if seg == "**" and i == len(segments) - 1:
                node.rest_ops.setdefault(method, op)
                return
            if _PARAM_RE.fullmatch(seg):
                if node.param is None:
                    node.param = _Node()
                node = node.param
            elif _PARAM_RE.search(seg):
                shape = shape_of(seg)
                found = next((n for p, n in node.mixed if p.pattern == _mixed_regex(shape)), None)
                if found is None:
                    found = _Node()
                    node.mixed.append((re.compile(_mixed_regex(shape)), found))
                node = found
            else:
                node = node.literal.setdefault(seg, _Node())
        # First definition wins for an identical shape and method; merging of alternatives
        # for duplicate shapes is the catalog loader's job, not the router's.
        node.ops.setdefault(method, op)

    def match(self, method: str, target: str) -> RouteMatch:
        method = method.upper()
        segments = split_target(target)
        if segments is None:
            return RouteMatch(MatchKind.INVALID, target)
        # Re-escape what decoding made ambiguous, so ``a%2Fb`` stays one segment when shown.
        path = "/" + "/".join(seg.replace("%", "%25").replace("/", "%2F") for seg in segments)
        if method == "OPTIONS":
            return RouteMatch(MatchKind.PREFLIGHT, path)
        for candidate in self._candidates(segments):
            op = self._find(self._root, candidate, 0, method)
            if op is None and method == "HEAD":
                op = self._find(self._root, candidate, 0, "GET")
            if op is not None:
                return RouteMatch(MatchKind.MATCHED, path, op)
        return RouteMatch(MatchKind.UNMATCHED, path)

    def _candidates(self, segments: list[str]) -> Iterable[list[str]]:
        for base in self._bases:
            if not base:
                yield segments
                continue
            base_segs = base.strip("/").split("/")
            if segments[: len(base_segs)] == base_segs:
                yield segments[len(base_segs):]

    def _find(self, node: _Node, segs: list[str], i: int, method: str) -> Operation | None:
        if i == len(segs):
            return node.ops.get(method) or node.rest_ops.get(method)
        seg = segs[i]
        child = node.literal.get(seg)
        if child is not None:
            found = self._find(child, segs, i + 1, method)
            if found is not None:
                return found
        for pattern, mixed_child in node.mixed:
            if pattern.fullmatch(seg):
                found = self._find(mixed_child, segs, i + 1, method)
                if found is not None:
                    return found
        if node.param is not None:  # (no segment is empty: split_target merges slashes)
            found = self._find(node.param, segs, i + 1, method)
            if found is not None:
                return found
        return node.rest_ops.get(method)


def _mixed_parts(pattern: re.Pattern[str]) -> tuple[str, ...]:
    """The literal parts of a mixed segment's regex (``_mixed_regex``): the text between its
    ``.+?`` parameters."""
    return tuple(re.sub(r"\\(.)", r"\1", part) for part in pattern.pattern.split(".+?"))


def _mixed_regex(shape: str) -> str:
    parts = re.split(r"(\{\})", shape)
    return "".join(".+?" if part == "{}" else re.escape(part) for part in parts)
