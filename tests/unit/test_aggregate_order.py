"""The aggregator's route cache never lets one record's routing decide another's."""

from __future__ import annotations

from scopeaudit.catalog import load_builtin
from scopeaudit.usage.aggregate import Aggregator
from scopeaudit.usage.record import Record

T = 1_790_000_000.0


def usage_of(targets: list[str]) -> tuple[int, dict[str, int]]:
    agg = Aggregator(load_builtin())
    records = [Record(T + i, "key_a", "GET", t, 200, None, None, 1, i + 1, False)
               for i, t in enumerate(targets)]
    agg.consume(records, "logs.jsonl")
    usage = agg.finish()
    return usage.invalid_targets, {op: c.count for (_, op, _, _), c in usage.cells.items()}


def test_a_target_without_a_slash_is_not_keyed_as_an_identifier_path() -> None:
    # "5" is not an origin-form target (invalid: it has no leading '/'); "/7" is a path of one
    # identifier segment. Once both keyed as "/0", whichever came first decided the other.
    invalid_a, ops_a = usage_of(["5", "/7"])
    invalid_b, ops_b = usage_of(["/7", "5"])
    assert (invalid_a, ops_a) == (invalid_b, ops_b)
    assert invalid_a == usage_of(["5"])[0] + usage_of(["/7"])[0]
    assert ops_a == {**usage_of(["5"])[1], **usage_of(["/7"])[1]}
