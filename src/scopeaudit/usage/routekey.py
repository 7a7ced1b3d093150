"""The route key: which request paths share one routing decision, defined once for every
engine (the streaming aggregator keys its route cache by it, the DuckDB engine groups rows by
its SQL form, ``route_key_sql``; tests/unit/test_engine_routekey.py holds the two equal).

A segment is *folded* to ``0`` when it looks like an identifier (``looks_like_id``: digits,
a UUID, a Mongo ObjectId, a prefixed id such as ``obj_48213``, a ULID) and is written in
unreserved URL characters only, and when the catalog could not tell it from ``0``: it is no
literal segment of a template, a base path or a path family, and matches no mixed template
segment (``{id}.json``). Such a segment can then only meet a parameter or a ``**``, exactly as
``0`` does, so the path and its key route alike; it becomes ``{id}`` in an unmatched request's
shape, exactly as ``0`` does; and it decides no family prefix. The key is therefore exact: a
routing decision made for the key (or for any path with that key) is the decision for every
path with that key, whatever the id style, and the work of routing grows with the distinct
keys (a few per route), not with the distinct ids. A segment with ``%`` is never folded (it is
decoded before routing). Digit-free slugs are no identifiers to the shape (``generalise``
keeps them), so they are not folded either.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Protocol

UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID_RE = re.compile(UUID)


class Routes(Protocol):
    """What the key needs of a catalog's router (catalog/routes.py ``Router``), named here so
    that this module imports nothing of the catalog, which builds its key from it."""

    def literal_segments(self) -> frozenset[str]: ...

    def mixed_patterns(self) -> tuple[str, ...]: ...


# What a folded segment stands for, routed and shaped in its place (see the module's text).
PLACEHOLDER = "0"
# URL-unreserved characters: a segment of only these reads the same decoded or not.
_UNRESERVED = "0-9A-Za-z._~-"
# A known segment decision is remembered up to this many segments (then no longer noted).
_MEMO_LIMIT = 100_000


def looks_like_id(seg: str) -> bool:
    """Whether an (unmatched) path segment is an identifier, ``{id}`` in its shape."""
    if seg.isdigit() or _UUID_RE.fullmatch(seg):
        return True
    if len(seg) >= 16 and sum(c.isdigit() for c in seg) >= 4:
        return True  # uuids, hashes, long opaque ids
    return len(seg) >= 6 and any(c.isdigit() for c in seg) and any(c.isalpha() for c in seg) \
        and "-" not in seg.strip("-")[:1]


# looks_like_id on a segment of _UNRESERVED characters, as one regex (for ASCII, isdigit is [0-9]
# and isalpha [A-Za-z]; the last clause of looks_like_id always holds). The hypothesis test
# holds it to looks_like_id.
_FOLDABLE_RE = re.compile(
    rf"[0-9]+|{UUID}"
    rf"|(?=[{_UNRESERVED}]{{16}})(?:[A-Za-z._~-]*[0-9]){{4}}[{_UNRESERVED}]*"
    rf"|(?=[{_UNRESERVED}]{{6}})(?=[A-Za-z._~-]*[0-9])(?=[0-9._~-]*[A-Za-z])[{_UNRESERVED}]+")


class RouteKey:
    """The route key of a catalog: ``key(path)`` in Python, ``sql(column)`` in DuckDB."""

    def __init__(self, literals: Iterable[str], mixed: Iterable[str]) -> None:
        self.literals = frozenset(literals)
        self.mixed = tuple(sorted(set(mixed)))
        mixed_re = re.compile("|".join(f"(?:{p})" for p in self.mixed)) if self.mixed \
            else None
        # Folding is exact only while the placeholder itself is nothing the catalog knows.
        self.folds = PLACEHOLDER not in self.literals and not (
            mixed_re is not None and mixed_re.fullmatch(PLACEHOLDER))
        self.key: Callable[[str], str] = _key_function(self.literals, mixed_re) \
            if self.folds else _same

    @classmethod
    def of(cls, router: Routes, path_families: Iterable[tuple[str, object]]) -> RouteKey:
        """The route key of a catalog's router and path families (``Catalog.route_key``)."""
        family_segments = (seg for prefix, _ in path_families for seg in prefix.split("/"))
        return cls((*router.literal_segments(), *family_segments), router.mixed_patterns())

    def sql(self, column: str) -> str:
        """DuckDB SQL: the key of the (query-less) path in ``column``, as ``key`` gives it."""
        if not self.folds:
            return column
        literals = ", ".join(_sql_string(s) for s in sorted(self.literals))
        s = "s__"
        conditions = [f"regexp_full_match({s}, '[{_UNRESERVED}]+')"]
        if literals:
            conditions.append(f"{s} NOT IN ({literals})")
        if self.mixed:
            mixed = "|".join(f"(?:{p})" for p in self.mixed)
            conditions.append(f"NOT regexp_full_match({s}, {_sql_string(mixed)})")
        # looks_like_id in RE2 (no look-ahead): its lengths by strlen
        u = f"[{_UNRESERVED}]*"
        digit_and_letter = f"{u}(?:[0-9]{u}[A-Za-z]|[A-Za-z]{u}[0-9]){u}"
        conditions.append(
            f"(regexp_full_match({s}, '[0-9]+|{UUID}')"
            f" OR (strlen({s}) >= 6 AND regexp_full_match({s}, '{digit_and_letter}'))"
            f" OR (strlen({s}) >= 16 AND regexp_full_match({s}, "
            f"'(?:[A-Za-z._~-]*[0-9]){{4}}[{_UNRESERVED}]*')))")
        fold = " AND ".join(conditions)
        # Most paths have no segment of identifier characters with a digit in it: kept as
        # they are without splitting them (a UUID of letters only is the one digit-free id).
        return (f"CASE WHEN NOT regexp_matches({column}, '[0-9]|[a-fA-F]{{8}}-') "
                f"THEN {column} ELSE array_to_string(list_transform(string_split({column}, "
                f"'/'), lambda {s}: CASE WHEN {fold} THEN '{PLACEHOLDER}' ELSE {s} END), '/') END")


def _same(path: str) -> str:
    return path


def _key_function(literals: frozenset[str], mixed: re.Pattern[str] | None
                  ) -> Callable[[str], str]:
    """The key in Python, fast: segments already judged are looked up (the literals, and
    segments seen before that are no identifiers), the rest judged by one regex."""
    kept = set(literals)
    kept.add("")
    foldable = _FOLDABLE_RE.fullmatch
    mixed_match = mixed.fullmatch if mixed is not None else None

    def key(path: str) -> str:
        segs = path.split("/")
        changed = False
        for i, seg in enumerate(segs):
            if seg in kept:
                continue
            if foldable(seg) and (mixed_match is None or not mixed_match(seg)):
                segs[i] = PLACEHOLDER
                changed = True
            elif len(kept) < _MEMO_LIMIT:
                kept.add(seg)
        return "/".join(segs) if changed else path

    return key


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
