"""Nothing from outside reaches a terminal raw: escape sequences, bidi overrides and line
breaks in an OpenAPI document, a key file or a file's name are shown as the reports show
them (``\\x1b``, ``\\u202e``), in every text view, in JSON and YAML documents (as their own
escapes, which read back the same) and on stderr."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scopeaudit.model import CatalogInfo
from scopeaudit.probe.model import ProbeReport, Result, ScopeResult
from scopeaudit.render.probe_view import render_probe_table
from scopeaudit.render.text import for_terminal, json_text
from support import run

# The payload: an OSC sequence setting the terminal's title (ESC ] 0 ; ... BEL) and
# a right-to-left override; and a line break that would start a forged line (a GitHub
# workflow command, in a CI log).
TITLE = "\x1b]0;pwned\x07"
RLO = "\u202e"
FORGED = "\n::error::forged"
# Every character the reports escape (render/text.py), but the line break a view lays out
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e"
                 "\u2060-\u2064\u2066-\u2069\ufeff]")


def assert_no_raw(text: str) -> None:
    found = RAW.search(text)
    assert found is None, f"raw {found.group(0)!r} at {found.start()}" if found else ""


@pytest.fixture
def api(tmp_path: Path) -> Path:
    """An OpenAPI document whose title, path and scope description carry the payloads (its
    import already folds a description's line breaks into spaces)."""
    doc = {
        "openapi": "3.0.3",
        "info": {"title": f"Things{RLO}API", "version": "1"},
        "components": {"securitySchemes": {"oauth": {"type": "oauth2", "flows": {
            "clientCredentials": {"tokenUrl": "https://auth.example.test/token", "scopes": {
                "things:read": f"Read {TITLE} things {RLO}evil"}}}}}},
        "paths": {f"/v1/things{RLO}": {"get": {"security": [{"oauth": ["things:read"]}],
                                               "responses": {"200": {"description": "ok"}}}}},
    }
    path = tmp_path / "api.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_catalog_table_shows_the_payload_escaped(capsys: pytest.CaptureFixture[str],
                                                 api: Path) -> None:
    code, out, err = run(capsys, "catalog", "--catalog", str(api))
    assert code == 0, err
    assert_no_raw(out + err)
    assert "Read \\x1b]0;pwned\\x07 things \\u202eevil\n" in out
    assert "/v1/things\\u202e" in out and out.startswith("Things\\u202eAPI 1 ")


def test_catalog_json_and_yaml_escape_it_and_read_back_the_same(
        capsys: pytest.CaptureFixture[str], api: Path, tmp_path: Path) -> None:
    code, as_json, _ = run(capsys, "catalog", "--catalog", str(api), "--format", "json")
    assert code == 0
    assert_no_raw(as_json)
    doc = json.loads(as_json)
    assert doc["scopes"][0]["description"] == f"Read {TITLE} things {RLO}evil"
    code, as_yaml, _ = run(capsys, "catalog", "--catalog", str(api), "--format", "catalog")
    assert code == 0
    assert_no_raw(as_yaml)
    assert '"Read \\e]0;pwned\\a things \\u202eevil"' in as_yaml
    (tmp_path / "back.yaml").write_text(as_yaml, encoding="utf-8")
    code, again, _ = run(capsys, "catalog", "--catalog", str(tmp_path / "back.yaml"),
                         "--format", "json")
    assert code == 0 and json.loads(again) == doc


def test_lint_table_json_and_warnings(capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path) -> None:
    # a key file named with the payload, holding it in a key's id and scope, and an
    # unknown field, so that a warning names the file
    keys = tmp_path / f"keys{TITLE}{RLO}.json"
    keys.write_text(json.dumps({"keys": [
        {"id": f"k{TITLE}{RLO}", "owner": "o", "expires": "2030-01-01",
         "scopes": [f"isues:read{RLO}"], "colour": "x"}]}), encoding="utf-8")
    common = ("lint", "--no-config", "--keys", str(keys), "--as-of", "2026-11-27",
              "--fail-on", "never")
    code, out, err = run(capsys, *common)
    assert code == 0, err
    assert_no_raw(out + err)
    assert "keys\\x1b]0;pwned\\x07\\u202e.json:1" in out  # the location column
    assert "scopeaudit: warning: " in err and "keys\\x1b]0;pwned\\x07\\u202e.json" in err
    code, out, _ = run(capsys, *common, "--format", "json")
    assert_no_raw(out)
    assert json.loads(out)["keys"][0]["id"] == f"k{TITLE}{RLO}"  # the value itself, intact


def test_probe_table_shows_catalog_values_escaped() -> None:
    report = ProbeReport(
        tool_version="0", base_url="http://127.0.0.1:1", key_fingerprint="sha256:0",
        key_kind="test",
        catalog=CatalogInfo(f"api{RLO}", "1", "api.json", 1, 1, {}),
        results=(ScopeResult(f"things:read{FORGED}", "read", Result.UNVERIFIABLE, 418, None,
                             f"GET /v1/things{TITLE}", "HTTP 418"),))
    table = render_probe_table(report)
    assert_no_raw(table)
    assert "things:read\\x0a::error::forged" in table and "/v1/things\\x1b]0;pwned\\x07" in table
    assert not any(line.startswith("::") for line in table.splitlines())


def test_the_two_displays() -> None:
    # a view keeps the line breaks that lay it out, nothing else
    assert for_terminal(f"a{TITLE}\nb{RLO}\t") == "a\\x1b]0;pwned\\x07\nb\\u202e\\x09"
    # a JSON document carries them as JSON escapes: the same value when read back
    doc = {"k": f"{TITLE}\x7f\x85{RLO}\u2028 é"}
    text = json_text(doc)
    assert_no_raw(text)
    assert json.loads(text) == doc and "é" in text  # other characters stay as they are
