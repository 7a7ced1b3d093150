"""The rule registry collected from the modules that raise each rule.

The golden files in tests/golden/rules/ hold `scopeaudit rules` (each format) and `explain`
for every rule as the registry printed them when it was one nine-argument table
(rules/registry.py before the rules moved beside their checks): the move changes no byte.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from click.testing import CliRunner

from scopeaudit.cli import cli
from scopeaudit.model import Rule
from scopeaudit.rules.registry import REGISTRY, all_rules

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "rules"
SRC = ROOT / "src" / "scopeaudit"


@pytest.mark.parametrize(("fmt", "name"),
                         [("table", "rules.txt"), ("json", "rules.json"), ("markdown", "rules.md")])
def test_rules_output_is_unchanged(fmt: str, name: str) -> None:
    result = CliRunner().invoke(cli, ["rules", "--format", fmt])
    assert result.exit_code == 0
    assert result.output == (GOLDEN / name).read_text(encoding="utf-8")


def test_explain_output_is_unchanged() -> None:
    runner = CliRunner()
    shown = "".join(runner.invoke(cli, ["explain", r.id]).output
                    for r in all_rules(include_code=True))
    assert shown == (GOLDEN / "explain.txt").read_text(encoding="utf-8")


def _rule_declarations(path: Path) -> list[str]:
    """The ids of the ``Rule(id=...)`` calls written in one source file."""
    ids = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "Rule":
            assert not node.args, f"{path}: Rule(...) takes keyword arguments only"
            ids += [kw.value.value for kw in node.keywords
                    if kw.arg == "id" and isinstance(kw.value, ast.Constant)]
    return ids


def test_every_declared_rule_is_registered_once() -> None:
    declared = [rid for path in sorted(SRC.rglob("*.py")) for rid in _rule_declarations(path)]
    assert sorted(declared) == sorted(REGISTRY)
    assert len(declared) == len(set(declared))


def test_rules_are_declared_beside_the_code_that_raises_them() -> None:
    """No finding names its rule by a string id: every one is raised through its Rule."""
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for rid in REGISTRY:
            for call in (f'make_finding("{rid}"', f'get_rule("{rid}"', f'REGISTRY["{rid}"]',
                         f'== "{rid}"'):
                assert call not in text, f"{path.relative_to(ROOT)} names {rid} by string"


def test_rule_takes_keyword_arguments_only() -> None:
    with pytest.raises(TypeError):
        Rule("SA999", "x")  # type: ignore[misc]
