"""CSV key exports: a header row, one key per row, scopes split on spaces or semicolons."""

from __future__ import annotations

import csv
import io
import re

from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.inventory.schema import KNOWN_FIELDS
from scopeaudit.inventory.tree import EntryReader, PMap, PNode, PScalar, PSeq

_LIST_SPLIT = {"scopes": re.compile(r"[;\s]+"), "keep": re.compile(r"[;\s]+"),
               "tags": re.compile(r"[;,\s]+")}
REQUIRED_COLUMNS = ("id", "scopes")


def parse_csv(text: str, source: str, diagnostics: Diagnostics,
              entry: EntryReader | None = None) -> PNode:
    """The rows as a list of mappings; ``entry`` reads each row as soon as it is read."""
    # strict: a quote that is never closed is an error, not a cell that swallows every row
    # after it.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InputError(f"invalid CSV: {exc}", file=source, line=1) from None
    if header is None or not any(cell.strip() for cell in header):
        raise InputError("the file holds no key definitions (no header row)", file=source, line=1)
    columns = [cell.strip().lower() for cell in header]
    for required in REQUIRED_COLUMNS:
        if required not in columns:
            raise InputError(f"the CSV header has no {required!r} column", file=source, line=1)
    named = [column for column in columns if column]
    for column in named:
        if named.count(column) > 1:
            raise InputError(f"the CSV header names the column {column!r} more than once",
                             file=source, line=1)
    # An unknown column is reported once, against the header, not once for every row.
    for column in dict.fromkeys(named):
        if column not in KNOWN_FIELDS:
            diagnostics.warn(f"unknown field {column!r} ignored", file=source, line=1)
    columns = [column if column in KNOWN_FIELDS else "" for column in columns]
    rows: list[PNode] = []
    previous_end = reader.line_num
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:
            # The row's first line: for a quote never closed, the reader is at the end by now.
            raise InputError(f"invalid CSV: {exc}", file=source, line=previous_end + 1) from None
        if row is None:
            break
        line = previous_end + 1
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(columns):
            diagnostics.warn(f"{len(row) - len(columns)} cell(s) beyond the header ignored",
                             file=source, line=line)
        items: dict[str, tuple[int, PNode]] = {}
        for column, cell in zip(columns, row, strict=False):
            cell = cell.strip()
            if not column or cell == "":
                continue
            splitter = _LIST_SPLIT.get(column)
            node: PNode
            if splitter is not None:
                node = PSeq(tuple(PScalar(p, line) for p in splitter.split(cell) if p), line)
            else:
                node = PScalar(cell, line)
            items[column] = (line, node)
        if "scopes" not in items:
            items["scopes"] = (line, PSeq((), line))
        row_node: PNode = PMap(items, line)
        rows.append(entry(row_node) if entry is not None else row_node)
    return PSeq(tuple(rows), 1)
