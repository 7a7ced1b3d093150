#!/usr/bin/env python3
"""Write logs.jsonl for the partial-alternatives ground-truth scenario (deterministic).

Window 2026-09-01..2026-11-29 (90 days). Every day:
  key_items: GET /v1/items?page=1 and ?page=2 (200)
  key_jira:  GET /rest/api/3/issue/MIR-<n> three times (200)
Run: python3 make.py  (writes next to this file)
"""
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

START, DAYS = date(2026, 9, 1), 90


def ts(d, h, m, s):
    return datetime(d.year, d.month, d.day, h, m, s, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    rows = []
    for n in range(DAYS):
        d = START + timedelta(days=n)
        for page in (1, 2):
            rows.append({"ts": ts(d, 4, 0, page), "key_id": "key_items", "method": "GET",
                         "path": f"/v1/items?page={page}", "status": 200,
                         "user_agent": "items-reader/1.4", "ip": "192.0.2.21"})
        for j in range(3):
            rows.append({"ts": ts(d, 5, 10, j), "key_id": "key_jira", "method": "GET",
                         "path": f"/rest/api/3/issue/MIR-{100 + (n * 3 + j) % 250}", "status": 200,
                         "user_agent": "issue-mirror/0.9", "ip": "192.0.2.22"})
    rows.sort(key=lambda r: r["ts"])
    out = Path(__file__).with_name("logs.jsonl")
    out.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    print(f"wrote {len(rows)} records to {out.name}")


if __name__ == "__main__":
    main()
