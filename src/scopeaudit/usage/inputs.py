"""Opening log inputs: files, globs, ``-`` for stdin, gzip by magic bytes; bounded lines."""

from __future__ import annotations

import glob
import gzip
import hashlib
import io
import re
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from scopeaudit.compression import GZIP_MAGIC
from scopeaudit.errors import InputError

if TYPE_CHECKING:
    from scopeaudit.http.settings import HttpSettings
    from scopeaudit.remote.window import PullWindow

MAX_LINE = 1 << 20  # 1 MiB: a longer line is skipped (counted), never held whole in memory


def expand(patterns: tuple[str, ...] | list[str], http: HttpSettings | None = None,
           window: PullWindow | None = None) -> list[str]:
    """Every --logs value, globs expanded (sorted, for determinism); a glob matching nothing
    and a missing file are errors. Object-store and cloudwatch:// values are listed remotely
    (scopeaudit.remote), leaving out what ``window`` shows cannot hold a record of it."""
    from scopeaudit.http.policy import is_url
    from scopeaudit.remote import expand_remote, is_remote

    paths: list[str] = []
    for pattern in patterns:
        if pattern == "-" or is_url(pattern):
            paths.append(pattern)
        elif is_remote(pattern):
            paths.extend(expand_remote(pattern, http, window))
        elif glob.has_magic(pattern):
            matched = sorted(p for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
            if not matched:
                raise InputError("the pattern matches no file", file=pattern)
            paths.extend(matched)
        else:
            if not Path(pattern).exists():
                raise InputError("no such file", file=pattern)
            if Path(pattern).is_dir():
                raise InputError("is a directory; pass a glob such as DIR/*.jsonl.gz",
                                 file=pattern)
            paths.append(pattern)
    return paths


class HashingReader(io.RawIOBase):
    """A raw stream that hashes and counts every byte read through it (the input's sha256)."""

    def __init__(self, raw: BinaryIO, owned: bool) -> None:
        super().__init__()
        self._raw = raw
        self._owned = owned
        self.sha256 = hashlib.sha256()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.sha256.update(data)
        self.bytes_read += n
        return n

    def close(self) -> None:
        if self._owned:
            self._raw.close()
        super().close()


def input_label(path: str) -> str:
    """How an input is named in reports and messages: a URL without its credentials."""
    from scopeaudit.http.policy import display_url, is_url
    from scopeaudit.remote import remote_label

    return display_url(path) if is_url(path) else remote_label(path)


def open_input(path: str, http: HttpSettings | None = None
               ) -> tuple[io.BufferedIOBase, HashingReader]:
    """A decompressed binary stream, and the hasher of the raw bytes behind it. A URL is
    downloaded whole (every page, checked complete) before a byte of it is read; an S3
    object is streamed as stored, so its hash is the one its file would have."""
    from scopeaudit.http.policy import is_url
    from scopeaudit.remote import is_remote, open_remote

    if path == "-":
        hashing = HashingReader(sys.stdin.buffer, owned=False)
    elif is_remote(path):
        hashing = HashingReader(open_remote(path, http), owned=True)
    elif is_url(path):
        from scopeaudit.http.download import download_log
        from scopeaudit.http.settings import HttpSettings

        spool = download_log(path, http or HttpSettings())
        hashing = HashingReader(spool, owned=True)  # type: ignore[arg-type]
    else:
        try:
            hashing = HashingReader(open(path, "rb"), owned=True)  # noqa: SIM115
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", file=path) from None
    buffered = io.BufferedReader(hashing, buffer_size=1 << 16)
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=buffered, mode="rb"), hashing
    return buffered, hashing


_BLOCK = 1 << 20
_NEWLINES = re.compile(rb"\n*")


def iter_line_blocks(stream: io.BufferedIOBase, first_line: int = 1
                     ) -> Iterator[tuple[int, list[bytes | None]]]:
    """Lines in blocks: (number of the block's first line, its lines). A line keeps no line
    end (a ``\\r`` before it stays); ``None`` stands for a line over MAX_LINE, which is
    consumed and never held whole. Empty lines are no records in any format: they are
    passed over, and the numbers of the blocks after them tell how many there were (the last
    block, empty, ends at the line after the input's last). A truncated or corrupt gzip ends
    the input with TruncatedInput. ``first_line`` numbers a stream that starts inside a file
    (a parallel work unit).

    Blocks, not one line per call: splitting a megabyte at once in C is what makes reading
    cheap next to parsing (readline per line cost more than JSON decoding). Empty lines go
    in bulk too, in C: a small gzip can hold a gigabyte of newlines, a billion lines that
    one at a time in Python would take half an hour.
    """
    lineno = first_line  # the number of the next line to finish
    shown = first_line  # the number of the line after the last block yielded
    rest = b""  # the unfinished line after the last newline read
    too_long = False  # skipping the rest of a line over MAX_LINE
    try:
        while True:
            chunk = stream.read1(_BLOCK)  # what one read gives: a corrupt gzip loses no more
            if not chunk:
                break
            if too_long:
                cut = chunk.find(b"\n")
                if cut < 0:
                    continue
                yield lineno, [None]
                lineno += 1
                shown = lineno
                too_long = False
                chunk = chunk[cut + 1:]
            if not rest and chunk[:1] == b"\n":
                body = chunk.lstrip(b"\n")  # empty lines, in C, before they are split
                lineno += len(chunk) - len(body)
                if not body:
                    continue
                chunk = body
            data = rest + chunk if rest else chunk
            split = data.split(b"\n")
            last = split.pop()
            if b"" in split:
                for first, run in _filled_runs(data, len(data) - len(last), lineno):
                    yield first, run
                    shown = first + len(run)
            elif split:
                yield lineno, _bounded(split)
                shown = lineno + len(split)
            lineno += len(split)
            if len(last) > MAX_LINE:
                too_long, rest = True, b""
            else:
                rest = last
        if too_long:
            yield lineno, [None]
        elif rest:
            yield lineno, [rest]
        elif shown != lineno:
            yield lineno, []  # the input ended with empty lines
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise TruncatedInput(lineno, str(exc) or type(exc).__name__, rest) from None


def _bounded(lines: list[bytes]) -> list[bytes | None]:
    """The lines, each over MAX_LINE replaced by None."""
    if max(map(len, lines), default=0) > MAX_LINE:  # rare: a long line inside a block
        return [None if len(line) > MAX_LINE else line for line in lines]
    return cast("list[bytes | None]", lines)


def _filled_runs(data: bytes, end: int, lineno: int
                 ) -> Iterator[tuple[int, list[bytes | None]]]:
    """The runs of lines that are not empty among the complete lines ``data[:end]`` (the
    first numbered ``lineno``), each with the number of its first line. The empty lines
    between runs are passed over in C (a regex, a find), never one by one."""
    pos = 0
    while True:
        empty = _NEWLINES.match(data, pos, end)
        stop = pos if empty is None else empty.end()
        lineno += stop - pos  # empty lines: one newline each
        if stop >= end:
            return
        # the run ends at a line end followed by an empty line, or with the complete lines
        cut = data.find(b"\n\n", stop, end)
        if cut < 0:
            cut = end - 1
        lines = data[stop:cut].split(b"\n")
        yield lineno, _bounded(lines)
        lineno += len(lines)
        pos = cut + 1


def iter_lines(stream: io.BufferedIOBase, first_line: int = 1
               ) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) pairs; see :func:`iter_line_blocks`."""
    for first, lines in iter_line_blocks(stream, first_line):
        yield from enumerate(lines, first)


class TruncatedInput(Exception):
    """The compressed stream ended early or is corrupt after ``line`` - 1 good lines;
    ``tail`` is what was read of line ``line`` (scanned for a token, never shown: it is
    not in the message)."""

    def __init__(self, line: int, reason: str, tail: bytes = b"") -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason
        self.tail = tail


class _RangeReader(io.RawIOBase):
    """Bytes ``start`` to ``end`` of a file: a parallel work unit's share of one input."""

    def __init__(self, path: str, start: int, end: int) -> None:
        super().__init__()
        self._file = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._file.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        data = self._file.read(min(len(buffer), self._left))
        n = len(data)
        buffer[:n] = data
        self._left -= n
        return n

    def close(self) -> None:
        self._file.close()
        super().close()


def open_range(path: str, start: int, end: int) -> io.BufferedIOBase:
    try:
        return io.BufferedReader(_RangeReader(path, start, end), buffer_size=1 << 16)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from None
