"""Static rules on key definitions (SA2xx): what a key file says, before any usage is read."""

from __future__ import annotations

import difflib
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from scopeaudit.catalog.model import Catalog
from scopeaudit.model import Finding, Inventory, Key, Location, Severity
from scopeaudit.rules.registry import get_rule
from scopeaudit.secrets import TOKEN_FIXED_PARTS
from scopeaudit.usage.identity import catch_all_prefix


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


def make_finding(rule_id: str, message: str, location: Location, *, key: str | None = None,
                 scope: str | None = None, severity: Severity | None = None,
                 discriminator: str = "", evidence: dict[str, object] | None = None) -> Finding:
    """A finding whose name and default severity come from the registry, never restated."""
    rule = get_rule(rule_id)
    return Finding(rule=rule.id, name=rule.name, severity=severity or rule.severity,
                   message=message, location=location, key=key, scope=scope,
                   discriminator=discriminator, evidence=evidence)


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
            yield make_finding(
                "SA201", f"key {key.id!r} grants {grant.name!r}, which the {ctx.catalog.name} "
                f"catalog does not know{hint}", grant.location, key=key.id, scope=grant.name,
                evidence={"suggestion": close[0] if close else None},
            )


def _duplicate_scope(ctx: LintContext) -> Iterator[Finding]:
    for key in ctx.inventory.keys:
        counts = Counter(g.name for g in key.scope_grants)
        for name, n in sorted(counts.items()):
            if n < 2:
                continue
            repeats = [g.location for g in key.scope_grants if g.name == name]
            yield make_finding(
                "SA202", f"key {key.id!r} lists {name!r} {n} times", repeats[1], key=key.id,
                scope=name, evidence={"lines": [loc.line for loc in repeats]},
            )


def _broad_key(ctx: LintContext) -> Iterator[Finding]:
    writes = ctx.catalog.write_scopes
    threshold = ctx.settings.broad_key_threshold
    for key in ctx.inventory.keys:
        known = {s for s in key.granted if ctx.catalog.has_scope(s)}
        if writes and writes <= known:
            yield make_finding(
                "SA203", f"key {key.id!r} holds every write scope of the catalog "
                f"({len(writes)}) and {len(known)} scopes in all", key.location, key=key.id,
                severity=Severity.HIGH, evidence={"scopes": len(known), "threshold": threshold},
            )
        elif len(known) >= threshold:
            yield make_finding(
                "SA203", f"key {key.id!r} holds {len(known)} scopes (threshold {threshold})",
                key.location, key=key.id,
                evidence={"scopes": len(known), "threshold": threshold},
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
            yield make_finding(
                "SA204", f"key {key.id!r} is marked {', '.join(words)} but holds {scope!r}",
                key.grant_location(scope), key=key.id, scope=scope,
                evidence={"words": words},
            )


def _missing_owner(ctx: LintContext) -> Iterator[Finding]:
    for key in ctx.inventory.keys:
        if not key.owner:
            yield make_finding("SA205", f"key {key.id!r} has no owner", key.location, key=key.id)


def _no_expiry(ctx: LintContext) -> Iterator[Finding]:
    for key in ctx.inventory.keys:
        if key.expires is None:
            yield make_finding("SA206", f"key {key.id!r} has no expiration date", key.location,
                               key=key.id)


def _expired(ctx: LintContext) -> Iterator[Finding]:
    as_of = ctx.settings.as_of
    for key in ctx.inventory.keys:
        if key.expires is not None and key.expires < as_of:
            days = (as_of - key.expires).days
            yield make_finding(
                "SA207", f"key {key.id!r} expired on {key.expires.isoformat()} "
                f"({days} days before {as_of.isoformat()})", key.location, key=key.id,
                evidence={"expires": key.expires.isoformat(), "as_of": as_of.isoformat()},
            )


def _rotation(ctx: LintContext) -> Iterator[Finding]:
    as_of, limit = ctx.settings.as_of, ctx.settings.rotation_days
    for key in ctx.inventory.keys:
        if key.created is None:
            continue
        age = (as_of - key.created).days
        if age > limit:
            yield make_finding(
                "SA208", f"key {key.id!r} was created {age} days ago "
                f"({key.created.isoformat()}); rotation is due every {limit} days",
                key.location, key=key.id,
                evidence={"created": key.created.isoformat(), "age_days": age,
                          "rotation_days": limit},
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
            yield make_finding(
                "SA209", f"{label} {shown!r} is defined {len(keys)} times (lines "
                f"{', '.join(map(str, lines))})", keys[1].location, key=keys[0].id,
                discriminator=f"{attribute}:{value}", evidence={"lines": lines},
            )


def _secret_in_definitions(ctx: LintContext) -> Iterator[Finding]:
    keys = sorted(ctx.inventory.keys, key=lambda k: k.location.line)
    for line, digest, kind in ctx.inventory.leaked_tokens:
        owner = None
        for key in keys:
            if key.location.line <= line:
                owner = key
        yield make_finding(
            "SA210", f"a full {kind} token (sha256:{digest[:12]}) is written in the key file"
            + (f" in the definition of {owner.id!r}" if owner else ""),
            Location(ctx.inventory.source, line), key=owner.id if owner else None,
            discriminator=digest, evidence={"token_sha256": digest, "kind": kind},
        )


def _catch_all_prefix(ctx: LintContext) -> Iterator[Finding]:
    for key in ctx.inventory.keys:
        if key.prefix is not None and catch_all_prefix(key.prefix):
            kinds = " and ".join(f"{fixed}…" for fixed in TOKEN_FIXED_PARTS
                                 if fixed.startswith(key.prefix))
            yield make_finding(
                "SA213", f"key {key.id!r} has prefix {key.prefix!r}, which every {kinds} token "
                "starts with; the audit does not match with it", key.location, key=key.id,
                evidence={"prefix": key.prefix},
            )


CHECKS: dict[str, Callable[[LintContext], Iterator[Finding]]] = {
    "SA201": _unknown_scope,
    "SA202": _duplicate_scope,
    "SA203": _broad_key,
    "SA204": _write_on_read_only,
    "SA205": _missing_owner,
    "SA206": _no_expiry,
    "SA207": _expired,
    "SA208": _rotation,
    "SA209": _duplicate_key,
    "SA210": _secret_in_definitions,
    "SA213": _catch_all_prefix,
}


def run_inventory_rules(ctx: LintContext) -> list[Finding]:
    findings: list[Finding] = []
    for check in CHECKS.values():
        findings.extend(check(ctx))
    return findings
