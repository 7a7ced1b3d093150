#!/usr/bin/env python3
"""Write logs.jsonl for the unmatched-known-resource ground-truth scenario (deterministic).

Window 2026-09-01..2026-11-29 (90 days). key_issues:
  every day: GET /v1/issues?status=new and ?status=new&page=2 (200)
  every Wednesday: DELETE /v1/issues/<id> (204) -- no catalog operation: the insp.ac docs
  list only GET (list, get), POST (create) and PATCH (update, inferred) on /v1/issues
Run: python3 make.py
"""
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

START, DAYS = date(2026, 9, 1), 90


def ts(d, h, m, s):
    return datetime(d.year, d.month, d.day, h, m, s, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    who = ("key_issues", "triage-bot/1.2", "192.0.2.70")
    rows = []

    def add(t, method, path, status):
        rows.append({"ts": t, "key_id": who[0], "method": method, "path": path, "status": status,
                     "user_agent": who[1], "ip": who[2]})

    for n in range(DAYS):
        d = START + timedelta(days=n)
        add(ts(d, 9, 0, 0), "GET", "/v1/issues?status=new", 200)
        add(ts(d, 9, 0, 1), "GET", "/v1/issues?status=new&page=2", 200)
        if d.weekday() == 2:
            add(ts(d, 9, 5, 0), "DELETE", f"/v1/issues/{6000 + n}", 204)
    rows.sort(key=lambda r: r["ts"])
    out = Path(__file__).with_name("logs.jsonl")
    out.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    print(f"wrote {len(rows)} records to {out.name}")


if __name__ == "__main__":
    main()
