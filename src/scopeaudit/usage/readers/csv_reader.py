"""CSV with a header row (or the column names ``--csv-columns`` gives a headerless file),
any one-character delimiter (``--csv-delimiter``), mapped with
:class:`~scopeaudit.usage.fields.FieldMap`.

The header's column names are the sources (``--map key_id=API Key ID`` picks a column). The csv
module parses text that this reader decodes line by line from the bounded byte lines of
:func:`~scopeaudit.usage.inputs.iter_line_blocks`, so it can tell, per row, which physical
lines the row spans (a quoted cell may hold newlines), whether one of them was invalid UTF-8 or
over the line limit, and whether one held a token. ``Record.line`` is the row's first physical
line.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from scopeaudit.errors import InputError
from scopeaudit.secrets import TOKEN_MARK_BYTES, redact
from scopeaudit.usage.fields import BadRecord, FieldMap, line_has_token
from scopeaudit.usage.inputs import iter_line_blocks
from scopeaudit.usage.record import ReadContext, Record

_BOM = codecs.BOM_UTF8
# Fields a row cannot do without; the method may also come from a request-line path.
_REQUIRED = ("time", "path", "status")


@dataclass
class _LineMarks:
    """What the lines fed to the csv parser since the last row held, and where they were."""

    bad: str | None = None  # the first reason a line of the row is unusable
    token: bytes | None = None  # the first line of the row that holds a token
    between_rows: bool = True  # the parser's next line starts a row
    first: int = 0  # the physical line the row being read started on
    last: int = 0  # the last physical line fed to the parser


def _text_lines(stream: io.BufferedIOBase, marks: _LineMarks) -> Iterator[str]:
    """Physical lines as text, one per byte line, so the parser sees the file's lines.

    Empty lines come passed over (iter_line_blocks): between rows they are nothing (the
    parser would give an empty row), so they stay passed over; inside a quoted cell that
    spans lines they are part of its text, and are given back to the parser one by one."""
    for first, lines in iter_line_blocks(stream):
        while marks.last + 1 < first and not marks.between_rows:
            marks.last += 1
            yield "\n"
        marks.last = first - 1
        for lineno, raw in enumerate(lines, first):
            if marks.between_rows:
                marks.between_rows = False
                marks.first = lineno
            marks.last = lineno
            if raw is None:
                if marks.bad is None:
                    marks.bad = "line longer than 1 MiB"
                yield "\n"
                continue
            if lineno == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM):]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                if marks.bad is None:
                    marks.bad = "invalid UTF-8"
                text = raw.decode("utf-8", "replace")  # keeps the quoting, so rows stay in step
            if marks.token is None and TOKEN_MARK_BYTES in raw and line_has_token(raw):
                marks.token = raw
            yield text + "\n"  # the line end taken off: a quoted cell may span lines


@dataclass  # not frozen: LogReader.name is a plain (settable) protocol member
class CsvReader:
    fields: FieldMap
    name: str = "csv"
    delimiter: str = ","
    columns: tuple[str, ...] | None = None  # a headerless file's column names

    def read(self, stream: io.BufferedIOBase, ctx: ReadContext) -> Iterator[Record]:
        skip = ctx.skip  # with the row's line holding a token, if one does: it is reported
        to_record = self.fields.record
        marks = _LineMarks()
        rows = csv.reader(_text_lines(stream, marks), strict=True, delimiter=self.delimiter)
        header: list[str] | None = None
        width = 0
        first_row = True
        if self.columns is not None:
            header = list(self.columns)
            width = len(header)
            self._check_header(header, ctx.stats.path, 0)
        while True:
            marks.between_rows = True
            try:
                row = next(rows)
            except StopIteration:
                return
            except csv.Error as exc:
                start, token = marks.first, marks.token
                marks.bad, marks.token = None, None
                if header is None:
                    raise InputError(f"the CSV header is unreadable: invalid CSV ({exc})",
                                     file=ctx.stats.path, line=start) from None
                skip(start, f"invalid CSV ({exc})", token)
                continue
            start = marks.first
            bad, token = marks.bad, marks.token
            marks.bad, marks.token = None, None
            if bad is not None:
                if header is None:
                    raise InputError(f"the CSV header is unreadable: {bad}",
                                     file=ctx.stats.path, line=start)
                skip(start, bad, token)
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank lines are not records
            if header is None:
                header = [name.strip() for name in row]
                width = len(header)
                self._check_header(header, ctx.stats.path, start)
                if token is not None:
                    ctx.leaked(start, token)  # no record, but a line that leaked one
                continue
            if first_row and self.columns is not None and self._names_columns(row):
                first_row = False
                skip(start, "a header row, where --csv-columns names the columns (leave "
                     "--csv-columns out and the header names them)", token)
                continue
            first_row = False
            if len(row) != width:
                where = "--csv-columns names" if self.columns is not None else "the header has"
                skip(start, f"{len(row)} cells where {where} {width}", token)
                continue
            try:
                yield to_record(dict(zip(header, row, strict=True)), start, ctx,
                                token is not None)
            except BadRecord as exc:
                skip(start, str(exc), token)

    def _names_columns(self, row: list[str]) -> bool:
        """Whether a row is a header: every cell a column name --csv-columns or the field
        map knows (no data row is only names)."""
        known = {name.lower() for names in self.fields.sources.values() for name in names}
        known.update(name.lower() for name in self.columns or ())
        cells = [cell.strip().lower() for cell in row]
        return bool(cells) and all(cell in known for cell in cells)

    def _check_header(self, header: list[str], path: str, line: int) -> None:
        """A header without any column for a needed field would skip every row: say so once."""
        columns = set(header)
        for field in _REQUIRED:
            sources = self.fields.sources[field]
            if not any(source in columns for source in sources):
                shown = ", ".join(redact(h) for h in header[:12])
                what = "--csv-columns" if self.columns is not None else "the CSV header"
                raise InputError(
                    f"{what} has no column for {field} (looked for: "
                    f"{', '.join(sources)}; columns: {shown}); name it with --map {field}=COLUMN",
                    file=path, line=line or None)
