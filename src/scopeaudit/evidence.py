"""From the aggregate to evidence per key: states, recommendation, confidence, replay.

The rules of evidence (DESIGN.md) live here and only here:

* a scope is *used* when an accepted request in the window (anything but 401 and 403) matched
  an operation needing it; of several alternatives that the key's grants satisfy, the least
  privileged one is taken (fewest write scopes, then fewest scopes); where they satisfy none
  (the API accepted all the same), no granted scope of an alternative the key holds part of
  is removed (``exercised``), and what the key lacks is *undeclared*, never recommended;
* *unknown* when the key sent accepted requests matching no operation on the scope's resource
  (or on no known resource at all, unless answered 404 or 405: such a request reached no
  handler), or when requests that may be this key's or another's (a matcher value several
  definitions share, ``_Shared``) used it: such a scope is never recommended for removal, and
  a key with such shared use has its removals at most low;
* *denied* when requests for an operation needing it were refused with 403;
* *needed by code* (``audit --code`` only) when the logs never saw a granted scope used but
  the key's scanned code calls an operation needing it (read as the logs are read:
  ``exercised``); it is kept, with the call sites as evidence, whatever the logs say;
* *unused* otherwise. Recommended = the granted scopes used, needed by code or unknown
  (+ granted scopes that saw only refusals, kept on the safe side); remove = granted -
  recommended; where the key's code was scanned, each removal's basis says whether the code
  agrees (``code_basis``);
* the replay checks each accepted request against the recommendation as the key would hold
  it (``still_allowed``).

Longer than 500 lines on purpose: the rules of evidence are kept in one module so that they
are read, and changed, in one place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from scopeaudit.catalog.model import Catalog, Operation
from scopeaudit.model import (
    DENIED,
    NEEDED_BY_CODE,
    UNKNOWN,
    UNUSED,
    USED,
    ClientCount,
    ClientSummary,
    ConfidencePolicy,
    Key,
    KeyCode,
    KeyVerdict,
    Location,
    RemovalConfidence,
    Replay,
    Window,
)
from scopeaudit.scan.model import KeyCalls
from scopeaudit.usage.aggregate import Cell, Usage, unlisted_between
from scopeaudit.usage.identity import MatcherGroup, key_matchers
from scopeaudit.usage.semantics import NO_HANDLER, OVERFLOW_TAIL, REFUSED, UNMATCHED_PREFIX
from scopeaudit.window import day_date, day_number, epoch_date
from scopeaudit.words import plural

MAX_CLIENTS_SHOWN = 20


@dataclass
class KeyFacts:
    """Everything observed of one key in the window; what the usage rules read."""

    key: Key
    verdict: KeyVerdict
    scope_days: dict[str, set[int]]
    denials: dict[str, tuple[int, tuple[str, ...]]]  # operation -> (403s, scopes it needs)
    unauthorized_first: float | None
    unauthorized_last: float | None
    # accepted requests in the window that may be this key's or another's: they matched a
    # matcher value several definitions share (usage.identity.MatcherGroup)
    shared: int = 0


@dataclass
class GroupFacts:
    """What the window holds of the requests matched by a matcher value several key
    definitions share (SA305)."""

    group: MatcherGroup
    requests: int = 0  # every status
    shared: int = 0  # accepted requests made while several of its keys (or none) were live
    attributed: dict[str, int] = field(default_factory=dict)  # key id -> requests it alone
    first: float | None = None
    last: float | None = None


@dataclass
class Tally:
    """One key label's requests in the window: counts by outcome, first/last times, days, ops."""

    accepted: int = 0
    denied: int = 0
    unauthorized: int = 0
    first: float | None = None
    last: float | None = None
    unauth_first: float | None = None
    unauth_last: float | None = None
    active_days: set[int] = field(default_factory=set)
    ops: dict[str, int] = field(default_factory=dict)
    unmatched: dict[str, int] = field(default_factory=dict)  # "~METHOD shape" -> requests
    # unmatched shapes with a request answered other than 404/405: one that may have
    # reached a handler
    handled: set[str] = field(default_factory=set)
    denials: dict[str, int] = field(default_factory=dict)


def privilege(scopes: frozenset[str], catalog: Catalog) -> tuple[int, int, list[str]]:
    """How much a scope set grants, to be minimised: its write scopes (a scope the catalog
    does not declare counts as one), then its scopes, then its names (a stable tie-break)."""
    writes = sum(1 for s in scopes if (sc := catalog.scope(s)) is None or sc.is_write)
    return (writes, len(scopes), sorted(scopes))


def least_privileged(alternatives: tuple[frozenset[str], ...] | list[frozenset[str]],
                     catalog: Catalog) -> frozenset[str]:
    """The least privileged alternative: fewest write scopes, then fewest scopes."""
    return min(alternatives, key=lambda alt: privilege(alt, catalog))


@dataclass(frozen=True)
class Exercise:
    """What an accepted request to an operation says of the scopes of the key that made it."""

    used: frozenset[str]  # granted scopes it needed
    unknown: frozenset[str]  # granted scopes it may have needed: which alternative is unknown
    missing: frozenset[str]  # scopes it needed that the key is not granted


def exercised(op: Operation, granted: frozenset[str], catalog: Catalog) -> Exercise:
    """The scopes an accepted request to ``op`` exercised, for a key granted ``granted``.

    Where the grants satisfy alternatives, the least privileged of those is used. Where they
    satisfy none (yet the API accepted the request: the definition or the catalog is
    incomplete), the plausible alternatives are those the key holds part of (else the least
    privileged of all): the granted scopes every one of them needs are used, the granted
    scopes of the others unknown, and what they all need but the key lacks is missing.
    Either way no granted scope of a plausible alternative is left to remove.
    """
    if not op.requires:
        return Exercise(frozenset(), frozenset(), frozenset())
    satisfied = [alt for alt in op.requires if alt <= granted]
    if satisfied:
        return Exercise(least_privileged(satisfied, catalog), frozenset(), frozenset())
    plausible = [alt for alt in op.requires if alt & granted] or [
        least_privileged(op.requires, catalog)]
    common = frozenset.intersection(*plausible)
    every = frozenset().union(*plausible)
    return Exercise(common & granted, (every - common) & granted, common - granted)


def still_allowed(op: Operation, granted: frozenset[str], recommended: frozenset[str]) -> bool:
    """The replay of one accepted request made with ``granted``: would the key still be
    allowed it holding the recommendation? A narrowing grants nothing, so the key would hold
    only the recommended scopes it holds now. A request the grants allowed must still be
    allowed; one they did not (yet the API accepted it) must keep every granted scope the
    operation names, since any may be what the server applied."""
    held = recommended & granted
    if op.satisfied_by(granted):
        return op.satisfied_by(held)
    return op.scopes & granted <= held


def unmatched_unknown(t: Tally, usage: Usage, granted: frozenset[str]) -> set[str]:
    """The granted scopes a key's accepted unmatched requests may have needed: those of the
    resource each request's path falls under; every scope where it falls under none, unless
    every such request was answered 404 or 405 (it reached no handler, so exercised no
    scope). The overflow bucket of shapes mixes paths: it keeps every scope."""
    unknown: set[str] = set()
    for shape in t.unmatched:
        family = usage.shape_families.get(shape)
        if family is not None:
            unknown |= family & granted
        elif shape in t.handled or shape.endswith(OVERFLOW_TAIL):
            unknown |= granted
    return unknown


def live_on(key: Key, day: int) -> bool:
    """Whether the key could make a request on the day: from its ``created`` day through its
    ``expires`` day (a date not given bounds nothing)."""
    return ((key.created is None or day_number(key.created) <= day)
            and (key.expires is None or day <= day_number(key.expires)))


def candidates(group: MatcherGroup, day: int, cls: str) -> tuple[Key, ...]:
    """The keys of a group that may have made a request of status class ``cls`` on ``day``:
    those live that day (a request after a key's ``expires`` or before its ``created`` is
    not that key's where another was live), or all of them where none was. A 401 may be
    any key's: an expired key is refused so, so dates tell nothing there."""
    if cls == "401":
        return group.keys
    live = tuple(k for k in group.keys if live_on(k, day))
    return live or group.keys


def removal_confidence(key: Key, window: Window, covered: frozenset[int],
                       first_seen_ever: float | None, active_days: int, accepted: int,
                       policy: ConfidencePolicy) -> RemovalConfidence:
    since, until = day_number(window.since), day_number(window.until)
    parts: list[str] = []
    start = since
    # A key that expired inside the window existed only up to its expiry day (valid through
    # it, as SA207 judges expiry): observed days end there, as they start at creation.
    end = until
    expired = ""
    if key.expires is not None and day_number(key.expires) < until:
        end = day_number(key.expires)
        expired = f"expired {key.expires.isoformat()}"
    known_start = True
    if key.created is not None:
        created = day_number(key.created)
        if created > since:
            start = created
            parts.append(f"key created {key.created.isoformat()}"
                         + (f" and {expired}" if expired else "")
                         + f": observed {max(0, end - start + 1)} of the window's "
                         f"{window.days} days")
        elif expired:
            parts.append(f"key {expired}: observed {max(0, end - start + 1)} of the window's "
                         f"{window.days} days")
        else:
            parts.append(f"key existed for the whole window ({window.days} days)")
    elif first_seen_ever is not None and day_number(epoch_date(first_seen_ever)) > since:
        start = day_number(epoch_date(first_seen_ever))
        known_start = False
        parts.append(f"creation date unknown; first seen {day_date(start).isoformat()}"
                     + (f"; {expired}" if expired else "")
                     + f": observed {max(0, end - start + 1)} of {window.days} days")
    elif expired:
        known_start = False
        parts.append(f"creation date unknown; {expired}: observed {max(0, end - start + 1)} "
                     f"of the window's {window.days} days")
    else:
        known_start = key.created is not None
        parts.append("creation date unknown; assumed to exist for the whole window "
                     f"({window.days} days)")
    observed = max(0, end - start + 1)
    seen = sum(1 for d in covered if start <= d <= end)
    ratio = seen / observed if observed else 0.0
    parts.append(f"logs cover {seen} of those {observed} days ({ratio:.0%})")
    parts.append(f"key active on {plural(active_days, 'day')} "
                 f"({plural(accepted, 'accepted request')})")

    def meets(days: int, cov: float, active: int) -> bool:
        return observed >= days and ratio >= cov and (accepted == 0 or active_days >= active)

    if meets(policy.high_days, policy.high_coverage, policy.high_active_days):
        level = "high"
    elif meets(policy.medium_days, policy.medium_coverage, policy.medium_active_days):
        level = "medium"
    else:
        level = "low"
    if level == "high" and accepted == 0 and not known_start:
        level = "medium"
        parts.append("capped at medium: a never-seen key with no creation date may be new")
    return RemovalConfidence(level, "; ".join(parts))


def _stamp(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).replace(microsecond=0).isoformat().replace(
        "+00:00", "Z")


def code_needs(calls: KeyCalls, granted: frozenset[str], catalog: Catalog
               ) -> dict[str, tuple[Location, ...]]:
    """The granted scopes a key's scanned calls need, each with its call sites: a call is
    read as an accepted request to its operation would be (``exercised``), so code and logs
    pick the same alternative; a scope it may need is needed. What the key lacks is the
    scan's SA401, not a state."""
    sites: dict[str, set[Location]] = defaultdict(set)
    for call in calls.calls:
        if call.operation is None:
            continue
        ex = exercised(call.operation, granted, catalog)
        for scope in ex.used | ex.unknown:
            sites[scope].add(call.site.location)
    return {scope: tuple(sorted(found)) for scope, found in sorted(sites.items())}


def code_basis(calls: KeyCalls) -> str:
    """What a removal's basis adds where the key's code was scanned: the code calls nothing
    that needs the scope (else it would be kept), so code and logs agree, as far as the scan
    can tell when some calls could not be mapped."""
    files, n = len(calls.files), len(calls.calls)
    seen = (f"the key's code ({files} file{'s' if files != 1 else ''}, {n} API "
            f"call{'s' if n != 1 else ''}) calls nothing that needs it")
    if not calls.unresolved:
        return seen + ": code and logs agree"
    return (seen + f" as far as the scan can tell ({calls.unresolved} call"
            f"{'s' if calls.unresolved != 1 else ''} it could not map, SA402, may): code and "
            "logs agree only that far")


def build_evidence(keys: tuple[Key, ...], catalog: Catalog, usage: Usage, window: Window,
                   covered: frozenset[int], policy: ConfidencePolicy,
                   code: Mapping[str, KeyCalls] | None = None
                   ) -> tuple[list[KeyFacts], Replay, dict[str, Tally], list[GroupFacts]]:
    """Evidence for every defined key, the replay, tallies for keys no definition names, and
    the requests of matcher values several definitions share. ``code`` (audit --code) is the
    scanned code of the keys some file belongs to.

    A group's requests (usage.identity.MatcherGroup) are split by day and status class among
    its candidates: where one candidate alone was live, they are that key's; else they are
    shared use, kept on every candidate, whose removals are then at most low (``_Shared``)."""
    lo, hi = day_number(window.since), day_number(window.until)
    ops = {op.id: op for op in catalog.operations}
    shared = _Shared(key_matchers(keys).groups)
    groups = shared.groups
    tallies: dict[str, Tally] = defaultdict(Tally)
    first_ever: dict[str, float] = {}
    # accepted requests per (key, operation, day) for the replay and scope days
    accepted_by_op_day: dict[str, dict[str, dict[int, int]]] = defaultdict(
        lambda: defaultdict(dict))
    # One pass over every cell: the loop runs once per (key, operation, class, day), so it
    # keeps to plain comparisons (no min/max calls) and names each cell's fields once.
    for (key_label, op_id, cls, day), cell in usage.cells.items():
        first, last, count = cell.first, cell.last, cell.count
        if groups and key_label in groups:
            owner = shared.owner(groups[key_label], op_id, cls, day, cell, lo <= day <= hi)
            if owner is None:
                continue
            key_label = owner
        seen = first_ever.get(key_label)
        if seen is None or first < seen:
            first_ever[key_label] = first
        if day < lo or day > hi:
            continue
        t = tallies[key_label]
        if t.first is None or first < t.first:
            t.first = first
        if t.last is None or last > t.last:
            t.last = last
        if cls == "401":
            t.unauthorized += count
            if t.unauth_first is None or first < t.unauth_first:
                t.unauth_first = first
            if t.unauth_last is None or last > t.unauth_last:
                t.unauth_last = last
        elif cls == "403":
            t.denied += count
            t.denials[op_id] = t.denials.get(op_id, 0) + count
        else:
            t.accepted += count
            t.active_days.add(day)
            if op_id.startswith(UNMATCHED_PREFIX):
                t.unmatched[op_id] = t.unmatched.get(op_id, 0) + count
                if cls not in NO_HANDLER:
                    t.handled.add(op_id)
            else:
                t.ops[op_id] = t.ops.get(op_id, 0) + count
                per_day = accepted_by_op_day[key_label][op_id]
                per_day[day] = per_day.get(day, 0) + count

    facts: list[KeyFacts] = []
    replay_requests = replay_denied = unverifiable = 0
    denied_shapes: list[tuple[str, str, int]] = []
    held: dict[str, tuple[frozenset[str], frozenset[str]]] = {}  # key -> (granted, recommended)
    for key in keys:
        t = tallies.get(key.id, Tally())
        granted = frozenset(key.granted)
        used: set[str] = set()
        maybe: set[str] = set()
        undeclared: set[str] = set()
        scope_days: dict[str, set[int]] = defaultdict(set)
        for op_id, per_day in accepted_by_op_day.get(key.id, {}).items():
            ex = exercised(ops[op_id], granted, catalog)
            used |= ex.used
            maybe |= ex.unknown
            undeclared |= ex.missing
            for scope in ex.used | ex.missing:
                scope_days[scope] |= set(per_day)
        share = shared.tallies.get(key.id)
        if share is not None:
            # scopes the shared requests used or may have used: kept, as unknown
            for op_id in share.ops:
                ex = exercised(ops[op_id], granted, catalog)
                maybe |= ex.used | ex.unknown
            maybe |= unmatched_unknown(share, usage, granted)
        unknown = (unmatched_unknown(t, usage, granted) | maybe) - used
        denied_needs: dict[str, tuple[int, tuple[str, ...]]] = {}
        denied_scopes: set[str] = set()
        for op_id, count in t.denials.items():
            op = ops.get(op_id)
            if op is None:
                continue  # a refused unmatched request names no scope
            needs = tuple(sorted(s for s in op.scopes if s not in granted)
                          or sorted(least_privileged(op.requires, catalog)
                                    if op.requires else ()))
            denied_needs[op_id] = (count, needs)
            denied_scopes |= set(needs)
        calls = code.get(key.id) if code is not None else None
        sites = code_needs(calls, granted, catalog) if calls is not None else {}
        states: dict[str, str] = {}
        for scope in sorted(granted | used | undeclared | denied_scopes):
            if scope in used or scope in undeclared:
                states[scope] = USED
            elif scope in sites:
                states[scope] = NEEDED_BY_CODE
            elif scope in unknown:
                states[scope] = UNKNOWN
            elif scope in denied_scopes:
                states[scope] = DENIED
            else:
                states[scope] = UNUSED
        # only granted scopes: what the key needs but lacks is reported apart (undeclared)
        recommended = sorted((used | unknown | denied_scopes | set(sites)) & granted)
        remove = sorted(granted - set(recommended))
        confidence = removal_confidence(key, window, covered, first_ever.get(key.id),
                                        len(t.active_days), t.accepted, policy)
        if calls is not None:
            confidence = RemovalConfidence(confidence.level,
                                           confidence.basis + "; " + code_basis(calls))
        if share is not None:
            confidence = RemovalConfidence("low",
                                           confidence.basis + "; " + shared.basis(key.id))
        clients = usage.clients.get(key.id, {})
        in_window = [(c, u) for c, u in clients.items()
                     if u.last >= _day_start(lo) and u.first < _day_start(hi + 1)]
        in_window.sort(key=lambda cu: (-cu[1].hits, cu[0]))
        verdict = KeyVerdict(
            key_id=key.id,
            states=states,
            recommended=tuple(recommended),
            remove=tuple(remove),
            undeclared=tuple(sorted(undeclared)),
            confidence={s: confidence for s in remove},
            accepted=t.accepted,
            denied=t.denied,
            unauthorized=t.unauthorized,
            first_seen=_stamp(t.first) if t.first is not None else None,
            last_seen=_stamp(t.last) if t.last is not None else None,
            active_days=len(t.active_days),
            clients=tuple(
                ClientSummary(c, u.hits, tuple(sorted(u.ops.items(), key=lambda o: (-o[1], o[0]))),
                              _stamp(u.first), _stamp(u.last))
                for c, u in in_window[:MAX_CLIENTS_SHOWN]
            ),
            operations=tuple(sorted(t.ops.items(), key=lambda o: (-o[1], o[0]))),
            unmatched=tuple(sorted(((op[len(UNMATCHED_PREFIX):], n)
                                    for op, n in t.unmatched.items()),
                                   key=lambda o: (-o[1], o[0]))),
            client_count=ClientCount(len(in_window), unlisted_between(
                usage, key.id, _day_start(lo), _day_start(hi + 1))),
            code=KeyCode(len(calls.files), len(calls.calls), calls.unresolved, sites)
            if calls is not None else None,
        )
        facts.append(KeyFacts(key, verdict, dict(scope_days), denied_needs, t.unauth_first,
                              t.unauth_last, share.accepted if share is not None else 0))
        # Replay: would each accepted request still be allowed with the recommended set?
        rec_set = frozenset(recommended)
        held[key.id] = (granted, rec_set)
        for op_id, per_day in accepted_by_op_day.get(key.id, {}).items():
            n = sum(per_day.values())
            replay_requests += n
            if not still_allowed(ops[op_id], granted, rec_set):
                replay_denied += n
                denied_shapes.append((key.id, op_id, n))
        unverifiable += sum(t.unmatched.values())
    # A shared request is replayed once, against every candidate's recommendation: it
    # must still be allowed whichever of them made it.
    for (op_id, ids), n in sorted(shared.requests.items()):
        replay_requests += n
        refused = [i for i in ids if not still_allowed(ops[op_id], *held[i])]
        if refused:
            replay_denied += n
            denied_shapes.append((refused[0], op_id, n))
    unverifiable += shared.unmatched
    defined = {k.id for k in keys}
    unknown_tallies = {k: v for k, v in tallies.items() if k not in defined}
    replay = Replay(replay_requests, replay_denied, unverifiable,
                    tuple(sorted(denied_shapes)))
    return facts, replay, unknown_tallies, [shared.facts[g] for g in sorted(shared.facts)]


@dataclass
class _Shared:
    """The requests of matcher values several definitions share (usage.identity.MatcherGroup),
    split by day and status among each group's keys (``candidates``). Accepted in-window
    requests made while several of them (or none) were live are shared use: a tally per
    candidate (what each may have used), and for the replay each request once, with the
    candidates that may have made it."""

    groups: dict[str, MatcherGroup]  # label -> group
    facts: dict[str, GroupFacts] = field(default_factory=dict)
    tallies: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    requests: dict[tuple[str, tuple[str, ...]], int] = field(default_factory=dict)
    unmatched: int = 0
    # key id -> the other keys that may have made its shared requests, and their groups
    others: dict[str, dict[str, Key]] = field(default_factory=lambda: defaultdict(dict))
    described: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def owner(self, group: MatcherGroup, op_id: str, cls: str, day: int, cell: Cell,
              in_window: bool) -> str | None:
        """The key a cell of the group's requests is given to: the one candidate there is;
        None where several are (the cell is then shared use, kept here)."""
        owners = candidates(group, day, cls)
        gf = None
        if in_window:
            gf = self.facts.get(group.label)
            if gf is None:
                gf = self.facts[group.label] = GroupFacts(group)
            gf.requests += cell.count
            gf.first = cell.first if gf.first is None else min(gf.first, cell.first)
            gf.last = cell.last if gf.last is None else max(gf.last, cell.last)
        if len(owners) == 1:
            if gf is not None:
                gf.attributed[owners[0].id] = gf.attributed.get(owners[0].id, 0) + cell.count
            return owners[0].id
        if gf is not None and cls not in REFUSED:
            gf.shared += cell.count
            self.add(group, owners, op_id, cls, cell.count)
        return None

    def add(self, group: MatcherGroup, owners: tuple[Key, ...], op_id: str, cls: str,
            count: int) -> None:
        ids = tuple(k.id for k in owners)
        unmatched = op_id.startswith(UNMATCHED_PREFIX)
        for key in owners:
            t = self.tallies[key.id]
            t.accepted += count
            if unmatched:
                t.unmatched[op_id] = t.unmatched.get(op_id, 0) + count
                if cls not in NO_HANDLER:
                    t.handled.add(op_id)
            else:
                t.ops[op_id] = t.ops.get(op_id, 0) + count
            self.others[key.id].update((k.id, k) for k in owners if k.id != key.id)
            self.described[key.id].add(group.described)
        if unmatched:
            self.unmatched += count
        else:
            slot = (op_id, ids)
            self.requests[slot] = self.requests.get(slot, 0) + count

    def basis(self, key_id: str) -> str:
        """Why the key's removals are capped at low."""
        others = ", ".join(f"{k.id!r} ({k.location})"
                           for _, k in sorted(self.others[key_id].items()))
        return (f"capped at low: {self.tallies[key_id].accepted} accepted requests matched by "
                f"{' and '.join(sorted(self.described[key_id]))} may have been made by this key "
                f"or by {others} (the scopes they used are kept); a sha256 matcher would tell "
                "the keys apart")


def _day_start(day: int) -> float:
    return day * 86400.0
