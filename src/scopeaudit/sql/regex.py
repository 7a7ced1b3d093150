"""Regular expressions that mean the same in every supported SQL dialect's regex engine.

DuckDB and BigQuery use RE2, Spark Java's ``java.util.regex``, Trino Joni (Java syntax) and
PostgreSQL its own ARE engine. They agree on a common core; where they do not, a
:class:`Flavour` says how to write it:

* anchors are ``\\A`` and ``\\z`` (``\\Z`` in PostgreSQL), never ``^``/``$``, which are
  line anchors in Joni and match before a final newline in Java;
* metacharacters are escaped with a backslash (literal in all five), control and
  non-ASCII characters by code point (``\\x{…}``, in
  PostgreSQL ``\\x…``/``\\u…``), so no raw control character ever sits in a SQL literal;
* "any character" is ``(?s).``: every engine knows the flag (PostgreSQL's ``s`` is its
  default, non-newline-sensitive matching).
"""

from __future__ import annotations

from dataclasses import dataclass

from scopeaudit.sql.unicode import WHITESPACE, characters

DIALECTS = ("duckdb", "trino", "spark", "bigquery", "postgres")
# What Python's str.strip() removes (c.isspace()): the router strips targets with it.
PY_WHITESPACE = characters(WHITESPACE)
# Metacharacters somewhere: escaped with a backslash, which all five read as the literal.
_META = frozenset("\\.^$|?*+()[]{}")


@dataclass(frozen=True)
class Flavour:
    """How one dialect's regex engine spells what the common core cannot."""

    dialect: str

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise ValueError(f"unknown SQL dialect {self.dialect!r} "
                             f"(known: {', '.join(DIALECTS)})")

    @property
    def end(self) -> str:
        return r"\Z" if self.dialect == "postgres" else r"\z"

    def group(self, n: int) -> str:
        """A back-reference in a replacement string."""
        return f"${n}" if self.dialect in ("trino", "spark") else f"\\{n}"

    def char(self, c: str) -> str:
        """One character as a regex atom matching exactly that character."""
        if c in _META:
            return "\\" + c
        if " " <= c <= "~":  # printable ASCII: itself
            return c
        cp = ord(c)
        if self.dialect == "postgres":
            return f"\\x{cp:02X}" if cp < 0x100 else f"\\u{cp:04X}" if cp < 0x10000 \
                else f"\\U{cp:08X}"
        return f"\\x{{{cp:X}}}"

    def chars(self, text: str) -> str:
        return "".join(self.char(c) for c in text)

    def whitespace_class(self) -> str:
        return "[" + self.chars(PY_WHITESPACE) + "]"


def _hex_digit(d: str) -> str:
    """A hex digit of a percent-escape, in either case (``%2f`` is ``%2F``)."""
    return f"[{d.upper()}{d.lower()}]" if d.isalpha() else d


def percent_escape(byte: int) -> str:
    text = f"{byte:02X}"
    return "%" + "".join(_hex_digit(d) for d in text)


def encoded_literal(flavour: Flavour, decoded: str) -> str:
    """A regex matching every raw (undecoded) path segment that percent-decodes, once, to
    ``decoded``: each character either as itself or as the percent-escapes of its UTF-8
    bytes. ``/`` only escaped: a raw ``/`` separates segments. (A raw ``%`` that starts no
    valid escape decodes to itself; it is taken as ``%`` or ``%25``.)"""
    out = []
    for c in decoded:
        escaped = "".join(percent_escape(b) for b in c.encode("utf-8"))
        if c == "/":
            out.append(escaped)
        else:
            out.append(f"(?:{flavour.char(c)}|{escaped})")
    return "".join(out)
