"""CSV key exports: only the rows that change are rewritten (the csv module's quoting), with
the scope separator and line break each row had; every other line stays as it was. CSV has
no comments: the evidence is in the diff's summary."""

from __future__ import annotations

import csv
import io

from scopeaudit.errors import InputError
from scopeaudit.model import Audit
from scopeaudit.remediate.plan import Plan
from scopeaudit.remediate.textedit import Lines, Span, apply_spans


def edit_csv(text: str, source: str, plan: Plan, audit: Audit) -> str:
    lines = Lines(text)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = [c.strip().lower() for c in next(reader, [])]
    revoked = {r.key_id for r in plan.revocations}
    spans: list[Span] = []
    first = reader.line_num  # 1-based line numbers: rows span (first, last]
    for row in reader:
        last = reader.line_num
        cells = dict(zip(header, row, strict=False))
        key_id = cells.get("id", "").strip()
        gone = set(plan.removed_from(key_id))
        changed = list(row) + [""] * (len(header) - len(row))
        if gone and "scopes" in header:
            cell = changed[header.index("scopes")]
            sep = ";" if ";" in cell else " "
            parts = [p for p in cell.replace(";", " ").split() if p not in gone]
            changed[header.index("scopes")] = sep.join(parts)
        if key_id in revoked:
            if "revoke" in header:
                changed[header.index("revoke")] = "true"
            elif "expires" in header:
                # the export says revocation as an expiry today
                changed[header.index("expires")] = audit.as_of.isoformat()
            else:
                raise InputError(f"cannot mark {key_id!r} for revocation: the CSV has no "
                                 "'revoke' or 'expires' column", file=source, line=first + 1)
        if changed[:len(row)] != row or any(changed[len(row):]):
            start, end = lines.start(first), lines.end(last - 1)
            ending = text[start:end][len(text[start:end].rstrip("\r\n")):]
            out = io.StringIO()
            csv.writer(out, lineterminator=ending).writerow(
                changed if any(changed[len(row):]) else changed[:len(row)])
            spans.append(Span(start, end, out.getvalue()))
        first = last
    return apply_spans(text, spans)
