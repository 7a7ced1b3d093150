"""Line splitting of log inputs: numbering, line ends, and lines over MAX_LINE."""

from __future__ import annotations

import gzip
import io

import pytest

from scopeaudit.usage.inputs import MAX_LINE, TruncatedInput, iter_line_blocks, iter_lines


def lines_of(data: bytes, first: int = 1) -> list[tuple[int, bytes | None]]:
    return list(iter_lines(io.BufferedReader(io.BytesIO(data)), first))  # type: ignore[arg-type]


def test_numbering_and_line_ends() -> None:
    # The line end goes, a carriage return before it stays; no empty line after the last
    # newline, a last line without one is kept.
    assert lines_of(b"a\nb\r\n\nc") == [(1, b"a"), (2, b"b\r"), (3, b""), (4, b"c")]
    assert lines_of(b"a\n") == [(1, b"a")]
    assert lines_of(b"") == []
    assert lines_of(b"x\ny\n", first=41) == [(41, b"x"), (42, b"y")]


def test_the_longest_line_kept_and_the_first_too_long() -> None:
    ok, too_long = b"x" * MAX_LINE, b"y" * (MAX_LINE + 1)
    got = lines_of(b"a\n" + ok + b"\n" + too_long + b"\nb\n")
    assert [n for n, _ in got] == [1, 2, 3, 4]
    assert got[1] == (2, ok) and got[2] == (3, None) and got[3] == (4, b"b")


def test_a_line_over_several_blocks_is_skipped_whole() -> None:
    # 5 MiB without a newline crosses several 1 MiB reads; it is one skipped line, and the
    # lines around it keep their numbers. At the very end (no newline) it is still one.
    huge = b"z" * (5 << 20)
    assert lines_of(b"a\n" + huge + b"\nb\n") == [(1, b"a"), (2, None), (3, b"b")]
    assert lines_of(b"a\n" + huge) == [(1, b"a"), (2, None)]


def test_blocks_cover_every_line_once() -> None:
    data = b"".join(b"line %d\n" % i for i in range(300_000))  # about 3.4 MB: several blocks
    seen = [(first, len(block)) for first, block in
            iter_line_blocks(io.BufferedReader(io.BytesIO(data)))]  # type: ignore[arg-type]
    assert len(seen) > 1
    assert sum(n for _, n in seen) == 300_000
    assert all(seen[i][0] + seen[i][1] == seen[i + 1][0] for i in range(len(seen) - 1))


def test_a_truncated_gzip_names_the_first_missing_line() -> None:
    body = gzip.compress(b"".join(b"record %d\n" % i for i in range(200_000)))
    stream = gzip.GzipFile(fileobj=io.BytesIO(body[: len(body) // 2]))
    got: list[int] = []

    def read_all() -> None:
        got.extend(n for n, _ in iter_lines(stream))  # type: ignore[arg-type]

    with pytest.raises(TruncatedInput) as caught:
        read_all()
    assert 0 < len(got) < 200_000
    assert got == list(range(1, len(got) + 1))
    assert caught.value.line == len(got) + 1
