#!/usr/bin/env python3
"""Write logs.jsonl for the shared-name ground-truth scenario (deterministic).

Window 2026-09-01..2026-11-29 (90 days). key_id "Invoice sync" (a name, not an id):
  2026-09-01..2026-10-14 (both Invoice sync keys live): GET /v1/issues?status=open (200) twice,
      POST /v1/works (201) once, daily
  2026-10-15 (the old key's expiry day): no Invoice sync request at all (boundary left out)
  2026-10-16..2026-11-29 (old key expired): GET /v1/issues?status=open (200),
      GET /v1/sites/<id> (200), daily
key_id "key_directory": GET /v1/users?page=1 (200) daily, every day of the window.
Run: python3 make.py
"""
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

START, DAYS = date(2026, 9, 1), 90
OLD_EXPIRES = date(2026, 10, 15)


def ts(d, h, m, s):
    return datetime(d.year, d.month, d.day, h, m, s, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    inv = ("Invoice sync", "invoice-sync/5.0", "192.0.2.50")
    dirk = ("key_directory", "people-directory/2.2", "192.0.2.51")
    rows = []

    def add(t, who, method, path, status):
        rows.append({"ts": t, "key_id": who[0], "method": method, "path": path, "status": status,
                     "user_agent": who[1], "ip": who[2]})

    for n in range(DAYS):
        d = START + timedelta(days=n)
        if d < OLD_EXPIRES:
            add(ts(d, 1, 0, 0), inv, "GET", "/v1/issues?status=open", 200)
            add(ts(d, 1, 0, 1), inv, "GET", "/v1/issues?status=open&page=2", 200)
            add(ts(d, 1, 5, 0), inv, "POST", "/v1/works", 201)
        elif d > OLD_EXPIRES:
            add(ts(d, 1, 0, 0), inv, "GET", "/v1/issues?status=open", 200)
            add(ts(d, 1, 5, 0), inv, "GET", f"/v1/sites/{300 + n % 40}", 200)
        add(ts(d, 2, 0, 0), dirk, "GET", "/v1/users?page=1", 200)
    rows.sort(key=lambda r: r["ts"])
    out = Path(__file__).with_name("logs.jsonl")
    out.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    print(f"wrote {len(rows)} records to {out.name}")


if __name__ == "__main__":
    main()
