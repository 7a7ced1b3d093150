"""Issue #15, items 1-4: no false removal from how requests are matched to keys, operations
and clients. Each test has a minimal input of its own; every expectation is worked out by
hand from the records it writes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from textwrap import dedent

import pytest

from scopeaudit.audit import AuditOptions, analyse
from scopeaudit.catalog import load_builtin
from scopeaudit.catalog.model import Catalog, Operation, Provenance, Scope
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.inventory import KeysFormat, parse_inventory
from scopeaudit.model import Audit, Finding, KeyVerdict
from scopeaudit.rules.inventory_rules import LintSettings
from scopeaudit.usage.aggregate import Aggregator
from scopeaudit.usage.record import InputStats, Record

BUILTIN = load_builtin()
UNTIL = date(2026, 11, 26)
SINCE = UNTIL - timedelta(days=89)


def day(n: int, hour: int = 12) -> float:
    """Epoch seconds for day n of the window (0 = SINCE)."""
    d = SINCE + timedelta(days=n)
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC).timestamp()


def rec(t: float, key: str | None, method: str, target: str, status: int = 200) -> Record:
    return Record(t, key, method, target, status, "ua/1", "192.0.2.1", 1, 1, False)


def daily(key: str, method: str, target: str, days: range = range(90),
          status: int = 200) -> list[Record]:
    return [rec(day(n), key, method, target, status) for n in days]


def run_audit(keys_yaml: str, records: list[Record], catalog: Catalog = BUILTIN) -> Audit:
    inventory = parse_inventory(dedent(keys_yaml).encode(), "keys.yaml", KeysFormat.YAML,
                                Diagnostics())
    agg = Aggregator(catalog)
    agg.consume(records, "logs.jsonl")
    stats = InputStats("logs.jsonl")
    stats.records = len(records)
    options = AuditOptions(lint=LintSettings(as_of=UNTIL + timedelta(days=1)),
                           until=str(UNTIL))
    return analyse(inventory, catalog, agg.finish(), [stats],
                   (len(records), len(records)), options, Diagnostics(), timestamp=False)


def verdict(audit: Audit, key: str) -> KeyVerdict:
    return next(v for v in audit.verdicts if v.key_id == key)


def findings(audit: Audit, rule: str, key: str | None = None) -> list[Finding]:
    return [f for f in audit.findings if f.rule == rule and (key is None or f.key == key)]


ISSUES_AND_SITES = """\
keys:
  - id: k
    owner: o
    created: 2026-01-01
    expires: 2027-12-31
    scopes: [issues:read, issues:write, sites:read]
"""


# --- item 1: partially held alternatives ----------------------------------------------------

ITEMS_OP = Operation("items.list", "GET", "/items", (
    frozenset({"items:read"}), frozenset({"a:read", "b:read", "c:read"})), Provenance.DOCUMENTED)
MULTI_OP = Operation("multi.get", "GET", "/multi", (
    frozenset({"a:read", "b:read", "c:read"}), frozenset({"a:read", "d:read", "items:read"})),
    Provenance.DOCUMENTED)
OR_CATALOG = Catalog(
    "t", "1", tuple(Scope(s) for s in ("a:read", "b:read", "c:read", "d:read", "items:read",
                                       "z:read")),
    (ITEMS_OP, MULTI_OP,
     Operation("z.list", "GET", "/z", (frozenset({"z:read"}),), Provenance.DOCUMENTED)))


def one_key(*scopes: str) -> str:
    return ("keys:\n  - id: k\n    owner: o\n    created: 2026-01-01\n    expires: 2027-12-31\n"
            "    scopes: [" + ", ".join(scopes) + "]\n")


def test_partially_held_alternative_keeps_its_granted_scopes() -> None:
    # GET /items needs items:read, or a:read and b:read and c:read; the key holds a:read and
    # b:read only and gets 200s every day (Jira's granular scopes: 8 of 9 held). It certainly
    # did not use items:read; it may well have used a:read and b:read.
    audit = run_audit(one_key("a:read", "b:read", "z:read"), daily("k", "GET", "/items"),
                      OR_CATALOG)
    v = verdict(audit, "k")
    assert v.states["a:read"] == "used" and v.states["b:read"] == "used"
    assert v.states["z:read"] == "unused"
    assert v.recommended == ("a:read", "b:read")  # never items:read, which it does not hold
    assert v.remove == ("z:read",)
    assert v.undeclared == ("c:read",)  # needed but not granted
    assert [f.scope for f in findings(audit, "SA102")] == ["z:read"]
    assert audit.replay is not None and audit.replay.would_be_denied == 0


def test_several_partially_held_alternatives_make_their_scopes_unknown() -> None:
    # GET /multi needs (a, b, c) or (a, d, items); the key holds a, b and d, neither whole:
    # either may be what the server applied. a is in both (used); b and d are kept as
    # unknown; nothing that both alternatives need is missing.
    audit = run_audit(one_key("a:read", "b:read", "d:read", "z:read"),
                      daily("k", "GET", "/multi"), OR_CATALOG)
    v = verdict(audit, "k")
    assert dict(v.states) == {"a:read": "used", "b:read": "unknown", "d:read": "unknown",
                              "z:read": "unused"}
    assert v.recommended == ("a:read", "b:read", "d:read")
    assert v.remove == ("z:read",) and v.undeclared == ()


def test_the_recommendation_never_holds_a_scope_the_key_lacks() -> None:
    # a key holding nothing of GET /items, answered 200: the least privileged alternative
    # (items:read) is needed but not granted, and not recommended
    audit = run_audit(one_key("z:read"), [*daily("k", "GET", "/items"),
                                          *daily("k", "GET", "/z")], OR_CATALOG)
    v = verdict(audit, "k")
    assert v.recommended == ("z:read",) and v.remove == ()
    assert v.undeclared == ("items:read",)


def test_a_whole_alternative_held_is_still_least_privilege() -> None:
    # holding items:read and a, b, c: the least privileged held alternative is items:read
    audit = run_audit(one_key("a:read", "b:read", "c:read", "items:read"),
                      daily("k", "GET", "/items"), OR_CATALOG)
    v = verdict(audit, "k")
    assert v.recommended == ("items:read",)
    assert v.remove == ("a:read", "b:read", "c:read")
    assert audit.replay is not None and audit.replay.would_be_denied == 0


def test_replay_judges_the_recommendation_as_the_key_would_hold_it() -> None:
    from scopeaudit.evidence import still_allowed

    partial = frozenset({"a:read", "b:read"})
    # what the audit used to recommend for the partial key: it would have been refused
    assert not still_allowed(ITEMS_OP, partial, frozenset({"items:read"}))
    assert still_allowed(ITEMS_OP, partial, partial)
    assert not still_allowed(ITEMS_OP, partial, frozenset({"a:read"}))
    whole = frozenset({"items:read", "a:read"})
    assert still_allowed(ITEMS_OP, whole, frozenset({"items:read"}))
    assert not still_allowed(ITEMS_OP, whole, frozenset({"a:read"}))


# --- item 2: identities that match several definitions ----------------------------------

# Made-up tokens, built at run time (no token-shaped literal in the repository).
TOKEN_Q7 = "sk_" + "live_" + "x" * 16 + "Q7r2"
TOKEN_GW = "sk_" + "live_GWa1" + "b2c3d4e5f6g7h8"
TOKEN_OTHER = "sk_" + "live_" + "y" * 20


def two_keys(matcher: str) -> str:
    return dedent(f"""\
        keys:
          - id: key_a
            owner: o
            created: 2026-01-01
            expires: 2027-12-31
            {matcher}
            scopes: [issues:read, sites:read]
          - id: key_b
            owner: o
            created: 2026-01-01
            expires: 2027-12-31
            {matcher}
            scopes: [issues:read, works:write]
        """)


def resolved(keys_yaml: str, raw: str) -> str:
    from scopeaudit.usage.identity import KeyResolver

    inventory = parse_inventory(dedent(keys_yaml).encode(), "keys.yaml", KeysFormat.YAML,
                                Diagnostics())
    label = KeyResolver(inventory.keys).resolve(raw)[0]
    assert label is not None
    return label


@pytest.mark.parametrize(("matcher", "token", "label"), [
    ("last4: Q7r2", TOKEN_Q7, "ambiguous:last4:Q7r2"),
    ("prefix: sk_live_GWa1", TOKEN_GW, "ambiguous:prefix:sk_live_GWa1"),
])
def test_a_token_two_definitions_match_is_both_keys_use(matcher: str, token: str,
                                                         label: str) -> None:
    keys = two_keys(matcher)
    assert resolved(keys, f"Bearer {token}") == label
    audit = run_audit(keys, daily(label, "GET", "/v1/issues"))
    assert findings(audit, "SA303") == [] and findings(audit, "SA101") == []
    a, b = verdict(audit, "key_a"), verdict(audit, "key_b")
    # one of them made every request: what they used stays on both
    assert (a.states["issues:read"], b.states["issues:read"]) == ("unknown", "unknown")
    assert (a.recommended, a.remove) == (("issues:read",), ("sites:read",))
    assert (b.recommended, b.remove) == (("issues:read",), ("works:write",))
    # the other removals are at most low: deferred (SA108), not SA102
    assert a.confidence["sites:read"].level == "low" and b.confidence["works:write"].level == "low"
    assert "may have been made by this key or by 'key_b' (keys.yaml:8)" in \
        a.confidence["sites:read"].basis
    assert findings(audit, "SA102") == []
    assert {f.key for f in findings(audit, "SA108")} == {"key_a", "key_b"}
    (f,) = findings(audit, "SA305")
    assert f.severity.value == "medium" and (f.location.line, f.key) == (2, "key_a")
    assert "'key_a' (keys.yaml:2)" in f.message and "'key_b' (keys.yaml:8)" in f.message
    assert f.evidence is not None
    assert (f.evidence["requests"], f.evidence["shared"]) == (90, 90)
    assert audit.replay is not None
    assert (audit.replay.requests, audit.replay.would_be_denied) == (90, 0)


INVOICE_KEYS = f"""\
keys:
  - id: key_invoice_old
    name: Invoice sync
    owner: o
    created: 2025-01-01
    expires: {SINCE + timedelta(days=30)}
    scopes: [logs:write, users:read]
  - id: key_invoice_new
    name: Invoice sync
    owner: o
    created: {SINCE + timedelta(days=20)}
    expires: 2027-12-31
    scopes: [logs:write, users:read]
"""


def test_a_shared_name_is_split_by_the_keys_dates() -> None:
    # Records name the key only: "Invoice sync", the expired key's and its replacement's.
    # Days 0-19 only the old key existed, days 20-30 both, from day 31 only the new one.
    # 401s after the old key expired are any key's (an expired key is refused so).
    records = [*daily("Invoice sync", "POST", "/v1/logs"),
               *daily("Invoice sync", "GET", "/v1/logs", range(40, 45), status=401)]
    label = resolved(INVOICE_KEYS, "Invoice sync")
    assert label == "ambiguous:name:Invoice sync"
    audit = run_audit(INVOICE_KEYS, [r._replace(key=label) for r in records])
    new, old = verdict(audit, "key_invoice_new"), verdict(audit, "key_invoice_old")
    assert new.states["logs:write"] == "used" and old.states["logs:write"] == "used"
    assert (new.accepted, old.accepted) == (59, 20)
    assert new.remove == ("users:read",) and new.confidence["users:read"].level == "low"
    assert findings(audit, "SA102") == [] and findings(audit, "SA101") == []
    assert findings(audit, "SA105") == []  # the shared 401s are nobody's in particular
    (f,) = findings(audit, "SA305")
    assert f.evidence is not None
    assert (f.evidence["requests"], f.evidence["shared"], f.evidence["shared_refused"]) == (
        95, 11, 5)
    assert f.message.endswith("; 11 accepted requests could be any of theirs: the scopes they "
                              "used are kept on each, and removals from them deferred; 5 "
                              "refused requests (401/403) could be any of theirs; 79 were told "
                              "apart by the keys' created and expires dates")
    assert [(d["key"], d["line"], d["requests"]) for d in f.evidence["definitions"]] == [
        ("key_invoice_old", 2, 20), ("key_invoice_new", 8, 59)]


def test_dates_that_tell_every_request_apart_leave_no_shared_use() -> None:
    # the old key expired the day before the new one was created: nothing is shared
    keys = INVOICE_KEYS.replace(f"created: {SINCE + timedelta(days=20)}",
                                f"created: {SINCE + timedelta(days=31)}")
    audit = run_audit(keys, daily("ambiguous:name:Invoice sync", "POST", "/v1/logs"))
    new = verdict(audit, "key_invoice_new")
    assert new.states["users:read"] == "unused"
    # observed from day 31: 59 days, so medium, and not capped
    assert new.confidence["users:read"].level == "medium"
    assert "capped at low" not in new.confidence["users:read"].basis
    (f,) = findings(audit, "SA305")
    assert f.severity.value == "low" and f.evidence is not None and f.evidence["shared"] == 0


@pytest.mark.parametrize("prefix", ["sk_live_", "sk_live", "sk_"])
def test_a_catch_all_prefix_matches_nothing(prefix: str) -> None:
    keys = f"""\
keys:
  - id: key_x
    owner: o
    created: 2026-01-01
    expires: 2027-12-31
    prefix: {prefix}
    scopes: [issues:read]
"""
    label = resolved(keys, TOKEN_OTHER)
    assert label.startswith("sha256:")  # an unknown key, not key_x
    audit = run_audit(keys, daily(label, "GET", "/v1/issues"))
    assert [f.key for f in findings(audit, "SA303")] == [label]
    (f,) = findings(audit, "SA213")
    assert f.key == "key_x" and f.location.line == 2


# --- item 3: an unmatched request on a known resource -------------------------------------


def test_undocumented_operation_makes_only_its_resource_unknown() -> None:
    # DELETE /v1/issues/{id} is in no catalog operation, but /v1/issues is the issues
    # resource: issues:write (and issues:read) may be what it needed, sites:read cannot be
    records = [*daily("k", "GET", "/v1/issues"), rec(day(40), "k", "DELETE", "/v1/issues/42")]
    audit = run_audit(ISSUES_AND_SITES, records)
    v = verdict(audit, "k")
    assert dict(v.states) == {"issues:read": "used", "issues:write": "unknown",
                              "sites:read": "unused"}
    assert v.recommended == ("issues:read", "issues:write")
    assert v.remove == ("sites:read",)
    assert [f.scope for f in findings(audit, "SA102")] == ["sites:read"]
    assert audit.replay is not None
    assert (audit.replay.would_be_denied, audit.replay.unverifiable) == (0, 1)


# --- item 4: requests that reached no handler ---------------------------------------------


@pytest.mark.parametrize(("method", "target", "status"), [
    ("GET", "/v1/version", 404),  # an SDK's version probe
    ("GET", "/", 404),  # a health probe
    ("GET", "/v1/isues", 404),  # a typo
    ("POST", "/v1/isues/7", 405),
])
def test_unrouted_404_or_405_on_no_known_resource_exercises_no_scope(
        method: str, target: str, status: int) -> None:
    records = [*daily("k", "GET", "/v1/issues"), *daily("k", method, target, status=status)]
    audit = run_audit(ISSUES_AND_SITES, records)
    v = verdict(audit, "k")
    assert dict(v.states) == {"issues:read": "used", "issues:write": "unused",
                              "sites:read": "unused"}
    assert v.remove == ("issues:write", "sites:read")
    assert {f.scope: f.confidence for f in findings(audit, "SA102")} == {
        "issues:write": "high", "sites:read": "high"}
    # still a request no operation describes: listed, as before
    assert sum(n for _, n in v.unmatched) == 90


@pytest.mark.parametrize("status", [200, 400, 422, 500])
def test_other_unmatched_statuses_on_no_known_resource_keep_every_scope(status: int) -> None:
    records = [*daily("k", "GET", "/v1/issues"), rec(day(3), "k", "GET", "/v1/version", status)]
    v = verdict(run_audit(ISSUES_AND_SITES, records), "k")
    assert v.remove == ()
    assert v.states["sites:read"] == "unknown"


def test_a_404_under_a_known_resource_still_keeps_that_resource() -> None:
    # the handler for /v1/issues exists; a 404 there may come after the scope check
    records = [*daily("k", "GET", "/v1/sites"), rec(day(3), "k", "DELETE", "/v1/issues/9", 404)]
    v = verdict(run_audit(ISSUES_AND_SITES, records), "k")
    assert v.states["issues:write"] == "unknown" and v.states["issues:read"] == "unknown"
    assert v.remove == ()


def test_status_class_sets_404_and_405_apart_everywhere() -> None:
    from scopeaudit.usage.semantics import status_class

    assert [status_class(s) for s in (200, 401, 403, 404, 405, 406, 400, 500)] == [
        "2xx", "401", "403", "404", "405", "4xx", "4xx", "5xx"]


@pytest.mark.parametrize(("rule", "name"), [("SA213", "catch-all-prefix"),
                                            ("SA305", "ambiguous-key-match")])
def test_the_new_rules_are_explained(rule: str, name: str) -> None:
    from click.testing import CliRunner

    from scopeaudit.cli import cli

    result = CliRunner().invoke(cli, ["explain", rule])
    assert result.exit_code == 0 and result.output.startswith(f"{rule} {name} ")
    for heading in ("What it does", "Why it matters", "Example", "Remediation"):
        assert f"\n{heading}\n" in result.output
    assert CliRunner().invoke(cli, ["explain", name]).output == result.output
