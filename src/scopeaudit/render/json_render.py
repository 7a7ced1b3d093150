"""The JSON contract ``scopeaudit/audit/v1``, built field by field from the Audit value.

This is a published, versioned format (schema in ``docs/schema/``): it is written out here
explicitly rather than derived from the dataclasses, so an internal rename cannot silently
change what machines downstream read.
"""

from __future__ import annotations

import json
from typing import Any

from scopeaudit.model import Audit, Finding, Key, count_by_severity

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
    }


def key_document(k: Key) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "owner": k.owner,
        "granted": list(k.granted),
        "created": k.created.isoformat() if k.created else None,
        "expires": k.expires.isoformat() if k.expires else None,
        "tags": list(k.tags),
        "location": {"file": k.location.file, "line": k.location.line},
    }


def audit_document(audit: Audit) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "mode": audit.mode,
        "tool": {"name": "scopeaudit", "version": audit.tool_version},
    }
    if audit.generated_at is not None:
        doc["generated_at"] = audit.generated_at
    doc.update({
        "as_of": audit.as_of.isoformat(),
        "inputs": [
            {"path": i.path, "kind": i.kind, "sha256": i.sha256, "records": i.records,
             "skipped": i.skipped, "skipped_lines": list(i.skipped_lines)}
            for i in audit.inputs
        ],
        "catalog": {
            "name": audit.catalog.name, "version": audit.catalog.version,
            "source": audit.catalog.source, "operations": audit.catalog.operations,
            "scopes": audit.catalog.scopes, "provenance": dict(audit.catalog.provenance),
        },
        "keys": [key_document(k) for k in audit.keys],
        "findings": [finding_document(f) for f in audit.findings],
        "summary": {
            "findings": len(audit.findings),
            "by_severity": count_by_severity(audit.findings),
        },
        "warnings": list(audit.warnings),
    })
    return doc


def render_json(audit: Audit) -> str:
    return json.dumps(audit_document(audit), indent=2, ensure_ascii=False) + "\n"
