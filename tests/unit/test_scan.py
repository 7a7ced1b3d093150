"""`scopeaudit scan`: the calls in each fixture integration, listed by hand from its source
(tests/data/scan), matched to the built-in catalog; undetermined calls never guessed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from scopeaudit.catalog import load_builtin
from scopeaudit.scan import scan_code, scan_paths
from scopeaudit.scan.model import CallStatus, ScanReport
from support import run

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "data" / "scan"

# (line, method, operation or status, scopes): read off the fixture sources by hand
PYTHON = [
    (15, "GET", "GET /v1/issues/{id}", {"issues:read"}),  # f"{ISSUES}/{issue_id}", base_url
    (18, "PATCH", "PATCH /v1/issues/{id}", {"issues:write"}),
    (21, "POST", "POST /v1/logs", {"logs:write"}),
    (24, "GET", "undetermined", set()),  # self.http.get(path): a parameter
    (29, "GET", "GET /v1/sites", {"sites:read"}),  # AsyncClient(base_url=API)
]
TYPESCRIPT = [
    (10, "GET", "GET /v1/works/{id}", {"works:read"}),
    (14, "PATCH", "PATCH /v1/works/{id}", {"works:write"}),  # request({method: "PATCH"})
    (18, "GET", "GET /v1/sensor-readings", {"sensors:read"}),  # this.api(url): GET
    (22, "POST", "POST /v1/checkins", {"checkins:write"}),
    (26, "GET", "undetermined", set()),  # this.api.get(next)
]
GO = [
    (16, "GET", "GET /v1/sensor-readings/{id}", {"sensors:read"}),
    (20, "POST", "POST /v1/sensor-readings", {"sensors:write"}),
    (28, "DELETE", "DELETE /v1/integrations/**", {"integrations:write"}),  # Sprintf
    (34, None, "undetermined", set()),  # NewRequest(method, url): both parameters
]


def _listed(report: ScanReport) -> list[tuple[int, str | None, str, set[str]]]:
    return [(c.site.location.line, c.site.method,
             c.operation_label or c.status.value, set(c.scopes)) for c in report.calls]


@pytest.mark.parametrize(("folder", "expected"), [
    ("python", PYTHON), ("typescript", TYPESCRIPT), ("go", GO)])
def test_fixture_calls_are_found_matched_and_scoped(folder: str,
                                                     expected: list[object]) -> None:
    report = scan_paths([str(FIXTURES / folder)], load_builtin())
    assert _listed(report) == expected
    for call in report.calls:
        if call.status is CallStatus.UNDETERMINED:
            assert call.site.reason and call.site.target is None and call.operation is None


def test_scopes_needed_summarise_the_matched_calls_only() -> None:
    report = scan_paths([str(FIXTURES / "python")], load_builtin())
    assert report.scopes_needed() == ("issues:read", "issues:write", "logs:write",
                                      "sites:read")
    assert report.count(CallStatus.UNDETERMINED) == 1


def _scan_source(tmp_path: Path, name: str, source: str) -> ScanReport:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return scan_paths([str(path)], load_builtin())


def test_python_clients_and_strings(tmp_path: Path) -> None:
    report = _scan_source(tmp_path, "c.py", '''
import requests, urllib3
from httpx import AsyncClient
import aiohttp
URL = "https://api.insp.ac/v1/users"
AMBIGUOUS = "/v1/users"
AMBIGUOUS = "/v1/assets"
def a(uid, m):
    requests.delete(URL + "/" + uid)
    requests.request("POST", URL)
    urllib3.PoolManager().request("GET", "https://api.insp.ac/v1/checkins")
    pool = urllib3.PoolManager()
    pool.request("PATCH", "https://api.insp.ac/v1/checkins/%s" % uid)
    requests.get(AMBIGUOUS)
    requests.get("https://api.insp.ac/v1/runs/{}".format(uid))
    requests.request(m, URL)
async def b(client: AsyncClient, URL):
    await client.get("/v1/templates")
    await client.get(URL)
    async with aiohttp.ClientSession("https://api.insp.ac") as s:
        await s.patch(f"/v1/assets/{1 + 2}")
    {}.get("/v1/issues")
''')
    assert _listed(report) == [
        (9, "DELETE", "unmatched", set()),  # no DELETE /v1/users/{id} in the catalog
        (10, "POST", "POST /v1/users", {"users:write"}),
        (13, "PATCH", "PATCH /v1/checkins/{id}", {"checkins:write"}),
        (14, "GET", "undetermined", set()),  # bound twice to different values: not guessed
        (15, "GET", "GET /v1/runs/{id}", {"runs:read"}),
        (16, None, "undetermined", set()),
        (18, "GET", "GET /v1/templates", {"templates:read"}),  # a client handed in
        (19, "GET", "undetermined", set()),  # the parameter URL shadows the constant
        (21, "PATCH", "PATCH /v1/assets/{id}", {"assets:write"}),
    ]
    # a PoolManager made and used in one expression is not bound to a name: not seen
    assert report.calls[0].site.target == "https://api.insp.ac/v1/users/{}"
    assert not report.calls[6].site.base_known


def test_javascript_fetch_got_ky(tmp_path: Path) -> None:
    report = _scan_source(tmp_path, "c.js", '''
const got = require("got");
import ky from "ky";
const api = got.extend({ prefixUrl: "https://api.insp.ac/v1" });
const k = ky.create({ prefixUrl: "https://api.insp.ac" });
async function f(id, opts, m) {
  await fetch("https://api.insp.ac/v1/issues", { method: "POST", body: "{}" });
  await fetch(`https://api.insp.ac/v1/issues/${id}`);
  await fetch("https://api.insp.ac/v1/issues", opts);
  await fetch("https://api.insp.ac/v1/issues", { ...opts });
  await api.patch(`runs/${id}`, { json: {} });
  await api(`templates`, { method: "post" });
  await k.get("v1/sites");
  await got("https://api.insp.ac/v1/logs", { method: m });
}
''')
    assert _listed(report) == [
        (7, "POST", "POST /v1/issues", {"issues:write"}),
        (8, "GET", "GET /v1/issues/{id}", {"issues:read"}),
        (9, None, "undetermined", set()),  # the options are a variable
        (10, None, "undetermined", set()),  # a spread may set the method
        (11, "PATCH", "PATCH /v1/runs/{id}", {"runs:write"}),
        (12, "POST", "POST /v1/templates", {"templates:write"}),
        (13, "GET", "GET /v1/sites", {"sites:read"}),
        (14, None, "undetermined", set()),
    ]


def test_go_client_variable_and_method_constant(tmp_path: Path) -> None:
    report = _scan_source(tmp_path, "c.go", '''package x

import (
	nethttp "net/http"
)

const issues = "https://api.insp.ac/v1/issues"
const verb = "PATCH"

func f(q map[string]string, id string) {
	client := &nethttp.Client{}
	client.Get(issues)
	client.Post(issues, "application/json", nil)
	nethttp.NewRequestWithContext(nil, verb, issues+"/"+id, nil)
	q.Get("x")
	nethttp.Head(issues)
}
''')
    assert _listed(report) == [
        (12, "GET", "GET /v1/issues", {"issues:read"}),
        (13, "POST", "POST /v1/issues", {"issues:write"}),
        (14, "PATCH", "PATCH /v1/issues/{id}", {"issues:write"}),
        (16, "HEAD", "GET /v1/issues", {"issues:read"}),  # HEAD is routed as GET
    ]


def test_scanned_code_is_parsed_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    report = _scan_source(tmp_path, "evil.py", f'''
import httpx
open({str(marker)!r}, "w").write("ran")
httpx.get("https://api.insp.ac/v1/issues")
''')
    assert not marker.exists() and len(report.calls) == 1
    assert "evil" not in sys.modules


def test_large_files_are_skipped_and_reported(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text("import httpx\nhttpx.get('/v1/issues')\n" + "#" * 200)
    (tmp_path / "small.py").write_text("import httpx\nhttpx.get('/v1/sites')\n")
    report = scan_paths([str(tmp_path)], load_builtin(), max_file_bytes=100)
    assert report.files_scanned == 1 and [c.operation_label for c in report.calls] == [
        "GET /v1/sites"]
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("big.py", "larger than 100 bytes")]


def test_missing_extra_is_one_line_exit_2(capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tree_sitter_go", None)  # import fails
    code, out, err = run(capsys, "scan", str(FIXTURES))
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "scopeaudit: error: static scanning needs the parsers of the scan extra: "
        "pip install 'scopeaudit[scan]'"]


def test_json_and_sarif_formats(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", str(FIXTURES / "typescript"), "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["schema"] == "scopeaudit/scan/v1"
    assert [(c["line"], c["status"]) for c in doc["calls"]] == [
        (10, "matched"), (14, "matched"), (18, "matched"), (22, "matched"),
        (26, "undetermined")]
    assert doc["calls"][1]["operation"]["requires"] == [["works:write"]]
    assert doc["scopes_needed"] == ["checkins:write", "sensors:read", "works:read",
                                    "works:write"]
    code, out, _ = run(capsys, "scan", str(FIXTURES / "typescript"), "--format", "sarif")
    results = json.loads(out)["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for r in results] == [("SA402", 26)]


def _keys(tmp_path: Path, body: str) -> str:
    path = tmp_path / "keys.yaml"
    path.write_text(body, encoding="utf-8")
    return str(path)


def test_key_id_fails_the_build_on_a_scope_the_key_lacks(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = _keys(tmp_path, "keys:\n  - id: k_gw\n    scopes: [sensors:read, sensors:write]\n")
    code, out, _ = run(capsys, "scan", "--keys", keys, "--key-id", "k_gw",
                       str(FIXTURES / "go"), "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["keys"] == ["k_gw"]
    assert [(f["rule"], f["line"], f["scope"]) for f in doc["findings"]] == [
        ("SA401", 28, "integrations:write"), ("SA402", 34, None)]
    keys = _keys(tmp_path, "keys:\n  - id: k_gw\n    scopes: [sensors:read, sensors:write, "
                           "integrations:write]\n")
    code, _, _ = run(capsys, "scan", "--keys", keys, "--key-id", "k_gw", str(FIXTURES / "go"))
    assert code == 0
    code, _, err = run(capsys, "scan", "--keys", keys, "--key-id", "nope", str(FIXTURES))
    assert code == 2 and err.endswith("keys.yaml: no key with id 'nope'\n")


def test_code_globs_choose_the_key_per_file(tmp_path: Path) -> None:
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.inventory import load_inventory

    keys = _keys(tmp_path, f"""keys:
  - id: k_sync
    scopes: [issues:read, issues:write, logs:write]
    code: [{FIXTURES.as_posix()}/python/*.py]
  - id: k_app
    scopes: [works:read]
    code: {FIXTURES.as_posix()}/typescript
""")
    inventory = load_inventory(keys, None, Diagnostics())
    assert inventory.keys[1].code == (f"{FIXTURES.as_posix()}/typescript",)
    report = scan_code([str(FIXTURES)], load_builtin(), inventory.keys)
    assert report.keys == ("k_sync", "k_app")
    assert [(f.rule, f.key, Path(f.location.file).name, f.location.line, f.scope)
            for f in report.findings] == [
        ("SA402", None, "inspac.go", 34, None),  # no key names the Go code
        ("SA402", "k_sync", "inspac_client.py", 24, None),
        ("SA401", "k_sync", "inspac_client.py", 29, "sites:read"),
        ("SA401", "k_app", "inspac.ts", 14, "works:write"),
        ("SA401", "k_app", "inspac.ts", 18, "sensors:read"),
        ("SA401", "k_app", "inspac.ts", 22, "checkins:write"),
        ("SA402", "k_app", "inspac.ts", 26, None),
    ]


def test_code_must_be_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = _keys(tmp_path, "keys:\n  - id: k\n    scopes: [issues:read]\n    code: [1]\n")
    code, _, err = run(capsys, "scan", "--keys", keys, str(FIXTURES))
    assert code == 2 and "keys.yaml:4: 'code' must be a path or glob" in err
