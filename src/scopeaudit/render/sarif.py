"""SARIF 2.1.0 for GitHub code scanning (and any other SARIF consumer), from the Audit value.

One run, one result per finding in the audit's order, one rule descriptor per rule of the
registry as the Audit carries it (``audit.rules``). GitHub code scanning's additional
requirements (non-empty rule descriptions of at most 1,024 characters, all four region fields,
``partialFingerprints``, at most 25,000 results a run) are met for every result. Nothing
here reads a clock, a loader or the registry module: the same Audit gives the same bytes. No
field can carry a token: results are built from findings only (which hold
fingerprints, never tokens), no raw log line or warning text is copied in, and every string
of the finished document passes through :func:`scopeaudit.secrets.redact` as a last line of
defence (the rule documentation itself quotes a token-shaped example).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from urllib.parse import quote

from scopeaudit.model import Audit, Drift, Finding, Location, Rule, Severity
from scopeaudit.render import RenderOptions
from scopeaudit.render.text import json_text
from scopeaudit.secrets import redact, redact_json
from scopeaudit.words import plural

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "scopeaudit"
FINGERPRINT_KEY = "scopeaudit/v1"

# GitHub code scanning's limits: description texts, rule names, results per run.
MAX_DESCRIPTION = 1024
MAX_NAME = 255
MAX_RESULTS = 25_000

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}

# GitHub reads these as: > 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}

# How often a rule's result is a true positive, by rule family: inventory and config rules
# read facts off a file; usage and log rules judge evidence (removals below medium confidence are
# deferred to SA108 rather than reported).
PRECISION = {"inventory": "very-high", "config": "very-high", "usage": "high", "logs": "high",
             "change": "very-high"}
DEFAULT_PRECISION = "medium"

_DRIVE = re.compile(r"^[A-Za-z]:/")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters (counted in UTF-16 code units, as a
    JavaScript consumer counts them), ending in an ellipsis, at a word boundary when one is
    near. A cut never splits a character."""
    if _utf16_len(text) <= limit:
        return text
    kept: list[str] = []
    used = 1  # the ellipsis
    for char in text:
        width = _utf16_len(char)
        if used + width > limit:
            break
        kept.append(char)
        used += width
    cut = "".join(kept)
    space = cut.rfind(" ")
    if space >= len(cut) - 40 and space > 0:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _first_text(*candidates: str) -> str:
    """The first candidate that is not blank: GitHub refuses empty description strings."""
    for text in candidates:
        if text.strip():
            return text
    return "(no description)"


def artifact_uri(path: str) -> str:
    """A file path as a URI reference: forward slashes, percent-encoded, relative paths kept
    relative (a leading ``./`` dropped), never made absolute."""
    posix = redact(path).replace("\\", "/")
    while posix.startswith("./"):
        posix = posix[2:]
    if _DRIVE.match(posix):  # a Windows absolute path: as a file URI, or "C:" reads as scheme
        return "file:///" + posix[:2] + quote(posix[2:], safe="/")
    return quote(posix, safe="/")


def _is_relative(uri: str) -> bool:
    return not uri.startswith(("/", "file:"))


def _fence(text: str) -> str:
    """A Markdown code fence longer than any backtick run inside ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _help_text(rule: Rule) -> str:
    return (
        f"{rule.summary}\n\n"
        f"What it does\n{rule.what}\n\n"
        f"Why it matters\n{rule.why}\n\n"
        f"Example\n{rule.example}\n\n"
        f"Remediation\n{rule.remediation}\n"
    )


def _help_markdown(rule: Rule) -> str:
    fence = _fence(rule.example)
    return (
        f"**{rule.id} {rule.name}** (default severity: {rule.severity.value})\n\n"
        f"{rule.summary}\n\n"
        f"## What it does\n\n{rule.what}\n\n"
        f"## Why it matters\n\n{rule.why}\n\n"
        f"## Example\n\n{fence}text\n{rule.example}\n{fence}\n\n"
        f"## Remediation\n\n{rule.remediation}\n"
    )


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    rule = dataclasses.replace(  # redacted before any cut, so a cut length stays a limit
        rule, name=redact(rule.name), summary=redact(rule.summary), what=redact(rule.what),
        why=redact(rule.why), example=redact(rule.example),
        remediation=redact(rule.remediation))
    short = _first_text(rule.summary, rule.name, rule.id)
    return {
        "id": rule.id,
        "name": truncate(_first_text(rule.name, rule.id), MAX_NAME),
        "shortDescription": {"text": truncate(short, MAX_DESCRIPTION)},
        "fullDescription": {"text": truncate(_first_text(rule.what, short), MAX_DESCRIPTION)},
        "help": {"text": _help_text(rule), "markdown": _help_markdown(rule)},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "tags": ["security", rule.family],
            "precision": PRECISION.get(rule.family, DEFAULT_PRECISION),
            "security-severity": SECURITY_SEVERITY[rule.severity],
        },
    }


def _fallback_descriptor(finding: Finding) -> dict[str, Any]:
    """A descriptor for a rule a finding names but ``audit.rules`` lacks (an Audit built
    without the registry): GitHub still gets every required, non-empty field."""
    text = f"{finding.rule} {finding.name}".strip()
    return {
        "id": finding.rule,
        "name": truncate(_first_text(finding.name, finding.rule), MAX_NAME),
        "shortDescription": {"text": truncate(text, MAX_DESCRIPTION)},
        "fullDescription": {"text": truncate(text, MAX_DESCRIPTION)},
        "help": {"text": f"{text}: see `scopeaudit explain {finding.rule}`."},
        "defaultConfiguration": {"level": LEVELS[finding.severity]},
        "properties": {
            "tags": ["security"],
            "precision": DEFAULT_PRECISION,
            "security-severity": SECURITY_SEVERITY[finding.severity],
        },
    }


def _message(finding: Finding) -> str:
    text = redact(_first_text(finding.message, f"{finding.rule} {finding.name}"))
    if finding.confidence:
        text += f"; confidence: {finding.confidence}"
    return text


def _physical(location: Location) -> dict[str, Any]:
    uri = artifact_uri(location.file)
    artifact: dict[str, Any] = {"uri": uri}
    if _is_relative(uri):
        artifact["uriBaseId"] = "%SRCROOT%"
    line = max(1, location.line)
    column = max(1, location.column)
    return {"artifactLocation": artifact,
            "region": {"startLine": line, "startColumn": column,
                       "endLine": line, "endColumn": column + 1}}


def result_document(finding: Finding, rule_index: int,
                    drift_state: str | None = None,
                    definition: Location | None = None) -> dict[str, Any]:
    """One result. ``definition``: where a finding seen in a log (not in the repository, so
    code scanning could show no location) is placed instead: the key's definition, else the
    key file's first line; the log line is then its related location and named in the
    message."""
    message = _message(finding)
    related: list[dict[str, Any]] = []
    location = finding.location
    if definition is not None:
        if redact(finding.location.file) not in message:
            message += f" (log evidence: {redact(str(finding.location))})"
        related.append({"id": 1, "physicalLocation": _physical(finding.location),
                        "message": {"text": "log evidence"}})
        location = definition
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": message},
        "locations": [{"physicalLocation": _physical(location)}],
        "partialFingerprints": {
            "primaryLocationLineHash": finding.fingerprint,
            FINGERPRINT_KEY: finding.fingerprint,
        },
        "properties": {
            "key": finding.key,
            "scope": finding.scope,
            "severity": finding.severity.value,
            "confidence": finding.confidence,
        },
    }
    if related:
        result["relatedLocations"] = related
    if finding.suppressed:  # by the configuration's [[ignore]] entries: outside the source
        suppression: dict[str, Any] = {"kind": "external"}
        if finding.suppression_reason:
            suppression["justification"] = finding.suppression_reason
        result["suppressions"] = [suppression]
    if finding.baselined:
        result["baselineState"] = "unchanged"
    if drift_state:  # --history: compared with the previous run (regressed: new again)
        result["baselineState"] = "unchanged" if drift_state == "persisting" else "new"
        result["properties"]["drift"] = drift_state
    return result


def _drift_properties(drift: Drift) -> dict[str, Any]:
    prev = drift.previous_run
    return {"drift": {
        "previous_run": ({"id": prev.id, "run_at": prev.run_at} if prev else None),
        "new": len(drift.new), "persisting": len(drift.persisting),
        "resolved": len(drift.resolved), "regressed": len(drift.regressed),
        "resolved_fingerprints": [d.fingerprint for d in drift.resolved],
        "keys_added": list(drift.keys_added), "keys_removed": list(drift.keys_removed),
        "over_privilege": drift.over_privilege, "unused_scopes": drift.unused_scopes,
        "previous_over_privilege": drift.previous_over_privilege,
    }}


def sarif_document(audit: Audit) -> dict[str, Any]:
    descriptors = [rule_descriptor(rule) for rule in audit.rules]
    index = {rule.id: i for i, rule in enumerate(audit.rules)}
    for finding in audit.findings:
        if finding.rule not in index:
            index[finding.rule] = len(descriptors)
            descriptors.append(_fallback_descriptor(finding))

    shown = audit.findings[:MAX_RESULTS]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    left_out = len(audit.findings) - len(shown)
    if left_out:
        invocation["toolExecutionNotifications"] = [{
            "level": "warning",
            "message": {"text": f"{plural(left_out, 'finding')} left out: GitHub code "
                                f"scanning accepts at most {MAX_RESULTS} results per run; "
                                f"the JSON report (--format json) has them all"},
        }]
    states = audit.drift.states() if audit.drift is not None else {}
    logs = {i.path for i in audit.inputs if i.kind == "logs"}
    key_file = next((i.path for i in audit.inputs if i.kind == "keys"), None)
    defined = {k.id: k.location for k in audit.keys}

    def definition(finding: Finding) -> Location | None:
        if finding.location.file not in logs or key_file is None:
            return None
        return defined.get(finding.key or "", Location(key_file, 1))
    run: dict[str, Any] = {
        "tool": {"driver": {"name": TOOL_NAME, "version": audit.tool_version,
                            "rules": descriptors}},
        "automationDetails": {"id": f"{TOOL_NAME}/{audit.mode}/"},
        "invocations": [invocation],
        "results": [result_document(f, index[f.rule], states.get(f.fingerprint),
                                    definition(f))
                    for f in shown],
    }
    if audit.drift is not None:
        run["properties"] = _drift_properties(audit.drift)
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(audit: Audit, options: RenderOptions) -> str:
    return json_text(redact_json(sarif_document(audit)))
