"""What ``scopeaudit formats`` prints, and the README's table "your gateway -> the command":
both read the one table of formats (usage.formats), so they cannot disagree with it."""

from __future__ import annotations

from scopeaudit.usage.fields import FIELDS
from scopeaudit.usage.formats import CSV, FORMATS, JSON, W3C, LogFormat, lookup

_FAMILY = {JSON: "JSON (a line, an array, or an envelope: CloudWatch, {\"records\"}, OTLP)",
           CSV: "CSV", W3C: "W3C extended log (#Fields header, tab-separated)",
           "nginx": "text lines (an nginx-style layout)", "envoy": "text lines (Envoy format)",
           "haproxy": "text lines (HAProxy httplog)"}
README_START = ("<!-- formats table: made from src/scopeaudit/usage/formats.py by "
                "usage.formats_doc.readme_table; tests/unit/test_formats.py holds them equal -->")
README_END = "<!-- end of formats table -->"


def describe(entry: LogFormat) -> str:
    """One format in full: what reads it, its fields, the key, the addition, an example."""
    lines = [f"{entry.name}: {entry.product}"]
    if entry.aliases:
        lines.append(_row("also named", ", ".join(entry.aliases)))
    lines.append(_row("read as", _FAMILY[entry.family]))
    if entry.family in (JSON, CSV, W3C):
        sources = entry.field_sources()
        for name in FIELDS:
            if sources.get(name):
                lines.append(_row(name, ", ".join(sources[name])))
    else:
        if entry.layout:
            lines.append(_row("layout", _shown_layout(entry)))
        if entry.tail:
            lines.append(_row("optional", f"{entry.tail.strip()} (at the end of a line)"))
    lines.append(_row("key from", entry.key_from))
    lines.append(_row("add", f"{entry.addition or _nothing(entry)}"))
    lines.append(_row("example", entry.example))
    lines.append(_row("source", entry.source))
    if entry.takes_format:
        lines.append(_row("your own", f"--log-format '{entry.name}:<format>'"))
    return "\n".join(lines)


def _shown_layout(entry: LogFormat) -> str:
    """The layout as the user's own product writes it: Apache's, read as an nginx layout
    with nginx's ``escape=json`` (how Apache escapes a quote), is shown without that nginx
    parameter, which an Apache user would never write."""
    layout = entry.layout or ""
    if entry.name.startswith("apache-") and layout.startswith("escape=json "):
        return layout.removeprefix("escape=json ") + ' (a quote in a value escaped as \\")'
    return layout


def _row(label: str, text: str) -> str:
    return f"  {label + ':':<12}{text}"


def _nothing(entry: LogFormat) -> str:
    if entry.key_from.startswith("none"):
        return "nothing can be (see key from)"
    return "nothing: the layout carries the key"


def formats_text(name: str | None = None) -> str:
    """Every format (or the one named), described."""
    entries = [lookup(name)] if name is not None else list(FORMATS)
    return "\n\n".join(describe(e) for e in entries) + "\n"


def readme_table() -> str:
    """The README's table: one row per product preset, from the table of formats."""
    rows = ["| your gateway | the command | key identity from | add to the gateway's log "
            "configuration |", "|---|---|---|---|"]
    for entry in FORMATS:
        if not entry.listed:
            continue
        also = f" (also `{'`, `'.join(entry.aliases)}`)" if entry.aliases else ""
        rows.append(f"| {entry.product} | `--log-format {entry.name}`{also} | "
                    f"{_cell(entry.key_from)} | {_cell(entry.addition or _nothing(entry))} |")
    return "\n".join(rows)


_MARKDOWN = str.maketrans({"|": "\\|", "$": "\\$", "<": "\\<", "*": "\\*"})


def _cell(text: str) -> str:
    """Table-cell text: a pipe would end the cell, ``$`` start math, ``<`` a tag, ``*``
    emphasis."""
    return text.translate(_MARKDOWN)
