"""The CI gate: suppressions with reasons and expiry dates, the baseline, and what counts.

A suppressed or baselined finding is kept and marked, never dropped; only the findings that
still count decide the exit code. A suppression past its date stops suppressing and is itself
a finding (SA901); one that matched nothing is reported as stale (SA902).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path

from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.http.credentials import redact_known
from scopeaudit.model import Audit, Finding, Location, Rule, Severity, sorted_findings
from scopeaudit.redaction import redacted
from scopeaudit.render.text import json_text

BASELINE_SCHEMA = "scopeaudit/baseline/v1"


@dataclass(frozen=True)
class Suppression:
    """One ``[[ignore]]`` entry. ``rule`` is an id or a name; ``key`` and ``scope`` are
    case-sensitive globs (``*`` matches anything, including a finding with no scope)."""

    rule: str
    reason: str
    location: Location
    key: str = "*"
    scope: str = "*"
    expires: date | None = None

    def matches(self, finding: Finding) -> bool:
        if self.rule not in (finding.rule, finding.name, "*"):
            return False
        return fnmatchcase(finding.key or "", self.key) and fnmatchcase(finding.scope or "",
                                                                          self.scope)

    def expired(self, as_of: date) -> bool:
        """Valid through its ``expires`` date; from the next day on it no longer suppresses."""
        return self.expires is not None and as_of > self.expires


CONFIG = "config"

EXPIRED_SUPPRESSION = Rule(
    id="SA901", name="expired-suppression", severity=Severity.MEDIUM, family=CONFIG,
    summary="A suppression in the configuration is past its expiry date.",
    what="Reports each `[[ignore]]` entry whose `expires` date is before the audit date. "
         "From the day after that date it no longer suppresses, so the findings it hid "
         "count again.",
    why="A suppression is a decision with a shelf life: 'accepted until the integration is "
        "rewritten'. Past its date nobody has re-decided, and the risk is back in the open.",
    example='[[ignore]] rule = "SA102", key = "key_bi_*", reason = "backfill until Q3", '
            "expires = 2026-09-30",
    remediation="Fix the findings it covered, or re-decide: give the entry a new `expires` "
                "date and an updated `reason`.",
)


UNUSED_SUPPRESSION = Rule(
    id="SA902", name="unused-suppression", severity=Severity.LOW, family=CONFIG,
    summary="A suppression in the configuration matched no finding.",
    what="Reports each `[[ignore]]` entry that suppressed nothing in this run.",
    why="A stale suppression silently hides the next finding that happens to match it, "
        "long after the reason for it has gone.",
    example='[[ignore]] rule = "SA206", key = "key_removed_last_year", reason = "…"',
    remediation="Remove the entry (or narrow its globs).",
)


@dataclass(frozen=True)
class RuleSettings:
    """A ``[rules.ID]`` table: a severity override, or the rule disabled."""

    severity: Severity | None = None
    disabled: bool = False


@dataclass(frozen=True)
class GatePolicy:
    """What the gate applies to a finished Audit: per-rule settings, suppressions and the
    baseline. A library caller builds one (or takes a configuration's: ``Config.policy``) and
    gets the same verdicts the CLI gives."""

    rules: Mapping[str, RuleSettings] = field(default_factory=dict)  # rule id -> settings
    ignores: tuple[Suppression, ...] = ()
    baseline_path: str | None = None
    config_path: str | None = None  # shown in the report: where the policy came from
    warnings: tuple[str, ...] = ()  # the configuration's own warnings, added to the run's


@dataclass(frozen=True)
class GateResult:
    findings: tuple[Finding, ...]  # every finding, marked; plus SA901/SA902 on suppressions
    suppressed: int
    baselined: int


def apply_gate(findings: Iterable[Finding], suppressions: Iterable[Suppression],
               baseline: frozenset[str] | None, as_of: date) -> GateResult:
    entries = list(suppressions)
    used = [False] * len(entries)
    marked: list[Finding] = []
    for finding in findings:
        for i, entry in enumerate(entries):
            if entry.expired(as_of) or not entry.matches(finding):
                continue
            used[i] = True
            finding = replace(finding, suppressed=True, suppression_reason=entry.reason)
            break
        if baseline is not None and finding.fingerprint in baseline:
            finding = replace(finding, baselined=True)
        marked.append(finding)
    for i, entry in enumerate(entries):
        what = _describe(entry)
        if entry.expired(as_of) and entry.expires is not None:
            marked.append(EXPIRED_SUPPRESSION.finding(
                f"suppression {what} expired on {entry.expires.isoformat()} and no "
                "longer suppresses", entry.location, discriminator=what,
                evidence={"rule": entry.rule, "key": entry.key, "scope": entry.scope,
                          "expires": entry.expires.isoformat(), "reason": entry.reason}))
        elif not used[i]:
            marked.append(UNUSED_SUPPRESSION.finding(
                f"suppression {what} matched no finding; remove it", entry.location,
                discriminator=what,
                evidence={"rule": entry.rule, "key": entry.key, "scope": entry.scope,
                          "reason": entry.reason}))
    return GateResult(tuple(marked), sum(1 for f in marked if f.suppressed),
                      sum(1 for f in marked if f.baselined))


def gate_audit(audit: Audit, policy: GatePolicy, diagnostics: Diagnostics) -> Audit:
    """The Audit as it counts: per-rule settings (disabled rules dropped, severities
    overridden), then suppressions and the baseline marked (``apply_gate``).

    Every output (each report format, the baseline, the history) is made from what this
    returns, so this is where the Audit passes the one redaction, before any finding's
    fingerprint is compared or written: the configuration's own strings were redacted when
    it was read, warnings when they were made."""

    audit = redacted(audit)
    for warning in policy.warnings:
        diagnostics.warn(warning)
    findings = []
    for f in audit.findings:
        settings = policy.rules.get(f.rule)
        if settings is not None and settings.disabled:
            continue
        if settings is not None and settings.severity is not None:
            f = replace(f, severity=settings.severity)
        findings.append(f)
    baseline = load_baseline(policy.baseline_path) if policy.baseline_path else None
    result = apply_gate(findings, policy.ignores, baseline, audit.as_of)
    disabled = tuple(sorted(rule for rule, s in policy.rules.items() if s.disabled))
    return replace(audit, findings=sorted_findings(list(result.findings)),
                   warnings=tuple(str(w) for w in diagnostics.warnings),
                   disabled_rules=disabled,
                   config_path=None if policy.config_path is None
                   else redact_known(policy.config_path))


def _describe(entry: Suppression) -> str:
    return f"{entry.rule} key={entry.key} scope={entry.scope}"


def baseline_document(findings: Iterable[Finding]) -> str:
    """Versioned, sorted, no timestamp: the same findings give the same bytes."""
    entries = sorted({(f.fingerprint, f.rule, f.key or "", f.scope or "") for f in findings})
    doc = {
        "schema": BASELINE_SCHEMA,
        "findings": [{"fingerprint": fp, "rule": rule, "key": key or None, "scope": scope or None}
                     for fp, rule, key, scope in entries],
    }
    return json_text(doc)


def load_baseline(path: str) -> frozenset[str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such baseline file", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the baseline: {exc}", file=path) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", file=path, line=exc.lineno) from None
    except RecursionError:  # the json module parses nested arrays by recursion
        raise InputError("invalid JSON: nested too deeply", file=path) from None
    if not isinstance(doc, dict) or doc.get("schema") != BASELINE_SCHEMA:
        raise InputError(f"not a scopeaudit baseline (expected schema {BASELINE_SCHEMA}; "
                         "write one with `scopeaudit baseline write`)", file=path)
    entries = doc.get("findings")
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries):
        raise InputError("'findings' must be a list of {fingerprint, rule, key, scope}",
                         file=path)
    return frozenset(e["fingerprint"] for e in entries)
