"""JSON Lines (one object per line), with the default, a preset or a custom field mapping."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from scopeaudit.usage.fields import BadRecord, FieldMap, line_has_token
from scopeaudit.usage.inputs import iter_line_blocks
from scopeaudit.usage.record import ReadContext, Record

BOM = codecs.BOM_UTF8  # orjson refuses one; an exported file may start with it


@dataclass  # not frozen: LogReader.name is a plain (settable) protocol member
class JsonLinesReader:
    fields: FieldMap
    name: str = "jsonl"

    def read(self, stream: io.BufferedIOBase, ctx: ReadContext) -> Iterator[Record]:
        skip = ctx.skip  # a skipped line's raw bytes go with it: a token on it is reported
        to_record = self.fields.record
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        for first, lines in iter_line_blocks(stream, ctx.first_line):
            for lineno, raw in enumerate(lines, first):
                if raw is None:
                    skip(lineno, "line longer than 1 MiB")
                    continue
                try:
                    obj = loads(raw)
                except decode_error as exc:
                    if not raw.strip():
                        continue  # blank lines are not records
                    obj = _after_bom(raw) if lineno == 1 else None  # off the hot path
                    if obj is None:
                        skip(lineno, f"invalid JSON ({str(exc).split(':')[0]})", raw)
                        continue
                if obj.__class__ is not dict:
                    yield from self.other(obj, raw, lineno, ctx)
                    continue
                try:
                    yield to_record(obj, lineno, ctx, b"sk_" in raw and line_has_token(raw))
                except BadRecord as exc:
                    skip(lineno, str(exc), raw)
                    note_missing(ctx, self.fields, obj)

    def other(self, value: Any, raw: bytes, lineno: int, ctx: ReadContext) -> Iterator[Record]:
        """A line holding JSON that is not an object: malformed here; formats that batch
        records on one line (Kong's http-log) override this."""
        ctx.skip(lineno, "not a JSON object", raw)
        return iter(())


def note_missing(ctx: ReadContext, fields: FieldMap, obj: Any) -> None:
    """Keep the fields the input's first skipped record lacked (once per input): an input
    none of whose records could be read is an error that names them."""
    if not ctx.stats.missing_fields and isinstance(obj, dict):
        ctx.stats.missing_fields = fields.missing(obj)


def _after_bom(raw: bytes) -> Any:
    """The first line's JSON after a UTF-8 byte order mark, or None."""
    if not raw.startswith(BOM):
        return None
    try:
        return orjson.loads(raw[len(BOM):])
    except orjson.JSONDecodeError:
        return None
