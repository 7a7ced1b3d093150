"""What a fix changes: the audit's removals filtered by confidence, --only and pins.

The plan is decided from the ``Audit`` alone (and the pins a YAML file's comments add); the
editors (yaml_edit, json_edit, csv_edit) only carry it out. Two rules keep a fix safe:

* a removal is applied only at or above ``--min-confidence`` (high by default); a deferred
  (low-confidence) removal never is;
* a fix never empties a key's scopes: a key with nothing left to keep is unused, and is
  marked for revocation with ``--revoke-unused`` instead (or left as it is).
"""

from __future__ import annotations

from dataclasses import dataclass

from scopeaudit.model import Audit, Key, KeyVerdict
from scopeaudit.rules.usage_rules import UNUSED_KEY

LEVELS = {"high": 2, "medium": 1, "low": 0}


def _span(audit: Audit) -> str:
    window = audit.window
    return f"{window.since}..{window.until}" if window is not None else "in the window"


@dataclass(frozen=True)
class Removal:
    key_id: str
    scope: str
    confidence: str  # high | medium
    requests: int  # the key's accepted requests in the window (none needed the scope)
    state: str  # unused (the audit's state for the scope)

    def evidence(self, audit: Audit) -> str:
        """The one-line evidence a removed scope leaves behind (a YAML comment)."""
        return (f"scopeaudit: removed {self.scope} ({self.state}: 0 of {self.requests:,} "
                f"requests {_span(audit)} needed it; {self.confidence} confidence; audit "
                f"{audit.as_of})")


@dataclass(frozen=True)
class Revocation:
    key_id: str
    requests: int
    confidence: str

    def evidence(self, audit: Audit) -> str:
        return (f"scopeaudit: unused (no accepted request {_span(audit)}; "
                f"{self.confidence} confidence; audit {audit.as_of})")


@dataclass(frozen=True)
class Held:
    """A removal the plan does not make, and why (pinned, deferred, below the threshold…)."""

    key_id: str
    scope: str | None
    reason: str


@dataclass(frozen=True)
class Plan:
    removals: tuple[Removal, ...]
    revocations: tuple[Revocation, ...]
    pinned: tuple[Held, ...]
    held: tuple[Held, ...]
    # announced removals withdrawn: the scope was used after its announcement (staged.py)
    withdrawn: tuple[Held, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.removals and not self.revocations

    def removed_from(self, key_id: str) -> tuple[str, ...]:
        return tuple(r.scope for r in self.removals if r.key_id == key_id)


@dataclass(frozen=True)
class FixOptions:
    min_confidence: str = "high"
    only: tuple[str, ...] = ()
    revoke_unused: bool = False


def plan_fix(audit: Audit, options: FixOptions,
             comment_pins: frozenset[tuple[str, str]] = frozenset()) -> Plan:
    """The plan for every key the audit judged. ``comment_pins`` holds (key id, scope) pairs
    pinned by a ``# scopeaudit: keep`` comment (YAML only); a key's ``keep:`` list pins the
    others."""
    keys = {k.id: k for k in audit.keys}
    threshold = LEVELS[options.min_confidence]
    unused_keys = {f.key for f in audit.findings if f.rule == UNUSED_KEY.id and f.key}
    removals: list[Removal] = []
    revocations: list[Revocation] = []
    pinned: list[Held] = []
    held: list[Held] = []
    for verdict in audit.verdicts:
        key = keys.get(verdict.key_id)
        if key is None or (options.only and key.id not in options.only):
            continue
        chosen: list[Removal] = []
        for scope in verdict.remove:
            how = _pin(key, scope, comment_pins)
            if how is not None:
                pinned.append(Held(key.id, scope, how))
                continue
            conf = verdict.confidence.get(scope)
            level = conf.level if conf is not None else "low"
            if LEVELS.get(level, 0) == 0:
                held.append(Held(key.id, scope, "deferred: low confidence (SA108); never "
                                 "applied"))
            elif LEVELS[level] < threshold:
                held.append(Held(key.id, scope, f"{level} confidence, below "
                                 f"--min-confidence {options.min_confidence}"))
            else:
                chosen.append(Removal(key.id, scope, level, verdict.accepted,
                                      verdict.states.get(scope, "unused")))
        if chosen and len(chosen) == len(key.granted):
            # nothing would be left: that is revoking the key, said as such
            level = min((r.confidence for r in chosen), key=LEVELS.__getitem__)
            if key.id in unused_keys and options.revoke_unused and not key.revoke:
                revocations.append(Revocation(key.id, verdict.accepted, level))
            elif key.revoke:
                held.append(Held(key.id, None, "already marked for revocation"))
            else:
                held.append(Held(key.id, None, "every scope would go: an unused key is "
                                 "marked for revocation with --revoke-unused, never emptied"))
            continue
        removals.extend(chosen)
    return Plan(tuple(removals), tuple(revocations), tuple(pinned), tuple(held))


def _pin(key: Key, scope: str, comment_pins: frozenset[tuple[str, str]]) -> str | None:
    if scope in key.keep:
        return "pinned by the key's keep: list"
    if (key.id, scope) in comment_pins:
        return "pinned by a '# scopeaudit: keep' comment"
    return None


def verdict_of(audit: Audit, key_id: str) -> KeyVerdict | None:
    return next((v for v in audit.verdicts if v.key_id == key_id), None)
