"""The rule registry: every rule's id, name, default severity and documentation, once.

The CLI's ``rules`` and ``explain``, the README's rules table and (later) SARIF rule
descriptions and the HTML method section all read from here. Each rule's documentation has
the same four parts: what it does, why it matters, an example, and the remediation.
"""

from __future__ import annotations

from dataclasses import dataclass

from scopeaudit.model import Severity


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str
    what: str
    why: str
    example: str
    remediation: str
    family: str

    def explain(self) -> str:
        return (
            f"{self.id} {self.name} (default severity: {self.severity.value})\n\n"
            f"{self.summary}\n\n"
            f"What it does\n{self.what}\n\n"
            f"Why it matters\n{self.why}\n\n"
            f"Example\n{self.example}\n\n"
            f"Remediation\n{self.remediation}\n"
        )


INVENTORY = "inventory"

_RULES = (
    Rule(
        "SA201", "unknown-scope", Severity.HIGH,
        "A key grants a scope the catalog does not know.",
        "Compares every granted scope with the catalog's scopes and suggests the closest known "
        "name.",
        "A misspelt scope grants nothing, so the integration silently lacks the access its "
        "owner meant to give, and the key file no longer says what the key can do.",
        "scopes: [isues:read]   ->  did you mean 'issues:read'?",
        "Correct the spelling, or remove the entry if the scope was meant to be dropped.",
        INVENTORY,
    ),
    Rule(
        "SA202", "duplicate-scope", Severity.LOW,
        "A key lists the same scope more than once.",
        "Reports each scope that appears twice or more in one key's list.",
        "Harmless to access, but a sign the list is edited by hand without review; it also "
        "hides the real size of the grant from a reader.",
        "scopes: [issues:read, works:read, issues:read]",
        "Keep one entry per scope.",
        INVENTORY,
    ),
    Rule(
        "SA203", "broad-key", Severity.MEDIUM,
        "A key holds many scopes (medium), or every write scope of the catalog (high).",
        "Counts the distinct known scopes a key grants: at or above the threshold (default 10) "
        "it is medium; holding every write scope of the catalog makes it high.",
        "A broad key is one leaked token away from full write access to the organisation's "
        "data; the insp.ac guidance is one narrowly scoped key per integration.",
        "A 'platform' key with all 26 scopes.",
        "Split the key by integration and give each only the scopes it uses; `scopeaudit audit` "
        "shows which scopes are exercised.",
        INVENTORY,
    ),
    Rule(
        "SA204", "write-scope-on-read-only-key", Severity.HIGH,
        "A key whose name or tags say it is for reporting holds a write scope.",
        "Looks for the words report, reporting, analytics, bi, dashboard, export, read-only or "
        "readonly in a key's name and tags, and reports each write scope such a key holds.",
        "Reporting and export keys are read-only by nature (the insp.ac guidance: read-only "
        "scopes for reporting); a write scope on one is unneeded power in a token that is often "
        "copied into BI tools and spreadsheets.",
        "name: BI export, scopes: [issues:read, issues:write]",
        "Remove the write scopes, or rename the key if it really writes.",
        INVENTORY,
    ),
    Rule(
        "SA205", "missing-owner", Severity.LOW,
        "A key has no owner.",
        "Reports keys without an `owner` field.",
        "Nobody can be asked whether an unowned key is still needed, so it is never narrowed "
        "or revoked.",
        "- id: key_9f2\n  scopes: [sites:read]",
        "Add `owner:` with a team or person who answers for the key.",
        INVENTORY,
    ),
    Rule(
        "SA206", "no-expiry", Severity.MEDIUM,
        "A key has no expiration date.",
        "Reports keys without an `expires` date.",
        "A key without expiry lives until someone remembers to revoke it; insp.ac keys support "
        "an optional expiration date.",
        "- id: key_9f2\n  scopes: [sites:read]   # no expires:",
        "Set `expires:` and rotate the key before it.",
        INVENTORY,
    ),
    Rule(
        "SA207", "expired-key", Severity.MEDIUM,
        "A key's expiration date has passed.",
        "Reports keys whose `expires` date is before the audit date (today, or --as-of).",
        "Either the definition is stale (the key was rotated and the file not updated) or an "
        "integration is about to fail; both need a person to look.",
        "expires: 2025-01-31   (audited on 2026-11-27)",
        "Remove the definition if the key is gone, or rotate the key and update the date.",
        INVENTORY,
    ),
    Rule(
        "SA208", "rotation-overdue", Severity.MEDIUM,
        "A key was created longer ago than the rotation period (default 365 days).",
        "Compares `created` with the audit date.",
        "The longer a token lives, the more places it has been copied to; regular rotation "
        "bounds the damage of an unnoticed leak.",
        "created: 2024-03-01   (audited on 2026-11-27)",
        "Create a new key for the integration, switch it over, and revoke the old one.",
        INVENTORY,
    ),
    Rule(
        "SA209", "duplicate-key", Severity.HIGH,
        "The same key is defined twice (same id, or same token fingerprint).",
        "Reports every key id, and every `sha256` fingerprint, that appears in more than one "
        "definition.",
        "Two definitions of one key can disagree on its scopes; whichever a reader trusts, the "
        "other is wrong, and usage cannot be attributed to one of them.",
        "- id: key_1 ... \n- id: key_1 ...",
        "Merge the definitions into one.",
        INVENTORY,
    ),
    Rule(
        "SA210", "secret-in-definitions", Severity.CRITICAL,
        "A full token (sk_live_… or sk_test_…) is written in the key file.",
        "Scans the raw text of the key file for `sk_live_` or `sk_test_` followed by 16 or "
        "more characters. The finding names the line and the token's SHA-256 fingerprint, "
        "never the token.",
        "A key file is committed, reviewed and copied; a token in it is a leaked token. A "
        "short `prefix:` matcher such as `sk_live_7Hq2` is not a secret and is not reported.",
        "- id: key_1\n  prefix: sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "Revoke the token in the insp.ac dashboard now, issue a new one, and keep only a "
        "`prefix`, `last4` or `sha256` matcher in the file.",
        INVENTORY,
    ),
)

REGISTRY: dict[str, Rule] = {rule.id: rule for rule in _RULES}


def get_rule(id_or_name: str) -> Rule:
    """A rule by id (``SA201``, any case) or by name (``unknown-scope``)."""
    wanted = id_or_name.strip()
    rule = REGISTRY.get(wanted.upper())
    if rule is None:
        rule = next((r for r in REGISTRY.values() if r.name == wanted.lower()), None)
    if rule is None:
        raise KeyError(f"unknown rule {id_or_name!r}")
    return rule


def all_rules() -> tuple[Rule, ...]:
    return tuple(sorted(REGISTRY.values(), key=lambda r: r.id))
