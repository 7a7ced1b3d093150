"""Options that belong to a help group (Inputs, Logs, Report, Gate, HTTP).

click has no option groups; an option carries its group, and the commands' help lists the
options group by group (``GroupedCommand``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
Decorator = Callable[[F], F]

INPUTS = "Inputs"
LOGS = "Logs"
REPORT = "Report"
GATE = "Gate"
HTTP = "HTTP"


class GroupedOption(click.Option):
    """A click option with the help group it is listed under."""

    def __init__(self, *args: Any, group: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group = group


def option(group: str, *decls: str, **attrs: Any) -> Callable[[F], F]:
    """``click.option`` listed under ``group`` in the help."""
    return click.option(*decls, cls=GroupedOption, group=group, **attrs)


def in_group(group: str, decorators: Iterable[Callable[[F], F]]) -> list[Callable[[F], F]]:
    """Option decorators declared elsewhere (scopeaudit.http.options), listed under
    ``group``: each option is tagged as it is added."""
    def tagged(decorator: Callable[[F], F]) -> Callable[[F], F]:
        def apply(func: F) -> F:
            func = decorator(func)
            params: list[click.Parameter] = getattr(func, "__click_params__", [])
            if params:
                params[-1].group = group  # type: ignore[attr-defined]
            return func
        return apply
    return [tagged(d) for d in decorators]


def apply_all(func: F, decorators: Iterable[Callable[[F], F]]) -> F:
    """The decorators applied as if written one above the other, in the order given."""
    for decorator in reversed(list(decorators)):
        func = decorator(func)
    return func


def options(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Several option decorators as one (the order given is the order in the help)."""
    return lambda func: apply_all(func, decorators)


GROUP_ORDER = (INPUTS, LOGS, REPORT, GATE, HTTP)

# Each command's Examples section (by command path below `scopeaudit`): what a first run
# types. A new command adds its own here (tests/unit/test_cli_help.py checks every command).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "lint": ("scopeaudit lint --keys keys.yaml",
             "scopeaudit lint --keys keys.yaml --format sarif -o scopeaudit.sarif",
             "scopeaudit lint --keys keys.yaml --against origin/main"),
    "audit": ("scopeaudit audit --keys keys.yaml --logs 'logs/*.jsonl'",
              "scopeaudit audit --keys keys.yaml --logs access.log.gz --format html "
              "-o review.html",
              "scopeaudit audit --keys keys.yaml --logs 'logs/*.jsonl' --baseline "
              "baseline.json --fail-on medium"),
    "render": ("scopeaudit audit --keys keys.yaml --logs 'logs/*.jsonl' --format json "
               "-o audit.json",
               "scopeaudit render audit.json --format markdown -o report.md",
               "scopeaudit render audit.json --format sarif -o scopeaudit.sarif"),
    "baseline": ("scopeaudit baseline write --keys keys.yaml -o baseline.json",),
    "baseline write": ("scopeaudit baseline write --keys keys.yaml -o baseline.json",
                       "scopeaudit baseline write --keys keys.yaml --logs 'logs/*.jsonl' "
                       "-o baseline.json"),
    "fix": ("scopeaudit fix --keys keys.yaml --logs 'logs/*.jsonl'",
            "scopeaudit fix --keys keys.yaml --logs 'logs/*.jsonl' --apply"),
    "split": ("scopeaudit split --keys keys.yaml --logs 'logs/*.jsonl' --key key_shared",),
    "catalog": ("scopeaudit catalog",
                "scopeaudit catalog --catalog openapi.yaml --format catalog -o catalog.yaml"),
    "rules": ("scopeaudit rules", "scopeaudit rules --format markdown"),
    "explain": ("scopeaudit explain SA102", "scopeaudit explain unknown-scope"),
    "formats": ("scopeaudit formats", "scopeaudit formats caddy"),
    "history": ("scopeaudit history audits.sqlite",
                "scopeaudit history --format html -o trend.html"),
    "sql": ("scopeaudit sql --dialect duckdb --table requests --since 90d --until 2026-11-30",
            "scopeaudit sql --dialect trino --table logs.api_requests --map ts=event_time"),
    "scan": ("scopeaudit scan src/", "scopeaudit scan src/ --keys keys.yaml --key-id key_bi"),
    "probe": ("INSPAC_API_KEY=... scopeaudit probe",
              "INSPAC_API_KEY=... scopeaudit probe --keys keys.yaml --key-id key_bi"),
    "design": ("scopeaudit design calls.txt", "scopeaudit design client-openapi.yaml"),
    "init": ("scopeaudit init", "scopeaudit init --dir infra"),
    "completion": ("scopeaudit completion bash > ~/.local/share/bash-completion/completions/"
                   "scopeaudit",
                   "scopeaudit completion zsh > \"${fpath[1]}/_scopeaudit\"",
                   "scopeaudit completion fish > ~/.config/fish/completions/scopeaudit.fish"),
}


class GroupedCommand(click.Command):
    """A command whose help lists its options by group, then its Examples."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None or isinstance(param, click.Argument):
                continue
            group = getattr(param, "group", None) or "Options"
            sections.setdefault(group, []).append(record)
        for name in (*GROUP_ORDER, *(g for g in sections if g not in GROUP_ORDER)):
            if name in sections:
                with formatter.section(name):
                    formatter.write_dl(sections[name])

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        format_examples(ctx, formatter)


def format_examples(ctx: click.Context, formatter: click.HelpFormatter) -> None:
    path = ctx.command_path.partition(" ")[2]
    examples = EXAMPLES.get(path)
    if examples:
        with formatter.section("Examples"):
            for line in examples:
                formatter.write_text(f"\b\n{line}")


class CommandGroup(click.Group):
    """The ``scopeaudit`` group (and ``baseline``): its commands are GroupedCommands, and
    the command list shows each one's short help whole (wrapped, never cut)."""

    command_class = GroupedCommand
    group_class = type  # a subgroup is a CommandGroup too

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        format_examples(ctx, formatter)
