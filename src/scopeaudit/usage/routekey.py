"""The route key: which request paths share one routing decision, defined once for every
engine (the streaming aggregator keys its route cache by it; the DuckDB engine groups rows by
a SQL refinement of it, ``RouteKey.sql``, and keys each group by ``key`` of that;
tests/unit/test_engine_routekey.py holds the two to each other).

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

# What the SQL key folds, in RE2 (no look-ahead): digits, UUIDs, runs of letters and digits
# with a digit (ObjectIds, ULIDs), and such a run after a letter prefix and '_' or '-'
# (``obj_48213``, ``iss_8fK2xQ``), six characters at least. Each part is written by where its
# first digit stands, so the automaton stays small: an equivalent of all of _FOLDABLE_RE,
# with counted runs in several places at once, made RE2 give up its DFA on UUID paths (15x
# slower). What it leaves (ids with other punctuation, a letter-free id of sixteen characters)
# is folded by ``key``.
_ALNUM = "[0-9A-Za-z]"


def _times(cls: str, n: int, more: bool = False) -> str:
    """``cls`` n times (or more)."""
    if more:
        return f"{cls}*" if n == 0 else f"{cls}{{{n},}}"
    return "" if n == 0 else cls if n == 1 else f"{cls}{{{n}}}"


def _run_with_digit(least: int) -> str:
    """A run of letters and digits holding a digit, ``least`` characters at least: letters,
    then the first digit, then the rest."""
    places = [_times("[A-Za-z]", i) + "[0-9]" + _times(_ALNUM, least - 1 - i, more=True)
              for i in range(least)]
    places.append(_times("[A-Za-z]", least, more=True) + "[0-9]" + f"{_ALNUM}*")
    return "(?:" + "|".join(places) + ")"


_SQL_FOLD = "|".join((
    "[0-9]+", UUID, _run_with_digit(6),
    *(_times("[A-Za-z]", n) + "[_-]" + _run_with_digit(5 - n) for n in (1, 2, 3)),
    _times("[A-Za-z]", 4, more=True) + "[_-]" + _run_with_digit(1)))
_SQL_FOLD_RE = re.compile(_SQL_FOLD)


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
        self.route_class: Callable[[str], str] = _class_function(self.literals, mixed_re) \
            if self.folds else _same

    @classmethod
    def of(cls, router: Routes, path_families: Iterable[tuple[str, object]]) -> RouteKey:
        """The route key of a catalog's router and path families (``Catalog.route_key``)."""
        family_segments = (seg for prefix, _ in path_families for seg in prefix.split("/"))
        return cls((*router.literal_segments(), *family_segments), router.mixed_patterns())

    def sql(self, column: str) -> str:
        """DuckDB SQL: a *refinement* of ``key`` for the (query-less) path in ``column``.

        It folds the segments of the common id styles (digits, UUIDs, and identifiers of at
        least six characters with a digit and a letter: ObjectIds, ULIDs, ``iss_8fK2xQ``) in
        one ``regexp_replace``, and only segments ``key`` folds too; a segment ``key`` would
        fold that it leaves stays as it is. So paths with one SQL key have one ``key``
        (``key`` of the SQL key, which callers apply once per group), and the groups are as
        few as ``key``'s for those id styles. Judging every segment as ``key`` does (split,
        then each segment's tests) cost two to three times as much per row. A path with a
        segment the catalog knows that the fold pattern matches (a literal ``3`` or
        ``oauth2``, a mixed segment ``{id}.json``) is not folded at all."""
        if not self.folds:
            return column
        guard = [re.escape(s) for s in sorted(self.literals) if _SQL_FOLD_RE.fullmatch(s)]
        guard += [f"(?:{p})" for p in self.mixed]
        # A segment is matched with the '/' on each side (one more put at the end closes the
        # last). RE2 has no look-ahead, so a match takes the next segment's opening '/' with
        # it, and of two ids side by side (/12/34) only the first is folded here: rare in
        # paths, left to ``key``, and cheaper than doubling every '/' (a fifth of the key)
        folded = (f"left(regexp_replace({column} || '/', '/(?:{_SQL_FOLD})/', "
                  f"'/{PLACEHOLDER}/', 'g'), -1)")
        if not guard:
            return folded
        known = _sql_string("(?:^|/)(?:" + "|".join(guard) + ")(?:/|$)")
        return f"CASE WHEN regexp_matches({column}, {known}) THEN {column} ELSE {folded} END"


def _same(path: str) -> str:
    return path


def _key_function(literals: frozenset[str], mixed: re.Pattern[str] | None
                  ) -> Callable[[str], str]:
    """The key in Python, fast: segments already judged are looked up (the literals, and
    segments seen before that are no identifiers), the rest judged by one regex."""
    return _folding(literals, mixed, _FOLDABLE_RE)


# A segment of unreserved characters only (folded by route_class unless the catalog knows it).
_UNRESERVED_RE = re.compile(f"[{_UNRESERVED}]+")


def _class_function(literals: frozenset[str], mixed: re.Pattern[str] | None
                    ) -> Callable[[str], str]:
    """``route_class``: every segment folded that the catalog could not tell from ``0``,
    identifier or not (a digit-free slug too).

    By the argument in the module's text such a segment meets only a parameter or a ``**``,
    as ``0`` does, so a path *routes* as its class does: the class may key a cache of
    routing decisions that name an operation (a matched path's decision holds nothing of
    its own path). An unmatched path's decision holds its shape, which keeps a slug as it is:
    those are keyed by ``key``. So slugs on a known route are routed once per route; slugs on
    an unknown one are still routed (and shaped) once per path."""
    return _folding(literals, mixed, _UNRESERVED_RE)


def _folding(literals: frozenset[str], mixed: re.Pattern[str] | None,
             foldable_re: re.Pattern[str]) -> Callable[[str], str]:
    """Folds each segment ``foldable_re`` matches whole to the placeholder, unless the
    catalog knows it (a literal, a mixed segment); segments found not foldable are
    remembered (up to _MEMO_LIMIT) and looked up next time."""
    kept = set(literals)
    kept.add("")
    foldable = foldable_re.fullmatch
    mixed_match = mixed.fullmatch if mixed is not None else None

    def fold(path: str) -> str:
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

    return fold


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
