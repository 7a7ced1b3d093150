"""Output formats. Each maps to one renderer; a renderer reads only the Audit value.

Adding a format means a member here and an entry in ``_RENDERERS``; the import-time check
below (and tests/unit/test_render_formats.py) refuses a format without a renderer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from importlib import import_module
from pathlib import Path

from scopeaudit.model import Audit


class OutputFormat(Enum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"
    SARIF = "sarif"
    CSV = "csv"
    CONCISE = "concise"


@dataclass(frozen=True)
class RenderOptions:
    """What a renderer may be told besides the Audit value."""

    template_dir: Path | None = None  # an organisation's own templates (HTML, Markdown)
    show_baselined: bool = False  # the table: list baselined and suppressed findings too
    color: bool = False  # the table: severities in colour (a terminal that shows it)
    # the table's width in columns: None, the terminal's when stdout is one (else no limit);
    # 0, no limit
    width: int | None = None


Renderer = Callable[[Audit, RenderOptions], str]

# format -> (module, function); imported on use so `scopeaudit --help` stays fast
_RENDERERS: dict[OutputFormat, tuple[str, str]] = {
    OutputFormat.TABLE: ("scopeaudit.render.table", "render_table"),
    OutputFormat.JSON: ("scopeaudit.render.json_render", "render_json"),
    OutputFormat.MARKDOWN: ("scopeaudit.render.markdown", "render_markdown"),
    OutputFormat.HTML: ("scopeaudit.render.html", "render_html"),
    OutputFormat.SARIF: ("scopeaudit.render.sarif", "render_sarif"),
    OutputFormat.CSV: ("scopeaudit.render.csv_render", "render_csv"),
    OutputFormat.CONCISE: ("scopeaudit.render.concise", "render_concise"),
}

_missing = set(OutputFormat) - set(_RENDERERS)
if _missing:  # pragma: no cover - a developer error, caught on import
    raise RuntimeError(f"output formats without a renderer: {sorted(f.value for f in _missing)}")


def renderer_for(fmt: OutputFormat) -> Renderer:
    module, name = _RENDERERS[fmt]
    renderer: Renderer = getattr(import_module(module), name)
    return renderer
