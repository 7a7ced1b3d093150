"""`audit --code`: the scopes a key's source code needs, judged beside its logs (issue #21
item 3).

The example organisation's audit with the code of tests/data/scan/mobile given to
key_mobile_backend is checked in every format. Expectations worked out by hand:

* examples/generate.py's edge_events gives key_mobile_backend GET/POST/PATCH issues, GET and
  PATCH works, GET sites, POST checkins, GET users and media uploads: issues:read,
  issues:write, works:read, works:write, sites:read, checkins:write, media:write and
  users:read are used (8); assets:read, checkins:read, logs:read and logs:write are not;
* backend.ts calls GET /v1/issues (line 8, issues:read), PATCH /v1/works/{id} (12,
  works:write), POST /v1/checkins (16, checkins:write), GET /v1/checkins/{id} (20,
  checkins:read) and GET /v1/sensor-readings (24, sensors:read);
* so checkins:read is *needed by code* (kept, SA403 at line 20); sensors:read is not granted
  to the key: SA401 (high) at line 24; assets:read, logs:read and logs:write are used by
  neither, and their basis says code and logs agree.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from textwrap import dedent
from typing import Any

import jsonschema
import pytest

from scopeaudit.audit import AuditOptions, LogOptions, analyse, read_usage
from scopeaudit.catalog import load_builtin
from scopeaudit.cli import main
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.inventory import KeysFormat, load_inventory, parse_inventory
from scopeaudit.model import Audit, KeyVerdict, Location
from scopeaudit.render import RenderOptions
from scopeaudit.render.csv_render import render_csv
from scopeaudit.render.html import render_html
from scopeaudit.render.markdown import render_markdown
from scopeaudit.render.sarif import render_sarif
from scopeaudit.render.table import render_table
from scopeaudit.rules.inventory_rules import LintSettings
from scopeaudit.scan.keyed import scan_for_audit
from scopeaudit.usage.aggregate import Aggregator
from scopeaudit.usage.record import InputStats, Record
from support import csp_hash, day, parse, rec
from support import run as _run

ROOT = Path(__file__).resolve().parents[2]
MOBILE = "tests/data/scan/mobile"
SOURCE = f"{MOBILE}/backend.ts"
NGINX_FORMAT = ('$remote_addr $http_x_key_id [$time_local] "$request" $status '
                '$body_bytes_sent "$http_user_agent"')
KEY = "key_mobile_backend"
USED = ["checkins:write", "issues:read", "issues:write", "media:write", "sites:read",
        "users:read", "works:read", "works:write"]
REMOVE = ["assets:read", "logs:read", "logs:write"]
AGREE = "the key's code (1 file, 5 API calls) calls nothing that needs it: code and logs agree"


def _states() -> dict[str, str]:
    states = {s: "used" for s in USED}
    states.update({s: "unused" for s in REMOVE})
    states["checkins:read"] = "needed_by_code"
    return dict(sorted(states.items()))


# ---------------------------------------------------------------------------------------------
# the example organisation, --code on the mobile back end's fixture


@pytest.fixture(scope="module")
def code_audit(example_logs: Path) -> Audit:
    """The example audit (as conftest's example_audit builds it) with --code MOBILE
    --code-key key_mobile_backend, read from the repository root."""
    from conftest import AS_OF, _cwd

    diagnostics = Diagnostics()
    catalog = load_builtin()
    with _cwd(ROOT):
        inventory = load_inventory("examples/keys.yaml", None, diagnostics)
        code = scan_for_audit([MOBILE], catalog, inventory.keys, KEY, "examples/keys.yaml",
                              diagnostics)
        options = LogOptions(paths=(str(example_logs / "gateway-*.jsonl.gz"),
                                    str(example_logs / "edge-nginx.log.gz")),
                             log_formats=(f"*.log.gz=nginx:{NGINX_FORMAT}",), jobs=1)
        usage, stats, records, requests = read_usage(inventory, catalog, options, diagnostics)
        return analyse(inventory, catalog, usage, stats, (records, requests),
                       AuditOptions(lint=LintSettings(as_of=AS_OF)), diagnostics,
                       timestamp=False, code=code)


def _verdict(audit: Audit, key: str = KEY) -> KeyVerdict:
    return next(v for v in audit.verdicts if v.key_id == key)


def test_json_through_the_cli(example_logs: Path, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as exc:
        main(["audit", "--keys", "examples/keys.yaml",
              "--logs", str(example_logs / "gateway-*.jsonl.gz"),
              "--logs", str(example_logs / "edge-nginx.log.gz"),
              "--log-format", f"*.log.gz=nginx:{NGINX_FORMAT}", "--as-of", "2026-11-27",
              "--no-timestamp", "--jobs", "1", "--format", "json",
              "--code", MOBILE, "--code-key", KEY])
    out, _ = capsys.readouterr()
    assert exc.value.code == 1
    doc = json.loads(out)
    schema = json.loads((ROOT / "docs" / "schema" / "audit-v1.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    keys = {k["id"]: k for k in doc["keys"]}
    mobile = keys[KEY]
    assert mobile["scopes"] == _states()
    assert mobile["remove"] == REMOVE
    assert mobile["recommended"] == sorted([*USED, "checkins:read"])
    for scope in REMOVE:
        assert mobile["confidence"][scope]["level"] == "high"
        assert mobile["confidence"][scope]["basis"].endswith("; " + AGREE)
    assert mobile["code"] == {
        "files": 1, "calls": 5, "unresolved": 0,
        "call_sites": {"checkins:read": [{"file": SOURCE, "line": 20}],
                       "checkins:write": [{"file": SOURCE, "line": 16}],
                       "issues:read": [{"file": SOURCE, "line": 8}],
                       "works:write": [{"file": SOURCE, "line": 12}]}}
    # no other key's code was read: nothing about code on them
    assert [k for k, v in keys.items() if "code" in v] == [KEY]
    assert all("needed_by_code" not in v["scopes"].values() for k, v in keys.items()
               if k != KEY)
    assert doc["code"] == {"paths": [MOBILE], "files": 1, "skipped": 0, "calls": 5,
                           "unresolved": 0, "code_key": KEY, "keys": [KEY]}
    code_findings = [(f["rule"], f["severity"], f["key"], f["scope"], f["location"])
                     for f in doc["findings"] if f["rule"].startswith("SA4")]
    assert code_findings == [
        ("SA401", "high", KEY, "sensors:read", {"file": SOURCE, "line": 24}),
        ("SA403", "info", KEY, "checkins:read", {"file": SOURCE, "line": 20})]
    # the removal the logs alone make (SA102 on checkins:read) is gone
    assert not [f for f in doc["findings"]
                if f["rule"] == "SA102" and f["scope"] == "checkins:read"]


def test_other_keys_are_as_without_code(code_audit: Audit, example_audit: Audit) -> None:
    before = {v.key_id: v for v in example_audit.verdicts}
    for v in code_audit.verdicts:
        if v.key_id != KEY:  # (sources name the logs' folder, which conftest renames)
            assert replace(v, sources=()) == replace(before[v.key_id], sources=()), v.key_id
    assert dict(before[KEY].states)["checkins:read"] == "unused"  # the logs alone
    assert "checkins:read" in before[KEY].remove


def test_table(code_audit: Audit) -> None:
    text = render_table(code_audit, RenderOptions())
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("key "))
    assert header.split()[:9] == ["key", "accepted", "used", "needed", "by", "code", "unused",
                                  "unknown", "denied"]
    row = next(line for line in lines if line.startswith(KEY + " "))
    # accepted, used, needed by code, unused, unknown, denied, then the removals
    assert row.split()[1:10] == ["72117", "8", "1", "3", "0", "0", "assets:read,",
                                 "logs:read,", "logs:write"]
    assert (f"  {KEY}: needed by code (the logs never saw it used), kept: checkins:read "
            f"({SOURCE}:20)") in lines
    assert any(line.startswith(f"Code: 1 source file in {MOBILE}: 5 API calls, 0 not "
                               f"mapped (SA402); given to keys by --code-key {KEY}")
               for line in lines)


def test_markdown(code_audit: Audit) -> None:
    text = render_markdown(code_audit, RenderOptions())
    section = text.split(f"#### {KEY.replace('_', chr(92) + '_')}", 1)[1].split("####", 1)[0]
    assert ("- **Needed by code** (kept: the logs never saw it used, the key's code calls "
            f"it): checkins:read ({SOURCE}:20)\n") in section
    used = next(line for line in section.splitlines() if line.startswith("- **Used:**"))
    assert "checkins:read" not in used  # apart from used
    assert "- **Code scanned:** 1 source file in tests/data/scan/mobile" in text
    assert "code and logs agree" in section


def test_html(code_audit: Audit) -> None:
    html = render_html(code_audit, RenderOptions())
    doc = parse(html).root
    # the legend names the state with its symbol
    legend = " ".join(doc.by_id("matrix").find_all("ul", "legend")[0].text().split())
    assert "◆ needed by code: no request in the window needed it" in legend
    # the matrix: the key's row, the checkins:read column
    table = doc.by_id("matrix-table")
    scopes = [th.text() for th in table.find_all("thead")[0].find_all("th")][1:]
    row = next(tr for tr in table.find_all("tbody")[0].find_all("tr")
               if KEY in tr.find_all("th")[0].text() or "Mobile back end" in tr.text())
    cell = row.find_all("td")[scopes.index("checkins:read")]
    assert cell.classes == ["s-c"] and cell.text() == "◆"
    assert row.find_all("td")[scopes.index("checkins:write")].classes == ["s-u"]
    # the card: a group of its own, and the call sites
    card = next(c for c in doc.by_id("keys").find_all("article", "card") if KEY in c.text())
    groups = {p.find_all("span", "state")[0].text(): p.text()
              for p in card.find_all("p", "scopes") if p.find_all("span", "state")}
    assert groups["◆ needed by code (1)"].endswith("checkins:read")
    assert "checkins:read" not in groups["✓ used (8)"]
    assert f"checkins:read ({SOURCE}:20)" in card.text()
    # the chart counts it apart, and its legend entry has room for its longer label
    chart = " ".join(doc.by_id("overview").text().split())
    assert "8 used · 1 needed by code · 3 unused" in chart
    legend = {t.text(): int(t.attrs["x"] or 0) for t in doc.by_id("overview").find_all("text")
              if t.parent is not None and "legend-svg" in t.parent.classes}
    assert list(legend) == ["✓ used", "◆ needed by code", "✗ unused", "◇ watch", "? unknown",
                            "⊘ denied"]
    assert legend["✗ unused"] - legend["◆ needed by code"] == 150
    # the added style is still the one the policy pins
    meta = next(m for m in doc.find_all("meta")
                if m.attrs.get("http-equiv") == "Content-Security-Policy")
    assert csp_hash(doc.find_all("style")[0].text()) in (meta.attrs["content"] or "")
    assert ".s-c {" in doc.find_all("style")[0].text()


def test_sarif(code_audit: Audit) -> None:
    run = json.loads(render_sarif(code_audit, RenderOptions()))["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert {"SA401", "SA402", "SA403"} <= set(rules)
    found = [(r["ruleId"], r["level"], r["properties"]["key"], r["properties"]["scope"],
              r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
              r["locations"][0]["physicalLocation"]["region"]["startLine"])
             for r in run["results"] if r["ruleId"].startswith("SA4")]
    assert found == [("SA401", "error", KEY, "sensors:read", SOURCE, 24),
                     ("SA403", "note", KEY, "checkins:read", SOURCE, 20)]


def test_csv(code_audit: Audit) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(code_audit, RenderOptions()))))
    code_rows = [(r["rule"], r["name"], r["severity"], r["key"], r["scope"], r["file"],
                  r["line"]) for r in rows if r["rule"].startswith("SA4")]
    assert code_rows == [
        ("SA401", "code-needs-missing-scope", "high", KEY, "sensors:read", SOURCE, "24"),
        ("SA403", "needed-by-code", "info", KEY, "checkins:read", SOURCE, "20")]
    sa403 = next(r for r in rows if r["rule"] == "SA403")
    assert sa403["message"] == (
        f"key '{KEY}' never used 'checkins:read' in the window, but its code calls an "
        f"operation that needs it (1 call site: {SOURCE}:20): kept, not removed")


# ---------------------------------------------------------------------------------------------
# the rules, on hand-built records and code


def _audit(tmp_path: Path, keys_yaml: str, records: list[Record], sources: dict[str, str],
           code_key: str | None = None) -> tuple[Audit, Diagnostics]:
    """An audit of ``records`` with the files ``sources`` (name -> text) as --code."""
    catalog = load_builtin()
    diagnostics = Diagnostics()
    inventory = parse_inventory(dedent(keys_yaml).encode(), "keys.yaml", KeysFormat.YAML,
                                diagnostics)
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(dedent(text), encoding="utf-8")
    code = scan_for_audit([str(tmp_path)], catalog, inventory.keys, code_key, "keys.yaml",
                          diagnostics)
    agg = Aggregator(catalog)
    agg.consume(records, "logs.jsonl")
    stats = InputStats("logs.jsonl")
    stats.records = len(records)
    audit = analyse(inventory, catalog, agg.finish(), [stats],
                    (len(records), sum(r.hits for r in records)),
                    AuditOptions(lint=LintSettings(as_of=date(2026, 11, 27))), diagnostics,
                    timestamp=False, code=code)
    return audit, diagnostics


KEYS = """\
keys:
  - id: k
    owner: o
    created: 2026-01-01
    expires: 2027-12-31
    scopes: [issues:read, issues:write, sites:read, works:read]
"""
DAILY = [rec(day(n), "k", "GET", f"/v1/issues/{n}") for n in range(90)]


def test_precedence_used_then_code_then_unknown(tmp_path: Path) -> None:
    # the logs use issues:read; an unmatched POST under /v1/works makes works:read unknown;
    # the code calls GET issues (used anyway), GET sites and GET works
    records = [*DAILY, rec(day(3), "k", "POST", "/v1/works/7/archive")]
    audit, _ = _audit(tmp_path, KEYS, records, {"app.py": """\
        import httpx
        httpx.get("https://api.insp.ac/v1/issues/1")
        httpx.get("https://api.insp.ac/v1/sites")
        httpx.get("https://api.insp.ac/v1/works")
        """}, code_key="k")
    v = _verdict(audit, "k")
    assert dict(v.states) == {"issues:read": "used", "issues:write": "unused",
                              "sites:read": "needed_by_code", "works:read": "needed_by_code"}
    assert v.remove == ("issues:write",)
    app = (tmp_path / "app.py").as_posix()
    assert v.code is not None and dict(v.code.sites) == {
        "issues:read": (Location(app, 2),), "sites:read": (Location(app, 3),),
        "works:read": (Location(app, 4),)}
    assert [(f.rule, f.scope, f.location.line) for f in audit.findings
            if f.rule == "SA403"] == [("SA403", "sites:read", 3), ("SA403", "works:read", 4)]


def test_unmapped_calls_limit_the_agreement(tmp_path: Path) -> None:
    audit, _ = _audit(tmp_path, KEYS, DAILY, {"app.py": """\
        import httpx
        def f(path):
            httpx.get("https://api.insp.ac/v1/issues")
            httpx.get(path)
        """}, code_key="k")
    v = _verdict(audit, "k")
    assert v.remove == ("issues:write", "sites:read", "works:read")
    basis = v.confidence["sites:read"].basis
    assert basis.endswith("; the key's code (1 file, 2 API calls) calls nothing that needs it "
                          "as far as the scan can tell (1 call it could not map, SA402, "
                          "may): code and logs agree only that far")
    assert [(f.rule, f.location.line) for f in audit.findings if f.rule == "SA402"] == [
        ("SA402", 4)]


def test_a_key_without_traffic_whose_code_needs_a_scope_is_not_an_unused_key(
        tmp_path: Path) -> None:
    # another key's traffic every day: the logs cover the window, k made no request
    other = [rec(day(n), "other", "GET", "/v1/issues") for n in range(90)]
    audit, _ = _audit(tmp_path, KEYS, other, {"app.py": """\
        import httpx
        httpx.get("https://api.insp.ac/v1/sites")
        """}, code_key="k")
    rules = sorted((f.rule, f.scope) for f in audit.findings
                   if f.key == "k" and f.rule in ("SA101", "SA102", "SA403"))
    # not SA101 (revoke the key): the scopes its code does not need go one by one
    assert rules == [("SA102", "issues:read"), ("SA102", "issues:write"),
                     ("SA102", "works:read"), ("SA403", "sites:read")]


def test_a_call_needing_a_scope_the_key_lacks_is_sa401_high(tmp_path: Path) -> None:
    audit, _ = _audit(tmp_path, KEYS, DAILY, {"app.py": """\
        import httpx
        httpx.patch("https://api.insp.ac/v1/sites/4")
        """}, code_key="k")
    found = [(f.rule, f.severity.value, f.key, f.scope, f.location.line)
             for f in audit.findings if f.rule == "SA401"]
    assert found == [("SA401", "high", "k", "sites:write", 2)]
    assert "sites:write" not in _verdict(audit, "k").states  # a finding, not a state


def test_code_globs_give_each_file_to_its_key(tmp_path: Path) -> None:
    keys = f"""\
        keys:
          - id: a
            scopes: [issues:read, sites:read]
            code: [{tmp_path.as_posix()}/a/*.py]
          - id: b
            scopes: [issues:read, sites:read]
            code: [{tmp_path.as_posix()}/b]
          - id: c
            scopes: [issues:read]
            code: [{tmp_path.as_posix()}/c/*.go]
        """
    records = [rec(day(n), k, "GET", "/v1/issues") for n in range(90) for k in ("a", "b")]
    audit, diagnostics = _audit(tmp_path, keys, records, {
        "a/app.py": 'import httpx\nhttpx.get("https://api.insp.ac/v1/sites")\n',
        "b/app.py": 'import httpx\nhttpx.get("https://api.insp.ac/v1/issues")\n',
        "other/x.py": 'import httpx\nhttpx.get("https://api.insp.ac/v1/works")\n'})
    assert dict(_verdict(audit, "a").states)["sites:read"] == "needed_by_code"
    b = _verdict(audit, "b")
    assert dict(b.states)["sites:read"] == "unused" and b.remove == ("sites:read",)
    assert b.confidence["sites:read"].basis.endswith(
        "the key's code (1 file, 1 API call) calls nothing that needs it: code and logs agree")
    assert _verdict(audit, "c").code is None  # no scanned file is its
    assert audit.code is not None and audit.code.keys == ("a", "b")
    assert audit.code.code_key is None
    warnings = [str(w) for w in diagnostics.warnings]
    assert any("key 'c': its `code:` globs name none of the scanned files" in w
               for w in warnings)
    assert any(w.startswith("1 API call(s) in 1 file(s) no key's `code:` globs name (")
               and "other/x.py" in w for w in warnings)


@pytest.fixture
def small(tmp_path: Path) -> tuple[str, str]:
    keys = tmp_path / "keys.yaml"
    keys.write_text(KEYS, encoding="utf-8")
    logs = tmp_path / "logs.jsonl"
    logs.write_text('{"time": "2026-11-20T10:00:00Z", "key_id": "k", "method": "GET", '
                    '"path": "/v1/issues", "status": 200}\n', encoding="utf-8")
    return str(keys), str(logs)


def test_bad_code_options_are_one_line_exit_2(small: tuple[str, str], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    keys, logs = small
    base = ["audit", "--keys", keys, "--logs", logs, "--as-of", "2026-11-27"]
    code, out, err = _run(capsys, *base, "--code-key", "k")
    assert (code, out) == (2, "") and err == (
        "scopeaudit: error: --code-key needs --code, the source code the key uses\n")
    code, out, err = _run(capsys, *base, "--code", str(ROOT / MOBILE), "--code-key", "nope")
    assert (code, out) == (2, "") and err.startswith("scopeaudit: error: ")
    assert err.endswith("keys.yaml: no key with id 'nope'\n") and len(err.splitlines()) == 1
    code, out, err = _run(capsys, *base, "--code", str(ROOT / MOBILE))
    assert (code, out) == (2, "") and len(err.splitlines()) == 1
    assert err.endswith("keys.yaml: no key names its code (`code:` globs); give --code-key\n")
    code, out, err = _run(capsys, *base, "--code", str(tmp_path / "missing"), "--code-key", "k")
    assert (code, out) == (2, "") and err.endswith("missing: no such file or folder\n")


def test_missing_scan_extra_is_one_line_before_reading_logs(
        small: tuple[str, str], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tree_sitter_python", None)
    keys, logs = small
    code, out, err = _run(capsys, "audit", "--keys", keys, "--logs", logs,
                          "--code", str(ROOT / MOBILE), "--code-key", "k")
    assert (code, out) == (2, "")
    assert err.strip().splitlines() == [
        "scopeaudit: error: static scanning needs the parsers of the scan extra: "
        "pip install 'scopeaudit[scan]'"]


def test_without_code_nothing_names_it(small: tuple[str, str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    keys, logs = small
    code, out, _ = _run(capsys, "audit", "--keys", keys, "--logs", logs, "--as-of",
                        "2026-11-27", "--format", "json", "--exit-zero")
    doc: dict[str, Any] = json.loads(out)
    assert code == 0 and "code" not in doc and all("code" not in k for k in doc["keys"])
    assert not [r for r in doc["findings"] if r["rule"].startswith("SA4")]
