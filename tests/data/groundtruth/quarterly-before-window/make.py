#!/usr/bin/env python3
"""Write logs.jsonl for the quarterly-before-window ground-truth scenario (deterministic).

Audited window 2026-09-01..2026-11-29 (90 days); the logs start earlier (2026-03-01).
key_quarterly: a quarterly close job, run on 2026-03-02, 2026-06-01 and 2026-08-31 (the day
    before the window): GET /v1/issues?page=1..5 (200), PATCH /v1/issues/<id> x3 (200).
    Nothing in the window.
key_sitesync: GET /v1/sites?page=1,2 (200) every day from 2026-06-01 to 2026-11-29, and a
    quarterly POST /v1/sites (201) on 2026-06-01 and 2026-08-31 only.
key_directory: GET /v1/users?page=1 (200) every day of the window.
Run: python3 make.py
"""
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

LOG_START, LOG_END = date(2026, 3, 1), date(2026, 11, 29)
WINDOW_START = date(2026, 9, 1)
QUARTERLY = (date(2026, 3, 2), date(2026, 6, 1), date(2026, 8, 31))
SITES_FROM = date(2026, 6, 1)


def ts(d, h, m, s):
    return datetime(d.year, d.month, d.day, h, m, s, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    rows = []

    def add(t, key, ua, ip, method, path, status):
        rows.append({"ts": t, "key_id": key, "method": method, "path": path, "status": status,
                     "user_agent": ua, "ip": ip})

    q = ("key_quarterly", "quarterly-close/1.0", "192.0.2.90")
    s = ("key_sitesync", "site-sync/2.1", "192.0.2.91")
    u = ("key_directory", "people-directory/2.2", "192.0.2.92")
    d, n = LOG_START, 0
    while d <= LOG_END:
        if d in QUARTERLY:
            for page in range(1, 6):
                add(ts(d, 22, 0, page), *q, "GET", f"/v1/issues?page={page}", 200)
            for j in range(3):
                add(ts(d, 22, 5, j), *q, "PATCH", f"/v1/issues/{8000 + 10 * n + j}", 200)
            if d >= SITES_FROM:
                add(ts(d, 23, 0, 0), *s, "POST", "/v1/sites", 201)
        if d >= SITES_FROM:
            add(ts(d, 6, 0, 0), *s, "GET", "/v1/sites?page=1", 200)
            add(ts(d, 6, 0, 1), *s, "GET", "/v1/sites?page=2", 200)
        if d >= WINDOW_START:
            add(ts(d, 7, 0, 0), *u, "GET", "/v1/users?page=1", 200)
        d += timedelta(days=1)
        n += 1
    rows.sort(key=lambda r: r["ts"])
    out = Path(__file__).with_name("logs.jsonl")
    out.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    print(f"wrote {len(rows)} records to {out.name}")


if __name__ == "__main__":
    main()
