"""How a compressed input is recognised: by its content, never by its name.

A leaf module: the log readers (usage/inputs.py), the engines and the HTTP downloads all
ask it, so none of them imports another for a constant.
"""

GZIP_MAGIC = b"\x1f\x8b"  # how a gzip stream starts
