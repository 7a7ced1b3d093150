"""The "since last run" view (--history) the Markdown and HTML reports share: counts, the
changed findings, keys and scopes, ready to lay out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scopeaudit.model import Drift
from scopeaudit.render.text import LIST_LIMIT, first


@dataclass(frozen=True)
class DriftRow:
    state: str  # new | regressed | resolved
    severity: str
    rule: str
    key: str | None
    scope: str | None
    first_seen: str | None


@dataclass(frozen=True)
class DriftView:
    """"Since last run" (--history): counts, the changed findings, keys and scopes."""

    previous: str | None  # the previous run's time, None on a history's first run
    new: int
    persisting: int
    resolved: int
    regressed: int
    rows: tuple[DriftRow, ...]  # new, regressed and resolved findings, at most LIST_LIMIT
    more_rows: int
    keys_added: tuple[str, ...]
    keys_removed: tuple[str, ...]
    scopes_granted: tuple[str, ...]  # "key: scope"
    scopes_revoked: tuple[str, ...]
    over_privilege: int
    previous_over_privilege: int | None
    unused_scopes: int
    previous_unused_scopes: int | None


def drift_view(drift: Drift | None,
               text: Callable[[str], str] = lambda value: value) -> DriftView | None:
    """The "since last run" view (Markdown and HTML); ``text`` cleans strings from inputs
    (the HTML report makes invisible characters visible)."""
    if drift is None:
        return None

    def opt(value: str | None) -> str | None:
        return text(value) if value is not None else None

    rows = [DriftRow(state, d.severity, text(d.rule), opt(d.key), opt(d.scope), d.first_seen)
            for state, group in (("new", drift.new), ("regressed", drift.regressed),
                                 ("resolved", drift.resolved))
            for d in group]
    return DriftView(
        previous=drift.previous_run.run_at if drift.previous_run else None,
        new=len(drift.new), persisting=len(drift.persisting), resolved=len(drift.resolved),
        regressed=len(drift.regressed), rows=tuple(rows[:LIST_LIMIT]),
        more_rows=max(len(rows) - LIST_LIMIT, 0),
        keys_added=first([text(k) for k in drift.keys_added]) if drift.previous_run else (),
        keys_removed=first([text(k) for k in drift.keys_removed]),
        scopes_granted=first([text(f"{k}: {s}") for k, s in drift.scopes_granted]),
        scopes_revoked=first([text(f"{k}: {s}") for k, s in drift.scopes_revoked]),
        over_privilege=drift.over_privilege,
        previous_over_privilege=drift.previous_over_privilege,
        unused_scopes=drift.unused_scopes,
        previous_unused_scopes=drift.previous_unused_scopes,
    )
