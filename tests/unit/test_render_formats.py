"""The report formats: the CLI's list (spelled out so `--help` never imports the renderers),
the OutputFormat enum and the renderers stay one set, and every renderer renders."""

from __future__ import annotations

import click
import pytest

from scopeaudit import cli
from scopeaudit.model import Audit
from scopeaudit.render import OutputFormat, RenderOptions, renderer_for


def test_cli_formats_are_the_enum() -> None:
    assert list(cli.FORMATS) == [f.value for f in OutputFormat]
    assert len(set(cli.FORMATS)) == len(cli.FORMATS)


def test_audit_and_lint_offer_every_format() -> None:
    for name in ("audit", "lint"):
        command = cli.cli.commands[name]
        option = next(p for p in command.params if p.name == "fmt")
        assert isinstance(option.type, click.Choice)
        assert tuple(option.type.choices) == cli.FORMATS, name


@pytest.mark.parametrize("fmt", list(OutputFormat), ids=lambda f: f.value)
def test_every_format_has_a_renderer_that_renders(fmt: OutputFormat, example_audit: Audit,
                                                  example_lint: Audit) -> None:
    render = renderer_for(fmt)
    for audit in (example_audit, example_lint):
        text = render(audit, RenderOptions())
        assert isinstance(text, str) and text.strip(), (fmt, audit.mode)
