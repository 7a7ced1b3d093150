"""No new access: the key definitions compared with a reference (``lint --against REF``).

REF is a second key file, or a git ref whose version of the same file is read with
``git show REF:./FILE`` run in the file's folder: a fixed argument list, no shell, and git
told not to run anything the repository configures (no text conversion filter, no
fsmonitor hook). Keys are compared by id; a scope counts as added when the key's reference
definition does not grant it.
"""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

from scopeaudit.catalog.model import Catalog
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.inventory import KeysFormat, parse_inventory
from scopeaudit.model import Finding, Inventory, Key, Rule, Severity
from scopeaudit.secrets import redact

_GIT_TIMEOUT = 60.0


def load_reference(ref: str, keys_path: str, fmt: KeysFormat) -> Inventory:
    """The reference definitions: the file REF, else the key file as of the git ref REF."""
    if Path(ref).is_file():
        return parse_inventory(Path(ref).read_bytes(), ref, fmt, Diagnostics())
    if ref.startswith("-") or not ref.strip() or any(c in ref for c in "\0\n\r"):
        raise InputError(f"--against: {redact(ref)!r} is neither a file nor a git ref")
    keys = Path(keys_path)
    argv = ["git", "-c", "core.fsmonitor=false", "--no-pager", "show", "--no-textconv",
            f"{ref}:./{keys.name}"]
    try:
        done = subprocess.run(argv, cwd=keys.parent if str(keys.parent) else ".",  # noqa: S603
                              capture_output=True, timeout=_GIT_TIMEOUT, check=False)
    except FileNotFoundError:
        raise InputError("--against: git is not installed, and no such file",
                         file=ref) from None
    except subprocess.TimeoutExpired:
        raise InputError("--against: git show did not answer in time", file=ref) from None
    if done.returncode != 0:
        why = redact(done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:][0]
                     if done.stderr.strip() else "git show failed")
        raise InputError(f"--against: neither a file nor a git ref holding {keys.name} "
                         f"({why})", file=ref)
    return parse_inventory(done.stdout, f"{ref}:{keys_path}", fmt, Diagnostics())


CHANGE = "change"
_CLEARED = ("Cleared only by a `justification` and an `expires` date (not past) on the key: "
            "`justification:` as text for the whole key, or as a mapping of scope -> text for "
            "one scope.")

KEY_ADDED = Rule(
    id="SA214", name="key-added", severity=Severity.LOW, family=CHANGE,
    summary="A key that the reference (`lint --against REF`) does not define, with no write "
            "scope.",
    what="Compares the key definitions with those of REF (a git ref, or a second key file) by "
         "id, and reports each key only the current file defines. " + _CLEARED,
    why="Every key is a new way in. A review of keys-as-code should see each one arrive, with "
        "its owner and the reason it exists.",
    example="key_reports_v2 is not in origin/main:infra/keys.yaml",
    remediation="Give the key an owner, a `justification` and an `expires` date, or drop it.",
)

KEY_ADDED_WITH_WRITE_SCOPES = Rule(
    id="SA215", name="key-added-with-write-scopes", severity=Severity.HIGH, family=CHANGE,
    summary="A key that the reference does not define, granting at least one write scope.",
    what="As SA214, for a new key that grants a write scope (one that creates, changes or "
         "deletes data); the finding names the write scopes. " + _CLEARED,
    why="A new key with write access is the change a no-new-access gate exists for: a token "
        "that can change data, arriving in a pull request.",
    example="key_sync_v2 is not in origin/main:infra/keys.yaml and grants issues:write",
    remediation="Narrow the key to read scopes, or justify it with an expiry date.",
)

SCOPE_ADDED = Rule(
    id="SA216", name="scope-added", severity=Severity.MEDIUM, family=CHANGE,
    summary="A read scope granted to a key that the reference defines without it.",
    what="For each key in both files, reports each read scope the current file grants and the "
         "reference does not. The finding points at the line that grants it. " + _CLEARED,
    why="Keys widen one scope at a time; each step looks harmless in review. The gate makes "
        "every widening a stated decision.",
    example="key_bi_export gains users:read (not granted in origin/main:infra/keys.yaml)",
    remediation="Drop the scope, or state why it is needed and until when.",
)

WRITE_SCOPE_ADDED = Rule(
    id="SA217", name="write-scope-added", severity=Severity.HIGH, family=CHANGE,
    summary="A write scope granted to a key that the reference defines without it.",
    what="As SA216, for a write scope. " + _CLEARED,
    why="A write scope added to an existing key turns a reader into a writer: a leaked token "
        "can then change or destroy data.",
    example="key_bi_export gains issues:write (not granted in origin/main:infra/keys.yaml)",
    remediation="Use a separate key for the writes, or justify the scope with an expiry date.",
)


def new_access(current: Inventory, reference: Inventory, catalog: Catalog,
               as_of: date) -> list[Finding]:
    """SA214-SA217: keys and scopes the current definitions grant and the reference does
    not, unless justified (a ``justification`` and an ``expires`` not past, on the key)."""
    before = {k.id: frozenset(k.granted) for k in reference.keys}
    writes = catalog.write_scopes
    findings = []
    for key in current.keys:
        granted = key.granted
        if key.id not in before:
            write = [s for s in granted if s in writes]
            if _justified(key, None, as_of):
                continue
            if write:
                findings.append(_finding(KEY_ADDED_WITH_WRITE_SCOPES, key, None, (
                    f"{key.id} is not in {reference.source} and grants the write scope(s) "
                    f"{', '.join(write)}")))
            else:
                findings.append(_finding(KEY_ADDED, key, None,
                                         f"{key.id} is not in {reference.source}"))
            continue
        for scope in granted:
            if scope in before[key.id] or _justified(key, scope, as_of):
                continue
            rule = WRITE_SCOPE_ADDED if scope in writes else SCOPE_ADDED
            findings.append(_finding(rule, key, scope, (
                f"{key.id} gains {scope} (not granted in {reference.source})")))
    return findings


def _justified(key: Key, scope: str | None, as_of: date) -> bool:
    if key.expires is None or key.expires < as_of:
        return False
    if key.justification:
        return True
    return scope is not None and any(s == scope for s, _ in key.scope_justifications)


def _finding(rule: Rule, key: Key, scope: str | None, message: str) -> Finding:
    return rule.finding(redact(message),
                        key.grant_location(scope) if scope else key.location,
                        key=key.id, scope=scope)
