"""'Did you mean' for a mistyped name (a configuration key, a rule id): difflib's closest
match, or nothing when none is close."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from scopeaudit.rules.registry import all_rules


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'fail-on'?"`` for the closest candidate, or ``""``."""
    pool = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(word.lower().replace("_", "-"), list(pool), n=1,
                                      cutoff=0.6)
    return f"; did you mean {pool[close[0]]!r}?" if close else ""


def rule_suggestion(word: str) -> str:
    """'Did you mean' over every rule's id and name (code rules too)."""
    rules = all_rules(include_code=True)
    return did_you_mean(word, [*(r.id for r in rules), *(r.name for r in rules)])
