"""Key definitions from YAML, JSON or CSV, every key and scope with its file and line."""

from __future__ import annotations

import codecs
import gc
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.http.policy import display_url, is_url
from scopeaudit.inventory.reading import read_bounded
from scopeaudit.inventory.schema import KeyReader, keys_from_tree
from scopeaudit.inventory.tree import PNode
from scopeaudit.model import Inventory
from scopeaudit.secrets import TOKEN_RE, fingerprint, token_kind

if TYPE_CHECKING:
    from scopeaudit.http.settings import HttpSettings


class KeysFormat(Enum):
    YAML = "yaml"
    JSON = "json"
    CSV = "csv"


# What ends a line for every format here (and for ruamel's YAML 1.2 reader and csv).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")

_BY_SUFFIX = {".yaml": KeysFormat.YAML, ".yml": KeysFormat.YAML, ".json": KeysFormat.JSON,
              ".csv": KeysFormat.CSV}


def detect_format(path: str) -> KeysFormat:
    fmt = _BY_SUFFIX.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError("cannot tell the key-file format from its extension; "
                         "name it .yaml, .json or .csv, or pass --keys-format", file=path)
    return fmt


def decode(data: bytes, source: str) -> str:
    """UTF-8 (a BOM is allowed and dropped); an undecodable byte is an error at its line."""
    # The BOM is dropped by hand: the "utf-8-sig" codec reports error offsets that do not
    # count it, which would name the wrong byte (and line).
    body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = len(_LINE_BREAK_BYTES.split(body[: exc.start]))
        raise InputError(f"not valid UTF-8 (byte 0x{body[exc.start]:02x})", file=source,
                         line=line) from None
    if "\x00" in text:
        line = len(_LINE_BREAK.split(text[: text.index("\x00")]))
        raise InputError("contains a NUL byte; is this a binary file?", file=source, line=line)
    return text


def scan_tokens(text: str) -> tuple[tuple[int, str, str], ...]:
    """Every full token in the raw text, as (line, fingerprint, live|test). Never the token."""
    found = []
    # Lines counted as the parsers count them (not as str.splitlines(), which also breaks at
    # \f, \x1c, U+2028 and more), and only up to each token: the text is never split.
    lineno, counted = 1, 0
    for match in TOKEN_RE.finditer(text):
        lineno += len(_LINE_BREAK.findall(text, counted, match.start()))
        counted = match.start()
        found.append((lineno, fingerprint(match.group(0)), token_kind(match.group(0))))
    return tuple(found)


# From this size on, a key file is read with the cyclic garbage collector paused.
_BULK = 1 << 20


@contextmanager
def _bulk_objects(size: int) -> Iterator[None]:
    """A large key file becomes millions of small objects that hold no cycles and live until
    the report is written: the cyclic garbage collector walking them again and again, while
    they are made and after, took as long as reading them (100,000 keys). So it is paused
    while they are made, and then they are frozen (``gc.freeze``: still freed when no longer
    used, never walked again). The garbage made before is collected first, so that none of
    it is frozen with them."""
    if size < _BULK:
        yield
        return
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
        gc.freeze()  # (only what was read: after an error there is nothing to keep)
    finally:
        if enabled:
            gc.enable()


def parse_inventory(data: bytes, source: str, fmt: KeysFormat,
                    diagnostics: Diagnostics) -> Inventory:
    with _bulk_objects(len(data)):
        return _parse_inventory(data, source, fmt, diagnostics)


def _parse_inventory(data: bytes, source: str, fmt: KeysFormat,
                     diagnostics: Diagnostics) -> Inventory:
    text = decode(data, source)
    if not text.strip():
        raise InputError("the file is empty", file=source, line=1)
    tree: PNode
    reader = KeyReader(source)
    if fmt is KeysFormat.YAML:
        from scopeaudit.inventory.yaml_source import parse_yaml

        tree = parse_yaml(text, source, reader)
    elif fmt is KeysFormat.JSON:
        from scopeaudit.inventory.json_source import parse_json

        tree = parse_json(text, source, reader)
    else:
        from scopeaudit.inventory.csv_source import parse_csv

        tree = parse_csv(text, source, diagnostics, reader)
    return Inventory(
        source=source,
        keys=keys_from_tree(tree, source, diagnostics, reader),
        sha256=hashlib.sha256(data).hexdigest(),
        leaked_tokens=scan_tokens(text),
    )


def load_inventory(path: str, fmt: KeysFormat | None, diagnostics: Diagnostics,
                   http: HttpSettings | None = None) -> Inventory:
    if is_url(path):
        from scopeaudit.http.settings import HttpSettings
        from scopeaudit.inventory.remote import fetch_keys

        data, found = fetch_keys(path, fmt.value if fmt else None, http or HttpSettings())
        # the URL as reports show it: findings point at it, never at its credentials
        return parse_inventory(data, display_url(path), KeysFormat(found), diagnostics)
    directory = "is a directory, expected a key file"
    if Path(path).is_dir():  # before the extension check, which would only confuse
        raise InputError(directory, file=path)
    if not Path(path).exists():  # likewise: a mistyped path, not a missing extension
        raise InputError("no such file", file=path)
    fmt = fmt or detect_format(path)
    data = read_bounded(path, what="key file", directory=directory)
    return parse_inventory(data, path, fmt, diagnostics)
