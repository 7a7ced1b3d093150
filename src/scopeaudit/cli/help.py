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
