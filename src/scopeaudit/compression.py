"""How a compressed input is recognised: by its content, never by its name.

A leaf module: the log readers (usage/inputs.py), the engines and the HTTP downloads all
ask it, so none of them imports another for a constant; and how many bytes of lines a
(compressed) file holds, which the engines size their work by.
"""

import os

GZIP_MAGIC = b"\x1f\x8b"  # how a gzip stream starts


def lines_size(path: str) -> int:
    """About how many bytes of lines a file holds: its size, or for a gzip file the larger of
    that and the size its (last member's) trailer gives, modulo 4 GiB as gzip keeps it."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size < 18 or handle.read(2) != GZIP_MAGIC:
            return size
        handle.seek(size - 4)
        return max(size, int.from_bytes(handle.read(4), "little"))
