"""JSON Lines (one object per line), with the default, a preset or a custom field mapping.

Envelopes are unwrapped by their content (:mod:`~scopeaudit.usage.readers.envelopes`): a line
that is an array, a CloudWatch subscription message, Azure's ``{"records": [...]}``, OTLP
JSON, or base64 of gzip, gives the records inside; an input that is one JSON document (a
pretty-printed array, values run together) is parsed whole.
"""

from __future__ import annotations

import codecs
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from scopeaudit.errors import InputError
from scopeaudit.secrets import TOKEN_MARK_BYTES
from scopeaudit.usage.fields import BadRecord, FieldMap, line_has_token
from scopeaudit.usage.inputs import TruncatedInput, iter_line_blocks
from scopeaudit.usage.readers.envelopes import (
    GZIP_BASE64,
    MAX_DOCUMENT,
    Item,
    Rejected,
    decode_base64_gzip,
    is_envelope,
    iter_values,
    run_together,
    sniff,
    unwrap,
)
from scopeaudit.usage.record import ReadContext, Record

BOM = codecs.BOM_UTF8  # orjson refuses one; an exported file may start with it
SNIFF_BYTES = 1 << 16  # the head of an input that tells a JSON document from JSON Lines


class _Replay(io.RawIOBase):
    """The bytes already read from the head of a stream, then the rest of it."""

    def __init__(self, head: bytes, rest: io.BufferedIOBase, error: Exception | None) -> None:
        self._head = memoryview(head)
        self._rest = rest
        self._error = error  # what reading the head ended with: raised after it

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        if self._error is not None:
            raise self._error
        return self._rest.readinto(buffer)


def _read_head(stream: io.BufferedIOBase) -> tuple[bytes, Exception | None]:
    """Up to SNIFF_BYTES from the start of a stream, and the error reading ended with (a
    truncated gzip): the line reader raises it where the lines before it have been read."""
    parts: list[bytes] = []
    size = 0
    try:
        while size < SNIFF_BYTES:
            chunk = stream.read1(SNIFF_BYTES - size)
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        return b"".join(parts), exc
    return b"".join(parts), None


@dataclass  # not frozen: LogReader.name is a plain (settable) protocol member
class JsonLinesReader:
    fields: FieldMap
    name: str = "jsonl"
    not_a_record = "not a JSON object"  # the reason for a line of a JSON scalar

    def read(self, stream: io.BufferedIOBase, ctx: ReadContext) -> Iterator[Record]:
        if ctx.first_line == 1:  # (a work unit inside a file is JSON Lines: see parallel)
            head, error = _read_head(stream)
            if error is None and sniff(head):
                yield from self._document(head, stream, ctx)
                return
            stream = io.BufferedReader(_Replay(head, stream, error), buffer_size=1 << 16)
        yield from self._lines(stream, ctx)

    def _lines(self, stream: io.BufferedIOBase, ctx: ReadContext) -> Iterator[Record]:
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
                        values = _packed(raw, lineno)
                        if values is not None:
                            yield from self._values(values, raw, ctx)
                            continue
                        skip(lineno, f"invalid JSON ({str(exc).split(':')[0]})", raw)
                        continue
                if obj.__class__ is not dict:
                    yield from self.other(obj, raw, lineno, ctx)
                    continue
                try:
                    yield to_record(obj, lineno, ctx,
                                    TOKEN_MARK_BYTES in raw and line_has_token(raw))
                except BadRecord as exc:
                    if is_envelope(obj):  # looked at only once a line is no record
                        yield from self._items(unwrap(obj), raw, lineno, ctx)
                        continue
                    skip(lineno, str(exc), raw)
                    note_missing(ctx, self.fields, obj)

    def other(self, value: Any, raw: bytes, lineno: int, ctx: ReadContext) -> Iterator[Record]:
        """A line holding JSON that is not an object: a batch (an array of records, as
        Kong's http-log posts), else malformed."""
        if not isinstance(value, list):
            ctx.skip(lineno, self.not_a_record, raw)
            return iter(())
        if value and not any(isinstance(item, dict | list) for item in value):
            ctx.skip(lineno, "not a JSON object", raw)
            return iter(())
        return self._items(unwrap(value), raw, lineno, ctx)

    def _items(self, items: Iterator[Item], raw: bytes | None, lineno: int, ctx: ReadContext,
               batch_token: bool | None = None) -> Iterator[Record]:
        """The records of an envelope, all numbered with the line it starts on. A token is
        told by the item it is in (the envelope's bytes would flag every item); ``raw``,
        the line's bytes, go with an item that is no record (None in a document)."""
        skip = ctx.skip
        if batch_token is None:
            batch_token = raw is not None and line_has_token(raw)
        empty = True
        for item in items:
            empty = False
            if isinstance(item, Rejected):
                skip(lineno, item.reason, orjson.dumps(item.value) if batch_token else None)
                continue
            text = orjson.dumps(item) if batch_token else None
            try:
                yield self.fields.record(item, lineno, ctx, text is not None
                                         and line_has_token(text))
            except BadRecord as exc:
                skip(lineno, str(exc), text)
                note_missing(ctx, self.fields, item)
        if empty and batch_token and raw is not None:
            ctx.leaked(lineno, raw)  # no record, but a line that leaked one

    def _values(self, values: Iterator[tuple[int, Any]], raw: bytes, ctx: ReadContext,
                document: bool = False) -> Iterator[Record]:
        """Values of a document (or a packed line), each from the line it starts on."""
        token = line_has_token(raw)
        for lineno, value in values:
            if isinstance(value, str) and value.startswith("\0"):
                ctx.skip(lineno, value[1:], None if document else raw)
                return
            yield from self._items(unwrap(value), None if document else raw, lineno, ctx,
                                   token)

    def _document(self, head: bytes, stream: io.BufferedIOBase, ctx: ReadContext
                  ) -> Iterator[Record]:
        """An input that is one JSON document: read whole (bounded), its values in order."""
        try:
            data = head + (stream.read(MAX_DOCUMENT + 1 - len(head)) or b"")
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
            raise TruncatedInput(1, str(exc) or type(exc).__name__) from None
        if len(data) > MAX_DOCUMENT:
            raise InputError(f"a JSON document (not one record per line) larger than "
                             f"{MAX_DOCUMENT >> 20} MiB: convert it to JSON Lines first, e.g. "
                             "jq -c '.[]'", file=ctx.stats.path)
        yield from self._values(iter_values(data), data, ctx, document=True)


def _packed(raw: bytes, lineno: int) -> Iterator[tuple[int, Any]] | None:
    """The values of a line that is not one JSON value but several run together
    (``{...}{...}``, as Firehose writes subscription records), or base64 of gzip; else
    None."""
    if raw.startswith(GZIP_BASE64):
        text = decode_base64_gzip(raw)
        return None if text is None else ((lineno, v) for _, v in iter_values(text))
    if raw.lstrip()[:1] == b"{" and run_together(raw):
        return iter_values(raw, lineno)
    return None


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
