"""Line splitting of log inputs: numbering, line ends, and lines over MAX_LINE."""

from __future__ import annotations

import gzip
import io

import pytest

from scopeaudit.usage.inputs import MAX_LINE, TruncatedInput, iter_line_blocks, iter_lines


def lines_of(data: bytes, first: int = 1) -> list[tuple[int, bytes | None]]:
    return list(iter_lines(io.BufferedReader(io.BytesIO(data)), first))  # type: ignore[arg-type]


def test_numbering_and_line_ends() -> None:
    # The line end goes, a carriage return before it stays; an empty line is passed over
    # (its number is not reused); no empty line after the last newline, a last line without
    # one is kept.
    assert lines_of(b"a\nb\r\n\nc") == [(1, b"a"), (2, b"b\r"), (4, b"c")]
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


def test_empty_lines_are_passed_over_in_bulk() -> None:
    """Millions of empty lines (a small gzip can inflate to a billion) are never handed out
    one by one: only the lines with something on them come out, with their own numbers, and
    the last block ends where the input does (after its trailing empty lines)."""
    data = (b"\n" * 3_000_000 + b"a\n" + b"\n" * 2_000_001 + b"b\r\n\nc\n" + b"\n" * 1_500_000)
    blocks = list(iter_line_blocks(io.BufferedReader(io.BytesIO(data))))  # type: ignore[arg-type]
    assert [(n, line) for first, block in blocks for n, line in enumerate(block, first)] == [
        (3_000_001, b"a"), (5_000_003, b"b\r"), (5_000_005, b"c")]
    assert len(blocks) < 10
    first, block = blocks[-1]
    assert first + len(block) == data.count(b"\n") + 1
    assert lines_of(b"\n\n\nx", first=7) == [(10, b"x")]


def test_empty_lines_next_to_long_lines_and_block_seams() -> None:
    huge = b"z" * (MAX_LINE + 1)
    data = b"\n\n" + huge + b"\n\n\n" + b"x" * MAX_LINE + b"\n\ny\n" + b"\n" * (3 << 20) + huge
    assert lines_of(data) == [(3, None), (6, b"x" * MAX_LINE), (8, b"y"),
                              (9 + (3 << 20), None)]
