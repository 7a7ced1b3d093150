"""How skipped records are told: the one sentence the warning on stderr and the table report
both say. A leaf, so that the readers' checks (usage/inputcheck.py) and the views
(render/table.py) share it without one importing the other."""

from __future__ import annotations

from collections.abc import Iterable

from scopeaudit.words import plural


def skipped_sentence(skipped: int, lines: Iterable[int], reasons: Iterable[tuple[str, int]],
                     first: bool = True) -> str:
    """``2 malformed records skipped (first at lines 1, 2): bad JSON (1 record); ...``:
    the count, the first lines (``first``: the lines are the first of more), every reason
    with its count (a lone reason without it)."""
    numbers = [str(line) for line in lines]
    where = ("first at " if first else "") + ("line " if len(numbers) == 1 else "lines ")
    reasons = list(reasons)
    # one reason is every skip's: its count would say the first number again
    told = "; ".join(reason if len(reasons) == 1 else f"{reason} ({plural(count, 'record')})"
                     for reason, count in reasons)
    return (f"{plural(skipped, 'malformed record')} skipped ({where}{', '.join(numbers)})"
            + (f": {told}" if told else ""))
