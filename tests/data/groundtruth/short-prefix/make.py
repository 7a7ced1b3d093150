#!/usr/bin/env python3
"""Write logs.jsonl for the short-prefix ground-truth scenario (deterministic).

Records carry raw tokens ("Bearer sk_live_...") in an "authorization" field; the tokens are
made up at run time from a fixed seed. Window 2026-09-01..2026-11-29 (90 days).
  key_ok's token (sk_live_ok42...): GET /v1/sites?page=1..4 (200), every day (360 requests)
  unknown token U1 (sk_live_zz...): GET /v1/issues (200) on 2026-09-10 and 2026-10-10
  unknown token U2 (sk_live_yy...): GET /v1/issues/4711 (200) on 2026-11-05
Unknown-key requests: 3 of 363 accepted (0.83%, under the 1% of SA304 whatever reading).
Run: python3 make.py
"""
import json
import random
import string
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

START, DAYS = date(2026, 9, 1), 90


def fake_token(rng, head):
    body = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24 - len(head)))
    return "sk_" + "live_" + head + body


def ts(d, h, m, s):
    return datetime(d.year, d.month, d.day, h, m, s, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    rng = random.Random(777)
    ok = ("Bearer " + fake_token(rng, "ok42"), "site-directory/1.0", "198.51.100.30")
    u1 = ("Bearer " + fake_token(rng, "zz"), "python-requests/2.32.3", "203.0.113.66")
    u2 = ("Bearer " + fake_token(rng, "yy"), "curl/8.10.1", "203.0.113.67")
    rows = []

    def add(t, who, method, path, status):
        rows.append({"ts": t, "authorization": who[0], "method": method, "path": path,
                     "status": status, "user_agent": who[1], "ip": who[2]})

    for n in range(DAYS):
        d = START + timedelta(days=n)
        for page in range(1, 5):
            add(ts(d, 8, 0, page), ok, "GET", f"/v1/sites?page={page}", 200)
        if d in (date(2026, 9, 10), date(2026, 10, 10)):
            add(ts(d, 13, 0, 0), u1, "GET", "/v1/issues", 200)
        if d == date(2026, 11, 5):
            add(ts(d, 14, 0, 0), u2, "GET", "/v1/issues/4711", 200)
    rows.sort(key=lambda r: r["ts"])
    out = Path(__file__).with_name("logs.jsonl")
    out.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    print(f"wrote {len(rows)} records to {out.name}")


if __name__ == "__main__":
    main()
