"""The ``scopeaudit`` command group; the commands add themselves to it."""

from __future__ import annotations

import click

from scopeaudit import __version__
from scopeaudit.cli.help import CommandGroup


@click.group(cls=CommandGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="scopeaudit")
@click.option("--debug", is_flag=True, help="Show a traceback for errors (for bug reports).")
def cli(debug: bool) -> None:
    """Audit insp.ac API keys: what each key can do, what it uses, what to take away.

    Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it,
    2 usage, input or configuration error.
    """
