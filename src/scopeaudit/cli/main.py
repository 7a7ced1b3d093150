"""The program: the configuration read, the command run, every error as one line.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage, input or configuration error
(click's own errors, which would exit 1, are turned into 2 here).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn

import click

from scopeaudit.cli.color import set_setting, stderr_line
from scopeaudit.cli.config_defaults import load_config, scan_option
from scopeaudit.cli.group import cli
from scopeaudit.errors import ExitCode, InputError

# click before 8.2 prints the help itself for a bare group; from 8.2 it raises this
_NoArgsIsHelp: type[click.UsageError] = getattr(click.exceptions, "NoArgsIsHelpError",
                                                 type("_Never", (click.UsageError,), {}))


def main(argv: list[str] | None = None) -> NoReturn:
    from scopeaudit.http.credentials import secret_scope

    # The run's secrets (tokens, header values, passwords read from the environment): every
    # error line below is scrubbed of them, and of URLs' credentials.
    with secret_scope() as known:
        _main(sys.argv[1:] if argv is None else argv, known.redact_text)


def shown_error(exc: InputError, scrub: Callable[[str], str]) -> str:
    """``file:line: message`` with URLs shown without credentials, known secrets and tokens
    replaced and invisible characters escaped: the last line of defence for a raw URL."""
    from scopeaudit.http.policy import redact_urls
    from scopeaudit.render.text import show_invisible

    def clean(text: str) -> str:
        return show_invisible(scrub(redact_urls(text)))

    message = clean(exc.message)
    if exc.file is None:
        return message
    where = clean(exc.file)
    return f"{where}: {message}" if exc.line is None else f"{where}:{exc.line}: {message}"


def _main(args: list[str], scrub: Callable[[str], str]) -> NoReturn:
    debug = "--debug" in args
    set_setting(scan_option(args, "--color") or os.environ.get("SCOPEAUDIT_COLOR"))
    try:
        config, defaults = load_config(args)
        result: object = cli.main(args=args, prog_name="scopeaudit", standalone_mode=False,
                               default_map=defaults, obj=config)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except _NoArgsIsHelp as exc:
        # bare `scopeaudit` (click 8.2+ raises this): the help, as --help prints it
        click.echo(exc.ctx.get_help() if exc.ctx is not None else "")
        sys.exit(ExitCode.CLEAN)
    except click.UsageError as exc:
        # One line, as every other error: the usage block click would print first is what
        # --help is for, and a CI log should show the mistake, not the synopsis.
        from scopeaudit.render.text import show_invisible

        command = exc.ctx.command_path if exc.ctx is not None else "scopeaudit"
        # click lays some messages out over lines ("Choose from:\n\tbash,\n\tzsh"): one line
        message = show_invisible(" ".join(scrub(exc.format_message()).split()))
        stderr_line(f"scopeaudit: error: {message} (see '{command} --help')")
        sys.exit(ExitCode.ERROR)
    except click.ClickException as exc:
        # click's own errors default to exit 1, which here means "findings": never let it leak.
        from scopeaudit.render.text import show_invisible

        stderr_line(f"scopeaudit: error: {show_invisible(scrub(exc.format_message()))}")
        sys.exit(ExitCode.ERROR)
    except (click.Abort, KeyboardInterrupt):
        # Ctrl-C in a long audit: one line, no traceback, and nothing half-written reported
        click.echo("scopeaudit: interrupted", err=True)
        sys.exit(ExitCode.ERROR)
    except InputError as exc:
        if debug:
            raise
        # Callers redact what they quote; this is the last line of defence for a token.
        stderr_line(f"scopeaudit: error: {shown_error(exc, scrub)}")
        sys.exit(ExitCode.ERROR)
    except BrokenPipeError:
        # A pipe closed under something other than the report (whose reader leaving is
        # handled where it is written, scopeaudit.output): nowhere left to say anything.
        sys.stdout = None
        sys.exit(ExitCode.ERROR)
    except Exception as exc:
        if debug:
            raise
        from scopeaudit.http.policy import redact_urls

        stderr_line(f"scopeaudit: internal error: {type(exc).__name__}: "
                    f"{scrub(redact_urls(str(exc)))} "
                    "(run with --debug for a traceback, and please report it)")
        sys.exit(ExitCode.ERROR)
    sys.exit(int(result) if isinstance(result, int) else ExitCode.CLEAN)
