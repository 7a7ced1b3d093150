"""The import graph of src/scopeaudit is a layering: no module reaches itself through imports.

Every import of a scopeaudit module counts: at module level, inside a function, and under
``if TYPE_CHECKING:`` (a cycle only the type checker sees is still two modules that cannot be
read one before the other). Importing ``a.b.c`` also runs ``a/__init__`` and ``a/b/__init__``,
so those count too. A function-level import is allowed only in the modules listed in
LAZY_IMPORTS, each with the reason it is kept lazy; one that would close a cycle fails the
first test whatever the list says, since it is in the graph like any other import.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "scopeaudit"

# Cycles allowed (none: #22 removed the last, engine/__init__ <-> engine/duckdb_engine).
KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset()

# Modules whose imports of scopeaudit modules inside functions are kept lazy, and why. None
# of them may close a cycle (test_no_import_cycles holds that).
_HELP_SPEED = "`scopeaudit --help` and each command load only what that command runs"
LAZY_IMPORTS: dict[str, str] = {
    "scopeaudit.cli.audit_commands": _HELP_SPEED,
    "scopeaudit.cli.common": _HELP_SPEED,
    "scopeaudit.cli.config_defaults": _HELP_SPEED,
    "scopeaudit.cli.main": _HELP_SPEED,
    "scopeaudit.cli.params": _HELP_SPEED,
    "scopeaudit.cli.tool_commands": _HELP_SPEED,
    "scopeaudit.entry": "a command's entry loads only its own pipeline (import, scan, remote)",
    "scopeaudit.audit": "the engine (DuckDB) is loaded when logs are read",
    "scopeaudit.catalog.documents": "YAML support (inventory's ruamel parsers) loads on demand",
    "scopeaudit.catalog.loader": "OpenAPI import and ruamel load only for a catalog file",
    "scopeaudit.engine": "DuckDB, remote stores and the readers load when a read runs",
    "scopeaudit.inventory": "one parser per key-file format (ruamel, csv); httpx for URLs",
    "scopeaudit.inventory.remote": "httpx loads only for a key file given as a URL",
    "scopeaudit.output": "the URL policy loads only when an output path is checked",
    "scopeaudit.probe": "httpx and the probe plan load only when a probe runs",
    "scopeaudit.remediate.design": "the OpenAPI importer loads only for an OpenAPI document",
    "scopeaudit.remediate.fix": "one editor per key-file format; Jinja for Markdown output",
    "scopeaudit.remediate.split": "Jinja (render.markdown) loads only for Markdown output",
    "scopeaudit.remediate.staged": "Jinja (render.markdown) loads only for Markdown output",
    "scopeaudit.remote": "boto3 loads only for an s3:// or CloudWatch input",
    "scopeaudit.remote.aws": "boto3 clients are built only for a remote input",
    "scopeaudit.remote.azure": "the Azure client is built only for an az:// input",
    "scopeaudit.remote.gcs": "the GCS session is built only for a gs:// input",
    "scopeaudit.remote.window": "the window's date parsing loads only with a pull window",
    "scopeaudit.render.history_view": "Jinja loads only for the HTML history page",
    "scopeaudit.render.markdown": "Jinja loads only when a template is rendered",
    "scopeaudit.render.templates": "the template sandbox loads only when a template renders",
    "scopeaudit.scan": "each language's scanner loads when a file of that language is read",
    "scopeaudit.usage.inputcheck": "the readers and the engine load only when inputs are checked",
    "scopeaudit.usage.inputs": "httpx and remote stores load only for a URL or remote input",
    "scopeaudit.engine.stream": "the URL policy loads only in a worker that reads a URL",
    "scopeaudit.usage.readers.detect": "the URL policy, remote stores and each layout's "
                                       "reader load only when such an input is looked at",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in (SRC / PACKAGE).rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The module an imported name lives in (``a.b.c`` -> ``a.b`` when c is a name in b)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> tuple[set[str], set[str]]:
    """(every scopeaudit module ``module`` imports, those imported inside a function)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    every: set[str] = set()
    lazy: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                # ``from a.b import c``: module a.b, or its submodule a.b.c (then a.b is only
                # the package that runs first)
                names = [f"{base}.{alias.name}" for alias in child.names]
            for name in names:
                target = _resolve(name) if name.startswith(PACKAGE) else None
                if target is None or target == module:
                    continue
                # importing a.b.c first runs the __init__ of each package above it (already
                # running when it is a package of the importing module itself)
                ancestors = [".".join(target.split(".")[:i])
                             for i in range(2, target.count(".") + 1)]
                found = {target} | {a for a in ancestors if a in MODULES and a != module
                                    and not module.startswith(a + ".")}
                every.update(found)
                if inner:
                    lazy.update(found)
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return every, lazy


GRAPH = {module: _imports(module) for module in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def test_no_import_cycles() -> None:
    cycles = [c for c in _cycles({m: every for m, (every, _) in GRAPH.items()})
              if c not in KNOWN_CYCLES]
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in cycles)


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [frozenset({"a", "b", "c"})]


def test_function_level_imports_are_only_where_listed() -> None:
    lazy = {m for m, (_, inner) in GRAPH.items() if inner}
    unlisted = sorted(lazy - set(LAZY_IMPORTS))
    assert not unlisted, (f"{unlisted} import scopeaudit modules inside functions: import "
                          "them at the top, or say in LAZY_IMPORTS why they stay lazy")
    stale = sorted(set(LAZY_IMPORTS) - lazy)
    assert not stale, f"LAZY_IMPORTS lists {stale}, which import nothing lazily any more"


def test_known_cycles_are_still_cycles() -> None:
    """An entry whose cycle is gone is removed from KNOWN_CYCLES, so none comes back."""
    cycles = set(_cycles({m: every for m, (every, _) in GRAPH.items()}))
    assert cycles >= KNOWN_CYCLES
