"""Helpers shared by the tests: one of each, imported as ``from support import ...``.

tests/ is on sys.path (pytest's rootdir conftest), so test modules import this module and never
each other.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import io
import json
import os
import random
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from scopeaudit.cli import main
from scopeaudit.secrets import fingerprint
from scopeaudit.usage.record import Record


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``scopeaudit ARGS`` in process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 0), out, err


# --- from test_evidence.py ----------------------------------------


UNTIL = date(2026, 11, 26)  # the newest record in most tests is on this day


SINCE = UNTIL - timedelta(days=89)


def day(n: int, hour: int = 12) -> float:
    """Epoch seconds for day n of the default window (0 = SINCE), at ``hour``."""
    d = SINCE + timedelta(days=n)
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC).timestamp()


def rec(t: float, key: str | None, method: str, target: str, status: int = 200, *,
        ua: str = "ua/1", ip: str = "192.0.2.1", hits: int = 1, line: int = 1,
        token: bool = False) -> Record:
    return Record(t, key, method, target, status, ua, ip, hits, line, token)


# --- from test_render_html.py ----------------------------------------


@dataclasses.dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = dataclasses.field(default_factory=list)
    parent: Node | None = None

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> list[Node]:
        out = [self]
        for c in self.children:
            if isinstance(c, Node):
                out.extend(c.iter())
        return out

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [n for n in self.iter()[1:]
                if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)]

    def by_id(self, ident: str) -> Node:
        found = [n for n in self.iter() if n.attrs.get("id") == ident]
        assert len(found) == 1, f"{len(found)} elements with id {ident!r}"
        return found[0]


VOID = {"meta", "br", "wbr", "input", "link", "img", "hr", "source", "col", "area", "base",
        "embed", "param", "track"}
# end tags HTML lets a document leave out (the report does, in its largest tables): a start
# tag closes the open elements whose end it implies, as a browser's parser does
IMPLIED_END = {"td": {"td", "th"}, "th": {"td", "th"}, "tr": {"tr", "td", "th"},
               "dt": {"dt", "dd"}, "dd": {"dt", "dd"}, "li": {"li"}}


class TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        while self.current.tag in IMPLIED_END.get(tag, ()) and self.current.parent is not None:
            self.current = self.current.parent
        node = Node(tag, dict(attrs), parent=self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self.current.children.append(Node(tag, dict(attrs), parent=self.current))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None and node.parent is not None, f"stray </{tag}>"
        self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> TreeBuilder:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    assert builder.current is builder.root, f"unclosed <{builder.current.tag}>"
    return builder


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# --- from test_engine_parity.py ----------------------------------------


TOKEN_BI = "sk_" + "live_BIx9f8e7d6c5b4a3210Q"


TOKEN_GW = "sk_" + "live_GWa1b2c3d4e5f6g7h8i9"


TOKEN_UNKNOWN = "sk_" + "test_ZZZZyyyyXXXXwwwwVVVV"


KEYS = f"""keys:
  - id: key_bi
    name: bi-export
    sha256: {fingerprint(TOKEN_BI)}
    created: 2026-01-01
    owner: o
    expires: 2027-12-31
    scopes: [issues:read, works:write]
  - id: key_gw
    name: sensor-gateway
    prefix: sk_live_GWa1
    created: 2026-01-01
    owner: o
    expires: 2027-12-31
    scopes: [sites:read, sites:write, assets:read]
  - id: key_tk
    name: ticket-sync
    last4: Q7r2
    created: 2026-01-01
    owner: o
    expires: 2027-12-31
    scopes: [issues:read, issues:write]
  - {{id: k1, created: 2026-01-01, owner: o, expires: 2027-12-31,
      scopes: [issues:read, issues:write]}}
  - {{id: k2, created: 2026-01-01, owner: o, expires: 2027-12-31, scopes: [sites:read]}}
"""


def run_quiet(*args: str) -> tuple[int, str]:
    """scopeaudit in this process: (exit code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exc:
        main(list(args))
    code = exc.value.code
    return (code if isinstance(code, int) else 0), err.getvalue()


def both_engines(keys: Path, logs: list[Path], out_dir: Path, *extra: str,
                 before: Callable[[], object] | None = None) -> tuple[bytes, str]:
    """Audit with each engine; assert the same exit code, stderr and report bytes.
    ``before`` runs before each engine's audit (to refill a named pipe, say)."""
    results = []
    for engine in ("stream", "duckdb"):
        if before is not None:
            before()
        out = out_dir / f"report-{engine}.json"
        args = ["audit", "--keys", str(keys), "--format", "json", "--no-timestamp",
                "--as-of", "2026-12-01", "--fail-on", "never", "--engine", engine,
                "-o", str(out), "--jobs", "1", *extra]
        for log in logs:
            args += ["--logs", str(log)]
        code, err = run_quiet(*args)
        results.append((code, err, out.read_bytes() if out.exists() else b""))
        out.unlink(missing_ok=True)
    (code_s, err_s, doc_s), (code_d, err_d, doc_d) = results
    assert (code_d, err_d) == (code_s, err_s)
    assert doc_d == doc_s
    return doc_s, err_s


def write_keys(folder: Path) -> Path:
    keys = folder / "keys.yaml"
    keys.write_text(KEYS)
    return keys


def good(n: int) -> bytes:
    return b"".join(json.dumps({"ts": f"2026-11-{1 + i % 28:02d}T10:00:00Z", "key_id": "k1",
                                "method": "GET", "path": "/v1/issues", "status": 200}
                               ).encode() + b"\n" for i in range(n))


def flat(n: int, seed: int) -> bytes:
    """Mostly one flat layout (the SQL path) with every kind of line mixed in."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r = rng.random()
        day = 1 + i * 28 // n
        key = rng.choice(["k1", "k2", "key_bi", "bi-export", "Q7r2", "ghost", "-", "", "k 1",
                          f"sha256:{'ab' * 32}", "sk_live_GWa1zz"])
        target = rng.choice([
            "/v1/issues", f"/v1/issues/{i}", f"/v1/issues/{i}/", "/v1/sites?page=2",
            f"/v1/unknown/{i % 7}", "/v1/issues/x/y", f"/v1/works/{i}/tasks/{i % 3}",
            "/v1/assets/3f2b8c1e-1111-2222-3333-444455556666", f"/v1/exports/ab{i % 5}cd9",
            "https://api.insp.ac/v1/sites/12?x=1", "*", "/v1/issues;key=1/7", "/v1/is%2Fsues/3",
            "/v1/sites/12?api_key=abc", f"/rest/api/{i % 4}", "/", "/v1/issues/007",
            "/v1/issues/12a/34", "/v1/12/34",
            # every id style the route key folds (and a digit-free slug it keeps)
            f"/v1/issues/{uuid.UUID(int=i * 7919)}", f"/v1/issues/{i * 7919:024x}",
            f"/v1/issues/obj_{i}", f"/v1/issues/01HZX3T2V9K8M7N6P5Q4R{i % 97:05d}",
            f"/v1/works/iss_8fK2x{i % 9}/tasks/{i:08x}ab",
            f"/v1/exports/amber-falcon-{'ab'[i % 2]}",
            f"/v1/issues/{'ABCDEFAB-CDEF-ABCD-ABCD-ABCDEFABCDE' + 'ABCDEF'[i % 6]}",
        ])
        stamp = rng.choice([
            f"2026-11-{day:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:"
            f"{rng.randrange(60):02d}Z",
            f"2026-11-{day:02d}T23:59:59.{rng.choice(['9', '999', '999999999', '5'])}Z",
            1795788231 + i, 1795788231500 + i, f"{1795788231 + i}", 1795788231.25,
            f"2026-11-{day:02d}T10:00:00+01:00",
        ])
        record: dict[str, object] = {
            "ts": stamp, "key_id": key,
            "method": rng.choice(["GET", "get", "PATCH", "POST", "OPTIONS", "HEAD", "DELETE",
                                  "PUT", "G3T"]),
            "path": target,
            "status": rng.choice([200, 201, 204, 403, 401, 404, 429, 500, "200", 0, 99]),
            "ua": rng.choice(["a/1", "b/2", "c/3", "x" * 130, None, 5, "-", "Mözilla — 5",
                              "é" * 125]),
            "ip": rng.choice([f"192.0.2.{rng.randrange(5)}", "2001:db8::1", "010.1.1.1",
                              "fe80::1%eth0", "garbage", f"198.51.{i % 300}.7",
                              f"::ffff:198.51.{i % 300}.7", f"192.0.2.{i % 7}:{i}",
                              f"[2001:db8::{i % 50:x}]:443"]),
        }
        if r < 0.05:
            record["count"] = rng.choice([1, 3, "4", 0, -1, "x"])
        if r < 0.02:
            out.append("{not json")
            continue
        if r < 0.03:
            out.append("")
            continue
        if r < 0.04:
            out.append(json.dumps(record).replace('"status"', '"status": 1, "status"', 1))
            continue
        if r < 0.045:
            out.append(json.dumps(record)[:-1] + ', "lat": NaN}')
            continue
        if r < 0.05:
            out.append(json.dumps(record)[:-1] + ",}")
            continue
        out.append(json.dumps(record, separators=(",", ":") if r < 0.5 else (", ", ": "),
                              ensure_ascii=r < 0.7))
    return ("\n".join(out) + "\n").encode()


# --- golden files ------------------------------------------------------------------------------

UPDATE_GOLDEN = os.environ.get("SCOPEAUDIT_UPDATE_GOLDEN") == "1"


def check_golden(path: Path, text: str) -> None:
    """``text`` equals the golden file ``path``; SCOPEAUDIT_UPDATE_GOLDEN=1 rewrites it first
    (then review the diff by eye before committing)."""
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    assert path.is_file(), f"{path} is missing: write it with SCOPEAUDIT_UPDATE_GOLDEN=1, read it"
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs; if the change is meant, rerun with SCOPEAUDIT_UPDATE_GOLDEN=1 "
        "and review the diff")
