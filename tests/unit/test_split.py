"""scopeaudit split: one key per client cluster of a shared key (SA106).

On the example organisation, examples/generate.py's ``edge_events`` puts three clients on
key_mobile_backend; worked out from its code (window 2026-08-29..11-26 without the outage
day 2026-10-03: 89 days):

* Android, ``okhttp/4.12.0`` from 203.0.113.x: even n of 0..149 (75 a day) call issues.list,
  issues.get, works.list, sites.get; n % 6 == 0 (25) also works.update, checkins.create,
  users.get; n % 10 == 0 (15) also POST /v1/media/uploads and .../complete (media.write.post),
  issues.create, issues.update (the OPTIONS preflight is no use). 75*4 + 25*3 + 15*4 = 435 a
  day, 38,715, plus the one request with the token in its query string (matched by the
  key's sha256): 38,716. Scopes: issues:read, works:read, sites:read, works:write,
  checkins:write, users:read, media:write, issues:write.
* iOS, ``NorthwindField-iOS/5.2.1 …`` from 198.51.100.x: odd n (75 a day), of which n % 3 ==
  0 (3, 9, …, 147: 25) add the three; n % 10 == 0 is never odd, so no media or issue
  writes: 75*4 + 25*3 = 375 a day, 33,375. Scopes: the Android set without media:write and
  issues:write.
* the admin's ``curl/8.10.1`` from 192.0.2.5: on Wednesdays (13 in the window) GET
  /v1/issues?limit=1 (issues.list) and HEAD /v1/works (works.list): 26 requests; issues:read
  and works:read.

Three different operation sets: three clusters, one client each.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scopeaudit.catalog import load_builtin
from scopeaudit.cli import main
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.inventory import KeysFormat, parse_inventory
from scopeaudit.model import Audit
from scopeaudit.remediate.split import render_split, shared_keys, split_key, weakness

READS = ("issues:read", "sites:read", "users:read", "works:read")
IOS_SCOPES = tuple(sorted((*READS, "works:write", "checkins:write")))
ANDROID_SCOPES = tuple(sorted((*IOS_SCOPES, "media:write", "issues:write")))


def test_split_of_the_example_shared_key(example_audit: Audit) -> None:
    targets = shared_keys(example_audit, ())
    assert [k.id for k, _ in targets] == ["key_mobile_backend"]
    split = split_key(*targets[0], load_builtin())
    assert not split.weak and not split.unlisted
    got = [(c.key_id, [cl.client for cl in c.clients], c.requests,
            tuple(s for s, _ in c.scopes), c.exact, c.gaps) for c in split.clusters]
    assert got == [
        ("key_mobile_backend_okhttp", ["okhttp/4.12.0 @ 203.0.113.0/24"], 38716,
         ANDROID_SCOPES, True, ()),
        ("key_mobile_backend_northwindfield_ios",
         ["NorthwindField-iOS/5.2.1 (iPhone; iOS 18.1) @ 198.51.100.0/24"], 33375,
         IOS_SCOPES, True, ()),
        ("key_mobile_backend_curl", ["curl/8.10.1 @ 192.0.2.0/24"], 26,
         ("issues:read", "works:read"), True, ()),
    ]
    curl = split.clusters[2]
    assert dict(curl.scopes) == {"issues:read": ("issues.list",),
                                 "works:read": ("works.list",)}
    assert dict(split.clusters[0].scopes)["media:write"] == ("media.write.post",)

    text = render_split([split])
    snippet = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert snippet is not None
    keys = parse_inventory(snippet.group(1).encode(), "split.yaml", KeysFormat.YAML,
                           Diagnostics()).keys
    assert [(k.id, k.granted) for k in keys] == [(c[0], c[3]) for c in got]
    assert ("| curl/8.10.1 @ 192.0.2.0/24 | 26 | issues.list, works.list | "
            "key\\_mobile\\_backend\\_curl |") in text


def test_weak_identities_are_said_so() -> None:
    assert weakness("okhttp/4.12.0 @ 203.0.113.0/24") is None
    assert weakness("- @ 10.0.0.0/24") == (
        "no user agent: the requests from 10.0.0.0/24 may come from several programs behind "
        "one network")
    assert weakness("sync/1.0 @ -") == ("no usable client address: only the user agent tells "
                                        "it apart")


def test_cli_weak_client_and_clusters(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """key_shared: ``report/1`` from 10.0.1.x lists issues, and so does ``report/1`` from
    10.0.2.x (same operations: one cluster, issues:read); ``sync/2`` from 10.0.3.x patches
    works (works:write); requests with no user agent from 10.0.4.x list sites: no key for
    them, said so. Four clients: SA106 at its default of 3."""
    keys = tmp_path / "keys.yaml"
    keys.write_text("keys:\n  - id: key_shared\n    created: 2025-01-01\n    scopes: "
                    "[issues:read, works:write, sites:read, users:read]\n", encoding="utf-8")
    rows = []
    for day in range(1, 29):
        for ua, ip, method, path in (("report/1", "10.0.1.7", "GET", "/v1/issues"),
                                     ("report/1", "10.0.2.7", "GET", "/v1/issues"),
                                     ("sync/2", "10.0.3.7", "PATCH", "/v1/works/5"),
                                     ("", "10.0.4.7", "GET", "/v1/sites")):
            rows.append(json.dumps({"time": f"2026-11-{day:02d}T10:00:00Z",
                                    "key_id": "key_shared", "method": method, "path": path,
                                    "status": 200, "ua": ua, "ip": ip}))
    logs = tmp_path / "logs.jsonl"
    logs.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["split", "--keys", str(keys), "--logs", str(logs), "--as-of", "2026-11-29",
              "--no-config"])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 0, err
    assert "3 client(s)" in out.splitlines()[0] and "2 proposed key(s)" in out.splitlines()[0]
    assert ("  - id: key_shared_report\n    name: \"key_shared (report/1)\"\n    scopes:\n"
            "      - issues:read  # issues.list\n") in out
    assert ("  - id: key_shared_sync\n    name: \"key_shared (sync/2)\"\n    scopes:\n"
            "      - works:write  # works.update\n") in out
    assert "| report/1 @ 10.0.1.0/24 | 28 | issues.list | key\\_shared\\_report |" in out
    assert "| report/1 @ 10.0.2.0/24 | 28 | issues.list | key\\_shared\\_report |" in out
    assert ("| \\- @ 10.0.4.0/24 | 28 | sites.list | none: no user agent: the requests from "
            "10.0.4.0/24 may come from several programs behind one network |") in out


def test_cli_unknown_key_is_an_error(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text("keys:\n  - id: k\n    scopes: [issues:read]\n", encoding="utf-8")
    logs = tmp_path / "logs.jsonl"
    logs.write_text(json.dumps({"time": "2026-11-01T00:00:00Z", "key_id": "k",
                                "method": "GET", "path": "/v1/issues", "status": 200}) + "\n",
                    encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["split", "--keys", str(keys), "--logs", str(logs), "--key", "nope",
              "--no-config"])
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert "--key nope: no such key in the key file" in err
