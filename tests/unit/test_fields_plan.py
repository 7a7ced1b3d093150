"""The per-shape fast field extraction gives exactly what the generic candidate search gives."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from scopeaudit.usage.fields import DEFAULTS, FIELDS, BadRecord, FieldMap
from scopeaudit.usage.identity import KeyResolver
from scopeaudit.usage.record import InputStats, ReadContext

NAMES = sorted({name for names in DEFAULTS.values() for name in names} | {"other", "nested"})
VALUES = st.one_of(st.sampled_from(["", "-", "GET", "get", "/v1/issues?x=1", "GET /v1/sites",
                                    "2026-11-27T10:00:00Z", "2026-11-27T10:00:00.5Z",
                                    "1795788231", "k1", "ua/1", "192.0.2.1", "200", "abc"]),
                   st.integers(-5, 1200), st.none(), st.booleans(), st.floats(0, 2e9))


def reference(fields: FieldMap, obj: dict[str, Any]) -> list[Any]:
    return [fields.get(obj, f) for f in FIELDS]


def outcome(fields: FieldMap, obj: dict[str, Any]) -> object:
    ctx = ReadContext(InputStats("x"), KeyResolver(()), on_token=lambda key, line: None)
    try:
        return tuple(fields.record(obj, 1, ctx, False))
    except BadRecord as exc:
        return ("bad", str(exc))


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=10))
def test_fast_values_equal_generic_search(obj: dict[str, Any]) -> None:
    fields = FieldMap.build({})
    fast = fields._extractor(obj)(obj)
    normalised = [None if v == "" or v == "-" else v for v in fast]
    assert normalised == reference(fields, obj)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=10), max_size=6))
def test_records_do_not_depend_on_what_came_before(objs: list[dict[str, Any]]) -> None:
    shared = FieldMap.build({})  # its per-shape cache warms up across records
    for obj in objs:
        assert outcome(shared, obj) == outcome(FieldMap.build({}), obj)
