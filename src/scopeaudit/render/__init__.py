"""Output formats. Each maps to one renderer; a renderer reads only the Audit value."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from scopeaudit.model import Audit


class OutputFormat(Enum):
    TABLE = "table"
    JSON = "json"


Renderer = Callable[[Audit], str]


def renderer_for(fmt: OutputFormat) -> Renderer:
    # Imported here so that `scopeaudit --help` never pays for tabulate or json encoding.
    if fmt is OutputFormat.TABLE:
        from scopeaudit.render.table import render_table

        return render_table
    if fmt is OutputFormat.JSON:
        from scopeaudit.render.json_render import render_json

        return render_json
    raise AssertionError(f"no renderer for {fmt}")  # guarded by test_every_format_renders
