"""What every command shares: the report's way out, stderr lines, the run's configuration.

Imports click only: ``scopeaudit --help`` must not pay for the pipeline.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scopeaudit.errors import ExitCode, InputError

if TYPE_CHECKING:
    from scopeaudit.config import Config
    from scopeaudit.diagnostics import Diagnostics
    from scopeaudit.model import Finding


def write_output(text: str, output: str | None) -> bool:
    """The report to stdout or -o (scopeaudit.output): True when written in full, False when
    the reader closed the pipe first (not an error: the exit code stays the findings')."""
    from scopeaudit.output import write_report

    return write_report(text, output)


def shown(text: str) -> str:
    """Text from outside as a terminal may be given it: redacted (a file's name may hold a
    token), and its invisible characters shown as the reports show them."""
    from scopeaudit.http.credentials import redact_known
    from scopeaudit.render.text import show_invisible

    return show_invisible(redact_known(text))


def say(line: str) -> None:
    """One line on stderr (a warning, a note): each goes through :func:`shown`."""
    from scopeaudit.cli.color import stderr_line

    stderr_line(shown(line))


def view(text: str) -> str:
    """A text view (a table) as a terminal may be given it: every invisible character but
    its line breaks shown as the reports show them (render.text.for_terminal)."""
    from scopeaudit.render.text import for_terminal

    return for_terminal(text)


def show_warnings(diagnostics: Diagnostics) -> None:
    for note in diagnostics.notes:
        say(f"scopeaudit: {note}")
    for warning in diagnostics.warnings:
        say(f"scopeaudit: warning: {warning}")


def exit_for(findings: Iterable[Finding], fail_on: str) -> int:
    """1 when a finding that counts is at or above ``fail_on`` ('never': always 0)."""
    from scopeaudit.model import Severity

    if fail_on == "never":
        return ExitCode.CLEAN
    threshold = Severity.parse(fail_on)
    return ExitCode.FINDINGS if any(threshold <= f.severity for f in findings) \
        else ExitCode.CLEAN


def writable_output(ctx: click.Context, param: click.Parameter, value: str | None
                    ) -> str | None:
    """Refuse an -o the report could never be written to before the work starts, not after
    a long audit: a missing or unwritable folder, or a folder given as the file; or no -o
    and stdout closed."""
    if value is None or value == "-":
        from scopeaudit.output import check_stdout

        check_stdout()
        return value
    target = Path(value)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InputError("is a directory; -o takes a file", file=value)
    if not folder.is_dir():
        raise InputError("cannot write the report: no such folder", file=value)
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise InputError("cannot write the report: permission denied", file=value)
    return value


def guard_output(output: str | None, reads: Iterable[tuple[str, str | None]]) -> None:
    """Refuse an -o that names a file this run reads (the key file, a log, the history, the
    configuration…), before anything is read or written. ``reads``: (how an error line
    calls it, path) pairs; None paths are skipped."""
    from scopeaudit.output import refuse_overwriting

    inputs = [(option, path) for option, path in reads if path]
    config = active_config().path
    if config is not None:
        inputs.append(("the configuration file", config))
    refuse_overwriting(output, inputs)


def active_config() -> Config:
    """The configuration main() loaded for this run (click's context object)."""
    from scopeaudit.config import Config

    ctx = click.get_current_context(silent=True)
    found = ctx.find_object(Config) if ctx is not None else None
    return found if found is not None else Config(None)
