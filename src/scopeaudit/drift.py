"""Drift between two audit runs: pure functions over snapshots, no I/O.

A :class:`Snapshot` is what the history keeps of one run (keys with their granted and
recommended scopes, findings by fingerprint). :func:`compute_drift` compares the current run
with the previous one and with what earlier runs saw, and gives the :class:`Drift` value the
renderers show.

Over-privilege weights: every granted scope the audit would take away (a key's ``remove``:
granted but neither used nor of unknown use) counts by its risk. A write scope (any scope
that is not plainly a read, by catalog.model.Scope.is_write: ``works:write``) weighs
:data:`WRITE_WEIGHT` = 3, a read scope :data:`READ_WEIGHT` = 1. A key's score is the sum over
its removable scopes; the organisation's is the sum over its keys. Lower is better; zero means
every key holds only what it uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from scopeaudit.catalog.model import Scope
from scopeaudit.model import Audit, Drift, DriftFinding, PreviousRun

WRITE_WEIGHT = 3
READ_WEIGHT = 1


def scope_weight(scope: str) -> int:
    """The risk weight of one unused scope: read 1, anything else (write) 3. Whether a scope
    reads is judged by the one rule the catalog uses (Scope.is_write, from the name)."""
    return WRITE_WEIGHT if Scope(scope).is_write else READ_WEIGHT


def over_privilege(unused: Iterable[str]) -> int:
    return sum(scope_weight(s) for s in unused)


@dataclass(frozen=True)
class FindingRecord:
    fingerprint: str
    rule: str
    key: str | None
    scope: str | None
    severity: str
    suppressed: bool = False
    baselined: bool = False


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    granted: tuple[str, ...]
    recommended: tuple[str, ...]
    unused: tuple[str, ...]  # what the audit would take away

    @property
    def over_privilege(self) -> int:
        return over_privilege(self.unused)


@dataclass(frozen=True)
class Snapshot:
    """One run as the history keeps it."""

    run_at: str
    tool_version: str
    keys: Mapping[str, KeyRecord]
    findings: Mapping[str, FindingRecord]  # by fingerprint
    id: int = 0

    @property
    def unused_scopes(self) -> int:
        return sum(len(k.unused) for k in self.keys.values())

    @property
    def over_privilege(self) -> int:
        return sum(k.over_privilege for k in self.keys.values())


def snapshot_of(audit: Audit, run_at: str) -> Snapshot:
    """The current run's snapshot. Keys without a verdict (lint) recommend what they hold."""
    verdicts = {v.key_id: v for v in audit.verdicts}
    keys: dict[str, KeyRecord] = {}
    for k in audit.keys:
        v = verdicts.get(k.id)
        keys[k.id] = KeyRecord(k.id, k.granted,
                               tuple(v.recommended) if v is not None else k.granted,
                               tuple(sorted(v.remove)) if v is not None else ())
    findings = {
        f.fingerprint: FindingRecord(f.fingerprint, f.rule, f.key, f.scope, f.severity.value,
                                     f.suppressed, f.baselined)
        for f in audit.findings
    }
    return Snapshot(run_at, audit.tool_version, keys, findings)


def _drift_finding(r: FindingRecord, first_seen: str | None = None,
                   resolved_at: str | None = None) -> DriftFinding:
    return DriftFinding(r.fingerprint, r.rule, r.key, r.scope, r.severity, first_seen,
                        resolved_at)


def _order(r: FindingRecord) -> tuple[str, str, str, str]:
    return (r.rule, r.key or "", r.scope or "", r.fingerprint)


def compute_drift(current: Snapshot, previous: Snapshot | None,
                  first_seen: Mapping[str, str]) -> Drift:
    """Drift of ``current`` against ``previous`` (None: the history's first run).

    ``first_seen`` maps every fingerprint any earlier run recorded to the run time that first
    recorded it. A current finding absent from the previous run is *regressed* when an
    earlier run had it (it was resolved and is back), else *new*. Lists are sorted by rule,
    key, scope.
    """
    prev_findings: Mapping[str, FindingRecord] = previous.findings if previous else {}
    prev_keys: Mapping[str, KeyRecord] = previous.keys if previous else {}
    new: list[DriftFinding] = []
    persisting: list[DriftFinding] = []
    regressed: list[DriftFinding] = []
    for r in sorted(current.findings.values(), key=_order):
        if r.fingerprint in prev_findings:
            persisting.append(_drift_finding(r, first_seen.get(r.fingerprint,
                                                               previous.run_at
                                                               if previous else None)))
        elif r.fingerprint in first_seen:
            regressed.append(_drift_finding(r, first_seen[r.fingerprint],
                                            previous.run_at if previous else None))
        else:
            new.append(_drift_finding(r))
    resolved = [_drift_finding(r) for r in sorted(prev_findings.values(), key=_order)
                if r.fingerprint not in current.findings]
    granted: list[tuple[str, str]] = []
    revoked: list[tuple[str, str]] = []
    for key_id in sorted(set(current.keys) & set(prev_keys)):
        now, before = set(current.keys[key_id].granted), set(prev_keys[key_id].granted)
        granted.extend((key_id, s) for s in sorted(now - before))
        revoked.extend((key_id, s) for s in sorted(before - now))
    return Drift(
        previous_run=(PreviousRun(previous.id, previous.run_at, previous.tool_version)
                      if previous else None),
        new=tuple(new), persisting=tuple(persisting), resolved=tuple(resolved),
        regressed=tuple(regressed),
        keys_added=tuple(sorted(set(current.keys) - set(prev_keys))) if previous
        else tuple(sorted(current.keys)),
        keys_removed=tuple(sorted(set(prev_keys) - set(current.keys))),
        scopes_granted=tuple(granted), scopes_revoked=tuple(revoked),
        unused_scopes=current.unused_scopes, over_privilege=current.over_privilege,
        over_privilege_by_key={k: r.over_privilege for k, r in sorted(current.keys.items())},
        previous_unused_scopes=previous.unused_scopes if previous else None,
        previous_over_privilege=previous.over_privilege if previous else None,
    )
