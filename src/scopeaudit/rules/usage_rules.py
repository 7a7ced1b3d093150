"""Usage rules (SA1xx) on the evidence of each defined key, and log rules (SA3xx)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from scopeaudit.catalog.model import Catalog
from scopeaudit.evidence import NEEDED_BY_CODE, UNUSED, GroupFacts, KeyFacts, _Tally
from scopeaudit.model import Finding, Location, RemovalConfidence, Severity
from scopeaudit.rules.inventory_rules import make_finding
from scopeaudit.usage.aggregate import Usage
from scopeaudit.window import day_date

MAX_SHAPES_SHOWN = 10


@dataclass(frozen=True)
class UsageSettings:
    shared_key_clients: int = 3
    rare_days: int = 2
    denial_scopes_for_high: int = 3


def _writes(scopes: tuple[str, ...] | list[str], catalog: Catalog) -> list[str]:
    return [s for s in scopes if (sc := catalog.scope(s)) is not None and sc.is_write]


def key_rules(facts: KeyFacts, catalog: Catalog, settings: UsageSettings) -> Iterator[Finding]:
    key, v = facts.key, facts.verdict
    # SA101 / SA102 / SA108: removals, each with its confidence
    if v.remove:
        confidence = v.confidence[v.remove[0]]
        if v.accepted == 0 and not facts.shared and NEEDED_BY_CODE not in v.states.values():
            # revoking the key removes every scope: judged on the weakest removal (not a
            # key whose code needs some of them: its unused scopes go one by one)
            confidence = min((v.confidence[s] for s in v.remove), key=_rank)
            if confidence.deferred:
                yield _deferred(facts, list(v.remove), "no accepted request, but " +
                                confidence.basis)
            else:
                writes = _writes(key.granted, catalog)
                prior = v.before_window
                f = make_finding(
                    "SA101", f"key {key.id!r} made no accepted request in the window"
                    + (f" (last used on {prior.last_used}, before the window)" if prior else "")
                    + f"; it grants {len(key.granted)} scope(s)"
                    + (f", {len(writes)} of them write scopes" if writes else ""),
                    key.location, key=key.id,
                    severity=Severity.HIGH if writes else Severity.MEDIUM,
                    evidence={"granted": list(key.granted), "denied": v.denied,
                              "unauthorized": v.unauthorized, "basis": confidence.basis,
                              **({"last_used": prior.last_used,
                                  "interval_days": prior.interval_days} if prior else {})},
                )
                yield _with_confidence(f, confidence.level)
        else:
            deferred: list[str] = []
            for scope in v.remove:
                conf = v.confidence[scope]
                if v.states.get(scope) != UNUSED or catalog.scope(scope) is None:
                    continue  # a scope the catalog does not know is SA201's to report
                if conf.deferred:
                    deferred.append(scope)
                    continue
                is_write = bool(_writes([scope], catalog))
                f = make_finding(
                    "SA102", f"key {key.id!r} never exercised {scope!r} in the window "
                    f"({v.accepted} accepted requests on {v.active_days} days)",
                    key.grant_location(scope), key=key.id, scope=scope,
                    severity=Severity.HIGH if is_write else Severity.MEDIUM,
                    evidence={"accepted_requests": v.accepted, "active_days": v.active_days,
                              "basis": conf.basis},
                )
                yield _with_confidence(f, conf.level)
            if deferred:
                yield _deferred(facts, deferred, v.confidence[deferred[0]].basis)
    # SA104: refusals for a missing scope
    if facts.denials:
        scopes = sorted({s for _, needs in facts.denials.values() for s in needs})
        total = sum(n for n, _ in facts.denials.values())
        yield make_finding(
            "SA104", f"key {key.id!r} had {total} requests refused (403) across "
            f"{len(scopes)} scope(s): {', '.join(scopes)}", key.location, key=key.id,
            severity=Severity.HIGH if len(scopes) >= settings.denial_scopes_for_high
            else Severity.MEDIUM,
            evidence={"operations": [{"operation": op, "requests": n, "needs": list(needs)}
                                     for op, (n, needs) in sorted(facts.denials.items())],
                      "scopes": scopes},
        )
    # SA105: 401s on a defined key
    if v.unauthorized:
        yield make_finding(
            "SA105", f"key {key.id!r} had {v.unauthorized} requests refused as "
            "unauthenticated (401): revoked, expired or mistyped", key.location, key=key.id,
            evidence={"requests": v.unauthorized,
                      "first": _date(facts.unauthorized_first),
                      "last": _date(facts.unauthorized_last)},
        )
    # SA106: one key, many clients
    if v.clients_total.at_least >= settings.shared_key_clients:
        yield make_finding(
            "SA106", f"key {key.id!r} is used by {v.clients_total} distinct clients",
            key.location, key=key.id,
            evidence={"clients": [
                {"client": c.client, "requests": c.requests,
                 "operations": [op for op, _ in c.operations]} for c in v.clients]},
        )
    # SA107: rare use, shown as such (never as unused)
    for scope, days in sorted(facts.scope_days.items()):
        if scope in key.granted and 0 < len(days) <= settings.rare_days:
            shown = [day_date(d).isoformat() for d in sorted(days)]
            yield make_finding(
                "SA107", f"key {key.id!r} exercised {scope!r} on only {len(days)} day(s): "
                f"{', '.join(shown)}", key.grant_location(scope), key=key.id, scope=scope,
                evidence={"days": shown},
            )
    # SA302: shapes no operation describes
    if v.unmatched:
        total = sum(n for _, n in v.unmatched)
        yield make_finding(
            "SA302", f"key {key.id!r} sent {total} accepted requests that match no catalog "
            f"operation ({len(v.unmatched)} request shape{'s' if len(v.unmatched) != 1 else ''});"
            " scopes of those resources are kept",
            key.location, key=key.id,
            evidence={"shapes": [{"request": s, "requests": n}
                                 for s, n in v.unmatched[:MAX_SHAPES_SHOWN]],
                      "more_shapes": max(0, len(v.unmatched) - MAX_SHAPES_SHOWN)},
        )


def _rank(confidence: RemovalConfidence) -> int:
    return {"low": 0, "medium": 1, "high": 2}.get(confidence.level, 0)


def _deferred(facts: KeyFacts, scopes: list[str], basis: str) -> Finding:
    key = facts.key
    return _with_confidence(make_finding(
        "SA108", f"removal of {', '.join(scopes)} from key {key.id!r} deferred: the evidence "
        "is too thin", key.location, key=key.id,
        evidence={"scopes": scopes, "basis": basis},
    ), "low")


def _with_confidence(finding: Finding, level: str) -> Finding:
    from dataclasses import replace

    return replace(finding, confidence=level)


def _date(epoch: float | None) -> str | None:
    from scopeaudit.window import epoch_date

    return None if epoch is None else epoch_date(epoch).isoformat()


def log_rules(usage: Usage, unknown: dict[str, _Tally], keys_source: str) -> Iterator[Finding]:
    # SA301: tokens in logs, one finding per input and key, lines named, token never
    for (source, key), (count, lines) in sorted(usage.tokens.items()):
        yield make_finding(
            "SA301", f"{count} record(s) in {source} carry a raw token"
            + (f" (key {key!r})" if key else "") + f"; first at line(s) "
            f"{', '.join(map(str, lines))}", Location(source, lines[0]), key=key or None,
            discriminator=source, evidence={"records": count, "lines": lines},
        )
    # SA303: keys in the logs that no definition names
    for label, t in sorted(unknown.items()):
        where = usage.first_seen_at.get(label)
        location = Location(where.file, where.line) if where else Location(keys_source, 1)
        total = t.accepted + t.denied + t.unauthorized
        top = sorted(t.ops.items(), key=lambda o: (-o[1], o[0]))[:MAX_SHAPES_SHOWN]
        yield make_finding(
            "SA303", f"key {label!r} made {total} requests in the window but no definition "
            "names it", location, key=label,
            evidence={"requests": total, "accepted": t.accepted, "denied": t.denied,
                      "unauthorized": t.unauthorized, "first_seen": _date(t.first),
                      "last_seen": _date(t.last),
                      "operations": [{"operation": op, "requests": n} for op, n in top]},
        )


def ambiguity_rules(groups: list[GroupFacts]) -> Iterator[Finding]:
    """SA305: requests that matched a matcher value several definitions share."""
    for gf in groups:
        keys = gf.group.keys
        named = ", ".join(f"{k.id!r} ({k.location})" for k in keys)
        dated = sum(gf.attributed.values())
        refused = gf.requests - gf.shared - dated  # 401/403 made while several were live
        outcome = [f"{n} {text}" for n, text in (
            (gf.shared, "accepted requests could be any of theirs: the scopes they used are "
                        "kept on each, and removals from them deferred"),
            (refused, "refused requests (401/403) could be any of theirs"),
            (dated, "were told apart by the keys' created and expires dates")) if n]
        yield make_finding(
            "SA305", f"{gf.requests} requests in the window match {len(keys)} key definitions "
            f"alike by {gf.group.described}: {named}; {'; '.join(outcome)}", keys[0].location,
            key=keys[0].id, severity=Severity.MEDIUM if gf.shared else Severity.LOW,
            discriminator=f"{gf.group.matcher}:{gf.group.value}",
            evidence={"matcher": gf.group.matcher, "value": gf.group.value,
                      "requests": gf.requests, "shared": gf.shared, "shared_refused": refused,
                      "first_seen": _date(gf.first), "last_seen": _date(gf.last),
                      "definitions": [{"key": k.id, "file": k.location.file,
                                       "line": k.location.line,
                                       "requests": gf.attributed.get(k.id, 0)}
                                      for k in keys]},
        )
