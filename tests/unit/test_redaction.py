"""A token in a file's name never reaches an output: every report format, the warnings, the
history, the baseline. And the walk that redacts a finished value (scopeaudit.redaction)."""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from collections import namedtuple
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import pytest

from scopeaudit.model import Severity
from scopeaudit.redaction import redacted
from support import run

KEYS = "keys:\n  - {id: key_a, owner: o, expires: 2030-01-01, scopes: [issues:read]}\n"
RECORD = ('{"ts": "2026-10-01T10:00:00Z", "key_id": "key_a", "method": "GET", '
          '"path": "/v1/issues", "status": 200}\n')


def token() -> str:
    """An insp.ac-shaped token made at run time: no token-shaped literal in the repository."""
    return "sk_live_" + secrets.token_hex(12)


def shown(value: str) -> str:
    """How scopeaudit.secrets.redact writes a token: kind and short fingerprint."""
    return "sk_live_…[sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12] + "]"


@pytest.fixture
def named_by_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A key file and a log file whose names are tokens (the log with a malformed line, so
    that a warning names it)."""
    monkeypatch.chdir(tmp_path)
    keys_token, log_token = token(), token()
    Path(f"{keys_token}.yaml").write_text(KEYS, encoding="utf-8")
    Path("logs").mkdir()
    Path(f"logs/{log_token}.jsonl").write_text(RECORD + "not json\n", encoding="utf-8")
    return keys_token, log_token


def audit_args(keys_token: str, log_token: str) -> list[str]:
    return ["audit", *inputs(keys_token, log_token), "--no-timestamp", "--fail-on", "never"]


def inputs(keys_token: str, log_token: str) -> list[str]:
    return ["--no-config", "--keys", f"{keys_token}.yaml", "--logs", f"logs/{log_token}.jsonl",
            "--as-of", "2026-11-27"]


@pytest.mark.parametrize("fmt", ["json", "markdown", "table", "html", "sarif", "csv"])
def test_a_token_in_a_file_name_reaches_no_report(capsys: pytest.CaptureFixture[str],
                                                  named_by_tokens: tuple[str, str],
                                                  fmt: str) -> None:
    keys_token, log_token = named_by_tokens
    code, out, err = run(capsys, *audit_args(keys_token, log_token), "--format", fmt)
    assert code == 0, err
    for value in (keys_token, log_token):
        assert value not in out and value not in err
        assert value[len("sk_live_"):] not in out + err  # nor its secret part
    assert f"logs/{shown(log_token)}.jsonl: 1 malformed record skipped" in err


def test_the_json_report_names_the_inputs_redacted(capsys: pytest.CaptureFixture[str],
                                                   named_by_tokens: tuple[str, str]) -> None:
    keys_token, log_token = named_by_tokens
    _, out, _ = run(capsys, *audit_args(keys_token, log_token), "--format", "json")
    doc = json.loads(out)
    assert [i["path"] for i in doc["inputs"]] == [f"{shown(keys_token)}.yaml",
                                                 f"logs/{shown(log_token)}.jsonl"]
    assert doc["warnings"][0].startswith(f"logs/{shown(log_token)}.jsonl: 1 malformed "
                                         "record skipped (first at line 2)")


def test_history_and_baseline_hold_no_token(capsys: pytest.CaptureFixture[str],
                                            named_by_tokens: tuple[str, str]) -> None:
    keys_token, log_token = named_by_tokens
    code, _, err = run(capsys, *audit_args(keys_token, log_token), "--history", "h.db")
    assert code == 0, err
    with sqlite3.connect("h.db") as db:
        paths = [row[0] for row in db.execute("SELECT path FROM run_inputs ORDER BY path")]
    assert paths == [f"logs/{shown(log_token)}.jsonl", f"{shown(keys_token)}.yaml"]
    dump = Path("h.db").read_bytes()
    assert keys_token.encode() not in dump and log_token.encode() not in dump

    # a raw token inside the log named by a token: SA301's identity is the log's name, so
    # the baseline holds it redacted, and the next run matches it there
    Path(f"logs/{log_token}.jsonl").write_text(RECORD + RECORD.replace('"key_a"',
                                                                       f'"{token()}"'))
    args = inputs(keys_token, log_token)
    code, out, err = run(capsys, "baseline", "write", *args)
    assert code == 0, err
    assert "SA301" in {f["rule"] for f in json.loads(out)["findings"]}
    assert log_token not in out
    Path("baseline.json").write_text(out)
    code, out, err = run(capsys, "audit", *args, "--baseline", "baseline.json", "--fail-on",
                         "info", "--format", "json")
    assert code == 0, err  # every finding is in the baseline
    assert all(f["baselined"] for f in json.loads(out)["findings"])


# -- the walk ------------------------------------------------------------------------------

Pair = namedtuple("Pair", "left right")


@dataclass(frozen=True)
class Inner:
    text: str
    severity: Severity = Severity.HIGH
    count: int = 3


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner
    items: tuple[object, ...] = ()
    by_path: dict[str, int] = field(default_factory=dict)
    proxy: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    tags: frozenset[str] = frozenset()


def test_the_walk_redacts_every_string_at_any_depth() -> None:
    t = token()
    value = Outer(name=f"a {t}", inner=Inner(f"Bearer {t}"),
                  items=(f"x{t}", Pair(t, 1), [t], None), by_path={f"logs/{t}": 2},
                  proxy=MappingProxyType({"k": t}), tags=frozenset({t}))
    out = redacted(value)
    assert out == Outer(name=f"a {shown(t)}",
                        inner=Inner("Bearer …[sha256:" + shown(t)[-13:]),
                        items=(f"x{shown(t)}", Pair(shown(t), 1), [shown(t)], None),
                        by_path={f"logs/{shown(t)}": 2},
                        proxy=MappingProxyType({"k": shown(t)}),
                        tags=frozenset({shown(t)}))
    assert isinstance(out.items[1], Pair) and out.inner.severity is Severity.HIGH


def test_a_value_without_a_secret_comes_back_as_the_same_object() -> None:
    value = Outer(name="a", inner=Inner("b"), items=("c", Pair("d", 1)), by_path={"e": 1})
    assert redacted(value) is value
