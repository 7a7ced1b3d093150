"""The scan's findings: calls the key's scopes do not allow (SA401), calls it cannot map
(SA402), and (audit --code) granted scopes kept because the code needs them (SA403). Built
from the registry like every other rule's findings."""

from __future__ import annotations

import fnmatch

from scopeaudit.model import Finding, Key, KeyVerdict, Location, Severity
from scopeaudit.rules.registry import REGISTRY
from scopeaudit.scan.model import CallStatus, ScannedCall


def _finding(rule_id: str, call: ScannedCall, message: str, key: Key | None,
             scope: str | None, discriminator: str,
             severity: Severity | None = None) -> Finding:
    rule = REGISTRY[rule_id]
    return Finding(rule.id, rule.name, severity or rule.severity, message,
                   call.site.location, key=key.id if key else None, scope=scope,
                   # no line number: an identity survives edits above the call
                   discriminator=f"{call.site.location.file}|{discriminator}")


def missing_scope(call: ScannedCall, key: Key) -> Finding | None:
    """SA401 when no alternative of the call's operation is held by ``key``."""
    op = call.operation
    granted = frozenset(key.granted)
    if op is None or op.satisfied_by(granted):
        return None
    # the cheapest alternative to grant is the one named
    lacking = min((alt - granted for alt in op.requires), key=lambda a: (len(a), sorted(a)))
    names = ", ".join(sorted(lacking))
    return _finding("SA401", call,
                    f"{op.method} {op.path} ({op.id}) needs {names}, which key {key.label} "
                    "does not hold: the call would be refused with 403",
                    key, names, f"{op.method} {op.path}")


def unresolved(call: ScannedCall, key: Key | None) -> Finding | None:
    site = call.site
    if call.status is CallStatus.UNDETERMINED:
        shown = " ".join(p for p in (site.method, site.target) if p)
        return _finding("SA402", call, f"{shown + ': ' if shown else ''}{site.reason}", key,
                        None, f"{site.method}|{site.target}")
    if call.status is CallStatus.UNMATCHED:
        return _finding("SA402", call,
                        f"{site.method} {call.path} matches no operation of the catalog",
                        key, None, f"{site.method}|{call.path}")
    return None


def covers(key: Key, path: str) -> bool:
    """Whether one of the key's ``code:`` globs names ``path`` (as the scan shows it). A
    glob's ``*`` crosses folders, as in ``src/*.py`` for every Python file under src/; a
    folder names every file under it."""
    posix = path.removeprefix("./")
    for pattern in key.code:
        pattern = pattern.removeprefix("./")
        if fnmatch.fnmatchcase(posix, pattern) or \
                fnmatch.fnmatchcase(posix, pattern.replace("**/", "*")) or \
                posix.startswith(pattern.rstrip("/") + "/"):
            return True
    return False


def check_keys(calls: tuple[ScannedCall, ...], keys: tuple[Key, ...],
               everything: bool) -> tuple[Finding, ...]:
    """Findings for ``calls`` against each key: every call (``everything``: --key-id) or the
    calls in the files the key's ``code:`` globs name. A call no key covers is still reported
    when it cannot be mapped (SA402)."""
    out: list[Finding] = []
    for call in calls:
        owners = [k for k in keys if everything or covers(k, call.site.location.file)]
        for key in owners:
            found = missing_scope(call, key) or unresolved(call, key)
            if found is not None:
                out.append(found)
        if not owners:
            found = unresolved(call, None)
            if found is not None:
                out.append(found)
    return tuple(out)


SITES_SHOWN = 3


def sites_text(sites: tuple[Location, ...]) -> str:
    """Call sites in words: the first SITES_SHOWN, and how many more."""
    shown = ", ".join(str(s) for s in sites[:SITES_SHOWN])
    more = len(sites) - SITES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def needed_by_code(key: Key, verdict: KeyVerdict) -> list[Finding]:
    """SA403 for each scope of the verdict that is needed by code: at its first call site,
    naming them all in its evidence."""
    from scopeaudit.evidence import NEEDED_BY_CODE

    if verdict.code is None:
        return []
    rule = REGISTRY["SA403"]
    out = []
    for scope, sites in sorted(verdict.code.sites.items()):
        if verdict.states.get(scope) != NEEDED_BY_CODE or not sites:
            continue
        out.append(Finding(
            rule.id, rule.name, rule.severity,
            f"key {key.id!r} never used {scope!r} in the window, but its code calls an "
            f"operation that needs it ({len(sites)} call site{'s' if len(sites) != 1 else ''}"
            f": {sites_text(sites)}): kept, not removed",
            sites[0], key=key.id, scope=scope,
            evidence={"call_sites": [str(s) for s in sites]}))
    return out
