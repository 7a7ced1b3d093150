"""Parsed options into the library's typed requests (scopeaudit.entry): the one place the
CLI reads click's parameter dictionary; past here everything is typed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from scopeaudit.errors import InputError

if TYPE_CHECKING:
    from scopeaudit.config import Config
    from scopeaudit.entry import AuditRequest, CatalogSpec, InputRequest, KeysSpec, LogRequest
    from scopeaudit.gate import GatePolicy

Params = Mapping[str, Any]  # click's parsed options of one command


def parse_date(value: str | None, option: str) -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} expects a date as YYYY-MM-DD, got {value!r}") from None


def catalog_spec(params: Params) -> CatalogSpec:
    from scopeaudit.entry import CatalogSpec

    semantics = params.get("scope_list_semantics")
    return CatalogSpec(params.get("catalog_path"),
                       "any" if semantics == "any" else "all" if semantics == "all" else None,
                       params.get("catalog_overrides"))


def _needed(params: Params, name: str, option: str, key: str) -> None:
    """An option a command needs that a configuration file may give instead: missing from
    both, a usage error naming both."""
    if not params.get(name):
        import click

        raise click.UsageError(f"Missing option '{option}': give it, or set `{key}` in the "
                               "configuration file", click.get_current_context(silent=True))


def keys_spec(params: Params) -> KeysSpec:
    from scopeaudit.entry import KeysSpec
    from scopeaudit.http.options import settings_from
    from scopeaudit.inventory import KeysFormat

    _needed(params, "keys_path", "--keys", "keys")
    fmt = params.get("keys_format")
    return KeysSpec(params["keys_path"], KeysFormat(fmt) if fmt else None,
                    settings_from(params))


def input_request(params: Params) -> InputRequest:
    from scopeaudit.entry import InputRequest
    from scopeaudit.rules.inventory_rules import LintSettings

    settings = LintSettings(as_of=parse_date(params["as_of"], "--as-of"),
                            broad_key_threshold=params["broad_key_threshold"],
                            rotation_days=params["rotation_days"])
    return InputRequest(keys_spec(params), settings, catalog_spec(params),
                        timestamp=not params["no_timestamp"], against=params.get("against"))


def log_request(params: Params) -> LogRequest:
    from scopeaudit.entry import LogRequest
    from scopeaudit.http.options import settings_from

    _needed(params, "log_paths", "--logs", "logs")
    engine = params.get("engine") or "auto"
    return LogRequest(
        paths=tuple(params["log_paths"]), log_formats=tuple(params["log_formats"]),
        maps=tuple(params["maps"]), since=params["since"], until=params["until"],
        strict=params["strict"], allow_empty=params["allow_empty"],
        max_unattributed=params["max_unattributed"],
        shared_key_clients=params["shared_key_clients"], jobs=params["jobs"],
        engine=_engine(engine), http=settings_from(params),
        csv_delimiter=params.get("csv_delimiter"), csv_columns=params.get("csv_columns"),
        tz=params.get("tz"))


def _engine(value: str) -> Literal["auto", "stream", "duckdb"]:
    return "stream" if value == "stream" else "duckdb" if value == "duckdb" else "auto"


def audit_request(params: Params, config: Config) -> AuditRequest:
    from scopeaudit.entry import AuditRequest

    return AuditRequest(input_request(params), log_request(params), config.sources,
                        history=params.get("history_path"),
                        history_timeout=_timeout(params),
                        code_paths=tuple(params.get("code_paths") or ()),
                        code_key=params.get("code_key"))


def gate_policy(params: Params, config: Config) -> GatePolicy:
    return config.policy(baseline_path=params.get("baseline_path"),
                         no_ignores=bool(params.get("no_ignores")))


@dataclass(frozen=True)
class ReportParams:
    """How lint's and audit's result is shown and gated."""

    fmt: str
    output: str | None
    template_dir: str | None
    show_baselined: bool
    fail_on: str
    exit_zero: bool
    history: str | None = None
    history_timeout: float = 30.0
    color: str = "auto"  # --color

    @classmethod
    def of(cls, params: Params) -> ReportParams:
        return cls(params["fmt"], params["output"], params["template_dir"],
                   bool(params.get("show_baselined")), params["fail_on"],
                   bool(params["exit_zero"]), params.get("history_path"),
                   _timeout(params), params.get("color") or "auto")


def _timeout(params: Params) -> float:
    value = params.get("history_timeout")
    return 30.0 if value is None else float(value)


# The options that name files a command reads, and how an error line calls them.
_READ_OPTIONS = (("--keys", "keys_path"), ("--logs", "log_paths"), ("--catalog", "catalog_path"),
                 ("--catalog-overrides", "catalog_overrides"), ("--baseline", "baseline_path"),
                 ("--history", "history_path"))


def read_files(params: Params) -> list[tuple[str, str | None]]:
    """(option, path) for each file the command's options name to read."""
    found: list[tuple[str, str | None]] = []
    for option, name in _READ_OPTIONS:
        value = params.get(name)
        for item in (value if isinstance(value, (tuple, list)) else (value,)):
            if item:
                found.append((option, item))
    return found
