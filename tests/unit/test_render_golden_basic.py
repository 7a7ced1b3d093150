"""Golden files for the table and JSON views of the example organisation (the other formats
have theirs beside their own tests). SCOPEAUDIT_UPDATE_GOLDEN=1 rewrites them; review the
diff by hand before committing it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import normalise
from scopeaudit.model import Audit
from scopeaudit.render import RenderOptions
from scopeaudit.render.json_render import render_json
from scopeaudit.render.table import render_table
from support import check_golden

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


@pytest.mark.parametrize(("name", "render"), [("example.json", render_json),
                                             ("example.txt", render_table)])
def test_example_golden(example_audit: Audit, name: str, render: object) -> None:
    text = normalise(render(example_audit, RenderOptions()))  # type: ignore[operator]
    check_golden(GOLDEN / name, text)
