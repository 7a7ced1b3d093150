"""'Did you mean' for a mistyped name (a configuration key, a rule id, a log format):
difflib's closest match, or nothing when none is close. A leaf module, so that any layer may
ask it (the rules' own suggestion is ``rules.registry.rule_suggestion``)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'fail-on'?"`` for the closest candidate, or ``""``."""
    pool = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(word.lower().replace("_", "-"), list(pool), n=1,
                                      cutoff=0.6)
    return f"; did you mean {pool[close[0]]!r}?" if close else ""

