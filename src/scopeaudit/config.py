"""Configuration: ``scopeaudit.toml``, ``.scopeaudit.toml`` or ``[tool.scopeaudit]`` in
``pyproject.toml``, found from the working directory up to the repository root.

The closest file wins and files are never merged. Every CLI option has a key named after its
long option (``fail-on = "high"``); precedence is flag > ``SCOPEAUDIT_*`` environment variable
> file > default, which the CLI gets from click (the file's values become click's default map).
Per-rule tables (``[rules.SA203]``) override severity, disable a rule or set its threshold;
``[[ignore]]`` entries are suppressions (see :mod:`scopeaudit.gate`). Unknown keys and wrong
types are errors naming the file and line.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from scopeaudit.errors import InputError
from scopeaudit.gate import GatePolicy, RuleSettings, Suppression
from scopeaudit.http.policy import is_url
from scopeaudit.model import Location, Severity
from scopeaudit.redaction import redacted
from scopeaudit.rules.inventory_rules import BROAD_KEY, ROTATION_OVERDUE
from scopeaudit.rules.registry import get_rule, rule_suggestion
from scopeaudit.rules.usage_rules import SHARED_KEY
from scopeaudit.suggest import did_you_mean
from scopeaudit.usage.options import DeclaredSource
from scopeaudit.window import written_date

CANDIDATES = ("scopeaudit.toml", ".scopeaudit.toml", "pyproject.toml")
# Threshold keys a rule table may carry, and the option each one sets.
RULE_THRESHOLDS = {
    BROAD_KEY.id: "broad-key-threshold",
    ROTATION_OVERDUE.id: "rotation-days",
    SHARED_KEY.id: "shared-key-clients",
}


@dataclass(frozen=True)
class Config:
    path: str | None  # None: no configuration file
    options: Mapping[str, Any] = field(default_factory=dict)  # long option name -> value
    rules: Mapping[str, RuleSettings] = field(default_factory=dict)  # rule id -> settings
    ignores: tuple[Suppression, ...] = ()
    warnings: tuple[str, ...] = ()
    sources: tuple[DeclaredSource, ...] = ()  # [[source]]: the sources an audit must have

    def policy(self, *, baseline_path: str | None = None, no_ignores: bool = False
               ) -> GatePolicy:
        """The gate this configuration sets (scopeaudit.gate.gate_audit); ``no_ignores``
        leaves out its suppressions."""
        return GatePolicy(rules=self.rules, ignores=() if no_ignores else self.ignores,
                          baseline_path=baseline_path, config_path=self.path,
                          warnings=self.warnings)


def discover(start: Path) -> Path | None:
    """The closest configuration file from ``start`` up to the repository root."""
    here = start.resolve()
    for directory in (here, *here.parents):
        for name in CANDIDATES:
            candidate = directory / name
            if candidate.is_file() and (name != "pyproject.toml" or _has_tool_table(candidate)):
                return candidate
        if (directory / ".git").exists():
            return None
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        return re.search(r"(?m)^\s*\[tool\.scopeaudit(\]|\.)", path.read_text("utf-8")) is not None
    except (OSError, UnicodeDecodeError):
        return False


def load(path: Path, option_types: Mapping[str, type | tuple[type, ...]], *,
         command_line_only: Mapping[str, str] | None = None,
         no_urls: Collection[str] = (), path_options: Collection[str] = (),
         check: Callable[[str, Any], str | None] | None = None) -> Config:
    """Read and check one configuration file. ``option_types`` maps every long option name
    the CLI knows to the TOML type it takes (``list`` for repeatable options); ``check``
    gives what is wrong with an option's value (a choice, a range), or None.

    Paths in ``path_options`` are relative to the configuration file, as a reader of the
    file expects: they are given back relative to the working directory (absolute paths,
    URLs and ``-`` as they are), so a run from a subfolder reads the same files.

    A configuration file is part of the repository, and a pull request can edit it: options
    in ``command_line_only`` (where credentials go, which TLS servers are trusted, which
    templates run; each mapped to why, as "it ...") and URLs in the ``no_urls`` options are
    refused here, so that a CI run never sends its secrets or runs code where an edited file
    says."""
    command_line_only = command_line_only or {}
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the configuration: {exc}", file=source) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        raise InputError(f"invalid TOML: {str(exc).split(' (at line')[0]}", file=source,
                         line=int(found.group(1)) if found else None) from None
    except RecursionError:  # tomllib parses nested arrays and tables by recursion
        raise InputError("invalid TOML: nested too deeply", file=source) from None
    lines = _Lines(text)
    table: Any = doc
    prefix = ""
    if path.name == "pyproject.toml":
        table = doc.get("tool", {}).get("scopeaudit", {})
        prefix = "tool.scopeaudit."
    if not isinstance(table, dict):
        raise InputError("[tool.scopeaudit] must be a table", file=source)
    options: dict[str, Any] = {}
    rules: dict[str, RuleSettings] = {}
    ignores: list[Suppression] = []
    warnings: list[str] = []
    sources: list[DeclaredSource] = []
    for key, value in table.items():
        line = lines.key(key, prefix)
        if key == "rules":
            rules, thresholds = _rules(value, source, lines, prefix)
            for option, threshold in thresholds.items():
                options.setdefault(option, threshold)
        elif key == "ignore":
            ignores = _ignores(value, source, lines, prefix, warnings)
        elif key == "source":
            sources = _sources(value, source, lines, prefix)
        elif key in command_line_only:
            raise InputError(f"{key!r} cannot be set in a configuration file: it "
                             f"{command_line_only[key]}; set it on the command line or in "
                             "the environment "
                             f"(SCOPEAUDIT_{key.upper().replace('-', '_')})", file=source,
                             line=line)
        elif key in option_types:
            options[key] = _checked(value, option_types[key], key, source, line)
            problem = check(key, options[key]) if check is not None else None
            if problem is not None:
                raise InputError(f"{key}: {problem}", file=source, line=line)
            if key in path_options:
                options[key] = _from_file(options[key], path.parent)
            if key in no_urls and any(_is_url(v) for v in
                                      (value if isinstance(value, list) else [value])):
                raise InputError(f"{key!r}: a URL cannot be set in a configuration file: it "
                                 "would receive SCOPEAUDIT_HTTP_TOKEN and --header "
                                 "credentials; set it on the command line or in the "
                                 "environment", file=source, line=line)
        else:
            hint = did_you_mean(key, [*option_types, "rules", "ignore", "source"]) or (
                "; the keys are the long options (`scopeaudit audit --help`), [rules.ID], "
                "[[ignore]] and [[source]]")
            raise InputError(f"unknown key {key!r}{hint}", file=source, line=line)

    # a suppression's reason and globs are shown in reports: they pass the one redaction
    return Config(source, options, rules, redacted(tuple(ignores)), tuple(warnings),
                  tuple(sources))


def _from_file(value: Any, folder: Path) -> Any:
    """A path option's value (a string, or a list of them) read relative to ``folder``."""
    if isinstance(value, list):
        return [_from_file(v, folder) for v in value]
    if not isinstance(value, str) or value == "-" or _is_url(value) or Path(value).is_absolute():
        return value
    base = shown_path(folder)
    return value if base == "." else os.path.normpath(os.path.join(base, value))


def shown_path(path: Path) -> str:
    """``path`` as a run names it: relative to the working directory when it is below it or
    above it (a run from a subfolder: ``../infra/keys.yaml``), else absolute."""
    relative = os.path.relpath(path)
    if not relative.startswith(".."):
        return relative
    here = Path.cwd().resolve()
    if here.is_relative_to(path.resolve()) or here.is_relative_to(path.resolve().parent):
        return relative
    return str(path.resolve())


def _is_url(value: object) -> bool:
    return isinstance(value, str) and is_url(value)


def _checked(value: Any, expected: type | tuple[type, ...], key: str, source: str,
             line: int | None) -> Any:
    if expected is list:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise InputError(f"{key!r} must be a string or a list of strings", file=source,
                         line=line)
    types = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(value, bool) and bool not in types:
        ok = False
    elif isinstance(value, date) and not isinstance(value, datetime) and str in types:
        value, ok = value.isoformat(), True  # a TOML date where a date string is expected
    else:
        ok = isinstance(value, types)
    if not ok:
        names = " or ".join(_type_name(t) for t in types)
        raise InputError(f"{key!r} must be {names}, found {_type_name(type(value))}",
                         file=source, line=line)
    return value


def _type_name(t: type) -> str:
    return {str: "a string", int: "a whole number", bool: "true or false", list: "a list",
            float: "a number", dict: "a table"}.get(t, t.__name__)


def _rules(value: Any, source: str, lines: _Lines, prefix: str
           ) -> tuple[dict[str, RuleSettings], dict[str, int]]:

    if not isinstance(value, dict):
        raise InputError("'rules' must be a table of [rules.ID] tables", file=source,
                         line=lines.key("rules", prefix))
    out: dict[str, RuleSettings] = {}
    thresholds: dict[str, int] = {}
    for name, settings in value.items():
        line = lines.table(f"{prefix}rules.{name}")
        try:
            rule = get_rule(name)
        except KeyError:
            raise InputError(f"unknown rule {name!r} in [rules]{rule_suggestion(name)}",
                             file=source, line=line) from None
        if not isinstance(settings, dict):
            raise InputError(f"[rules.{name}] must be a table", file=source, line=line)
        severity: Severity | None = None
        disabled = False
        for key, item in settings.items():
            key_line = lines.key(key, f"{prefix}rules.{name}.") or line
            if key == "severity":
                if not isinstance(item, str):
                    raise InputError("'severity' must be a string", file=source, line=key_line)
                try:
                    severity = Severity.parse(item)
                except ValueError as exc:
                    raise InputError(str(exc), file=source, line=key_line) from None
            elif key in ("disabled", "disable"):
                if not isinstance(item, bool):
                    raise InputError(f"'{key}' must be true or false", file=source,
                                     line=key_line)
                disabled = item
            elif key == RULE_THRESHOLDS.get(rule.id):
                if isinstance(item, bool) or not isinstance(item, int) or item < 1:
                    raise InputError(f"'{key}' must be a whole number of at least 1",
                                     file=source, line=key_line)
                thresholds[key] = item
            else:
                allowed = ["severity", "disabled"] + ([RULE_THRESHOLDS[rule.id]]
                                                      if rule.id in RULE_THRESHOLDS else [])
                raise InputError(f"unknown key {key!r} in [rules.{name}] (known: "
                                 f"{', '.join(allowed)})", file=source, line=key_line)
        out[rule.id] = RuleSettings(severity, disabled)
    return out, thresholds


def _ignores(value: Any, source: str, lines: _Lines, prefix: str,
             warnings: list[str]) -> list[Suppression]:

    if not isinstance(value, list):
        raise InputError("'ignore' must be an array of tables: [[ignore]]", file=source,
                         line=lines.key("ignore", prefix))
    entries: list[Suppression] = []
    header_lines = lines.array_tables(f"{prefix}ignore")
    for n, item in enumerate(value):
        line = header_lines[n] if n < len(header_lines) else lines.key("ignore", prefix)
        if not isinstance(item, dict):
            raise InputError("each [[ignore]] entry must be a table", file=source, line=line)
        unknown = set(item) - {"rule", "key", "scope", "reason", "expires"}
        if unknown:
            raise InputError(f"unknown key {sorted(unknown)[0]!r} in [[ignore]] (known: rule, "
                             "key, scope, reason, expires)", file=source, line=line)
        rule = item.get("rule")
        if not isinstance(rule, str) or not rule:
            raise InputError("[[ignore]] needs 'rule' (an id such as SA102, a name, or '*')",
                             file=source, line=line)
        if rule != "*":
            try:
                rule = get_rule(rule).id
            except KeyError:
                raise InputError(f"[[ignore]]: unknown rule {rule!r}{rule_suggestion(rule)}",
                                 file=source, line=line) from None
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise InputError("[[ignore]] needs a 'reason': say why it is accepted",
                             file=source, line=line)
        for glob_key in ("key", "scope"):
            if glob_key in item and not isinstance(item[glob_key], str):
                raise InputError(f"[[ignore]] '{glob_key}' must be a string (a glob)",
                                 file=source, line=line)
        expires = _expiry(item.get("expires"), source, line)
        if expires is None:
            warnings.append(f"{source}:{line}: [[ignore]] for {rule} has no 'expires' date; it "
                            "will suppress forever")
        entries.append(Suppression(rule=rule, reason=reason.strip(),
                                   location=Location(source, line or 1),
                                   key=item.get("key", "*"), scope=item.get("scope", "*"),
                                   expires=expires))
    return entries


def _sources(value: Any, source: str, lines: _Lines, prefix: str) -> list[DeclaredSource]:
    """``[[source]]`` entries: a name and a glob; an audit without an input matching each is
    an error (scopeaudit.usage.inputcheck)."""
    if not isinstance(value, list):
        raise InputError("'source' must be an array of tables: [[source]]", file=source,
                         line=lines.key("source", prefix))
    header_lines = lines.array_tables(f"{prefix}source")
    declared: list[DeclaredSource] = []
    for n, item in enumerate(value):
        line = header_lines[n] if n < len(header_lines) else lines.key("source", prefix)
        if not isinstance(item, dict):
            raise InputError("each [[source]] entry must be a table", file=source, line=line)
        unknown = set(item) - {"name", "pattern"}
        if unknown:
            raise InputError(f"unknown key {sorted(unknown)[0]!r} in [[source]] (known: name, "
                             "pattern)", file=source, line=line)
        for field_name in ("name", "pattern"):
            if not isinstance(item.get(field_name), str) or not item[field_name].strip():
                raise InputError(f"[[source]] needs a '{field_name}' (a string)", file=source,
                                 line=line)
        name = item["name"].strip()
        if any(d.name == name for d in declared):
            raise InputError(f"[[source]] {name!r} is declared twice", file=source, line=line)
        declared.append(DeclaredSource(name, item["pattern"].strip(), source, line))
    return declared


def _expiry(value: Any, source: str, line: int | None) -> date | None:
    if value is None:
        return None
    found = written_date(value)
    if found is not None:
        return found
    raise InputError(f"[[ignore]] 'expires' must be a date (2026-12-31), found {value!r:.40}",
                     file=source, line=line)


class _Lines:
    """Where keys and tables sit in the TOML text: tomllib gives no positions, and errors
    must name the line. Good enough for the flat files a configuration is."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.tables: list[tuple[int, str]] = []  # (line, dotted table name) in order
        for n, raw in enumerate(self.lines, start=1):
            header = re.match(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?", raw)
            if header:
                self.tables.append((n, header.group(1).replace('"', "")))

    def table(self, name: str) -> int | None:
        return next((n for n, t in self.tables if t == name), None)

    def array_tables(self, name: str) -> list[int]:
        return [n for n, t in self.tables if t == name]

    def key(self, key: str, prefix: str) -> int | None:
        """The line of ``key`` inside the table named by ``prefix`` (dotted, with a trailing
        dot), or at the top level when the prefix is empty."""
        table = prefix.rstrip(".")
        start = 0
        if table:
            header = self.table(table)
            if header is None:
                return None
            start = header  # the header's 1-based number is the next line's index
        pattern = re.compile(rf'^\s*"?{re.escape(key)}"?\s*=')
        for n in range(start, len(self.lines)):
            if re.match(r"^\s*\[", self.lines[n]):
                break  # the next table begins
            if pattern.match(self.lines[n]):
                return n + 1
        return None
