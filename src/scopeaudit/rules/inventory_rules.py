"""Static rules on key definitions (SA2xx): what a key file says, before any usage is read.
Each rule is declared beside its check; ``CHECKS`` pairs them."""

from __future__ import annotations

import difflib
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from scopeaudit.catalog.model import Catalog
from scopeaudit.model import Finding, Inventory, Key, Location, Rule, Severity
from scopeaudit.secrets import TOKEN_FIXED_PARTS
from scopeaudit.usage.identity import catch_all_prefix

INVENTORY = "inventory"


@dataclass(frozen=True)
class LintSettings:
    as_of: date
    broad_key_threshold: int = 10
    rotation_days: int = 365


@dataclass(frozen=True)
class LintContext:
    inventory: Inventory
    catalog: Catalog
    settings: LintSettings


UNKNOWN_SCOPE = Rule(
    id="SA201", name="unknown-scope", severity=Severity.HIGH, family=INVENTORY,
    summary="A key grants a scope the catalog does not know.",
    what="Compares every granted scope with the catalog's scopes and suggests the closest "
         "known name.",
    why="A misspelt scope grants nothing, so the integration silently lacks the access its "
        "owner meant to give, and the key file no longer says what the key can do.",
    example="scopes: [isues:read]   ->  did you mean 'issues:read'?",
    remediation="Correct the spelling, or remove the entry if the scope was meant to be dropped.",
)


def _unknown_scope(ctx: LintContext) -> Iterator[Finding]:
    names = ctx.catalog.scope_names
    for key in ctx.inventory.keys:
        reported: set[str] = set()
        for grant in key.scope_grants:
            if ctx.catalog.has_scope(grant.name) or grant.name in reported:
                continue
            reported.add(grant.name)
            close = difflib.get_close_matches(grant.name, names, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            yield UNKNOWN_SCOPE.finding(
                f"key {key.id!r} grants {grant.name!r}, which the {ctx.catalog.name} "
                f"catalog does not know{hint}", grant.location, key=key.id, scope=grant.name,
                evidence={"suggestion": close[0] if close else None},
            )


DUPLICATE_SCOPE = Rule(
    id="SA202", name="duplicate-scope", severity=Severity.LOW, family=INVENTORY,
    summary="A key lists the same scope more than once.",
    what="Reports each scope that appears twice or more in one key's list.",
    why="Harmless to access, but a sign the list is edited by hand without review; it also "
        "hides the real size of the grant from a reader.",
    example="scopes: [issues:read, works:read, issues:read]",
    remediation="Keep one entry per scope.",
)


def _duplicate_scope(ctx: LintContext) -> Iterator[Finding]:
    for key in ctx.inventory.keys:
        counts = Counter(g.name for g in key.scope_grants)
        for name, n in sorted(counts.items()):
            if n < 2:
                continue
            repeats = [g.location for g in key.scope_grants if g.name == name]
            yield DUPLICATE_SCOPE.finding(
                f"key {key.id!r} lists {name!r} {n} times", repeats[1], key=key.id,
                scope=name, evidence={"lines": [loc.line for loc in repeats]},
            )


BROAD_KEY = Rule(
    id="SA203", name="broad-key", severity=Severity.MEDIUM, family=INVENTORY,
    summary="A key holds many scopes (medium), or every write scope of the catalog (high).",
    what="Counts the distinct known scopes a key grants: at or above the threshold "
         "(default 10) it is medium; holding every write scope of the catalog makes it high.",
    why="A broad key is one leaked token away from full write access to the organisation's "
        "data; the insp.ac guidance is one narrowly scoped key per integration.",
    example="A 'platform' key with all 26 scopes.",
    remediation="Split the key by integration and give each only the scopes it uses; "
                "`scopeaudit audit` shows which scopes are exercised.",
)


def _broad_key(ctx: LintContext) -> Iterator[Finding]:
    writes = ctx.catalog.write_scopes
    threshold = ctx.settings.broad_key_threshold
    for key in ctx.inventory.keys:
        known = {s for s in key.granted if ctx.catalog.has_scope(s)}
        if writes and writes <= known:
            yield BROAD_KEY.finding(
                f"key {key.id!r} holds every write scope of the catalog "
                f"({len(writes)}) and {len(known)} scopes in all", key.location, key=key.id,
                severity=Severity.HIGH, evidence={"scopes": len(known), "threshold": threshold},
            )
        elif len(known) >= threshold:
            yield BROAD_KEY.finding(
                f"key {key.id!r} holds {len(known)} scopes (threshold {threshold})",
                key.location, key=key.id,
                evidence={"scopes": len(known), "threshold": threshold},
            )


WRITE_SCOPE_ON_READ_ONLY_KEY = Rule(
    id="SA204", name="write-scope-on-read-only-key", severity=Severity.HIGH, family=INVENTORY,
    summary="A key whose name or tags say it is for reporting holds a write scope.",
    what="Looks for the words report, reporting, analytics, bi, dashboard, export, "
         "read-only or readonly in a key's name and tags, and reports each write scope "
         "such a key holds.",
    why="Reporting and export keys are read-only by nature (the insp.ac guidance: "
        "read-only scopes for reporting); a write scope on one is unneeded power in a "
        "token that is often copied into BI tools and spreadsheets.",
    example="name: BI export, scopes: [issues:read, issues:write]",
    remediation="Remove the write scopes, or rename the key if it really writes.",
)


_READ_ONLY_WORDS = frozenset({
    "report", "reports", "reporting", "analytics", "bi", "dashboard", "dashboards",
    "export", "exports", "exporter", "readonly",
})


def read_only_words(key: Key) -> list[str]:
    """The words in a key's name and tags that say it is meant to be read-only."""
    found: list[str] = []
    for text in (key.name or "", *key.tags):
        words = [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]
        found += [w for w in words if w in _READ_ONLY_WORDS]
        found += ["read-only" for pair in itertools.pairwise(words) if pair == ("read", "only")]
    return sorted(set(found))


def _write_on_read_only(ctx: LintContext) -> Iterator[Finding]:
    for key in ctx.inventory.keys:
        words = read_only_words(key)
        if not words:
            continue
        for scope in key.granted:
            definition = ctx.catalog.scope(scope)
            if definition is None or not definition.is_write:
                continue
            yield WRITE_SCOPE_ON_READ_ONLY_KEY.finding(
                f"key {key.id!r} is marked {', '.join(words)} but holds {scope!r}",
                key.grant_location(scope), key=key.id, scope=scope,
                evidence={"words": words},
            )


MISSING_OWNER = Rule(
    id="SA205", name="missing-owner", severity=Severity.LOW, family=INVENTORY,
    summary="A key has no owner.",
    what="Reports keys without an `owner` field.",
    why="Nobody can be asked whether an unowned key is still needed, so it is never "
        "narrowed or revoked.",
    example="- id: key_9f2\n  scopes: [sites:read]",
    remediation="Add `owner:` with a team or person who answers for the key.",
)


def _missing_owner(ctx: LintContext) -> Iterator[Finding]:
    for key in ctx.inventory.keys:
        if not key.owner:
            yield MISSING_OWNER.finding(f"key {key.id!r} has no owner", key.location, key=key.id)


NO_EXPIRY = Rule(
    id="SA206", name="no-expiry", severity=Severity.MEDIUM, family=INVENTORY,
    summary="A key has no expiration date.",
    what="Reports keys without an `expires` date.",
    why="A key without expiry lives until someone remembers to revoke it; insp.ac keys "
        "support an optional expiration date.",
    example="- id: key_9f2\n  scopes: [sites:read]   # no expires:",
    remediation="Set `expires:` and rotate the key before it.",
)


def _no_expiry(ctx: LintContext) -> Iterator[Finding]:
    for key in ctx.inventory.keys:
        if key.expires is None:
            yield NO_EXPIRY.finding(f"key {key.id!r} has no expiration date", key.location,
                                    key=key.id)


EXPIRED_KEY = Rule(
    id="SA207", name="expired-key", severity=Severity.MEDIUM, family=INVENTORY,
    summary="A key's expiration date has passed.",
    what="Reports keys whose `expires` date is before the audit date (today, or --as-of).",
    why="Either the definition is stale (the key was rotated and the file not updated) or "
        "an integration is about to fail; both need a person to look.",
    example="expires: 2025-01-31   (audited on 2026-11-27)",
    remediation="Remove the definition if the key is gone, or rotate the key and update the date.",
)


def _expired(ctx: LintContext) -> Iterator[Finding]:
    as_of = ctx.settings.as_of
    for key in ctx.inventory.keys:
        if key.expires is not None and key.expires < as_of:
            days = (as_of - key.expires).days
            yield EXPIRED_KEY.finding(
                f"key {key.id!r} expired on {key.expires.isoformat()} "
                f"({days} days before {as_of.isoformat()})", key.location, key=key.id,
                evidence={"expires": key.expires.isoformat(), "as_of": as_of.isoformat()},
            )


ROTATION_OVERDUE = Rule(
    id="SA208", name="rotation-overdue", severity=Severity.MEDIUM, family=INVENTORY,
    summary="A key was created longer ago than the rotation period (default 365 days).",
    what="Compares `created` with the audit date.",
    why="The longer a token lives, the more places it has been copied to; regular rotation "
        "bounds the damage of an unnoticed leak.",
    example="created: 2024-03-01   (audited on 2026-11-27)",
    remediation="Create a new key for the integration, switch it over, and revoke the old one.",
)


def _rotation(ctx: LintContext) -> Iterator[Finding]:
    as_of, limit = ctx.settings.as_of, ctx.settings.rotation_days
    for key in ctx.inventory.keys:
        if key.created is None:
            continue
        age = (as_of - key.created).days
        if age > limit:
            yield ROTATION_OVERDUE.finding(
                f"key {key.id!r} was created {age} days ago "
                f"({key.created.isoformat()}); rotation is due every {limit} days",
                key.location, key=key.id,
                evidence={"created": key.created.isoformat(), "age_days": age,
                          "rotation_days": limit},
            )


DUPLICATE_KEY = Rule(
    id="SA209", name="duplicate-key", severity=Severity.HIGH, family=INVENTORY,
    summary="The same key is defined twice (same id, or same token fingerprint).",
    what="Reports every key id, and every `sha256` fingerprint, that appears in more than "
         "one definition.",
    why="Two definitions of one key can disagree on its scopes; whichever a reader trusts, "
        "the other is wrong, and usage cannot be attributed to one of them.",
    example="- id: key_1 ... \n- id: key_1 ...",
    remediation="Merge the definitions into one.",
)


def _duplicate_key(ctx: LintContext) -> Iterator[Finding]:
    for attribute, label in (("id", "id"), ("sha256", "token fingerprint")):
        groups: dict[str, list[Key]] = defaultdict(list)
        for key in ctx.inventory.keys:
            value = getattr(key, attribute)
            if value:
                groups[value].append(key)
        for value, keys in groups.items():
            if len(keys) < 2:
                continue
            lines = [k.location.line for k in keys]
            shown = value if attribute == "id" else f"sha256:{value[:12]}"
            yield DUPLICATE_KEY.finding(
                f"{label} {shown!r} is defined {len(keys)} times (lines "
                f"{', '.join(map(str, lines))})", keys[1].location, key=keys[0].id,
                discriminator=f"{attribute}:{value}", evidence={"lines": lines},
            )


SECRET_IN_DEFINITIONS = Rule(
    id="SA210", name="secret-in-definitions", severity=Severity.CRITICAL, family=INVENTORY,
    summary="A full token (sk_live_… or sk_test_…) is written in the key file.",
    what="Scans the raw text of the key file for `sk_live_` or `sk_test_` followed by 16 "
         "or more characters. The finding names the line and the token's SHA-256 "
         "fingerprint, never the token.",
    why="A key file is committed, reviewed and copied; a token in it is a leaked token. A "
        "short `prefix:` matcher such as `sk_live_7Hq2` is not a secret and is not reported.",
    example="- id: key_1\n  prefix: sk_live_…   # the whole 24-character secret pasted here",
    remediation="Revoke the token in the insp.ac dashboard now, issue a new one, and keep "
                "only a `prefix`, `last4` or `sha256` matcher in the file.",
)


def _secret_in_definitions(ctx: LintContext) -> Iterator[Finding]:
    keys = sorted(ctx.inventory.keys, key=lambda k: k.location.line)
    for line, digest, kind in ctx.inventory.leaked_tokens:
        owner = None
        for key in keys:
            if key.location.line <= line:
                owner = key
        yield SECRET_IN_DEFINITIONS.finding(
            f"a full {kind} token (sha256:{digest[:12]}) is written in the key file"
            + (f" in the definition of {owner.id!r}" if owner else ""),
            Location(ctx.inventory.source, line), key=owner.id if owner else None,
            discriminator=digest, evidence={"token_sha256": digest, "kind": kind},
        )


CATCH_ALL_PREFIX = Rule(
    id="SA213", name="catch-all-prefix", severity=Severity.HIGH, family=INVENTORY,
    summary="A key's `prefix` matcher is no longer than the part every token shares "
            "(`sk_live_`, `sk_test_`), so it would match every token.",
    what="Reports each `prefix` that is `sk_live_` or `sk_test_` or a beginning of one "
         "(`sk_live`, `sk_`). The audit does not use such a matcher: requests are matched "
         "to the key by its other matchers only.",
    why="A prefix that every token starts with would attribute every other key's requests "
        "to this key: unmanaged keys would vanish from the report (no SA303) and the key "
        "would look busier than it is.",
    example="- id: key_sync\n  prefix: sk_live_   # every live token starts so",
    remediation="Write the key's own token prefix (`sk_live_` and the next few characters, "
                "as the insp.ac dashboard shows them), its `last4`, or better its `sha256`.",
)


def _catch_all_prefix(ctx: LintContext) -> Iterator[Finding]:
    for key in ctx.inventory.keys:
        if key.prefix is not None and catch_all_prefix(key.prefix):
            kinds = " and ".join(f"{fixed}…" for fixed in TOKEN_FIXED_PARTS
                                 if fixed.startswith(key.prefix))
            yield CATCH_ALL_PREFIX.finding(
                f"key {key.id!r} has prefix {key.prefix!r}, which every {kinds} token "
                "starts with; the audit does not match with it", key.location, key=key.id,
                evidence={"prefix": key.prefix},
            )


_CHECKS: dict[Rule, Callable[[LintContext], Iterator[Finding]]] = {
    UNKNOWN_SCOPE: _unknown_scope,
    DUPLICATE_SCOPE: _duplicate_scope,
    BROAD_KEY: _broad_key,
    WRITE_SCOPE_ON_READ_ONLY_KEY: _write_on_read_only,
    MISSING_OWNER: _missing_owner,
    NO_EXPIRY: _no_expiry,
    EXPIRED_KEY: _expired,
    ROTATION_OVERDUE: _rotation,
    DUPLICATE_KEY: _duplicate_key,
    SECRET_IN_DEFINITIONS: _secret_in_definitions,
    CATCH_ALL_PREFIX: _catch_all_prefix,
}
RULES = tuple(_CHECKS)
CHECKS = {rule.id: check for rule, check in _CHECKS.items()}


def run_inventory_rules(ctx: LintContext) -> list[Finding]:
    findings: list[Finding] = []
    for check in _CHECKS.values():
        findings.extend(check(ctx))
    return findings
