#!/usr/bin/env python3
"""Write logs.jsonl for the shared-last4 ground-truth scenario (deterministic).

The records carry the raw token in an "authorization" field ("Bearer sk_live_..."), no key id.
The tokens are made up at run time from a fixed seed (never a literal in this script).
Window 2026-09-01..2026-11-29 (90 days). Every day:
  token A (ends Q7zK): GET /v1/issues?page=1 (200), PATCH /v1/issues/<id> (200)
  token B (ends Q7zK): GET /v1/works?page=1 (200)
  token S (ends M3pX): GET /v1/sites?page=1 and ?page=2 (200)
Run: python3 make.py
"""
import json
import random
import string
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

START, DAYS = date(2026, 9, 1), 90


def fake_token(rng, tail):
    body = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(20))
    return "sk_" + "live_" + body + tail


def ts(d, h, m, s):
    return datetime(d.year, d.month, d.day, h, m, s, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    rng = random.Random(4242)
    tok_a, tok_b, tok_s = fake_token(rng, "Q7zK"), fake_token(rng, "Q7zK"), fake_token(rng, "M3pX")
    assert len({tok_a, tok_b, tok_s}) == 3
    a = ("Bearer " + tok_a, "helpdesk-sync/3.1", "192.0.2.10")
    b = ("Bearer " + tok_b, "planner-sync/2.0", "192.0.2.11")
    s = ("Bearer " + tok_s, "site-directory/1.0", "198.51.100.30")
    rows = []

    def add(t, who, method, path, status):
        rows.append({"ts": t, "authorization": who[0], "method": method, "path": path,
                     "status": status, "user_agent": who[1], "ip": who[2]})

    for n in range(DAYS):
        d = START + timedelta(days=n)
        add(ts(d, 6, 0, 0), a, "GET", "/v1/issues?page=1", 200)
        add(ts(d, 6, 0, 5), a, "PATCH", f"/v1/issues/{5000 + rng.randrange(900)}", 200)
        add(ts(d, 7, 0, 0), b, "GET", "/v1/works?page=1", 200)
        add(ts(d, 8, 0, 0), s, "GET", "/v1/sites?page=1", 200)
        add(ts(d, 8, 0, 1), s, "GET", "/v1/sites?page=2", 200)
    rows.sort(key=lambda r: r["ts"])
    out = Path(__file__).with_name("logs.jsonl")
    out.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    print(f"wrote {len(rows)} records to {out.name}")


if __name__ == "__main__":
    main()
