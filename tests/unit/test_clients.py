"""What a client is (usage/clients.py): a user agent and the network of its address, read
in the forms logs write it; and the count of a key's clients past the bound of its list
(SA106), in every output format. The DuckDB engine's and the warehouse's SQL forms of the
address rule are held to the Python one here and in test_engine_parity / test_sql_warehouse.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scopeaudit.audit import AuditOptions, analyse
from scopeaudit.catalog import load_builtin
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.engine import duckdb_available
from scopeaudit.inventory import KeysFormat, parse_inventory
from scopeaudit.model import Audit, ClientCount, Finding
from scopeaudit.rules.inventory_rules import LintSettings
from scopeaudit.rules.usage_rules import UsageSettings
from scopeaudit.usage.aggregate import Aggregator, merge_usage
from scopeaudit.usage.clients import client_id, network_of, without_port
from scopeaudit.usage.record import InputStats, Record
from scopeaudit.usage.semantics import MAX_CLIENTS_PER_KEY
from support import run_quiet

CATALOG = load_builtin()

# (as logged, the client's network): each worked out by hand
ADDRESSES = [
    ("198.51.100.7", "198.51.100.0/24"),
    # IPv4-mapped IPv6 (nginx on a dual-stack listener): the IPv4 address, not ::/64
    ("::ffff:198.51.100.7", "198.51.100.0/24"),
    ("::FFFF:198.51.100.7", "198.51.100.0/24"),
    ("::FFFF:c633:6407", "198.51.100.0/24"),  # 0xc6.0x33.0x64.0x07 = 198.51.100.7
    ("0:0:0:0:0:ffff:198.51.100.7", "198.51.100.0/24"),
    # address:port (Go's RemoteAddr, several gateways): the address
    ("198.51.100.20:41234", "198.51.100.0/24"),
    ("198.51.100.20:0", "198.51.100.0/24"),
    ("[2001:db8::1]:443", "2001:db8::/64"),
    ("[2001:db8::1]", "2001:db8::/64"),
    ("[::ffff:198.51.100.7]:8080", "198.51.100.0/24"),
    ("[198.51.100.7]:80", "198.51.100.0/24"),
    ("[fe80::1%eth0]:443", "fe80::/64"),
    # bare IPv6 (a trailing group is never taken for a port), zones, whitespace
    ("2001:db8::1", "2001:db8::/64"),
    ("2001:db8::1:443", "2001:db8::/64"),
    ("fe80::1%eth0", "fe80::/64"),
    (" 198.51.100.7:80 ", "198.51.100.0/24"),
    # garbage: no address
    ("garbage", "?"),
    ("host.example:443", "?"),
    ("198.51.100.7:", "?"),
    ("198.51.100.7:123456", "?"),
    ("01.2.3.4:80", "?"),
    ("::ffff:198.51.100.7:80", "?"),  # a mapped address takes a port only in brackets
    ("[198.51.100.7:80]:443", "?"),
    ("[2001:db8::1", "?"),
    ("2001:db8::1]:443", "?"),
    ("", "-"),
    (None, "-"),
]


@pytest.mark.parametrize(("logged", "network"), ADDRESSES)
def test_network_of_each_address_form(logged: str | None, network: str) -> None:
    assert network_of(logged) == network


def test_without_port_is_the_readers_address() -> None:
    assert without_port("[2001:db8::1]:443") == "2001:db8::1"
    assert without_port("203.0.113.5:51514") == "203.0.113.5"
    assert without_port("::ffff:203.0.113.5") == "::ffff:203.0.113.5"
    assert without_port("garbage:1") == "garbage:1"


def test_a_client_is_its_user_agent_and_network() -> None:
    assert client_id("curl/8", "::ffff:198.51.100.7") == "curl/8 @ 198.51.100.0/24"
    assert client_id(None, "[2001:db8::5]:443") == "- @ 2001:db8::/64"
    assert client_id("x" * 130, None) == "x" * 120 + " @ -"


def test_client_count_says_more_than_past_the_bound() -> None:
    assert (str(ClientCount(3)), ClientCount(3).at_least) == ("3", 3)
    assert (str(ClientCount(200, True)), ClientCount(200, True).at_least) == ("more than 200",
                                                                              201)


# --- the DuckDB engine's SQL form of the rule -------------------------------------------------

_ADDRESS_TEXT = st.one_of(
    st.sampled_from([a for a, _ in ADDRESSES if a]),
    st.builds(lambda pre, a, b, c, d, post: f"{pre}{a}.{b}.{c}.{d}{post}",
              st.sampled_from(["", "::ffff:", "::FFFF:", "[", "[::ffff:", "::", " ", "x"]),
              st.integers(0, 300), st.integers(0, 255), st.integers(0, 255),
              st.integers(0, 300),
              st.sampled_from(["", ":80", "]", "]:443", ":", ":999999", " ", "%1", ".5"])),
    st.text("0123456789abcdefABCDEF:.[]%", max_size=24),
)


@pytest.mark.skipif(not duckdb_available(), reason="DuckDB is not installed")
@settings(max_examples=60, deadline=None)
@given(st.lists(_ADDRESS_TEXT, min_size=1, max_size=40))
def test_duckdb_ipv4_prefix_is_network_of(addresses: list[str]) -> None:
    import duckdb

    from scopeaudit.engine.duckdb_engine import ipv4_prefix_sql

    con = duckdb.connect()
    con.execute("CREATE TABLE a (i INTEGER, ip VARCHAR)")
    con.executemany("INSERT INTO a VALUES (?, ?)", list(enumerate(addresses)))
    rows = con.execute(f"SELECT i, {ipv4_prefix_sql('ip')} FROM a ORDER BY i").fetchall()
    for (_, prefix), address in zip(rows, addresses, strict=True):
        if prefix is not None:  # else the engine hands the address to network_of itself
            assert f"{prefix}0/24" == network_of(address), address


@pytest.mark.skipif(not duckdb_available(), reason="DuckDB is not installed")
def test_duckdb_names_every_ipv4_form_in_sql() -> None:
    import duckdb

    from scopeaudit.engine.duckdb_engine import ipv4_prefix_sql

    forms = ["198.51.100.7", "198.51.100.20:41234", "::ffff:198.51.100.7",
             "::FFFF:198.51.100.7", "[::ffff:198.51.100.7]:8080", "[198.51.100.7]:80"]
    got = duckdb.connect().execute(
        f"SELECT {ipv4_prefix_sql('ip')} FROM unnest(?) AS t(ip)", [forms]).fetchall()
    assert got == [("198.51.100.",)] * len(forms)


# --- SA106 ----------------------------------------------------------------------------------

UNTIL = date(2026, 11, 26)
KEYS = """\
keys:
  - id: k
    owner: o
    created: 2026-01-01
    expires: 2027-12-31
    scopes: [issues:read, sites:read]
"""


def at(days_before_until: int, second: int = 0) -> float:
    d = UNTIL - timedelta(days=days_before_until)
    return datetime(d.year, d.month, d.day, 12, tzinfo=UTC).timestamp() + second


def rec(t: float, ua: str, ip: str | None, target: str = "/v1/issues") -> Record:
    return Record(t, "k", "GET", target, 200, ua, ip, 1, 1, False)


def audit_of(records: list[Record], *, since: str | None = None, shared: int = 3) -> Audit:
    inventory = parse_inventory(dedent(KEYS).encode(), "keys.yaml", KeysFormat.YAML,
                                Diagnostics())
    agg = Aggregator(CATALOG)
    agg.consume(records, "logs.jsonl")
    stats = InputStats("logs.jsonl")
    stats.records = len(records)
    options = AuditOptions(lint=LintSettings(as_of=date(2026, 11, 27)),
                           usage=UsageSettings(shared_key_clients=shared), since=since)
    return analyse(inventory, CATALOG, agg.finish(), [stats], (len(records), len(records)),
                   options, Diagnostics(), timestamp=False)


def sa106(audit: Audit) -> list[Finding]:
    return [f for f in audit.findings if f.rule == "SA106"]


def test_sa106_counts_clients_by_address_without_port_or_mapping() -> None:
    # three networks, each logged in two forms: three clients (read as they were before,
    # the two port forms made one "?" client and the two mapped forms one "::/64": four)
    records = [rec(at(1), "app/1", "198.51.100.20:41234"), rec(at(1), "app/1", "198.51.100.7"),
               rec(at(1), "app/1", "::ffff:192.0.2.7"), rec(at(1), "app/1", "192.0.2.9:80"),
               rec(at(1), "app/1", "::FFFF:cb00:7109"), rec(at(1), "app/1", "203.0.113.5")]
    (finding,) = sa106(audit_of(records))
    assert finding.message == "key 'k' is used by 3 distinct clients"
    assert finding.evidence is not None
    assert sorted(c["client"] for c in finding.evidence["clients"]) == [
        "app/1 @ 192.0.2.0/24", "app/1 @ 198.51.100.0/24", "app/1 @ 203.0.113.0/24"]
    # and two IPv6 addresses of one /64, one with a port: one client
    v6 = [rec(at(1), "app/1", "[2001:db8::1]:443"), rec(at(1), "app/1", "2001:db8::2")]
    assert sa106(audit_of(v6, shared=2)) == []


def many(n: int, days_before_until: int, first: int = 0) -> list[Record]:
    """One request from each of n distinct clients (user agents), on one day."""
    return [rec(at(days_before_until, i), f"agent-{i}", "198.51.100.1")
            for i in range(first, first + n)]


def test_sa106_past_the_client_bound_says_more_than() -> None:
    audit = audit_of(many(MAX_CLIENTS_PER_KEY + 50, 3))
    (finding,) = sa106(audit)
    assert finding.message == f"key 'k' is used by more than {MAX_CLIENTS_PER_KEY} distinct " \
                              "clients"
    # the bound itself, reached but not passed: the exact count
    (exact,) = sa106(audit_of(many(MAX_CLIENTS_PER_KEY, 3)))
    assert exact.message == f"key 'k' is used by {MAX_CLIENTS_PER_KEY} distinct clients"


def test_sa106_threshold_past_the_bound() -> None:
    # more than 200 clients reach a threshold of 201 (200 listed did not, before)
    records = many(MAX_CLIENTS_PER_KEY + 1, 3)
    assert len(sa106(audit_of(records, shared=MAX_CLIENTS_PER_KEY + 1))) == 1
    assert sa106(audit_of(records[:-1], shared=MAX_CLIENTS_PER_KEY + 1)) == []


def test_sa106_clients_past_the_bound_count_only_inside_the_window() -> None:
    # 200 listed clients on day -40 and again on day -3; 30 more (unlisted) only on day -40
    records = many(MAX_CLIENTS_PER_KEY, 40) + many(30, 40, first=MAX_CLIENTS_PER_KEY)
    records += many(MAX_CLIENTS_PER_KEY, 3)
    (all_days,) = sa106(audit_of(records))
    assert "more than 200" in all_days.message
    since = (UNTIL - timedelta(days=10)).isoformat()
    (recent,) = sa106(audit_of(records, since=since))
    assert recent.message == "key 'k' is used by 200 distinct clients"


def test_clients_past_the_bound_merge_as_one_pass_counts_them() -> None:
    # work units (a file's byte ranges, or several files) merge their overflow: requests,
    # first and last time, operations
    records = many(MAX_CLIENTS_PER_KEY, 5) + many(3, 4, first=MAX_CLIENTS_PER_KEY) \
        + [rec(at(2), "agent-900", "198.51.100.1", "/v1/sites")]
    serial = Aggregator(CATALOG)
    serial.consume(records, "a")
    parts = []
    for chunk in (records[:150], records[150:202], records[202:]):
        agg = Aggregator(CATALOG)
        agg.consume(chunk, "a")
        parts.append(agg.finish())
    merged = merge_usage(parts)
    assert merged.clients_overflow == serial.usage.clients_overflow
    overflow = merged.clients_overflow["k"]
    assert (overflow.hits, overflow.first, overflow.last) == (4, at(4, 200), at(2))
    assert overflow.ops == {"issues.list": 3, "sites.list": 1}



def report(tmp_path: Path, fmt: str, clients: int) -> str:
    """The report of one key used from ``clients`` distinct IPv6 networks."""
    keys = tmp_path / "keys.yaml"
    keys.write_text(dedent(KEYS))
    logs = tmp_path / "logs.jsonl"
    logs.write_text("".join(json.dumps({
        "ts": f"2026-11-20T10:{i // 60:02d}:{i % 60:02d}Z", "key_id": "k", "method": "GET",
        "path": "/v1/issues", "status": 200, "user_agent": "app/1",
        "ip": f"[2001:db8:{i}::1]:443"}) + "\n" for i in range(clients)))
    out = tmp_path / f"report.{fmt}"
    run_quiet(*["audit", "--keys", str(keys), "--logs", str(logs), "--format", fmt,
         "--no-timestamp", "--as-of", "2026-11-27", "--fail-on", "never", "-o", str(out)])
    return out.read_text("utf-8")


@pytest.mark.parametrize("fmt", ["table", "markdown", "html", "json", "sarif", "csv"])
def test_more_than_200_in_every_output_format(tmp_path: Path, fmt: str) -> None:
    text = report(tmp_path, fmt, 230)
    assert "used by more than 200 distinct clients" in text
    assert "used by 200 distinct" not in text
    if fmt == "markdown":  # the key's section: the count, then the first 10 and the rest
        assert "**Clients:** more than 200: app/1 @ 2001:db8:" in text
        assert "; and more than 190 more" in text
    if fmt == "html":  # the key's card: the count, then the 20 busiest
        assert "<h4>Clients (more than 200)</h4>" in text
        assert "The 20 with the most requests:" in text


def test_clients_shown_are_counted_all(tmp_path: Path) -> None:
    # 25 clients, 20 listed in a key's card and 10 in its Markdown section: each says 25
    markdown = report(tmp_path, "markdown", 25)
    assert "**Clients:** 25: " in markdown and "; and 15 more" in markdown
    html = report(tmp_path, "html", 25)
    assert "<h4>Clients (25)</h4>" in html and "The 20 with the most requests:" in html
    three = report(tmp_path, "html", 3)
    assert "<h4>Clients (3)</h4>" in three and "with the most requests" not in three


def test_nginx_dual_stack_addresses_are_ipv4_clients(tmp_path: Path) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text(dedent(KEYS))
    logs = tmp_path / "access.log"
    logs.write_text("".join(
        f'{ip} k [20/Nov/2026:10:00:0{i} +0000] "GET /v1/issues HTTP/1.1" 200 5 "app/1"\n'
        for i, ip in enumerate(["::ffff:198.51.100.7", "198.51.100.8", "::ffff:203.0.113.1"])))
    out = tmp_path / "report.json"
    fmt = ('nginx:$remote_addr $http_x_key_id [$time_local] "$request" $status '
           '$body_bytes_sent "$http_user_agent"')
    run_quiet(*["audit", "--keys", str(keys), "--logs", str(logs), "--log-format", fmt, "--format",
         "json", "--no-timestamp", "--as-of", "2026-11-27", "--fail-on", "never", "-o",
         str(out)])
    (key,) = json.loads(out.read_text("utf-8"))["keys"]
    assert {c["client"]: c["requests"] for c in key["clients"]} == {
        "app/1 @ 198.51.100.0/24": 2, "app/1 @ 203.0.113.0/24": 1}
