"""scopeaudit fix: the key file rewritten to the recommendation, on hand-built logs.

The fixture's traffic (``_logs``): every day of the 90 days up to 2026-11-26, key_report
lists issues and works, key_flow lists sites and assets, key_pinned lists issues, key_idle
sends nothing. Each key was created in 2025, so every removal is of high confidence. The
expected files in tests/golden/fix/ were written out by hand from that, and checked against
the rules below, not copied from the tool's output:

* key_report: issues:write and sites:read go; works:write stays (its line says
  ``# scopeaudit: keep``);
* key_flow: issues:read, works:read and assets:write go; the two-line flow list keeps its
  line break (the separator before ``assets:read`` holds it);
* key_pinned: users:read goes; sites:read stays (``keep: [sites:read]``);
* key_idle: unused (SA101): with --revoke-unused it gets ``revoke: true``, never an empty
  list.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from scopeaudit.cli import main
from scopeaudit.model import Audit
from scopeaudit.remediate.fix import Fix

DATA = Path(__file__).resolve().parents[1] / "data" / "fix"
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "fix"
UNTIL = date(2026, 11, 26)
TRAFFIC = {"key_report": ["/v1/issues", "/v1/works"], "key_flow": ["/v1/sites", "/v1/assets"],
           "key_pinned": ["/v1/issues"]}


def _logs(folder: Path, traffic: dict[str, list[str]] = TRAFFIC) -> Path:
    path = folder / "logs.jsonl"
    lines = []
    for n in range(90):
        day = UNTIL - timedelta(days=89 - n)
        for key, paths in sorted(traffic.items()):
            for p in paths:
                lines.append(json.dumps({"time": f"{day}T12:00:00Z", "key_id": key,
                                         "method": "GET", "path": p, "status": 200}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], keys: Path, logs: Path, *extra: str
         ) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["fix", "--keys", str(keys), "--logs", str(logs), "--as-of", "2026-11-27",
              "--no-config", *extra])
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.fixture
def work(tmp_path: Path) -> Path:
    for name in ("keys.yaml", "keys.json", "keys.csv"):
        shutil.copyfile(DATA / name, tmp_path / name)
    _logs(tmp_path)
    return tmp_path


class _Reading:
    """The audit of a key file on logs, and of other definitions on the same usage (what
    the CLI's replay guard runs)."""

    def __init__(self, keys: Path, logs: Path) -> None:
        from scopeaudit.audit import AuditOptions, LogOptions, read_usage
        from scopeaudit.catalog import load_builtin
        from scopeaudit.diagnostics import Diagnostics
        from scopeaudit.inventory import load_inventory
        from scopeaudit.rules.inventory_rules import LintSettings

        self.catalog = load_builtin()
        self.inventory = load_inventory(str(keys), None, Diagnostics())
        self.usage, self.stats, self.records, self.requests = read_usage(
            self.inventory, self.catalog, LogOptions(paths=(str(logs),)), Diagnostics())
        self.options = AuditOptions(lint=LintSettings(as_of=date(2026, 11, 27)))

    def judge(self, inventory: object = None) -> Audit:
        from scopeaudit.audit import analyse
        from scopeaudit.diagnostics import Diagnostics

        return analyse(inventory or self.inventory, self.catalog,  # type: ignore[arg-type]
                       self.usage, self.stats, (self.records, self.requests), self.options,
                       Diagnostics(), timestamp=False)


def reading_for(keys: Path, logs: Path) -> _Reading:
    return _Reading(keys, logs)


def fix_for(keys: Path, logs: Path) -> Fix:
    from scopeaudit.inventory import KeysFormat
    from scopeaudit.remediate.fix import build_fix
    from scopeaudit.remediate.plan import FixOptions

    reading = reading_for(keys, logs)
    return build_fix(reading.judge(), KeysFormat.YAML, reading.catalog, FixOptions(),
                     reading.judge)


def _comments(text: str) -> list[str]:
    return [m.group(0) for m in re.finditer(r"#[^\n]*", text)]


def test_yaml_round_trip_matches_the_golden_file(work: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, work / "keys.yaml", work / "logs.jsonl",
                          "--revoke-unused", "--apply")
    assert code == 0, err
    fixed = (work / "keys.yaml").read_text("utf-8")
    assert fixed == (GOLDEN / "keys.fixed.yaml").read_text("utf-8")
    # every comment of the original is still there (a removed line's inside its note)
    original = (DATA / "keys.yaml").read_text("utf-8")
    for comment in _comments(original):
        assert comment.lstrip("# ") in fixed
    # the keys in their order, the quoting as written
    assert re.findall(r"id: (\w+)", fixed) == re.findall(r"id: (\w+)", original)
    assert "'works:read'" in fixed and '"Reporting export"' in fixed
    assert "pinned: key_report works:write" in err
    assert "pinned: key_pinned sites:read" in err
    assert out.startswith(f"--- a/{str(work / 'keys.yaml').lstrip('/')}")


def test_dry_run_prints_the_diff_and_leaves_the_file(work: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    before = (work / "keys.yaml").read_bytes()
    code, out, err = _run(capsys, work / "keys.yaml", work / "logs.jsonl")
    assert code == 0, err
    assert (work / "keys.yaml").read_bytes() == before
    assert "-      - issues:write           # left over from a backfill\n" in out
    assert "+    revoke: true" not in out  # only with --revoke-unused
    assert "not applied: key_idle (every scope would go" in err
    assert "replay: 0 of the window's accepted requests would be refused" in err


def test_only_and_min_confidence(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, work / "keys.yaml", work / "logs.jsonl", "--only", "key_flow")
    assert code == 0
    assert "issues:write" not in out and "[sites:read," in out


def test_medium_removal_needs_min_confidence_medium(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    # key_new was created 45 days before the window's end: 45 observed days is medium
    # (30 <= days < 60), the logs cover them all and it was active every day
    created = UNTIL - timedelta(days=44)
    keys = tmp_path / "keys.yaml"
    keys.write_text(f"keys:\n  - id: key_new\n    created: {created}\n    scopes:\n"
                    "      - issues:read\n      - issues:write\n", encoding="utf-8")
    logs = _logs(tmp_path, {"key_new": ["/v1/issues"]})
    lines = [line for line in logs.read_text().splitlines()
             if json.loads(line)["time"][:10] >= str(created)]
    logs.write_text("\n".join(lines) + "\n")
    code, out, err = _run(capsys, keys, logs)
    assert code == 0 and out == ""
    assert "key_new issues:write (medium confidence, below --min-confidence high)" in err
    code, out, err = _run(capsys, keys, logs, "--min-confidence", "medium")
    assert "-      - issues:write\n" in out


def test_apply_is_refused_when_the_file_changed_since_it_was_read(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scopeaudit.errors import InputError
    from scopeaudit.remediate.fix import apply_fix, keys_input
    from scopeaudit.remediate.plan import Plan


    fix = fix_for(work / "keys.yaml", work / "logs.jsonl")
    assert isinstance(fix.plan, Plan) and fix.changed
    path, sha = keys_input(fix.audit)
    assert sha == hashlib.sha256((DATA / "keys.yaml").read_bytes()).hexdigest()
    # someone edits the file between the audit and the write
    Path(path).write_text(Path(path).read_text() + "# edited\n")
    with pytest.raises(InputError, match="changed since the audit read it"):
        apply_fix(fix)
    assert Path(path).read_text().endswith("# edited\n")


def test_apply_writes_atomically_and_keeps_the_mode(work: Path) -> None:
    from scopeaudit.remediate.fix import apply_fix


    keys = work / "keys.yaml"
    keys.chmod(0o640)
    fix = fix_for(keys, work / "logs.jsonl")
    apply_fix(fix)
    assert keys.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in work.iterdir()) == ["keys.csv", "keys.json", "keys.yaml",
                                                      "logs.jsonl"]


def test_json_keeps_its_indentation(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, work / "keys.json", work / "logs.jsonl", "--revoke-unused",
                        "--apply")
    assert code == 0, err
    assert (work / "keys.json").read_text("utf-8") == (GOLDEN / "keys.fixed.json").read_text()


def test_csv_changes_only_its_rows(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, work / "keys.csv", work / "logs.jsonl", "--revoke-unused",
                        "--apply")
    assert code == 0, err
    # CRLF kept, the separator each cell used kept, the unchanged quoting of the other
    # cells kept; no revoke column, so the unused key expires on the audit date
    assert (work / "keys.csv").read_bytes() == (
        b"id,owner,created,expires,scopes\r\n"
        b"key_report,data@example.com,2025-01-01,2027-01-01,issues:read;works:read\r\n"
        b"key_idle,idle@example.com,2025-01-01,2026-11-27,users:read users:write\r\n")


def test_markdown_for_a_pull_request(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, work / "keys.yaml", work / "logs.jsonl", "--format",
                        "markdown")
    assert code == 0
    assert out.startswith("## scopeaudit fix: ")
    assert "| key\\_report | issues:write | high | 180 |" in out
    assert "**Pinned** (never removed):" in out
    assert "```diff\n--- a/" in out and out.rstrip().endswith("```")


def test_replay_guard_refuses_a_patch_that_would_refuse_a_request(
        work: Path) -> None:
    """A crafted patch: key_report losing issues:read, which 90 of its requests needed."""
    from dataclasses import replace

    from scopeaudit.catalog import load_builtin
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.inventory import KeysFormat, parse_inventory
    from scopeaudit.remediate.fix import check


    reading = reading_for(work / "keys.yaml", work / "logs.jsonl")
    original = reading.judge()
    text = (work / "keys.yaml").read_text().replace(
        "      - issues:read            # used every day\n", "", 1)
    patched = reading.judge(parse_inventory(text.encode(), str(work / "keys.yaml"),
                                            KeysFormat.YAML, Diagnostics()))
    guard = check(original, patched, load_builtin())
    assert guard.refused == (("key_report", "issues.list", 90),)
    assert not guard.safe
    # and a patch that changes nothing passes
    same = check(original, reading.judge(), load_builtin())
    assert same.safe
    # the patched audit alone would not catch it (its own replay is of its own
    # recommendation, and no finding names the use): the original requests are replayed
    assert patched.replay is not None and patched.replay.would_be_denied == 0
    assert replace(guard, refused=()).safe


def test_url_keys_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from scopeaudit.remediate.fix import keys_input  # noqa: F401 - the module imports

    logs = _logs(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["fix", "--keys", str(tmp_path / "missing.yaml"), "--logs", str(logs),
              "--no-config"])
    assert exit_info.value.code == 2
    assert "missing.yaml: no such file" in capsys.readouterr().err


def test_guard_refuses_a_patch_that_makes_a_finding_worse(work: Path) -> None:
    """A crafted patch granting a scope the catalog does not know: a new SA201 finding."""
    from scopeaudit.catalog import load_builtin
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.inventory import KeysFormat, parse_inventory
    from scopeaudit.remediate.fix import check

    reading = reading_for(work / "keys.yaml", work / "logs.jsonl")
    text = (work / "keys.yaml").read_text().replace(
        "      - 'works:read'\n", "      - 'works:read'\n      - works:raed\n", 1)
    patched = reading.judge(parse_inventory(text.encode(), str(work / "keys.yaml"),
                                            KeysFormat.YAML, Diagnostics()))
    guard = check(reading.judge(), patched, load_builtin())
    assert not guard.refused
    assert [w.split(" ")[:2] for w in guard.worse] == [["new", "SA201"]]


def test_keep_revoke_and_justification_are_key_fields() -> None:
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.errors import InputError
    from scopeaudit.inventory import KeysFormat, parse_inventory

    diagnostics = Diagnostics()
    inv = parse_inventory(b"keys:\n  - id: k\n    keep: [a:read]\n    revoke: true\n"
                          b"    justification: backfill\n    scopes: [a:read]\n", "k.yaml",
                          KeysFormat.YAML, diagnostics)
    key = inv.keys[0]
    assert (key.keep, key.revoke, key.justification) == (("a:read",), True, "backfill")
    assert not diagnostics.warnings  # known fields: no "unknown field" warning
    csv_inv = parse_inventory(b"id,scopes,keep,revoke\nk,a:read b:read,a:read;b:read,yes\n",
                              "k.csv", KeysFormat.CSV, Diagnostics())
    assert (csv_inv.keys[0].keep, csv_inv.keys[0].revoke) == (("a:read", "b:read"), True)
    with pytest.raises(InputError) as err:
        parse_inventory(b"keys:\n  - id: k\n    revoke: maybe\n    scopes: []\n", "k.yaml",
                        KeysFormat.YAML, Diagnostics())
    assert (err.value.line, err.value.message) == (3, "'revoke' must be true or false, "
                                                      "found 'maybe'")
