"""Reading a document that is parsed whole (a key file, a catalog), never more than a bound.

Whatever the path names, at most ``MAX_DOCUMENT + 1`` bytes are read: ``/dev/zero``, a
character device or a FIFO fed without end is refused as too large instead of filling memory,
and a FIFO that no program writes to is an error instead of blocking the open for ever.
"""

from __future__ import annotations

import os
import stat

from scopeaudit.errors import InputError
from scopeaudit.limits import MAX_DOCUMENT

_CHUNK = 1 << 20


def read_bounded(path: str, *, what: str, directory: str, limit: int = MAX_DOCUMENT) -> bytes:
    """The bytes of ``path``; an InputError naming it when it is missing, unreadable, a
    directory (``directory`` is that message) or longer than ``limit`` bytes (``what`` the
    file should have been, for that message)."""
    try:
        # Non-blocking only for the open: opening a FIFO for reading otherwise waits for a
        # writer that may never come. Reads then block as usual, for a writer that is there.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError("no such file", file=path) from None
    except IsADirectoryError:
        raise InputError(directory, file=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(directory, file=path)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise InputError(f"larger than {limit >> 20} MiB; not a {what}?", file=path)
        if size == 0 and stat.S_ISFIFO(mode):
            # Said here: "the file is empty" would puzzle whoever meant to feed the FIFO.
            raise InputError("a FIFO with nothing written to it (start its writer first)",
                             file=path)
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from None
    finally:
        os.close(fd)
