"""--color auto|always|never and NO_COLOR (https://no-color.org): whether the report and the
CLI's own stderr lines are coloured. auto: the stream is a terminal and NO_COLOR is unset (or
empty). Imports click only."""

from __future__ import annotations

import os
import sys
from typing import TextIO

import click

CHOICES = ("auto", "always", "never")
_setting = "auto"  # this run's --color (main() reads it before click parses anything)


def set_setting(value: str | None) -> None:
    global _setting
    _setting = value if value in CHOICES else "auto"


def wanted(setting: str, stream: TextIO) -> bool:
    if setting == "always":
        return True
    if setting == "never" or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def for_report(setting: str, output: str | None) -> bool:
    """Colour in a text report: never in a file (-o), else as ``wanted`` for stdout."""
    if output not in (None, "-") and setting != "always":
        return False
    return wanted(setting, sys.stdout)


def stderr_line(line: str) -> None:
    """A ``scopeaudit: error: ...`` / ``warning:`` line on stderr, its label coloured when
    stderr is a terminal (or --color always). ``line`` is already safe to show."""
    color = wanted(_setting, sys.stderr)
    if color:
        for label, fg in (("scopeaudit: error:", "red"), ("scopeaudit: internal error:", "red"),
                          ("scopeaudit: warning:", "yellow")):
            if line.startswith(label):
                line = click.style(label, fg=fg, bold=True) + line[len(label):]
                break
    click.echo(line, err=True, color=color)
