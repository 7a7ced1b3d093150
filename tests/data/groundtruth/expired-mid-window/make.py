#!/usr/bin/env python3
"""Write logs.jsonl for the expired-mid-window ground-truth scenario (deterministic).

Window 2026-11-01..2026-11-30 (30 days).
key_legacy (expires 2026-11-14): GET /v1/issues?page=1..3 (200) every day 2026-11-01..2026-11-13;
    nothing on the expiry day itself or after it.
key_directory: GET /v1/users?page=1,2 (200) every day of the window.
Run: python3 make.py
"""
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

START, DAYS = date(2026, 11, 1), 30
LEGACY_EXPIRES = date(2026, 11, 14)


def ts(d, h, m, s):
    return datetime(d.year, d.month, d.day, h, m, s, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    rows = []

    def add(t, key, ua, ip, method, path, status):
        rows.append({"ts": t, "key_id": key, "method": method, "path": path, "status": status,
                     "user_agent": ua, "ip": ip})

    for n in range(DAYS):
        d = START + timedelta(days=n)
        if d < LEGACY_EXPIRES:
            for page in (1, 2, 3):
                add(ts(d, 5, 0, page), "key_legacy", "legacy-tracker/0.8", "192.0.2.95", "GET",
                    f"/v1/issues?page={page}", 200)
        for page in (1, 2):
            add(ts(d, 6, 0, page), "key_directory", "people-directory/2.2", "192.0.2.92", "GET",
                f"/v1/users?page={page}", 200)
    rows.sort(key=lambda r: r["ts"])
    out = Path(__file__).with_name("logs.jsonl")
    out.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    print(f"wrote {len(rows)} records to {out.name}")


if __name__ == "__main__":
    main()
