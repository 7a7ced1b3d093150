"""The probe's findings: the live key's answers against its definition. SA211 (declared,
refused live) and SA212 (granted live, not declared: the dashboard grants more than the
keys-as-code says). Not to be confused with ``drift.py``, which compares two audit runs."""

from __future__ import annotations

from dataclasses import replace

from scopeaudit.model import Finding, Key, Rule, Severity
from scopeaudit.probe.model import Result, ScopeResult

PROBE = "probe"


DECLARED_SCOPE_NOT_GRANTED = Rule(
    id="SA211", name="declared-scope-not-granted", severity=Severity.MEDIUM, family=PROBE,
    summary="`scopeaudit probe`: a read scope the key's definition grants is refused by "
            "the live API (403).",
    what="Compares `scopeaudit probe --keys FILE --key-id ID` with the definition: each "
         "read scope the definition lists whose side-effect-free probe request was "
         "answered 403 FORBIDDEN. The finding points at the line that grants the scope.",
    why="The key file no longer says what the key can do: the scope was removed in the "
        "dashboard (or never granted), and whoever reads the file is misled; an "
        "integration that needs the scope is broken.",
    example="key_bi_export declares works:read; GET /v1/works?limit=1 -> 403 FORBIDDEN",
    remediation="If the scope is no longer needed, remove it from the definition; if it "
                "is, grant it in the insp.ac dashboard.",
)


UNDECLARED_GRANT = Rule(
    id="SA212", name="undeclared-grant", severity=Severity.HIGH, family=PROBE,
    summary="`scopeaudit probe`: the live key holds a read scope its definition does not grant.",
    what="Compares `scopeaudit probe --keys FILE --key-id ID` with the definition: each "
         "read scope whose probe request was accepted (2xx, or 404 on a documented route) "
         "but that the definition does not list. The finding points at the key's definition.",
    why="The dashboard grants more than the keys-as-code says: reviews, lint and audits of "
        "the file all judge a key narrower than the real one, and the extra access is unreviewed.",
    example="key_bi_export's definition lists issues:read only; GET /v1/users?limit=1 -> 200",
    remediation="Remove the scope from the key in the insp.ac dashboard, or, if it is "
                "needed, add it to the definition so that it is reviewed like the rest.",
)


def definition_findings(key: Key, results: list[ScopeResult] | tuple[ScopeResult, ...]
                        ) -> list[Finding]:
    """SA211 and SA212: where the live key and its definition disagree."""
    declared = set(key.granted)
    findings = []
    for r in results:
        evidence: dict[str, object] = {"request": r.request, "status": r.status,
                                       "code": r.code}
        if r.result is Result.MISSING and r.scope in declared:
            findings.append(DECLARED_SCOPE_NOT_GRANTED.finding(
                f"key {key.id!r} declares {r.scope!r}, but the live key is refused "
                f"it (HTTP {r.status} {r.code} on {r.request})", key.grant_location(r.scope),
                key=key.id, scope=r.scope, evidence=evidence))
        elif r.result is Result.GRANTED and r.scope not in declared:
            finding = UNDECLARED_GRANT.finding(
                f"the live key {key.id!r} can use {r.scope!r} (HTTP {r.status} on "
                f"{r.request}), which its definition does not grant", key.location,
                key=key.id, scope=r.scope, evidence=evidence)
            # a 2xx served data; a 404 only got past the scope check
            findings.append(replace(finding, confidence="high" if r.status != 404
                                    else "medium"))
    return findings
