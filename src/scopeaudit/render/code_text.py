"""audit --code in words, for the table, Markdown and HTML views (each escapes it its own
way): what was scanned, and each scope kept because the key's code needs it (the state
*needed by code*) with its call sites."""

from __future__ import annotations

from scopeaudit.model import NEEDED_BY_CODE, CodeSummary, KeyVerdict
from scopeaudit.scan.findings import sites_text


def code_text(code: CodeSummary) -> str:
    """What was scanned and how its calls were given to keys."""
    given = f"--code-key {code.code_key}" if code.code_key else "the keys' `code:` globs"
    files = "file" if code.files == 1 else "files"
    calls = "call" if code.calls == 1 else "calls"
    return (f"{code.files:,} source {files} in {', '.join(code.paths)}: {code.calls:,} API "
            f"{calls}, {code.unresolved:,} not mapped (SA402); given to keys by {given} "
            f"({', '.join(code.keys) or 'none'})")


def needed_by_code_texts(v: KeyVerdict) -> tuple[str, ...]:
    """The key's scopes needed by code, each as "scope (file:line, …)", in scope order."""
    if v.code is None:
        return ()
    return tuple(f"{scope} ({sites_text(sites)})"
                 for scope, sites in sorted(v.code.sites.items())
                 if v.states.get(scope) == NEEDED_BY_CODE)
