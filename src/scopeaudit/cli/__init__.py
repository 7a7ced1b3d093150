"""The command line. Thin on purpose: options -> request -> library entry -> render -> exit
code (the library's entries are in scopeaudit.entry).

- ``group``: the ``scopeaudit`` group; ``help``: option help groups;
  ``options``: every option, declared once, grouped per concern;
- ``params``: parsed options into the library's typed requests;
- ``audit_commands`` (lint, audit, baseline, fix, split) and ``tool_commands`` (the rest);
- ``config_defaults``: the configuration file and SCOPEAUDIT_* as defaults;
- ``main``: the entry point, errors as one line.

Only click is imported at module level so that ``scopeaudit --help`` stays fast; each command
imports the pipeline it runs.
"""

from scopeaudit.cli import audit_commands, tool_commands  # noqa: F401  (the commands register)
from scopeaudit.cli.config_defaults import install_envvars, option_types
from scopeaudit.cli.group import cli
from scopeaudit.cli.main import main, shown_error
from scopeaudit.cli.options import FORMATS

install_envvars()

__all__ = ["FORMATS", "cli", "main", "option_types", "shown_error"]
