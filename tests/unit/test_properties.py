"""Property tests: on random keys and logs, no needed scope is removed and replay is clean."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scopeaudit.audit import AuditOptions, analyse
from scopeaudit.catalog import MatchKind, load_builtin
from scopeaudit.catalog.model import Catalog, Operation, Provenance, Scope
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.model import Audit, Inventory, Key, KeyVerdict, Location, ScopeGrant
from scopeaudit.rules.inventory_rules import LintSettings
from scopeaudit.usage.aggregate import Aggregator
from scopeaudit.usage.record import InputStats, Record

CATALOG = load_builtin()
SCOPES = list(CATALOG.scope_names)
UNTIL = date(2026, 11, 26)


def _concrete(path: str, n: int) -> str:
    return path.replace("{id}", str(n)).replace("/**", f"/x{n}/y")


TARGETS = sorted({(op.method, _concrete(op.path, 7)) for op in CATALOG.operations})
TARGETS += [("GET", "/v1/issues/7/history"), ("GET", "/v1/unknown/3"), ("DELETE", "/v1/sites/2"),
            ("OPTIONS", "/v1/issues"), ("HEAD", "/v1/works/9"), ("GET", "/v1/issues/?q=sk")]
STATUSES = [200, 201, 204, 301, 400, 401, 403, 404, 422, 429, 500, 503]

keys_st = st.lists(st.sets(st.sampled_from(SCOPES), max_size=8), min_size=1, max_size=3)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[set[str]], list[Record]]:
    grants = draw(keys_st)
    ids = [f"k{i}" for i in range(len(grants))] + ["stranger"]
    records = []
    for line in range(1, draw(st.integers(0, 60)) + 1):
        method, target = draw(st.sampled_from(TARGETS))
        offset = draw(st.integers(-10, 89))
        d = UNTIL - timedelta(days=89 - offset)
        t = datetime(d.year, d.month, d.day, draw(st.integers(0, 23)), tzinfo=UTC).timestamp()
        records.append(Record(t, draw(st.sampled_from(ids)), method, target,
                              draw(st.sampled_from(STATUSES)), "ua", "192.0.2.1",
                              draw(st.integers(1, 3)), line, False))
    return grants, records


def assert_needed_kept(op: Operation, granted: frozenset[str], v: KeyVerdict) -> None:
    """No scope an accepted request to ``op`` needed is removed from a key granted
    ``granted``: where the grants hold an alternative whole, the recommendation still does
    (least privilege picks among those); where they hold none whole (the API accepted the
    request all the same), no granted scope of any alternative is removed, since any may be
    what the server applied. Never is a scope the key lacks recommended."""
    recommended = frozenset(v.recommended)
    assert recommended <= granted
    if op.satisfied_by(granted):
        assert op.satisfied_by(recommended)
    else:
        assert not (op.scopes & granted & set(v.remove))


def audit_of(catalog: Catalog, grants: list[set[str]], records: list[Record],
             created: str | None) -> Audit:
    keys = tuple(
        Key(id=f"k{i}", location=Location("keys.yaml", i + 1),
            scope_grants=tuple(ScopeGrant(s, Location("keys.yaml", i + 1)) for s in sorted(g)),
            created=date.fromisoformat(created) if created else None)
        for i, g in enumerate(grants)
    )
    inventory = Inventory("keys.yaml", keys, "0" * 64)
    agg = Aggregator(catalog)
    agg.consume(records, "logs")
    return analyse(inventory, catalog, agg.finish(), [InputStats("logs")],
                   (len(records), 0),
                   AuditOptions(lint=LintSettings(as_of=UNTIL), until=str(UNTIL)),
                   Diagnostics(), timestamp=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario(), st.sampled_from(["2026-01-01", "2026-10-20", None]))
def test_no_needed_scope_is_removed_and_replay_is_clean(
        data: tuple[list[set[str]], list[Record]], created: str | None) -> None:
    grants, records = data
    audit = audit_of(CATALOG, grants, records, created)
    assert audit.replay is not None and audit.replay.would_be_denied == 0
    verdicts = {v.key_id: v for v in audit.verdicts}
    since = UNTIL - timedelta(days=89)
    for r in records:
        when = datetime.fromtimestamp(r.time, UTC).date()
        if r.key not in verdicts or r.status in (401, 403) or not since <= when <= UNTIL:
            continue
        match = CATALOG.router.match(r.method, r.target)
        v = verdicts[r.key]
        if match.kind is MatchKind.MATCHED and match.operation is not None:
            assert_needed_kept(match.operation, frozenset(grants[int(r.key[1:])]), v)
            assert not (match.operation.scopes & set(v.remove))
        elif match.kind is MatchKind.UNMATCHED:
            # an unmatched request keeps its resource's scopes; on no known resource, all,
            # unless it was answered 404 or 405 (it reached no handler)
            resource = next((res for res, prefixes in CATALOG.resources for p in prefixes
                             if match.path == p or match.path.startswith(p + "/")), None)
            if resource is None and r.status not in (404, 405):
                assert v.remove == ()
            for scope in v.remove:
                assert not scope.startswith(f"{resource}:")


# --- OR-of-AND catalogs, alternatives held in part ----------------------------------------

OR_SCOPES = ["p:read", "p:write", "q:read", "q:write", "r:read", "s:read"]
# a non-empty subset of OR_SCOPES as a bit mask, so that hypothesis shrinks it well
_ALTERNATIVE = st.integers(1, 2 ** len(OR_SCOPES) - 1).map(
    lambda bits: frozenset(s for i, s in enumerate(OR_SCOPES) if bits >> i & 1))


@st.composite
def or_scenario(draw: st.DrawFn) -> tuple[Catalog, list[set[str]], list[Record]]:
    """A catalog whose operations need one of 1-3 alternatives of 1-6 scopes each, keys
    that mostly hold part of an alternative (one scope short of it, plus a random few), and
    requests the API accepted (or refused) whatever the definitions say."""
    ops = tuple(Operation(f"op{i}", "GET", f"/o{i}",
                          tuple(draw(st.lists(_ALTERNATIVE, min_size=1, max_size=3))),
                          Provenance.DOCUMENTED)
                for i in range(draw(st.integers(1, 4))))
    catalog = Catalog("t", "1", tuple(Scope(s) for s in OR_SCOPES), ops)
    grants = []
    for _ in range(draw(st.integers(1, 3))):
        alt = sorted(draw(st.sampled_from(ops)).requires[0])
        held = set(alt) - {draw(st.sampled_from(alt))}
        grants.append(held | draw(st.sets(st.sampled_from(OR_SCOPES), max_size=2)))
    records = []
    for line in range(1, draw(st.integers(1, 40)) + 1):
        offset = draw(st.integers(-3, 89))
        d = UNTIL - timedelta(days=89 - offset)
        t = datetime(d.year, d.month, d.day, 12, tzinfo=UTC).timestamp()
        target = draw(st.sampled_from([op.path for op in ops] + ["/nope", "/o9/x"]))
        records.append(Record(t, f"k{draw(st.integers(0, len(grants) - 1))}", "GET", target,
                              draw(st.sampled_from([200, 204, 404, 405, 500, 401, 403])),
                              "ua", "192.0.2.1", 1, line, False))
    return catalog, grants, records


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(or_scenario())
def test_or_of_and_catalogs_never_lose_a_needed_scope(
        data: tuple[Catalog, list[set[str]], list[Record]]) -> None:
    catalog, grants, records = data
    audit = audit_of(catalog, grants, records, "2026-01-01")
    assert audit.replay is not None and audit.replay.would_be_denied == 0
    verdicts = {v.key_id: v for v in audit.verdicts}
    since = UNTIL - timedelta(days=89)
    for r in records:
        when = datetime.fromtimestamp(r.time, UTC).date()
        if r.status in (401, 403) or not since <= when <= UNTIL:
            continue
        match = catalog.router.match(r.method, r.target)
        if match.operation is not None:
            assert_needed_kept(match.operation, frozenset(grants[int(r.key[1:])]),
                               verdicts[r.key])
