"""Drift between two runs (scopeaudit.drift): pure functions, expectations worked out by hand.

Over-privilege weights: a write scope 3, a read scope 1 (README "Periodic audits").
"""

from __future__ import annotations

from datetime import date

from scopeaudit.drift import (
    FindingRecord,
    KeyRecord,
    Snapshot,
    compute_drift,
    over_privilege,
    scope_weight,
    snapshot_of,
)
from scopeaudit.model import (
    Audit,
    CatalogInfo,
    DriftFinding,
    Finding,
    Key,
    KeyVerdict,
    Location,
    PreviousRun,
    ScopeGrant,
    Severity,
)

T1, T2, T3 = "2026-09-01T06:00:00Z", "2026-10-01T06:00:00Z", "2026-11-01T06:00:00Z"


def fr(fp: str, key: str = "k1", scope: str | None = "works:write",
       severity: str = "high") -> FindingRecord:
    return FindingRecord(fp, "SA102", key, scope, severity)


def kr(key: str, granted: tuple[str, ...], unused: tuple[str, ...] = ()) -> KeyRecord:
    return KeyRecord(key, granted, tuple(s for s in granted if s not in unused), unused)


def snap(run_at: str, keys: list[KeyRecord], findings: list[FindingRecord],
         run_id: int = 0) -> Snapshot:
    return Snapshot(run_at, "0.1.0", {k.key_id: k for k in keys},
                    {f.fingerprint: f for f in findings}, id=run_id)


def test_weights_write_three_read_one() -> None:
    assert scope_weight("issues:read") == 1
    assert scope_weight("works:write") == 3
    assert scope_weight("media:write") == 3  # no media:read: still a write
    # 2 writes + 1 read = 3 + 3 + 1
    assert over_privilege(["works:write", "issues:read", "media:write"]) == 7
    assert over_privilege([]) == 0


def test_first_run_everything_is_new_and_every_key_added() -> None:
    current = snap(T1, [kr("k1", ("issues:read", "works:write"), ("works:write",)),
                        kr("k2", ("sites:read",))], [fr("a"), fr("b", "k2", None, "medium")])
    drift = compute_drift(current, None, {})
    assert drift.previous_run is None
    assert [d.fingerprint for d in drift.new] == ["a", "b"]
    assert drift.persisting == drift.resolved == drift.regressed == ()
    assert drift.keys_added == ("k1", "k2")
    assert drift.keys_removed == ()
    assert drift.scopes_granted == drift.scopes_revoked == ()
    assert drift.unused_scopes == 1
    assert drift.over_privilege == 3  # works:write
    assert dict(drift.over_privilege_by_key) == {"k1": 3, "k2": 0}
    assert drift.previous_over_privilege is None


def test_new_persisting_with_first_seen_and_resolved() -> None:
    keys = [kr("k1", ("works:write",), ("works:write",))]
    # run 1 (T1) had "p"; run 2 (T2) had "p" and "r"; now (T3): "p" and "n"
    previous = snap(T2, keys, [fr("p"), fr("r", scope="works:read")], run_id=2)
    current = snap(T3, keys, [fr("p"), fr("n", scope="issues:write")])
    drift = compute_drift(current, previous, {"p": T1, "r": T2})
    assert drift.previous_run == PreviousRun(2, T2, "0.1.0")
    assert drift.new == (DriftFinding("n", "SA102", "k1", "issues:write", "high"),)
    assert drift.persisting == (DriftFinding("p", "SA102", "k1", "works:write", "high",
                                             first_seen=T1),)
    assert drift.resolved == (DriftFinding("r", "SA102", "k1", "works:read", "high"),)
    assert drift.regressed == ()
    assert drift.states() == {"n": "new", "p": "persisting"}


def test_regressed_finding_was_resolved_and_is_back() -> None:
    keys = [kr("k1", ("works:write",))]
    # "x" was seen first at T1, absent at T2 (resolved), back at T3
    previous = snap(T2, keys, [], run_id=2)
    current = snap(T3, keys, [fr("x")])
    drift = compute_drift(current, previous, {"x": T1})
    assert drift.new == ()
    assert drift.regressed == (DriftFinding("x", "SA102", "k1", "works:write", "high",
                                            first_seen=T1, resolved_at=T2),)
    assert drift.states() == {"x": "regressed"}


def test_keys_added_and_removed() -> None:
    previous = snap(T1, [kr("old", ("issues:read",)), kr("kept", ("issues:read",))], [],
                    run_id=1)
    current = snap(T2, [kr("kept", ("issues:read",)), kr("fresh", ("works:read",))], [])
    drift = compute_drift(current, previous, {})
    assert drift.keys_added == ("fresh",)
    assert drift.keys_removed == ("old",)
    # a key's scopes appearing with the key are not "granted" changes
    assert drift.scopes_granted == drift.scopes_revoked == ()


def test_scopes_granted_and_revoked() -> None:
    previous = snap(T1, [kr("k1", ("issues:read", "works:write")), kr("k2", ("sites:read",))],
                    [], run_id=1)
    current = snap(T2, [kr("k1", ("issues:read", "issues:write", "works:read")),
                        kr("k2", ("sites:read",))], [])
    drift = compute_drift(current, previous, {})
    assert drift.scopes_granted == (("k1", "issues:write"), ("k1", "works:read"))
    assert drift.scopes_revoked == (("k1", "works:write"),)
    assert drift.keys_added == drift.keys_removed == ()


def test_over_privilege_tracked_against_the_previous_run() -> None:
    previous = snap(T1, [kr("k1", ("issues:read", "works:write"), ("issues:read", "works:write"))],
                    [], run_id=1)
    current = snap(T2, [kr("k1", ("issues:read", "works:write"), ("issues:read",))], [])
    drift = compute_drift(current, previous, {})
    assert (drift.previous_unused_scopes, drift.previous_over_privilege) == (2, 4)
    assert (drift.unused_scopes, drift.over_privilege) == (1, 1)


def test_snapshot_of_an_audit_takes_removals_as_unused() -> None:
    loc = Location("keys.yaml", 2)
    key = Key("k1", loc, tuple(ScopeGrant(s, loc) for s in
                               ("issues:read", "issues:write", "works:read")))
    verdict = KeyVerdict("k1", {"issues:read": "used", "issues:write": "unused",
                                "works:read": "unused"}, ("issues:read",),
                         ("issues:write", "works:read"), (), {}, 10, 0, 0, None, None, 5, (),
                         (), ())
    finding = Finding("SA102", "unused-scope", Severity.HIGH, "m", loc, key="k1",
                      scope="issues:write", baselined=True)
    audit = Audit("audit", "0.1.0", date(2026, 11, 27), (),
                  CatalogInfo("insp.ac", "1", "builtin", 1, 1, {}), (key,), (finding,),
                  verdicts=(verdict,))
    s = snapshot_of(audit, T1)
    assert s.keys["k1"].unused == ("issues:write", "works:read")
    assert s.over_privilege == 4 and s.unused_scopes == 2
    record = s.findings[finding.fingerprint]
    assert (record.rule, record.key, record.scope, record.severity, record.baselined) == (
        "SA102", "k1", "issues:write", "high", True)
