"""Live result against the key's definition: SA211 (declared, refused live) and SA212
(granted live, not declared: the dashboard grants more than the keys-as-code says)."""

from __future__ import annotations

from dataclasses import replace

from scopeaudit.model import Finding, Key
from scopeaudit.probe.model import Result, ScopeResult
from scopeaudit.rules.inventory_rules import make_finding


def drift_findings(key: Key, results: list[ScopeResult] | tuple[ScopeResult, ...]
                   ) -> list[Finding]:
    declared = set(key.granted)
    findings = []
    for r in results:
        evidence: dict[str, object] = {"request": r.request, "status": r.status,
                                       "code": r.code}
        if r.result is Result.MISSING and r.scope in declared:
            findings.append(make_finding(
                "SA211", f"key {key.id!r} declares {r.scope!r}, but the live key is refused "
                f"it (HTTP {r.status} {r.code} on {r.request})", key.grant_location(r.scope),
                key=key.id, scope=r.scope, evidence=evidence))
        elif r.result is Result.GRANTED and r.scope not in declared:
            finding = make_finding(
                "SA212", f"the live key {key.id!r} can use {r.scope!r} (HTTP {r.status} on "
                f"{r.request}), which its definition does not grant", key.location,
                key=key.id, scope=r.scope, evidence=evidence)
            # a 2xx served data; a 404 only got past the scope check
            findings.append(replace(finding, confidence="high" if r.status != 404
                                    else "medium"))
    return findings
