"""No scopeaudit module reaches into another's private (``_name``) definitions.

A leading underscore says "only this module uses it"; a name another module needs gets a
public name in its owner. The check reads src/ with ``ast``: ``from scopeaudit.x import _y``
and ``x._y`` where ``x`` is a scopeaudit module imported under that name both count. Dunder
names (``__version__``) are public. An exception is allowed only in ALLOWED, with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "scopeaudit"

# (importing module, owner module, name) -> why it may stay.
ALLOWED: dict[tuple[str, str, str], str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_module(name: str) -> bool:
    where = SRC / Path(*name.split("."))
    return where.with_suffix(".py").exists() or (where / "__init__.py").exists()


def private_uses(path: Path, module: str | None = None) -> list[tuple[str, str, str, int]]:
    """(importer, owner, name, line) for each private name this file takes from another module."""
    module = module or _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, str, str, int]] = []
    aliases: dict[str, str] = {}  # local name -> scopeaudit module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            owner = _resolve(module, path.name == "__init__.py", node)
            if owner != PACKAGE and not owner.startswith(PACKAGE + "."):
                continue
            for alias in node.names:
                if _private(alias.name) and owner != module:
                    found.append((module, owner, alias.name, node.lineno))
                aliases[alias.asname or alias.name] = f"{owner}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + ".") and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _private(node.attr)
                and isinstance(node.value, ast.Name) and node.value.id in aliases):
            owner = aliases[node.value.id]
            if owner != module and _is_module(owner):
                found.append((module, owner, node.attr, node.lineno))
    return found


def test_no_private_names_across_modules() -> None:
    bad = [f"{importer}:{line} uses {owner}.{name}"
           for path in sorted((SRC / PACKAGE).rglob("*.py"))
           for importer, owner, name, line in private_uses(path)
           if (importer, owner, name) not in ALLOWED]
    assert not bad, "give these a public name in their owner:\n" + "\n".join(bad)


def test_allowed_exceptions_still_exist() -> None:
    """An exception nobody needs any more is removed from the list."""
    used = {(i, o, n) for path in (SRC / PACKAGE).rglob("*.py")
            for i, o, n, _ in private_uses(path)}
    assert set(ALLOWED) <= used, sorted(set(ALLOWED) - used)


def test_detects_private_import(tmp_path: Path) -> None:
    """The check itself: both spellings of reaching into another module are found."""
    sample = tmp_path / "probe.py"
    sample.write_text("from scopeaudit.window import _x, __doc__\n"
                      "from . import _near\n"
                      "import scopeaudit.evidence as ev\n"
                      "ev._Tally\n", encoding="utf-8")
    names = {(o, n) for _, o, n, _ in private_uses(sample, "scopeaudit.usage.probe")}
    assert names == {("scopeaudit.window", "_x"), ("scopeaudit.usage", "_near"),
                     ("scopeaudit.evidence", "_Tally")}
