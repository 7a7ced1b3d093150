"""The configuration file and the environment as the commands' defaults.

Precedence is flag > ``SCOPEAUDIT_*`` environment variable > file > default: the file is read
before click parses anything and becomes click's default map; every option also reads
``SCOPEAUDIT_<LONG_OPTION>``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scopeaudit.cli.audit_commands import audit, baseline_write, fix, lint, split
from scopeaudit.cli.tool_commands import catalog, probe
from scopeaudit.errors import InputError

if TYPE_CHECKING:
    from scopeaudit.config import Config


# Commands whose options a configuration file may set (the click command objects).
def _configurable() -> dict[str, click.Command]:
    return {"lint": lint, "audit": audit, "baseline write": baseline_write}


def _long_name(param: click.Parameter) -> str | None:
    longs = [o for o in param.opts if o.startswith("--")]
    return longs[0][2:] if longs else None


def install_envvars() -> None:
    """SCOPEAUDIT_<LONG_OPTION> for every option (SCOPEAUDIT_FAIL_ON for --fail-on)."""
    for command in (*_configurable().values(), catalog, probe):
        for param in command.params:
            name = _long_name(param)
            if isinstance(param, click.Option) and name and param.envvar is None:
                param.envvar = "SCOPEAUDIT_" + name.upper().replace("-", "_")


_NOT_IN_FILES = frozenset({"config", "no-config", "help"})
# Options naming files: in a configuration file, relative to the file
_PATH_OPTIONS = frozenset({"keys", "logs", "catalog", "catalog-overrides", "baseline",
                           "history", "code", "output"})
# Options whose value may be a URL: a URL decides where credentials (SCOPEAUDIT_HTTP_TOKEN,
# --header) are sent, so a configuration file may only name files.
_URL_OPTIONS = frozenset({"keys", "logs", "catalog"})


def _command_line_only() -> dict[str, str]:
    """Options a configuration file may not set, each with why: a pull request can edit the
    file, and must not choose where a CI run's credentials go, or what code it runs."""
    from scopeaudit.http.options import COMMAND_LINE_ONLY

    credentials = "decides where credentials are sent or which TLS servers are trusted"
    return {**dict.fromkeys(sorted(COMMAND_LINE_ONLY), credentials),
            "template-dir": "chooses the report templates, which are code run with the report"}


def option_types() -> dict[str, type | tuple[type, ...]]:
    """Every configurable long option -> the TOML type it takes."""
    types: dict[str, type | tuple[type, ...]] = {}
    for command in _configurable().values():
        for param in command.params:
            name = _long_name(param)
            if not isinstance(param, click.Option) or not name or name in _NOT_IN_FILES:
                continue
            if param.multiple:
                types[name] = list
            elif param.is_flag:
                types[name] = bool
            elif isinstance(param.type, click.types.IntParamType):
                types[name] = int
            elif isinstance(param.type, click.types.FloatParamType):
                types[name] = (int, float)
            else:
                types[name] = str
    return types


def _check_value(name: str, value: Any) -> str | None:
    """What is wrong with a configuration value as its option's type sees it (a choice, a
    range), said as the file's error: ``'hgh' is not one of critical, high, ...``."""
    param = next((p for command in _configurable().values() for p in command.params
                  if isinstance(p, click.Option) and _long_name(p) == name), None)
    if param is None or isinstance(value, bool):
        return None
    for item in value if isinstance(value, list) else [value]:
        if isinstance(param.type, click.Choice):
            choices = [str(c) for c in param.type.choices]
            fold = (lambda t: t) if param.type.case_sensitive else str.lower
            if fold(str(item)) not in {fold(c) for c in choices}:
                return f"{item!r} is not one of {', '.join(choices)}"
            continue
        try:
            param.type.convert(item, param, None)
        except click.BadParameter as exc:
            return exc.message
    return None


def load_config(args: list[str]) -> tuple[Config, dict[str, Any]]:
    """The configuration for this run, and click's default map from it. Resolved before
    click parses anything, so that the file is only the default: flag > env > file."""
    from scopeaudit.config import Config, discover, load, shown_path

    invoked = next((a for a in args if not a.startswith("-")), None)
    if invoked not in ("lint", "audit", "baseline", "fix", "split", "history", "render") \
            or "--help" in args or "-h" in args:
        return Config(None), {}  # --help, catalog, rules, ...: no file is read
    explicit = scan_option(args, "--config") or os.environ.get("SCOPEAUDIT_CONFIG") or None
    no_config = "--no-config" in args or os.environ.get("SCOPEAUDIT_NO_CONFIG", "").lower() in (
        "1", "true", "yes")
    if no_config:
        return Config(None), {}
    path = Path(explicit) if explicit else discover(Path.cwd())
    if path is None:
        return Config(None), {}
    if not path.is_file():
        raise InputError("no such configuration file", file=str(path))
    # named relative to here, as the other inputs are: in error lines, and in reports (a
    # SARIF result on the file, SA901, gets a relative URI code scanning can place)
    path = Path(shown_path(path))
    config = load(path, option_types(), command_line_only=_command_line_only(),
                  no_urls=_URL_OPTIONS, path_options=_PATH_OPTIONS, check=_check_value)
    defaults: dict[str, Any] = {}
    for command_name, command in _configurable().items():
        values = {}
        for param in command.params:
            name = _long_name(param)
            if name is not None and name in config.options and param.name is not None:
                values[param.name] = config.options[name]
        group, _, sub = command_name.partition(" ")
        if sub:
            defaults.setdefault(group, {})[sub] = values
        else:
            defaults[group] = values
    # fix reads what audit reads, as audit is configured; its own options (--apply, its
    # --format, -o) are never taken from a file
    shared = {p.name for p in fix.params} - {"fmt", "output"}
    defaults["fix"] = {k: v for k, v in defaults.get("audit", {}).items() if k in shared}
    # split too (its --key and -o are its own)
    shared = {p.name for p in split.params} - {"only", "output"}
    defaults["split"] = {k: v for k, v in defaults.get("audit", {}).items() if k in shared}
    # render gates a report as lint and audit would: the gate's and the view's settings only
    defaults["render"] = {k: v for k, v in defaults.get("lint", {}).items()
                          if k in ("fail_on", "exit_zero", "show_baselined", "color")}
    return config, defaults


def scan_option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None
