"""Staged removal (``fix --announce`` and ``fix --history``): a removal is announced first,
and applied only once it has stayed unused for ``--announce-days`` since.

* ``fix --announce --history DB`` records the plan's removals in the history, each with the
  audit day (an announcement already open is kept, with its first day);
* a later ``fix --history DB`` applies a removal of the plan only if it was announced at
  least N days before the audit day, and the audit's window reaches back to that day (so
  "unused in the window" covers every day since the announcement); the rest are held, with
  the day they apply from;
* an open announcement whose scope the audit no longer recommends removing (used, or
  unknown, in the window) was used since: it is withdrawn, reported, and must be announced
  again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from scopeaudit.history import Announcement
from scopeaudit.model import Audit
from scopeaudit.remediate.plan import Held, Plan
from scopeaudit.secrets import redact

DEFAULT_DAYS = 14


def withdrawn(audit: Audit, announced: tuple[Announcement, ...]
              ) -> list[tuple[Announcement, str]]:
    """Open announcements the audit shows used since: (announcement, why)."""
    verdicts = {v.key_id: v for v in audit.verdicts}
    keys = {k.id: k for k in audit.keys}
    out = []
    for a in announced:
        verdict, key = verdicts.get(a.key_id), keys.get(a.key_id)
        if verdict is None or key is None or a.scope not in key.granted:
            continue  # not judged in this run, or no longer granted: nothing to say
        if a.scope not in verdict.remove:
            state = verdict.states.get(a.scope, "used")
            out.append((a, f"{state} since its announcement on {a.announced}; announce it "
                           "again once unused"))
    return out


def stage(plan: Plan, audit: Audit, announced: tuple[Announcement, ...], days: int) -> Plan:
    """The plan with only the removals announced ``days`` or more before the audit day (and
    no use since); the withdrawn announcements reported."""
    pulled = withdrawn(audit, announced)
    gone = {(a.key_id, a.scope) for a, _ in pulled}
    by_scope = {(a.key_id, a.scope): a for a in announced if (a.key_id, a.scope) not in gone}
    kept, held = [], []
    since = audit.window.since if audit.window is not None else None
    for removal in plan.removals:
        a = by_scope.get((removal.key_id, removal.scope))
        if a is None:
            held.append(Held(removal.key_id, removal.scope,
                             f"not announced: fix --announce first; it applies {days} days "
                             "later if still unused"))
            continue
        day = date.fromisoformat(a.announced)
        due = day + timedelta(days=days)
        if due > audit.as_of:
            held.append(Held(removal.key_id, removal.scope,
                             f"announced {a.announced}; applies from {due.isoformat()}"))
        elif since is None or since > day:
            held.append(Held(removal.key_id, removal.scope,
                             f"announced {a.announced}, before the window ({since}): use "
                             "since the announcement is not ruled out"))
        else:
            kept.append(removal)
    return replace(plan, removals=tuple(kept), held=plan.held + tuple(held),
                   withdrawn=tuple(Held(a.key_id, a.scope, why) for a, why in pulled))


def applied(plan: Plan, announced: tuple[Announcement, ...]) -> list[Announcement]:
    """The announcements a written plan carried out."""
    done = {(r.key_id, r.scope) for r in plan.removals}
    return [a for a in announced if (a.key_id, a.scope) in done]


def announce_text(plan: Plan, already: tuple[Announcement, ...], day: str, days: int,
                  fmt: str) -> str:
    """What ``fix --announce`` announced, for the keys' owners: one line per removal (a
    Markdown list with ``--format markdown``)."""
    from scopeaudit.render.markdown import md

    first = {(a.key_id, a.scope): a.announced for a in already}
    lines = []
    for r in sorted(plan.removals, key=lambda r: (r.key_id, r.scope)):
        on = first.get((r.key_id, r.scope), day)
        due = (date.fromisoformat(on) + timedelta(days=days)).isoformat()
        was = "already announced" if on != day else "announced"
        lines.append((r.key_id, r.scope, f"{was} {on}; removed from {due} if still unused "
                                         f"({r.confidence} confidence)"))
    if fmt == "markdown":
        out = [f"## scopeaudit: removals announced {day}", ""]
        out += [f"- {md(k)} {md(s)}: {md(why)}" for k, s, why in lines] or ["Nothing to "
                                                                            "announce."]
        return "\n".join(out) + "\n"
    return "".join(redact(f"{k} {s}: {why}\n") for k, s, why in lines)
