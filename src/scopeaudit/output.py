"""Where a report goes: stdout or ``-o FILE``, and the contract of what can go wrong there.

- The reader closing the pipe (``| head``: EPIPE) is not an error: the run exits as its
  findings say, silently. The report was not delivered in full, so :func:`write_report` says
  so and nothing that depends on it having been seen (the run history) is recorded.
- Any other failure to write (a full disk, ENOSPC; stdout closed before the run, EBADF; a
  file that cannot be opened) is an output error: one line naming the output, exit 2.
- ``-o`` never names a file the run reads (:func:`refuse_overwriting`): the report would
  destroy its own input.

The report is written to stdout's file descriptor directly, in UTF-8 as ``-o`` files are,
because Python's buffered stdout can drop the tail of a large write to a closed pipe without
an error (a short write leaves the rest in its buffer, and the interpreter's final flush
fails silently); ``os.write`` reports every byte it did not write.
"""

from __future__ import annotations

import errno
import glob
import os
import stat
import sys
from collections.abc import Iterable

from scopeaudit.errors import InputError

STDOUT = "stdout"  # how standard output is named in an error line


def write_report(text: str, output: str | None) -> bool:
    """Write ``text`` to ``output`` (None or ``-``: stdout). True when it was written in full
    (and the file closed); False when the reader of stdout closed the pipe first."""
    if output is not None and output != "-":
        try:
            with open(output, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
        except OSError as exc:
            raise _output_error(exc, output) from None
        return True
    check_stdout()
    stream = sys.stdout
    assert stream is not None
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None  # a stream with no descriptor (a test's capture): write through it
    try:
        stream.flush()  # whatever was printed before goes first
        if fd is None:
            stream.write(text)
            stream.flush()
        else:
            _write_all(fd, text.encode("utf-8"))
    except BrokenPipeError:
        _silence_stdout(fd)
        return False
    except OSError as exc:
        raise _output_error(exc, STDOUT) from None
    return True


def check_stdout() -> None:
    """Refuse a closed stdout (``>&-``: the interpreter found no fd 1 and set ``sys.stdout``
    to None), where the report could never go; the CLI asks before the work starts."""
    if sys.stdout is None:
        raise InputError("cannot write the report: standard output is closed", file=STDOUT)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _silence_stdout(fd: int | None) -> None:
    """After EPIPE: point stdout at /dev/null, so that no later flush (the interpreter's at
    exit) fails on the closed pipe and prints what the user did not ask for."""
    if fd is None:
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _output_error(exc: OSError, where: str) -> InputError:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.EBADF and where == STDOUT:
        reason = "standard output is closed"
    return InputError(f"cannot write the report: {reason}", file=where)


def refuse_overwriting(output: str | None, inputs: Iterable[tuple[str, str]]) -> None:
    """Refuse ``-o`` when it names a file the run reads: ``inputs`` are (option, value) pairs,
    a value being a path, a glob or a URL. Compared by file identity where both exist (a
    symlink or a hard link is the same file) and by resolved path otherwise (an input the run
    creates, such as a new --history). Special files (/dev/stdout, /dev/null) are never an
    input's copy."""
    if output is None or output == "-":
        return
    target = _identity(output)
    if target is None:
        return
    for option, value in inputs:
        for path in _paths(value):
            if _identity(path) == target:
                raise InputError(f"-o names the same file as {option}; the report would "
                                 "overwrite it", file=output)


def _identity(path: str) -> tuple[int, int] | str | None:
    """(device, inode) of a regular file; the resolved path of one not there yet; None for
    anything else (a folder, a device, a FIFO)."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return None
    return (found.st_dev, found.st_ino) if stat.S_ISREG(found.st_mode) else None


def _paths(value: str) -> list[str]:
    from scopeaudit.http.policy import is_url

    if value == "-" or is_url(value):
        return []
    if glob.has_magic(value):
        return sorted(glob.glob(value, recursive=True))
    return [value]
