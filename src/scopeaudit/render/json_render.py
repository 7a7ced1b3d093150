"""The JSON contract ``scopeaudit/audit/v1``, built field by field from the Audit value.

This is a published, versioned format (schema in ``docs/schema/``): it is written out here
explicitly rather than derived from the dataclasses, so an internal rename cannot silently
change what machines downstream read.
"""

from __future__ import annotations

from typing import Any

from scopeaudit.drift import READ_WEIGHT, WRITE_WEIGHT
from scopeaudit.model import (
    Audit,
    CodeSummary,
    Drift,
    DriftFinding,
    EvidenceQuality,
    Finding,
    InputFile,
    Key,
    KeyCode,
    KeyVerdict,
    PriorUse,
    count_by_severity,
)
from scopeaudit.render import RenderOptions
from scopeaudit.render.text import json_text

SCHEMA_ID = "scopeaudit/audit/v1"


def finding_document(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "name": f.name,
        "severity": f.severity.value,
        "confidence": f.confidence,
        "key": f.key,
        "scope": f.scope,
        "message": f.message,
        "evidence": dict(f.evidence) if f.evidence is not None else None,
        "location": {"file": f.location.file, "line": f.location.line},
        "fingerprint": f.fingerprint,
        "suppressed": f.suppressed,
        "suppression_reason": f.suppression_reason,
        "baselined": f.baselined,
    }


def key_document(k: Key, v: KeyVerdict | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": k.id,
        "name": k.name,
        "owner": k.owner,
        "granted": list(k.granted),
        "created": k.created.isoformat() if k.created else None,
        "expires": k.expires.isoformat() if k.expires else None,
        "tags": list(k.tags),
        "location": {"file": k.location.file, "line": k.location.line},
    }
    if v is None:
        return doc
    doc.update({
        "scopes": dict(v.states),
        "recommended": list(v.recommended),
        "remove": list(v.remove),
        # the removals whose confidence is low: deferred (SA108), not yet recommended
        "deferred": list(v.deferred),
        "undeclared": list(v.undeclared),
        "confidence": {s: {"level": c.level, "basis": c.basis}
                       for s, c in sorted(v.confidence.items())},
        "requests": {"accepted": v.accepted, "denied": v.denied,
                     "unauthorized": v.unauthorized},
        "active_days": v.active_days,
        "first_seen": v.first_seen,
        "last_seen": v.last_seen,
        "clients": [
            {"client": c.client, "requests": c.requests, "first_seen": c.first_seen,
             "last_seen": c.last_seen,
             "operations": [{"operation": op, "requests": n} for op, n in c.operations]}
            for c in v.clients
        ],
        "operations": [{"operation": op, "requests": n} for op, n in v.operations],
        "unmatched": [{"request": shape, "requests": n} for shape, n in v.unmatched],
        "sources": [{"source": u.source, "days": u.days, "last_seen": u.last_seen}
                    for u in v.sources],
        "before_window": _prior(v.before_window),
        "scopes_before_window": {s: _prior(p) for s, p in sorted(v.scopes_before_window.items())},
    })
    if v.code is not None:  # audit --code, a key some scanned file belongs to (added in v1)
        doc["code"] = key_code_document(v.code)
    return doc


def key_code_document(code: KeyCode) -> dict[str, Any]:
    return {
        "files": code.files, "calls": code.calls, "unresolved": code.unresolved,
        "call_sites": {scope: [{"file": s.file, "line": s.line} for s in sites]
                       for scope, sites in sorted(code.sites.items())},
    }


def code_document(code: CodeSummary) -> dict[str, Any]:
    """The source code read by audit --code; the key is left out without it."""
    return {"paths": list(code.paths), "files": code.files, "skipped": code.skipped,
            "calls": code.calls, "unresolved": code.unresolved, "code_key": code.code_key,
            "keys": list(code.keys)}


def _prior(use: PriorUse | None) -> dict[str, Any] | None:
    if use is None:
        return None
    return {"last_used": use.last_used, "days_before": use.days_before,
            "interval_days": use.interval_days}


def evidence_document(evidence: EvidenceQuality | None) -> dict[str, Any] | None:
    """What the logs could show (audit mode); None in lint mode."""
    if evidence is None:
        return None
    return {
        "records": evidence.records,
        "skipped": evidence.skipped,
        "accepted": evidence.accepted,
        "unattributed": evidence.unattributed,
        "max_unattributed": evidence.max_unattributed,
        "sources": [{"name": s.name, "inputs": s.inputs, "days": s.days,
                     "declared": s.declared} for s in evidence.sources],
        "missing_sources": [{"name": m.name, "keys": list(m.keys), "last_seen": m.last_seen}
                            for m in evidence.missing_sources],
        "supports_removals": evidence.supports_removals,
        "limits": list(evidence.limits),
    }


def input_document(i: InputFile) -> dict[str, Any]:
    doc: dict[str, Any] = {"path": i.path, "kind": i.kind, "sha256": i.sha256,
                           "records": i.records, "skipped": i.skipped,
                           "skipped_lines": list(i.skipped_lines)}
    if i.kind == "logs":
        doc.update({
            "skip_reasons": [{"reason": r, "count": n} for r, n in i.skip_reasons],
            "source": i.source, "accepted": i.accepted, "unattributed": i.unattributed,
            "key_field": i.key_field, "format": i.log_format, "time_zone": i.time_zone,
        })
    return doc


def _usage_documents(audit: Audit) -> dict[str, Any]:
    if audit.window is None or audit.coverage is None or audit.replay is None \
            or audit.usage is None:
        return {"window": None, "coverage": None, "usage": None, "replay": None}
    cov, replay, usage = audit.coverage, audit.replay, audit.usage
    return {
        "window": {"since": audit.window.since.isoformat(),
                   "until": audit.window.until.isoformat(), "days": audit.window.days},
        "coverage": {
            "days_with_data": cov.days_with_data,
            "days_in_window": cov.days_in_window,
            "gaps": [{"from": a.isoformat(), "to": b.isoformat()} for a, b in cov.gaps],
            "by_input": dict(sorted(cov.by_input.items())),
        },
        "usage": {
            "records": usage.records, "requests": usage.requests,
            "in_window": usage.in_window, "outside_window": usage.outside_window,
            "unattributed": usage.unattributed, "preflight": usage.preflight,
            "unknown_keys": usage.unknown_keys,
        },
        "replay": {
            "requests": replay.requests,
            "would_be_denied": replay.would_be_denied,
            "unverifiable": replay.unverifiable,
            "would_be_denied_requests": [
                {"key": k, "operation": op, "requests": n} for k, op, n in replay.denied_shapes
            ],
        },
    }


def _drift_finding(d: DriftFinding, dated: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {"fingerprint": d.fingerprint, "rule": d.rule, "key": d.key,
                           "scope": d.scope, "severity": d.severity}
    if dated:
        doc["first_seen"] = d.first_seen
    return doc


def drift_document(drift: Drift | None) -> dict[str, Any] | None:
    """Since the previous run in the history; None without --history."""
    if drift is None:
        return None
    prev = drift.previous_run
    return {
        "previous_run": ({"id": prev.id, "run_at": prev.run_at,
                          "tool_version": prev.tool_version} if prev else None),
        "new": [_drift_finding(d, False) for d in drift.new],
        "persisting": [_drift_finding(d, True) for d in drift.persisting],
        "resolved": [_drift_finding(d, False) for d in drift.resolved],
        "regressed": [{**_drift_finding(d, True), "resolved_at": d.resolved_at}
                      for d in drift.regressed],
        "keys_added": list(drift.keys_added),
        "keys_removed": list(drift.keys_removed),
        "scopes_granted": [{"key": k, "scope": s} for k, s in drift.scopes_granted],
        "scopes_revoked": [{"key": k, "scope": s} for k, s in drift.scopes_revoked],
        "over_privilege": {
            "weights": {"write": WRITE_WEIGHT, "read": READ_WEIGHT},
            "unused_scopes": drift.unused_scopes,
            "score": drift.over_privilege,
            "by_key": dict(drift.over_privilege_by_key),
            "previous_unused_scopes": drift.previous_unused_scopes,
            "previous_score": drift.previous_over_privilege,
        },
    }


def audit_document(audit: Audit) -> dict[str, Any]:
    verdicts = {v.key_id: v for v in audit.verdicts}
    doc: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "mode": audit.mode,
        "tool": {"name": "scopeaudit", "version": audit.tool_version},
    }
    if audit.generated_at is not None:
        doc["generated_at"] = audit.generated_at
    doc.update({
        "as_of": audit.as_of.isoformat(),
        "inputs": [input_document(i) for i in audit.inputs],
        "catalog": {
            "name": audit.catalog.name, "version": audit.catalog.version,
            "source": audit.catalog.source, "operations": audit.catalog.operations,
            "scopes": audit.catalog.scopes, "provenance": dict(audit.catalog.provenance),
        },
        "evidence": evidence_document(audit.evidence),
        **_usage_documents(audit),
        "keys": [key_document(k, verdicts.get(k.id)) for k in audit.keys],
        "findings": [finding_document(f) for f in audit.findings],
        "summary": {
            "findings": len(audit.findings),
            "by_severity": count_by_severity(audit.findings),
            # kept apart: all findings are listed; these do not count toward --fail-on
            "suppressed": sum(1 for f in audit.findings if f.suppressed),
            "baselined": sum(1 for f in audit.findings if f.baselined and not f.suppressed),
            "counted": sum(1 for f in audit.findings if f.counts),
        },
        "gate": {"config": audit.config_path, "disabled_rules": list(audit.disabled_rules)},
        "warnings": list(audit.warnings),
        "drift": drift_document(audit.drift),
    })
    if audit.code is not None:
        doc["code"] = code_document(audit.code)
    return doc


def render_json(audit: Audit, options: RenderOptions) -> str:
    return json_text(audit_document(audit))
