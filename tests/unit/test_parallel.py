"""Reading on several cores gives the very same report as one serial pass."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

import pytest

from scopeaudit.audit import AuditOptions, LogOptions, analyse, read_usage
from scopeaudit.catalog import load_builtin
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.engine.stream import _scan
from scopeaudit.inventory import KeysFormat, parse_inventory
from scopeaudit.render import RenderOptions
from scopeaudit.render.json_render import render_json
from scopeaudit.rules.inventory_rules import LintSettings

KEYS = b"keys:\n  - {id: k1, created: 2026-01-01, scopes: [issues:read, issues:write]}\n" \
       b"  - {id: k2, created: 2026-01-01, scopes: [sites:read]}\n"
TOKEN = "sk_" + "live_" + "A" * 24


def write_log(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        day = 1 + i * 28 // n
        r = rng.random()
        if r < 0.02:
            lines.append("{not json")
            continue
        key = rng.choice(["k1", "k2", "ghost", "-", f"Bearer {TOKEN}" if r < 0.03 else "k1"])
        target = rng.choice(["/v1/issues", f"/v1/issues/{i}", "/v1/sites?page=2",
                             f"/v1/unknown/{i % 7}", "/v1/issues/x/y"])
        lines.append(json.dumps({
            "ts": f"2026-11-{day:02d}T{rng.randrange(24):02d}:00:{rng.randrange(60):02d}Z",
            "key_id": key, "method": rng.choice(["GET", "PATCH", "POST", "OPTIONS"]),
            "path": target, "status": rng.choice([200, 201, 403, 401, 404, 500]),
            "ua": rng.choice(["a/1", "b/2", "c/3"]), "ip": f"192.0.2.{rng.randrange(5)}"}))
    path.write_text("\n".join(lines) + "\n")


def report(paths: list[Path], jobs: int, split: int) -> str:
    diagnostics = Diagnostics()
    catalog = load_builtin()
    inventory = parse_inventory(KEYS, "keys.yaml", KeysFormat.YAML, diagnostics)
    logs = LogOptions(paths=tuple(map(str, paths)), jobs=jobs, split_min_bytes=split)
    usage, stats, records, requests = read_usage(inventory, catalog, logs, diagnostics)
    audit = analyse(inventory, catalog, usage, stats, (records, requests),
                    AuditOptions(lint=LintSettings(as_of=date(2026, 12, 1))), diagnostics,
                    timestamp=False)
    return render_json(audit, RenderOptions())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_parallel_equals_serial(tmp_path: Path, seed: int) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_log(a, 3000, seed)
    write_log(b, 500, seed + 100)
    serial = report([a, b], jobs=1, split=1)
    for jobs in (2, 3, 5):
        assert report([a, b], jobs=jobs, split=1) == serial  # a.jsonl split into `jobs` parts
    doc = json.loads(serial)
    assert doc["inputs"][1]["skipped"] > 0  # the malformed lines are counted either way


def test_scan_cuts_on_newlines_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    lines = [f'{{"n": {i}, "pad": "{"x" * (i % 13)}"}}' for i in range(1, 501)]
    path.write_text("\n".join(lines) + "\n")
    data = path.read_bytes()
    digest, ranges = _scan(str(path), 4)
    import hashlib
    assert digest == hashlib.sha256(data).hexdigest()
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (start, end, first), nxt in zip(ranges, [*ranges[1:], None], strict=True):
        assert start == 0 or data[start - 1:start] == b"\n"  # a cut follows a newline
        assert data[:start].count(b"\n") + 1 == first  # and knows its line number
        if nxt is not None:
            assert end == nxt[0]
