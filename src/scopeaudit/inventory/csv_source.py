"""CSV key exports: a header row, one key per row, scopes split on spaces or semicolons."""

from __future__ import annotations

import csv
import io
import re

from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.inventory.tree import PMap, PNode, PScalar, PSeq

_LIST_SPLIT = {"scopes": re.compile(r"[;\s]+"), "tags": re.compile(r"[;,\s]+")}
REQUIRED_COLUMNS = ("id", "scopes")


def parse_csv(text: str, source: str, diagnostics: Diagnostics) -> PNode:
    reader = csv.reader(io.StringIO(text, newline=""))
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
    rows: list[PNode] = []
    previous_end = reader.line_num
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise InputError(f"invalid CSV: {exc}", file=source, line=reader.line_num) from None
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
        rows.append(PMap(items, line))
    return PSeq(tuple(rows), 1)
