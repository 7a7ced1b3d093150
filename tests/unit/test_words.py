"""Counted nouns read as English: '1 day', '2 days' (the new user's '1 days' and
'record(s)')."""

from __future__ import annotations

from scopeaudit.skips import skipped_sentence
from scopeaudit.words import plural


def test_plural() -> None:
    assert [plural(n, "day") for n in (0, 1, 2)] == ["0 days", "1 day", "2 days"]
    assert plural(2, "key", "keys") == "2 keys"


def test_the_skipped_sentence() -> None:
    assert skipped_sentence(1, [7], [("bad JSON", 1)]) == \
        "1 malformed record skipped (first at line 7): bad JSON"
    assert skipped_sentence(5, [1, 2], [("5 cells where --csv-columns names 6", 3),
                                        ("unreadable time", 2)]) == (
        "5 malformed records skipped (first at lines 1, 2): 5 cells where --csv-columns "
        "names 6 (3 records); unreadable time (2 records)")
    assert skipped_sentence(2, [3, 4], [], first=False) == \
        "2 malformed records skipped (lines 3, 4)"


def test_a_rule_id_started_is_completed_not_respelt() -> None:
    from scopeaudit.rules.registry import rule_suggestion

    assert rule_suggestion("SA10").startswith("; did you mean one of 'SA101', 'SA102'")
    assert rule_suggestion("sa30").startswith("; did you mean one of 'SA301'")
    assert rule_suggestion("unused-scop") == "; did you mean 'unused-scope'?"
