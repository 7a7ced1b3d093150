#!/usr/bin/env python3
"""Write logs.jsonl for the no-handler-404 ground-truth scenario (deterministic).

Window 2026-09-01..2026-11-29 (90 days).
key_app, every day: GET /v1/issues?assignee=me and GET /v1/issues/<id> (200); and, under no
  known resource prefix, answered 404 or 405:
    Mondays    GET /v1/version        404
    Tuesdays   GET /                  404
    Wednesdays GET /v1/isues?limit=1  404   (a typo of /v1/issues)
    Thursdays  POST /v1/ping          405
key_probe, every day: GET /v1/issues?limit=1 (200); Fridays: GET /v1/version answered 200
  (under no known prefix, and not 404/405).
Run: python3 make.py
"""
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

START, DAYS = date(2026, 9, 1), 90
NOISE = {0: ("GET", "/v1/version", 404), 1: ("GET", "/", 404),
         2: ("GET", "/v1/isues?limit=1", 404), 3: ("POST", "/v1/ping", 405)}


def ts(d, h, m, s):
    return datetime(d.year, d.month, d.day, h, m, s, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    app = ("key_app", "field-app-backend/3.0", "192.0.2.80")
    probe = ("key_probe", "status-probe/1.1", "192.0.2.81")
    rows = []

    def add(t, who, method, path, status):
        rows.append({"ts": t, "key_id": who[0], "method": method, "path": path, "status": status,
                     "user_agent": who[1], "ip": who[2]})

    for n in range(DAYS):
        d = START + timedelta(days=n)
        add(ts(d, 10, 0, 0), app, "GET", "/v1/issues?assignee=me", 200)
        add(ts(d, 10, 0, 1), app, "GET", f"/v1/issues/{5000 + n}", 200)
        if d.weekday() in NOISE:
            method, path, status = NOISE[d.weekday()]
            add(ts(d, 10, 30, 0), app, method, path, status)
        add(ts(d, 11, 0, 0), probe, "GET", "/v1/issues?limit=1", 200)
        if d.weekday() == 4:
            add(ts(d, 11, 0, 1), probe, "GET", "/v1/version", 200)
    rows.sort(key=lambda r: r["ts"])
    out = Path(__file__).with_name("logs.jsonl")
    out.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    print(f"wrote {len(rows)} records to {out.name}")


if __name__ == "__main__":
    main()
