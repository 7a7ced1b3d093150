"""The scan's findings: calls the key's scopes do not allow (SA401), calls it cannot map
(SA402), and (audit --code) granted scopes kept because the code needs them (SA403). Built
from the registry like every other rule's findings."""

from __future__ import annotations

import fnmatch

from scopeaudit import model
from scopeaudit.model import Finding, Key, KeyVerdict, Location, Rule, Severity
from scopeaudit.scan.model import CallStatus, ScannedCall

CODE = "code"

CODE_NEEDS_MISSING_SCOPE = Rule(
    id="SA401", name="code-needs-missing-scope", severity=Severity.HIGH, family=CODE,
    summary="The code calls an operation that needs a scope its key does not hold.",
    what="Matches each API call found in the key's code (`code:` globs in the key file, or "
         "`scan --key-id`) to the catalog, and reports each call whose operation no "
         "combination of the key's scopes allows, at the call's file and line.",
    why="The call would be refused with 403 in production: a pull request that starts "
        "calling a new endpoint breaks the integration the day it ships, unless the key is "
        "widened first, on purpose and reviewed.",
    example="src/sync.py:42: PATCH /v1/issues/{id} needs issues:write; key_ticket_sync "
            "holds issues:read",
    remediation="Grant the scope to the key (and review that the integration should have "
                "it), or change the code not to make the call.",
)

UNRESOLVED_CALL = Rule(
    id="SA402", name="unresolved-call", severity=Severity.INFO, family=CODE,
    summary="A call in the code whose method or path cannot be read, or that matches no "
            "operation of the catalog.",
    what="Reports each HTTP call the scan found but could not map: the method or the URL "
         "is computed at run time (a parameter, a function's result), or the path it reads "
         "matches no operation.",
    why="What the scan cannot map it cannot check: the scopes such a call needs are not in "
        "the summary, and a scope it uses could look unneeded.",
    example="src/client.py:24: GET: the URL is computed at run time",
    remediation="Write the path as a literal, an f-string or template literal, or a "
                "constant in the same file; or accept the call as unchecked and review it "
                "by hand.",
)

NEEDED_BY_CODE = Rule(
    id="SA403", name="needed-by-code", severity=Severity.INFO, family=CODE,
    summary="A granted scope the logs never saw used, kept because the key's code calls an "
            "operation that needs it.",
    what="With `audit --code`, matches each call in the key's code to the catalog as a "
         "logged request would be matched, and reports each granted scope the calls need "
         "that no accepted request in the window used. The scope's state is *needed by "
         "code*: it is kept, never recommended for removal; the finding stands on the "
         "first call site and lists them all.",
    why="Logs show what a key did, not what its code will do: a feature not yet released, "
        "or a job that runs once a year, needs its scope on the day it runs. Removing it "
        "on the logs' word alone would break that day.",
    example="src/app.ts:31: key 'key_mobile' never used 'checkins:read' in the window, but "
            "its code calls an operation that needs it (1 call site: src/app.ts:31): kept",
    remediation="Nothing to do if the call is meant. If the code is dead, delete it, and "
                "the next audit recommends the removal.",
)



def _finding(rule: Rule, call: ScannedCall, message: str, key: Key | None,
             scope: str | None, discriminator: str) -> Finding:
    return rule.finding(message, call.site.location, key=key.id if key else None, scope=scope,
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
    return _finding(CODE_NEEDS_MISSING_SCOPE, call,
                    f"{op.method} {op.path} ({op.id}) needs {names}, which key {key.label} "
                    "does not hold: the call would be refused with 403",
                    key, names, f"{op.method} {op.path}")


def unresolved(call: ScannedCall, key: Key | None) -> Finding | None:
    site = call.site
    if call.status is CallStatus.UNDETERMINED:
        shown = " ".join(p for p in (site.method, site.target) if p)
        return _finding(UNRESOLVED_CALL, call,
                        f"{shown + ': ' if shown else ''}{site.reason}", key, None,
                        f"{site.method}|{site.target}")
    if call.status is CallStatus.UNMATCHED:
        return _finding(UNRESOLVED_CALL, call,
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
    if verdict.code is None:
        return []
    out = []
    for scope, sites in sorted(verdict.code.sites.items()):
        if verdict.states.get(scope) != model.NEEDED_BY_CODE or not sites:
            continue
        out.append(NEEDED_BY_CODE.finding(
            f"key {key.id!r} never used {scope!r} in the window, but its code calls an "
            f"operation that needs it ({len(sites)} call site{'s' if len(sites) != 1 else ''}"
            f": {sites_text(sites)}): kept, not removed",
            sites[0], key=key.id, scope=scope,
            evidence={"call_sites": [str(s) for s in sites]}))
    return out
