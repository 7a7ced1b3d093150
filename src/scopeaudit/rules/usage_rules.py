"""Usage rules (SA1xx) on the evidence of each defined key, and log rules (SA301-SA303,
SA305), each declared beside the check that raises it. SA304 and SA306, on what the logs
could show, are declared in quality.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from scopeaudit.catalog.model import Catalog
from scopeaudit.evidence import GroupFacts, KeyFacts, Tally
from scopeaudit.model import (
    NEEDED_BY_CODE,
    UNUSED,
    Finding,
    Location,
    RemovalConfidence,
    Rule,
    Severity,
)
from scopeaudit.usage.aggregate import Usage
from scopeaudit.window import day_date, epoch_date
from scopeaudit.words import plural

USAGE = "usage"
LOGS = "logs"
MAX_SHAPES_SHOWN = 10


@dataclass(frozen=True)
class UsageSettings:
    shared_key_clients: int = 3
    rare_days: int = 2
    denial_scopes_for_high: int = 3


def _writes(scopes: tuple[str, ...] | list[str], catalog: Catalog) -> list[str]:
    return [s for s in scopes if (sc := catalog.scope(s)) is not None and sc.is_write]


UNUSED_KEY = Rule(
    id="SA101", name="unused-key", severity=Severity.MEDIUM, family=USAGE,
    summary="A key made no accepted request in the window (high when it holds a write scope).",
    what="Looks for defined keys with no request in the window that was not refused "
         "(401/403). Such a key gets this one finding, not one per scope. The removal's "
         "confidence says how long the key existed and how much of the window the logs cover.",
    why="An unused key is pure risk: it grants access nobody exercises, and its token may "
        "sit in an old deployment or a laptop. Keys with write scopes are the worst case.",
    example="key_legacy_sync: 0 requests in 90 days (logs cover 90 of 90 days)",
    remediation="Confirm with the owner, then revoke the key in the insp.ac dashboard. If "
                "the key is for a job that runs less often than the window, audit with a "
                "longer --since.",
)


UNUSED_SCOPE = Rule(
    id="SA102", name="unused-scope", severity=Severity.MEDIUM, family=USAGE,
    summary="A granted scope was never exercised in the window (high for a write scope).",
    what="For each granted scope in state 'unused' (no accepted request to an operation "
         "needing it, and no unmatched request on its resource), with removal confidence "
         "medium or high.",
    why="Every unused scope widens what a leaked token can do without helping the "
        "integration. Write scopes matter most: they can change or destroy data.",
    example="key_bi_export grants issues:write; 0 of its 41,822 requests needed it.",
    remediation="Remove the scope from the key (the recommended set is in the report; the "
                "replay check shows that no request of the window would have been refused).",
)


DENIED_REQUESTS = Rule(
    id="SA104", name="denied-requests", severity=Severity.MEDIUM, family=USAGE,
    summary="A key's requests were refused for a missing scope (403); high when the "
            "refusals span 3 or more scopes.",
    what="Collects, per key, the operations refused with 403 FORBIDDEN and the scope each needs.",
    why="A 403 is permanent for a key configuration: either the integration is broken, or "
        "someone is probing what the key can do. Refusals across many scopes look like probing.",
    example="key_mobile_backend: 1,204 refused requests to PATCH /v1/sites/{id} (needs "
            "sites:write)",
    remediation="If the integration needs the operation, grant the scope it names; if not, "
                "find out why the client calls it. A probing pattern calls for rotating the key.",
)


REVOKED_KEY_IN_USE = Rule(
    id="SA105", name="revoked-key-in-use", severity=Severity.MEDIUM, family=USAGE,
    summary="Requests attributed to a defined key were refused as unauthenticated (401).",
    what="Counts 401 responses for requests attributed to a key in the inventory.",
    why="A 401 means the key is missing, invalid or revoked; a client still sending it is "
        "broken, or holds an old token it should not have.",
    example="key_hr_sync: 310 requests answered 401 between 2026-10-02 and 2026-11-27",
    remediation="Find the client (see the key's clients) and update or remove it; if the "
                "key should be live, check that its definition is not stale.",
)


SHARED_KEY = Rule(
    id="SA106", name="shared-key", severity=Severity.MEDIUM, family=USAGE,
    summary="A key is used by 3 or more distinct clients (threshold configurable).",
    what="Counts distinct clients (user agent and /24 or /64 network) per key in the "
         "window, and lists what each used.",
    why="One key per integration is the insp.ac guidance: a shared key cannot be narrowed "
        "for one client without breaking another, and a leak cannot be traced to one place.",
    example="key_mobile_backend used by 'okhttp/4.12 @ 198.51.100.0/24', 'curl/8.10 @ "
            "203.0.113.0/24' and 'python-requests/2.32 @ 192.0.2.0/24'",
    remediation="Issue one key per client, each with the scopes that client used (listed "
                "in the evidence), and revoke the shared key.",
)


RARELY_USED_SCOPE = Rule(
    id="SA107", name="rarely-used-scope", severity=Severity.INFO, family=USAGE,
    summary="A scope was exercised on only 1 or 2 distinct days of the window.",
    what="Reports used scopes whose accepted requests fall on at most two days.",
    why="Rare use is still use: the scope is kept, but a monthly job or a one-off backfill "
        "is worth knowing about before anyone narrows the key by hand.",
    example="key_bi_export used runs:read on 2 days (2026-10-01, 2026-11-01)",
    remediation="Nothing to do unless the use was a one-off; then remove the scope after "
                "confirming.",
)


INSUFFICIENT_EVIDENCE = Rule(
    id="SA108", name="insufficient-evidence", severity=Severity.INFO, family=USAGE,
    summary="A removal was deferred because the evidence is too thin.",
    what="When a scope (or a whole key) looks unused but the key existed for only part of "
         "the window, the logs cover too little of it, or the key was active on too few "
         "days, the removal confidence is low and this finding replaces SA101/SA102.",
    why="A wrong 'remove this scope' breaks a production integration; a verdict on 12 days "
        "of logs for a weekly job is not evidence.",
    example="key_inspections: created 2026-11-10, observed 17 days; removal of sites:read "
            "deferred",
    remediation="Audit again when the key has a full window of logs, or supply the missing "
                "log days.",
)


UNMAPPED_REQUESTS = Rule(
    id="SA302", name="unmapped-requests", severity=Severity.LOW, family=LOGS,
    summary="A key sent requests that match no catalog operation.",
    what="Lists, per key, the request shapes (method and path with identifiers "
         "generalised) that no operation describes, with counts. Scopes of the resource "
         "such requests touch are marked 'unknown' and never recommended for removal.",
    why="An unmatched request could need any scope of its resource: the catalog is "
        "incomplete there, and verdicts about that resource are withheld.",
    example="key_bi_export: GET /v1/issues/export (1,320 requests)",
    remediation="Add the operation to a catalog file (`scopeaudit catalog --format json`, "
                "edit, `--catalog`), or check the client for a wrong path.",
)


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
                f = UNUSED_KEY.finding(
                    f"key {key.id!r} made no accepted request in the window"
                    + (f" (last used on {prior.last_used}, before the window)" if prior else "")
                    + f"; it grants {plural(len(key.granted), 'scope')}"
                    + (f", {len(writes)} of them write "
                       + ("scope" if len(writes) == 1 else "scopes") if writes else ""),
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
                f = UNUSED_SCOPE.finding(
                    f"key {key.id!r} never exercised {scope!r} in the window "
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
        yield DENIED_REQUESTS.finding(
            f"key {key.id!r} had {plural(total, 'request')} refused (403) across "
            f"{plural(len(scopes), 'scope')}: {', '.join(scopes)}", key.location, key=key.id,
            severity=Severity.HIGH if len(scopes) >= settings.denial_scopes_for_high
            else Severity.MEDIUM,
            evidence={"operations": [{"operation": op, "requests": n, "needs": list(needs)}
                                     for op, (n, needs) in sorted(facts.denials.items())],
                      "scopes": scopes},
        )
    # SA105: 401s on a defined key
    if v.unauthorized:
        yield REVOKED_KEY_IN_USE.finding(
            f"key {key.id!r} had {v.unauthorized} requests refused as "
            "unauthenticated (401): revoked, expired or mistyped", key.location, key=key.id,
            evidence={"requests": v.unauthorized,
                      "first": _date(facts.unauthorized_first),
                      "last": _date(facts.unauthorized_last)},
        )
    # SA106: one key, many clients
    if v.clients_total.at_least >= settings.shared_key_clients:
        yield SHARED_KEY.finding(
            f"key {key.id!r} is used by {v.clients_total} distinct clients",
            key.location, key=key.id,
            evidence={"clients": [
                {"client": c.client, "requests": c.requests,
                 "operations": [op for op, _ in c.operations]} for c in v.clients]},
        )
    # SA107: rare use, shown as such (never as unused)
    for scope, days in sorted(facts.scope_days.items()):
        if scope in key.granted and 0 < len(days) <= settings.rare_days:
            shown = [day_date(d).isoformat() for d in sorted(days)]
            yield RARELY_USED_SCOPE.finding(
                f"key {key.id!r} exercised {scope!r} on only {plural(len(days), 'day')}: "
                f"{', '.join(shown)}", key.grant_location(scope), key=key.id, scope=scope,
                evidence={"days": shown},
            )
    # SA302: shapes no operation describes
    if v.unmatched:
        total = sum(n for _, n in v.unmatched)
        yield UNMAPPED_REQUESTS.finding(
            f"key {key.id!r} sent {total} accepted requests that match no catalog "
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
    return _with_confidence(INSUFFICIENT_EVIDENCE.finding(
        f"removal of {', '.join(scopes)} from key {key.id!r} deferred: the evidence "
        "is too thin", key.location, key=key.id,
        evidence={"scopes": scopes, "basis": basis},
    ), "low")


def _with_confidence(finding: Finding, level: str) -> Finding:
    return replace(finding, confidence=level)


def _date(epoch: float | None) -> str | None:
    return None if epoch is None else epoch_date(epoch).isoformat()


SECRET_IN_LOGS = Rule(
    id="SA301", name="secret-in-logs", severity=Severity.CRITICAL, family=LOGS,
    summary="A raw token (or Bearer value) appears in the request logs.",
    what="Any record whose key field, Authorization value, query string or other field "
         "holds a full token. The finding names the log file and lines; the token is "
         "fingerprinted on read and never kept, printed or rendered.",
    why="Logs are copied to many systems with wide read access; a token in a log is a "
        "leaked token.",
    example="access.log.gz lines 18211, 90112: a token in the query string (?api_key=…)",
    remediation="Rotate the affected key now, then fix the logging (log a key id or "
                "fingerprint, redact the Authorization header and credential query parameters).",
)


UNKNOWN_KEY = Rule(
    id="SA303", name="unknown-key", severity=Severity.HIGH, family=LOGS,
    summary="A key seen in the logs is not in the key definitions: an unmanaged key.",
    what="Reports each key identity in the logs that no definition matches by id, name, "
         "prefix, last4 or fingerprint.",
    why="A key nobody declared is a key nobody reviews, rotates or narrows.",
    example="key_contractor_2024 made 5,120 requests; no definition names it",
    remediation="Add the key to the inventory with an owner, or revoke it.",
)


def log_rules(usage: Usage, unknown: dict[str, Tally], keys_source: str) -> Iterator[Finding]:
    # SA301: tokens in logs, one finding per input and key, lines named, token never
    for (source, key), (count, lines) in sorted(usage.tokens.items()):
        yield SECRET_IN_LOGS.finding(
            f"{plural(count, 'record')} in {source} "
            + ("carries" if count == 1 else "carry") + " a raw token"
            + (f" (key {key!r})" if key else "")
            + ("; first at line " if len(lines) == 1 else "; first at lines ")
            + ", ".join(map(str, lines)), Location(source, lines[0]), key=key or None,
            discriminator=source, evidence={"records": count, "lines": lines},
        )
    # SA303: keys in the logs that no definition names
    for label, t in sorted(unknown.items()):
        where = usage.first_seen_at.get(label)
        location = Location(where.file, where.line) if where else Location(keys_source, 1)
        total = t.accepted + t.denied + t.unauthorized
        top = sorted(t.ops.items(), key=lambda o: (-o[1], o[0]))[:MAX_SHAPES_SHOWN]
        yield UNKNOWN_KEY.finding(
            f"key {label!r} made {plural(total, 'request')} in the window but no definition "
            "names it", location, key=label,
            evidence={"requests": total, "accepted": t.accepted, "denied": t.denied,
                      "unauthorized": t.unauthorized, "first_seen": _date(t.first),
                      "last_seen": _date(t.last),
                      "operations": [{"operation": op, "requests": n} for op, n in top]},
        )


AMBIGUOUS_KEY_MATCH = Rule(
    id="SA305", name="ambiguous-key-match", severity=Severity.MEDIUM, family=LOGS,
    summary="Requests matched several key definitions alike (a shared `last4`, `name`, "
            "`prefix` or `sha256`); medium while some could be any of theirs, low when "
            "dates told them apart.",
    what="Groups the requests whose logged identity matches one matcher value that several "
         "definitions share, and splits them by day: a request on a day when only one of "
         "the keys existed (between its `created` and `expires`) is that key's; the rest "
         "are shared. Every scope shared requests used is kept on every candidate key, and "
         "their other removals are deferred (low confidence, SA108). The finding names the "
         "definitions' lines and how many requests each was given.",
    why="Without it, requests matched by an ambiguous `last4` became an unknown key while "
        "both definitions looked unused, and a name shared by an expired key and its "
        "replacement gave every request to the expired one: the replacement's scopes "
        "looked unused, and removing them breaks the integration.",
    example="last4 '9xQe' names key_invoice_2025 (keys.yaml:12) and key_invoice_2026 "
            "(keys.yaml:31); 4,210 requests, 1,034 of them shared",
    remediation="Add a `sha256` matcher (the SHA-256 of the full token) to each of the "
                "definitions, or log the key id; remove the definition of a key that no "
                "longer exists.",
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
        yield AMBIGUOUS_KEY_MATCH.finding(
            f"{gf.requests} requests in the window match {len(keys)} key definitions "
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
