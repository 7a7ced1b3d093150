"""The rule registry, collected from the modules whose checks raise each rule.

Every rule is declared once, as a :class:`~scopeaudit.model.Rule` beside the code that raises
its findings: inventory rules in ``rules/inventory_rules.py``, usage and log rules in
``rules/usage_rules.py``, evidence quality in ``quality.py``, probe rules in
``probe/findings.py``, code rules in ``scan/findings.py``, change rules in
``remediate/against.py``, suppression rules in ``gate.py``. The CLI's ``rules`` and
``explain``, the README's rules table, SARIF rule descriptions and the HTML method section
all read from here.
"""

from __future__ import annotations

from scopeaudit import gate, quality
from scopeaudit.model import Rule
from scopeaudit.probe import findings as probe_rules
from scopeaudit.remediate import against
from scopeaudit.rules import inventory_rules, usage_rules
from scopeaudit.scan import findings as code_rules
from scopeaudit.suggest import did_you_mean


def _declared(*modules: object) -> tuple[Rule, ...]:
    """Every Rule a module holds at its top level, in declaration order."""
    return tuple(value for module in modules for value in vars(module).values()
                 if isinstance(value, Rule))


REGISTRY: dict[str, Rule] = {
    rule.id: rule
    for rule in _declared(inventory_rules, probe_rules, usage_rules, quality, gate, code_rules,
                          against)
}


def get_rule(id_or_name: str) -> Rule:
    """A rule by id (``SA201``, any case) or by name (``unknown-scope``)."""
    wanted = id_or_name.strip()
    rule = REGISTRY.get(wanted.upper())
    if rule is None:
        rule = next((r for r in REGISTRY.values() if r.name == wanted.lower()), None)
    if rule is None:
        raise KeyError(f"unknown rule {id_or_name!r}")
    return rule


def all_rules(include_code: bool = False) -> tuple[Rule, ...]:
    """Every rule, sorted by id. The rules on source code (SA4xx) only with ``include_code``:
    a report that read no code does not describe them."""
    shown = (r for r in REGISTRY.values() if include_code or r.family != code_rules.CODE)
    return tuple(sorted(shown, key=lambda r: r.id))


def rule_suggestion(word: str) -> str:
    """'Did you mean' over every rule's id and name (code rules too)."""
    rules = all_rules(include_code=True)
    # the start of an id ("SA10") means the ids it starts, not the nearest spelling (SA210)
    started = [r.id for r in rules if r.id.lower().startswith(word.strip().lower())]
    if started and word.strip():
        shown = ", ".join(repr(i) for i in started[:8]) + (", ..." if len(started) > 8 else "")
        return f"; did you mean {shown}?" if len(started) == 1 else \
            f"; did you mean one of {shown}?"
    return did_you_mean(word, [*(r.id for r in rules), *(r.name for r in rules)])
