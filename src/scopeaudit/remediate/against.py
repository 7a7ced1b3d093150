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
from scopeaudit.model import Finding, Inventory, Key
from scopeaudit.rules.registry import get_rule
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
                findings.append(_finding("SA215", key, None, (
                    f"{key.id} is not in {reference.source} and grants the write scope(s) "
                    f"{', '.join(write)}")))
            else:
                findings.append(_finding("SA214", key, None,
                                         f"{key.id} is not in {reference.source}"))
            continue
        for scope in granted:
            if scope in before[key.id] or _justified(key, scope, as_of):
                continue
            rule = "SA217" if scope in writes else "SA216"
            findings.append(_finding(rule, key, scope, (
                f"{key.id} gains {scope} (not granted in {reference.source})")))
    return findings


def _justified(key: Key, scope: str | None, as_of: date) -> bool:
    if key.expires is None or key.expires < as_of:
        return False
    if key.justification:
        return True
    return scope is not None and any(s == scope for s, _ in key.scope_justifications)


def _finding(rule_id: str, key: Key, scope: str | None, message: str) -> Finding:
    rule = get_rule(rule_id)
    return Finding(rule=rule.id, name=rule.name, severity=rule.severity,
                   message=redact(message),
                   location=key.grant_location(scope) if scope else key.location,
                   key=key.id, scope=scope)
