"""Rules of evidence, window, coverage, confidence and the usage rules, on hand-built records.

Every expectation here is worked out by hand from the records each test writes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from textwrap import dedent

import pytest

from scopeaudit.audit import AuditOptions, analyse
from scopeaudit.catalog import load_builtin
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.inventory import KeysFormat, parse_inventory
from scopeaudit.model import Audit, Finding, KeyVerdict, Severity
from scopeaudit.rules.inventory_rules import LintSettings
from scopeaudit.rules.usage_rules import UsageSettings
from scopeaudit.usage.aggregate import Aggregator
from scopeaudit.usage.record import InputStats, Record
from scopeaudit.window import resolve_window
from support import SINCE, UNTIL, day, rec

CATALOG = load_builtin()


def daily(key: str, method: str, target: str, days: range = range(90), status: int = 200,
          **kw: object) -> list[Record]:
    return [rec(day(n), key, method, target, status, **kw) for n in days]  # type: ignore[arg-type]


def run_audit(keys_yaml: str, records: list[Record], *, since: str | None = None,
              until: str | None = None, shared: int = 3) -> Audit:
    inventory = parse_inventory(dedent(keys_yaml).encode(), "keys.yaml", KeysFormat.YAML,
                                Diagnostics())
    agg = Aggregator(CATALOG)
    agg.consume(records, "logs.jsonl")
    stats = InputStats("logs.jsonl")
    stats.records = len(records)
    options = AuditOptions(lint=LintSettings(as_of=date(2026, 11, 27)),
                           usage=UsageSettings(shared_key_clients=shared),
                           since=since, until=until)
    return analyse(inventory, CATALOG, agg.finish(), [stats],
                   (len(records), sum(r.hits for r in records)), options, Diagnostics(),
                   timestamp=False)


def verdict(audit: Audit, key: str) -> KeyVerdict:
    return next(v for v in audit.verdicts if v.key_id == key)


def usage_findings(audit: Audit, rule: str) -> list[Finding]:
    return [f for f in audit.findings if f.rule == rule]


KEY_OLD = """\
keys:
  - id: k
    owner: o
    created: 2026-01-01
    expires: 2027-12-31
    scopes:
      - issues:read
      - issues:write
      - sites:read
"""


def test_states_used_unused_and_recommendation() -> None:
    audit = run_audit(KEY_OLD, daily("k", "GET", "/v1/issues/1"))
    v = verdict(audit, "k")
    assert dict(v.states) == {"issues:read": "used", "issues:write": "unused",
                              "sites:read": "unused"}
    assert v.recommended == ("issues:read",)
    assert v.remove == ("issues:write", "sites:read")
    assert v.confidence["issues:write"].level == "high"
    assert v.accepted == 90 and v.active_days == 90
    sa102 = {f.scope: f for f in usage_findings(audit, "SA102")}
    assert sa102["issues:write"].severity is Severity.HIGH  # a write scope
    assert sa102["sites:read"].severity is Severity.MEDIUM
    assert sa102["issues:write"].location.line == 8  # the line granting it
    assert sa102["issues:write"].confidence == "high"
    assert audit.replay is not None
    assert (audit.replay.requests, audit.replay.would_be_denied) == (90, 0)


@pytest.mark.parametrize("status", [404, 429, 500, 503, 422, 0])
def test_non_auth_failures_count_as_exercised(status: int) -> None:
    records = [*daily("k", "GET", "/v1/issues"), rec(day(5), "k", "POST", "/v1/issues", status)]
    v = verdict(run_audit(KEY_OLD, records), "k")
    assert v.states["issues:write"] == "used"


@pytest.mark.parametrize("status", [401, 403])
def test_refusals_are_not_use(status: int) -> None:
    records = [*daily("k", "GET", "/v1/issues"), rec(day(5), "k", "POST", "/v1/issues", status)]
    v = verdict(run_audit(KEY_OLD, records), "k")
    assert v.states["issues:write"] != "used"


def test_denied_state_and_sa104_medium_then_high() -> None:
    records = daily("k", "GET", "/v1/issues")
    records += [rec(day(3), "k", "PATCH", "/v1/sites/4", 403, hits=7),
                rec(day(4), "k", "GET", "/v1/assets/9", 403, hits=2)]
    audit = run_audit(KEY_OLD, records)
    v = verdict(audit, "k")
    assert v.states["sites:write"] == "denied" and v.states["assets:read"] == "denied"
    assert v.denied == 9
    (f,) = usage_findings(audit, "SA104")
    assert f.severity is Severity.MEDIUM
    assert f.evidence is not None and f.evidence["scopes"] == ["assets:read", "sites:write"]
    records.append(rec(day(6), "k", "POST", "/v1/users", 403))
    (f,) = usage_findings(run_audit(KEY_OLD, records), "SA104")
    assert f.severity is Severity.HIGH  # three scopes: a probing pattern


def test_unmatched_request_makes_its_resource_unknown_and_kept() -> None:
    records = [*daily("k", "GET", "/v1/sites"), rec(day(2), "k", "GET", "/v1/issues/9/history")]
    audit = run_audit(KEY_OLD, records)
    v = verdict(audit, "k")
    assert v.states["issues:read"] == "unknown" and v.states["issues:write"] == "unknown"
    assert v.remove == ()
    (f,) = usage_findings(audit, "SA302")
    assert f.evidence is not None
    assert f.evidence["shapes"] == [{"request": "GET /v1/issues/{id}/history", "requests": 1}]
    assert audit.replay is not None and audit.replay.unverifiable == 1


def test_unmatched_request_on_no_known_resource_blocks_every_removal() -> None:
    records = [*daily("k", "GET", "/v1/sites"), rec(day(2), "k", "GET", "/v1/exports/42")]
    v = verdict(run_audit(KEY_OLD, records), "k")
    assert v.states["issues:read"] == "unknown" and v.states["issues:write"] == "unknown"
    assert v.states["sites:read"] == "used" and v.remove == ()


def test_preflight_and_head() -> None:
    records = daily("k", "HEAD", "/v1/sites") + daily("k", "OPTIONS", "/v1/issues")
    audit = run_audit(KEY_OLD, records)
    v = verdict(audit, "k")
    assert v.states["sites:read"] == "used"  # HEAD is GET
    assert v.states["issues:read"] == "unused"  # a preflight is never use
    assert audit.usage is not None and audit.usage.preflight == 90


def test_unused_key_gets_sa101_alone() -> None:
    keys = KEY_OLD + "  - {id: other, created: 2026-01-01, scopes: [sites:read]}\n"
    audit = run_audit(keys, daily("other", "GET", "/v1/sites"))
    sa101 = usage_findings(audit, "SA101")
    assert [(f.key, f.severity, f.confidence) for f in sa101] == [("k", Severity.HIGH, "high")]
    assert not [f for f in usage_findings(audit, "SA102") if f.key == "k"]
    keys_read = KEY_OLD.replace("      - issues:write\n", "") + \
        "  - {id: other, created: 2026-01-01, scopes: [sites:read]}\n"
    (f,) = usage_findings(run_audit(keys_read, daily("other", "GET", "/v1/sites")), "SA101")
    assert f.severity is Severity.MEDIUM  # read scopes only


def test_key_created_mid_window_defers_removal_with_sa108() -> None:
    keys = KEY_OLD.replace("created: 2026-01-01", f"created: {SINCE + timedelta(days=70)}")
    records = daily("k", "GET", "/v1/issues", range(70, 90))
    audit = run_audit(keys, records)
    v = verdict(audit, "k")
    assert v.remove == ("issues:write", "sites:read")
    assert v.confidence["sites:read"].level == "low"
    assert "observed 20 of the window's 90 days" in v.confidence["sites:read"].basis
    assert usage_findings(audit, "SA102") == []
    (f,) = usage_findings(audit, "SA108")
    assert f.evidence is not None and f.evidence["scopes"] == ["issues:write", "sites:read"]


@pytest.mark.parametrize(("covered_days", "active", "expected"), [
    (range(90), range(90), "high"),  # full coverage, active every day
    (range(81), range(81), "high"),  # 81/90 = 90% coverage
    (range(80), range(80), "medium"),  # 80/90 = 89%: below the high bar
    (range(68), range(68), "medium"),  # 68/90 = 76%
    (range(67), range(67), "low"),  # 67/90 = 74%
    (range(90), range(0, 90, 7), "medium"),  # weekly: 13 active days < 14
    (range(90), range(0, 90, 45), "low"),  # active on 2 days only
])
def test_confidence_levels(covered_days: range, active: range, expected: str) -> None:
    # another key provides the coverage; k is active on the given days
    keys = KEY_OLD + "  - {id: filler, created: 2026-01-01, scopes: [sites:read]}\n"
    records = daily("filler", "GET", "/v1/sites", covered_days)
    records += daily("k", "GET", "/v1/issues", active)
    # pin the window so that coverage, not the newest record, decides
    v = verdict(run_audit(keys, records, until=str(UNTIL)), "k")
    assert v.confidence["sites:read"].level == expected


def test_creation_unknown_uses_first_seen() -> None:
    keys = KEY_OLD.replace("    created: 2026-01-01\n", "")
    v = verdict(run_audit(keys, daily("k", "GET", "/v1/issues", range(50, 90))), "k")
    assert "first seen" in v.confidence["sites:read"].basis
    assert v.confidence["sites:read"].level == "medium"  # observed 40 days


def test_sa105_401_on_defined_key() -> None:
    records = [*daily("k", "GET", "/v1/issues"),
               rec(day(80), "k", "GET", "/v1/issues", 401, hits=5)]
    (f,) = usage_findings(run_audit(KEY_OLD, records), "SA105")
    assert f.evidence == {"requests": 5, "first": str(SINCE + timedelta(days=80)),
                          "last": str(SINCE + timedelta(days=80))}


def test_sa106_shared_key_threshold() -> None:
    records = daily("k", "GET", "/v1/issues", ua="a/1", ip="192.0.2.1")
    records += daily("k", "GET", "/v1/issues", ua="a/1", ip="192.0.2.200")  # same /24
    records += daily("k", "GET", "/v1/sites", ua="b/1", ip="198.51.100.1")
    assert usage_findings(run_audit(KEY_OLD, records), "SA106") == []
    records += daily("k", "GET", "/v1/issues", ua="c/1", ip="2001:db8::1")
    (f,) = usage_findings(run_audit(KEY_OLD, records), "SA106")
    assert f.evidence is not None
    clients = {c["client"]: c["operations"] for c in f.evidence["clients"]}
    assert clients == {"a/1 @ 192.0.2.0/24": ["issues.list"], "b/1 @ 198.51.100.0/24":
                       ["sites.list"], "c/1 @ 2001:db8::/64": ["issues.list"]}
    assert usage_findings(run_audit(KEY_OLD, records, shared=4), "SA106") == []


def test_sa107_rare_use_is_used_not_unused() -> None:
    records = [*daily("k", "GET", "/v1/issues"), rec(day(10), "k", "POST", "/v1/issues"),
               rec(day(40), "k", "PATCH", "/v1/issues/1")]
    audit = run_audit(KEY_OLD, records)
    assert verdict(audit, "k").states["issues:write"] == "used"
    (f,) = usage_findings(audit, "SA107")
    assert f.scope == "issues:write" and f.severity is Severity.INFO
    records.append(rec(day(41), "k", "POST", "/v1/issues"))
    assert usage_findings(run_audit(KEY_OLD, records), "SA107") == []  # three days


def test_sa301_names_file_and_lines() -> None:
    records = daily("k", "GET", "/v1/issues")
    records.append(rec(day(3), "k", "GET", "/v1/issues", line=77, token=True))
    (f,) = usage_findings(run_audit(KEY_OLD, records), "SA301")
    assert f.severity is Severity.CRITICAL
    assert (f.location.file, f.location.line) == ("logs.jsonl", 77)


def test_sa303_unknown_key() -> None:
    records = [*daily("k", "GET", "/v1/issues"), rec(day(9), "ghost", "GET", "/v1/sites", line=12)]
    audit = run_audit(KEY_OLD, records)
    (f,) = usage_findings(audit, "SA303")
    assert (f.key, f.location.line, f.severity) == ("ghost", 12, Severity.HIGH)
    assert audit.usage is not None and audit.usage.unknown_keys == 1


def test_least_privileged_alternative_and_undeclared() -> None:
    from scopeaudit.catalog.model import Catalog, Operation, Provenance, Scope
    from scopeaudit.evidence import Exercise, exercised

    cat = Catalog("t", "1", (Scope("a:read"), Scope("a:write"), Scope("b:read")), ())
    op = Operation("x", "GET", "/x", (frozenset({"a:write"}), frozenset({"a:read"}),
                                      frozenset({"a:read", "b:read"})), Provenance.INFERRED)
    none: frozenset[str] = frozenset()
    assert exercised(op, frozenset({"a:read", "a:write", "b:read"}), cat) == Exercise(
        frozenset({"a:read"}), none, none)
    assert exercised(op, frozenset({"a:write"}), cat) == Exercise(frozenset({"a:write"}), none,
                                                                  none)
    # nothing held: the least privileged alternative is needed but not granted
    assert exercised(op, none, cat) == Exercise(none, none, frozenset({"a:read"}))


def test_window_default_and_overrides() -> None:
    newest = date(2026, 11, 26)  # the newest day with records (days_seen)
    w = resolve_window(None, None, newest, date(2026, 12, 1))
    assert (w.since, w.until, w.days) == (date(2026, 8, 29), date(2026, 11, 26), 90)
    w = resolve_window("30d", "2026-11-30", newest, date(2026, 12, 1))
    assert (w.since, w.until) == (date(2026, 11, 1), date(2026, 11, 30))
    w = resolve_window("2w", None, newest, date(2026, 12, 1))
    assert w.since == date(2026, 11, 13)
    w = resolve_window(None, None, None, date(2026, 12, 1))  # no records: ends today
    assert w.until == date(2026, 12, 1)
    with pytest.raises(InputError):
        resolve_window("2026-12-01", "2026-11-01", None, date(2026, 12, 1))
    with pytest.raises(InputError):
        resolve_window("yesterday", None, None, date(2026, 12, 1))


def test_records_outside_window_are_not_evidence() -> None:
    records = [*daily("k", "GET", "/v1/issues"), rec(day(-5), "k", "POST", "/v1/issues")]
    audit = run_audit(KEY_OLD, records, until=str(UNTIL))
    assert verdict(audit, "k").states["issues:write"] == "unused"
    assert audit.usage is not None and audit.usage.outside_window == 1


def at(d: date, hour: int = 12) -> float:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC).timestamp()


FUTURE = ("records dated after 2026-11-28 (the as-of date 2026-11-27 plus 1 day of clock "
          "skew) are set apart: {n} request(s) by keys, the latest on {latest}; they are not "
          "judged and do not place the window")


def test_a_record_from_the_far_future_neither_anchors_the_window_nor_counts() -> None:
    # 56 days of reads, 2026-10-03..2026-11-27, and one write dated 9999-12-31 (as of
    # 2026-11-27): the window stays on the real records, the write is not use
    first = date(2026, 10, 3)
    records = [rec(at(first + timedelta(days=n)), "k", "GET", "/v1/issues") for n in range(56)]
    records.append(rec(at(date(9999, 12, 31)), "k", "POST", "/v1/issues"))
    audit = run_audit(KEY_OLD, records)
    assert audit.window is not None and audit.usage is not None
    assert (audit.window.since, audit.window.until) == (date(2026, 8, 30), date(2026, 11, 27))
    assert verdict(audit, "k").states["issues:write"] == "unused"
    assert verdict(audit, "k").accepted == 56
    assert (audit.usage.in_window, audit.usage.outside_window) == (56, 1)
    assert [w for w in audit.warnings if "set apart" in w] == [
        FUTURE.format(n=1, latest="9999-12-31")]


def test_the_day_after_the_as_of_date_still_counts_the_next_is_the_future() -> None:
    # as of 2026-11-27: a record on the 28th is clock skew, one on the 29th is the future
    base = [rec(at(date(2026, 11, 20)), "k", "GET", "/v1/issues")]
    audit = run_audit(KEY_OLD, [*base, rec(at(date(2026, 11, 28), 23), "k", "POST",
                                               "/v1/issues")])
    assert audit.window is not None and audit.window.until == date(2026, 11, 28)
    assert verdict(audit, "k").states["issues:write"] == "used"
    assert not [w for w in audit.warnings if "set apart" in w]
    audit = run_audit(KEY_OLD, [*base, rec(at(date(2026, 11, 29), 0), "k", "POST",
                                               "/v1/issues", hits=3)])
    assert audit.window is not None and audit.window.until == date(2026, 11, 20)
    assert verdict(audit, "k").states["issues:write"] == "unused"
    assert [w for w in audit.warnings if "set apart" in w] == [
        FUTURE.format(n=3, latest="2026-11-29")]


def test_an_until_after_the_present_is_brought_back_to_it() -> None:
    records = [rec(at(date(2026, 11, 20)), "k", "GET", "/v1/issues"),
               rec(at(date(2026, 12, 24)), "k", "POST", "/v1/issues")]
    audit = run_audit(KEY_OLD, records, since="2026-11-01", until="2026-12-31")
    assert audit.window is not None
    assert (audit.window.since, audit.window.until) == (date(2026, 11, 1), date(2026, 11, 28))
    assert verdict(audit, "k").states["issues:write"] == "unused"
    assert ("--until 2026-12-31 is after 2026-11-28 (the as-of date 2026-11-27 plus 1 day of "
            "clock skew): the window ends on 2026-11-28") in audit.warnings


@pytest.mark.parametrize(("since", "until", "message"), [
    ("99999999d", None, "--since 99999999d: counted back from 2026-11-26, the window would "
                        "start before 0001-01-01"),
    ("90d", "0001-01-05", "--since 90d: counted back from 0001-01-05, the window would start "
                          "before 0001-01-01"),
    ("9" * 5000 + "d", None, "--since " + "9" * 5000 + "d: counted back from 2026-11-26, the "
                             "window would start before 0001-01-01"),
])
def test_a_window_before_the_calendar_is_an_input_error(since: str, until: str | None,
                                                        message: str) -> None:
    with pytest.raises(InputError) as exc:
        resolve_window(since, until, date(2026, 11, 26), date(2026, 12, 1))
    assert str(exc.value) == message


def test_the_default_window_stops_at_the_calendars_first_day() -> None:
    w = resolve_window(None, None, date(1, 1, 5), date(1, 1, 5))
    assert (w.since, w.until) == (date(1, 1, 1), date(1, 1, 5))


def test_coverage_gaps() -> None:
    keys = KEY_OLD
    days_ = [n for n in range(90) if n not in (10, 11, 50)]
    audit = run_audit(keys, [rec(day(n), "k", "GET", "/v1/issues") for n in days_])
    assert audit.coverage is not None
    assert audit.coverage.days_with_data == 87
    assert audit.coverage.gaps == ((SINCE + timedelta(days=10), SINCE + timedelta(days=11)),
                                   (SINCE + timedelta(days=50), SINCE + timedelta(days=50)))


def test_unmatched_family_is_judged_on_the_real_path_not_the_shape() -> None:
    # /rest/api/3 has a literal "3", which the shape folds to {id}; the family must still be
    # found from the path as logged
    from scopeaudit.catalog.model import Catalog, Operation, Provenance, Scope

    cat = Catalog("t", "1", (Scope("read:work"), Scope("write:work"), Scope("read:user")),
                  (Operation("issue.get", "GET", "/rest/api/3/issue/{id}",
                             (frozenset({"read:work"}),), Provenance.DOCUMENTED),),
                  families=(("/rest/api/3/issue", frozenset({"read:work", "write:work"})),))
    agg = Aggregator(cat)
    agg.consume([rec(day(1), "k", "GET", "/rest/api/3/issue/10/changelog")], "logs")
    usage = agg.finish()
    (shape,) = usage.shape_families
    assert shape == "~GET /rest/api/{id}/issue/{id}/changelog"
    assert usage.shape_families[shape] == frozenset({"read:work", "write:work"})
