"""W3C extended log files, as Amazon CloudFront writes its standard logs: ``#Version`` and
``#Fields: date time x-edge-location ...`` directive lines, then one record a line, the
values separated by tabs (CloudFront) in the order the last ``#Fields`` line names.

Each line becomes a record keyed by the field names and is mapped with
:class:`~scopeaudit.usage.fields.FieldMap`; the ``date`` and ``time`` fields (UTC, as the
format defines them) are joined as ``date time``, and a query (``cs-uri-query``) is put back
on the path (``cs-uri-stem``) so that a key sent in it is found and redacted.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

from scopeaudit.secrets import TOKEN_MARK_BYTES
from scopeaudit.usage.fields import BadRecord, FieldMap, line_has_token
from scopeaudit.usage.inputs import iter_lines
from scopeaudit.usage.readers.jsonl import note_missing
from scopeaudit.usage.record import ReadContext, Record

_FIELDS = "#Fields:"


@dataclass  # not frozen: LogReader.name is a plain (settable) protocol member
class W3cReader:
    fields: FieldMap
    name: str = "cloudfront"
    delimiter: str = "\t"

    def read(self, stream: io.BufferedIOBase, ctx: ReadContext) -> Iterator[Record]:
        skip = ctx.skip
        names: list[str] | None = None
        for lineno, raw in iter_lines(stream, ctx.first_line):
            if raw is None:
                skip(lineno, "line longer than 1 MiB")
                continue
            try:
                text = raw.rstrip(b"\r\n").decode("utf-8")
            except UnicodeDecodeError:
                skip(lineno, "invalid UTF-8", raw)
                continue
            if not text.strip():
                continue
            if text.startswith("#"):
                if text.startswith(_FIELDS):
                    names = text[len(_FIELDS):].split()
                continue  # #Version and other directives hold no record
            if names is None:
                skip(lineno, "a record before any #Fields line", raw)
                continue
            values = text.split(self.delimiter)
            if len(values) < len(names):
                skip(lineno, f"{len(values)} fields where #Fields names {len(names)}", raw)
                continue
            row = dict(zip(names, values, strict=False))  # fields added later: passed over
            if "date" in row and "time" in row:
                row["date time"] = f"{row['date']}T{row['time']}Z"
            query = row.get("cs-uri-query")
            if query and query != "-" and "cs-uri-stem" in row:
                row["cs-uri-stem"] = f"{row['cs-uri-stem']}?{query}"
            try:
                yield self.fields.record(row, lineno, ctx,
                                         TOKEN_MARK_BYTES in raw and line_has_token(raw))
            except BadRecord as exc:
                skip(lineno, str(exc), raw)
                note_missing(ctx, self.fields, row)
