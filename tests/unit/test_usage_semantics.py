"""The usage engines are built from one definition (usage/semantics.py) through public names:
no module of usage/, engine/ or sql/ reaches into another's private names, and their imports
form no cycle (imports only for type checking aside; a function-level import counts)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGES = ("usage", "engine", "sql")
# namedtuple's own API, public despite its underscore
_NAMEDTUPLE = {"_replace", "_asdict", "_fields", "_make"}


def modules() -> dict[str, ast.Module]:
    found = {}
    for package in PACKAGES:
        for path in sorted((SRC / "scopeaudit" / package).rglob("*.py")):
            parts = path.relative_to(SRC).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = ast.parse(path.read_text(), str(path))
    return found


def _runtime_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:``."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        out.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return out


def test_no_private_name_of_another_module() -> None:
    found = []
    for name, tree in modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("scopeaudit"):
                found += [f"{name}: from {node.module} import {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                    and not node.attr.startswith("__") and node.attr not in _NAMEDTUPLE \
                    and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append(f"{name}: {ast.unparse(node)}")
    assert found == []


def test_no_import_cycle() -> None:
    trees = modules()
    graph: dict[str, set[str]] = {name: set() for name in trees}
    for name, tree in trees.items():
        for node in _runtime_nodes(tree):
            if isinstance(node, ast.ImportFrom) and node.module in trees:
                # ``from package import module`` imports that module (a package's own
                # __init__ runs before any of its modules, which is no cycle of theirs)
                submodules = {f"{node.module}.{a.name}" for a in node.names} & trees.keys()
                graph[name].update(submodules)
                if len(submodules) < len(node.names):
                    graph[name].add(node.module)
            elif isinstance(node, ast.Import):
                graph[name].update(a.name for a in node.names if a.name in trees)
        graph[name].discard(name)
    cycles = []
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for other in sorted(graph[name]):
            if state.get(other) == 1:
                cycles.append(" -> ".join([*path[path.index(other):], other]))
            elif other not in state:
                visit(other, [*path, other])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_rules_come_from_semantics() -> None:
    """The engines name the aggregation rules by semantics' names, not by copies: no literal
    day length, user-agent cut or cache limit in their code."""
    found = []
    for name, tree in modules().items():
        if name in ("scopeaudit.usage.semantics", "scopeaudit.usage.clients",
                    "scopeaudit.usage.timeparse"):
            continue  # where those names are defined
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in (86400, 120, 200_000):
                found.append(f"{name}:{node.lineno}: {node.value}")
    assert found == []
