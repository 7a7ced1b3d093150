"""From the aggregate to evidence per key: states, recommendation, confidence, replay.

The rules of evidence (DESIGN.md) live here and only here:

* a scope is *used* when an accepted request in the window (anything but 401 and 403) matched
  an operation needing it; of several alternatives that the key's grants satisfy, the least
  privileged one is taken (fewest write scopes, then fewest scopes);
* *unknown* when the key sent accepted requests matching no operation on the scope's resource
  (or on no known resource at all): such a scope is never recommended for removal;
* *denied* when requests for an operation needing it were refused with 403;
* *unused* otherwise. Recommended = used + unknown (+ granted scopes that saw only refusals,
  kept on the safe side); remove = granted - recommended.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from scopeaudit.catalog.model import Catalog, Operation
from scopeaudit.model import (
    ClientSummary,
    ConfidencePolicy,
    Key,
    KeyVerdict,
    RemovalConfidence,
    Replay,
    Window,
)
from scopeaudit.usage.aggregate import UNMATCHED_PREFIX, Usage
from scopeaudit.window import day_date, day_number, epoch_date

USED, UNUSED, UNKNOWN, DENIED = "used", "unused", "unknown", "denied"
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
    all_clients: int  # distinct clients in the window (before the display cut)


@dataclass
class _Tally:
    accepted: int = 0
    denied: int = 0
    unauthorized: int = 0
    first: float | None = None
    last: float | None = None
    unauth_first: float | None = None
    unauth_last: float | None = None
    active_days: set[int] = field(default_factory=set)
    ops: dict[str, int] = field(default_factory=dict)
    unmatched: dict[str, int] = field(default_factory=dict)
    denials: dict[str, int] = field(default_factory=dict)


def choose_alternative(op: Operation, granted: frozenset[str],
                       catalog: Catalog) -> tuple[frozenset[str], bool]:
    """The least privileged alternative the grants satisfy, and whether one did. When none
    does (the request succeeded all the same), the least privileged of all is returned."""
    def privilege(alt: frozenset[str]) -> tuple[int, int, list[str]]:
        writes = sum(1 for s in alt if (sc := catalog.scope(s)) is None or sc.is_write)
        return (writes, len(alt), sorted(alt))

    satisfied = [alt for alt in op.requires if alt <= granted]
    if satisfied:
        return min(satisfied, key=privilege), True
    if not op.requires:
        return frozenset(), True
    return min(op.requires, key=privilege), False


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
    parts.append(f"key active on {active_days} days ({accepted} accepted requests)")

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


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else epoch_date(epoch).isoformat()


def _stamp(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).replace(microsecond=0).isoformat().replace(
        "+00:00", "Z")


def build_evidence(keys: tuple[Key, ...], catalog: Catalog, usage: Usage, window: Window,
                   covered: frozenset[int], policy: ConfidencePolicy
                   ) -> tuple[list[KeyFacts], Replay, dict[str, _Tally]]:
    """Evidence for every defined key, the replay, and tallies for keys no definition names."""
    lo, hi = day_number(window.since), day_number(window.until)
    ops = {op.id: op for op in catalog.operations}
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    first_ever: dict[str, float] = {}
    # accepted requests per (key, operation, day) for the replay and scope days
    accepted_by_op_day: dict[str, dict[str, dict[int, int]]] = defaultdict(
        lambda: defaultdict(dict))
    # One pass over every cell: the loop runs once per (key, operation, class, day), so it
    # keeps to plain comparisons (no min/max calls) and names each cell's fields once.
    for (key_label, op_id, cls, day), cell in usage.cells.items():
        first, last, count = cell.first, cell.last, cell.count
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
                shape = op_id[len(UNMATCHED_PREFIX):]
                t.unmatched[shape] = t.unmatched.get(shape, 0) + count
            else:
                t.ops[op_id] = t.ops.get(op_id, 0) + count
                per_day = accepted_by_op_day[key_label][op_id]
                per_day[day] = per_day.get(day, 0) + count

    facts: list[KeyFacts] = []
    replay_requests = replay_denied = unverifiable = 0
    denied_shapes: list[tuple[str, str, int]] = []
    for key in keys:
        t = tallies.get(key.id, _Tally())
        granted = frozenset(key.granted)
        used: set[str] = set()
        undeclared: set[str] = set()
        scope_days: dict[str, set[int]] = defaultdict(set)
        for op_id, per_day in accepted_by_op_day.get(key.id, {}).items():
            alt, satisfied = choose_alternative(ops[op_id], granted, catalog)
            used |= alt
            if not satisfied:
                undeclared |= alt - granted
            for scope in alt:
                scope_days[scope] |= set(per_day)
        unknown: set[str] = set()
        for shape in t.unmatched:
            family = usage.shape_families.get(shape)
            unknown |= (granted if family is None else family & granted)
        unknown -= used
        denied_needs: dict[str, tuple[int, tuple[str, ...]]] = {}
        denied_scopes: set[str] = set()
        for op_id, count in t.denials.items():
            op = ops.get(op_id)
            if op is None:
                continue  # a refused unmatched request names no scope
            alt, _ = choose_alternative(op, frozenset(), catalog)
            needs = tuple(sorted(s for s in op.scopes if s not in granted) or sorted(alt))
            denied_needs[op_id] = (count, needs)
            denied_scopes |= set(needs)
        states: dict[str, str] = {}
        for scope in sorted(granted | used | denied_scopes):
            if scope in used:
                states[scope] = USED
            elif scope in unknown:
                states[scope] = UNKNOWN
            elif scope in denied_scopes:
                states[scope] = DENIED
            else:
                states[scope] = UNUSED
        recommended = sorted(s for s in used | unknown | (denied_scopes & granted))
        remove = sorted(granted - set(recommended))
        confidence = removal_confidence(key, window, covered, first_ever.get(key.id),
                                        len(t.active_days), t.accepted, policy)
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
            unmatched=tuple(sorted(t.unmatched.items(), key=lambda o: (-o[1], o[0]))),
        )
        facts.append(KeyFacts(key, verdict, dict(scope_days), denied_needs, t.unauth_first,
                              t.unauth_last, len(in_window)))
        # Replay: would each accepted request still be allowed with the recommended set?
        rec_set = frozenset(recommended)
        for op_id, per_day in accepted_by_op_day.get(key.id, {}).items():
            n = sum(per_day.values())
            replay_requests += n
            if not ops[op_id].satisfied_by(rec_set):
                replay_denied += n
                denied_shapes.append((key.id, op_id, n))
        unverifiable += sum(t.unmatched.values())
    defined = {k.id for k in keys}
    unknown_tallies = {k: v for k, v in tallies.items() if k not in defined}
    replay = Replay(replay_requests, replay_denied, unverifiable,
                    tuple(sorted(denied_shapes)))
    return facts, replay, unknown_tallies


def _day_start(day: int) -> float:
    return day * 86400.0

