"""Python: calls through requests, httpx (sync and async), urllib3 and aiohttp.

Recognised: module functions (``requests.get``, ``httpx.post``, ``urllib3.request``,
``aiohttp.request``), names imported from those modules, and clients bound to a name or an
attribute (``client = httpx.Client(base_url=...)``, ``self.http = requests.Session()``,
``with``/``async with ... as s``, a parameter annotated ``httpx.AsyncClient``). Strings are
read from literals, f-strings, ``+``, ``%`` and ``str.format`` and from names bound once to a
string in the file.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scopeaudit.scan.common import (
    Bindings,
    concat,
    method_of,
    site,
    text,
    walk,
)
from scopeaudit.scan.model import PLACEHOLDER, CallSite

if TYPE_CHECKING:
    from tree_sitter import Node

LANGUAGE = "python"
EXTENSIONS = (".py", ".pyi")
_SCOPES = frozenset({"function_definition", "lambda"})
_LIBRARIES = frozenset({"requests", "httpx", "urllib3", "aiohttp"})
_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})
# constructor -> whether it takes a base URL (as ``base_url=``)
_CLIENTS = {
    "httpx.Client": True, "httpx.AsyncClient": True, "requests.Session": False,
    "requests.session": False, "aiohttp.ClientSession": True, "urllib3.PoolManager": False,
}
# functions and client methods whose first two arguments are (method, url)
_METHOD_FIRST = {"request", "stream", "urlopen"}
_MODULE_FUNCTIONS = {
    "requests": _VERBS | {"request"}, "httpx": _VERBS | {"request", "stream"},
    "urllib3": frozenset({"request"}), "aiohttp": frozenset({"request"}),
}


@dataclass(frozen=True)
class _Client:
    library: str
    base: str | None  # None: no base URL; PLACEHOLDER: one the scan cannot read


def parser_language() -> object:
    import tree_sitter_python

    return tree_sitter_python.language()


class _File:
    def __init__(self, path: str) -> None:
        self.path = path
        self.imports: dict[str, str] = {}  # local name -> "library" or "library.attr"
        self.strings: Bindings[str] = Bindings(_SCOPES)
        self.clients: Bindings[_Client] = Bindings(_SCOPES)

    # -- strings ---------------------------------------------------------------------------

    def value(self, node: Node | None) -> str | None:
        if node is None:
            return None
        kind = node.type
        if kind == "string":
            return self._string(node)
        if kind == "concatenated_string":
            parts = [self._string(c) for c in node.named_children if c.type == "string"]
            return None if any(p is None for p in parts) else "".join(p or "" for p in parts)
        if kind == "parenthesized_expression" and node.named_children:
            return self.value(node.named_children[0])
        if kind in ("identifier", "attribute"):
            return self.strings.get(node, text(node))
        if kind == "binary_operator":
            operator = node.child_by_field_name("operator")
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if operator is not None and operator.type == "+":
                return concat(self.value(left), self.value(right))
            if operator is not None and operator.type == "%":
                template = self.value(left)
                return None if template is None else _percent(template)
        if kind == "call":
            function = node.child_by_field_name("function")
            if function is not None and function.type == "attribute":
                attr = function.child_by_field_name("attribute")
                if attr is not None and text(attr) == "format":
                    template = self.value(function.child_by_field_name("object"))
                    return None if template is None else _braces(template)
        return None

    def _string(self, node: Node) -> str | None:
        start = node.children[0] if node.children else None
        prefix = text(start).lower() if start is not None else ""
        raw = "r" in prefix
        out: list[str] = []
        for child in node.children:
            if child.type == "string_content":
                out.append(_content(child, raw))
            elif child.type == "interpolation":
                expression = child.child_by_field_name("expression")
                found = self.value(expression)
                out.append(PLACEHOLDER if found is None else found)
        return "".join(out)

    # -- bindings --------------------------------------------------------------------------

    def collect(self, root: Node) -> None:
        for node in walk(root):
            kind = node.type
            if kind == "import_statement":
                for imported in node.children_by_field_name("name"):
                    self._import(imported)
            elif kind == "import_from_statement":
                module = node.child_by_field_name("module_name")
                library = text(module) if module is not None else ""
                if library in _LIBRARIES:
                    for imported in node.children_by_field_name("name"):
                        attr, local = _aliased(imported)
                        self.imports[local] = f"{library}.{attr}"
            elif kind == "assignment":
                left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
                if left is not None and left.type in ("identifier", "attribute"):
                    name = text(left)
                    client = self._constructed(right)
                    if client is not None:
                        self.clients.bind(left, name, client)
                    self.strings.bind(left, name, self.value(right) if right else None)
                    annotation = node.child_by_field_name("type")
                    if client is None and annotation is not None:
                        self._annotated(left, name, annotation)
                elif left is not None:  # tuple targets: none of them is a constant
                    for target in walk(left):
                        if target.type == "identifier":
                            self.strings.bind(target, text(target), None)
            elif kind == "as_pattern":
                alias = node.child_by_field_name("alias")
                value = node.named_children[0] if node.named_children else None
                client = self._constructed(value)
                for target in walk(alias) if alias is not None else ():
                    if target.type in ("identifier", "attribute"):
                        if client is not None:
                            self.clients.bind(target, text(target), client)
                        self.strings.bind(target, text(target), None)
                        break
            elif kind in ("typed_parameter", "typed_default_parameter", "default_parameter",
                          "identifier") and node.parent is not None \
                    and node.parent.type in ("parameters", "lambda_parameters"):
                name_node = node if kind == "identifier" else (
                    node.child_by_field_name("name") or node.named_children[0])
                assert name_node is not None  # a parameter always has a name
                self.strings.bind(name_node, text(name_node), None)
                annotation = node.child_by_field_name("type")
                if annotation is not None:
                    self._annotated(name_node, text(name_node), annotation)
            elif kind in ("for_statement", "for_in_clause"):
                loop = node.child_by_field_name("left")
                for ident in walk(loop) if loop is not None else ():
                    if ident.type == "identifier":
                        self.strings.bind(ident, text(ident), None)

    def _import(self, name: Node) -> None:
        module, local = _aliased(name)
        root = module.split(".")[0]
        if root in _LIBRARIES:
            self.imports[local] = module if name.type == "aliased_import" else root

    def qualified(self, node: Node | None) -> str | None:
        """``httpx.Client`` for ``httpx.Client``, ``hx.Client`` or an imported ``Client``."""
        if node is None:
            return None
        if node.type == "identifier":
            return self.imports.get(text(node))
        if node.type == "attribute":
            obj, attr = node.child_by_field_name("object"), node.child_by_field_name("attribute")
            if obj is not None and attr is not None and obj.type == "identifier":
                library = self.imports.get(text(obj))
                if library in _LIBRARIES:
                    return f"{library}.{text(attr)}"
        return None

    def _constructed(self, node: Node | None) -> _Client | None:
        while node is not None and node.type in ("await", "parenthesized_expression"):
            node = node.named_children[0] if node.named_children else None
        if node is None or node.type != "call":
            return None
        constructor = self.qualified(node.child_by_field_name("function"))
        if constructor not in _CLIENTS:
            return None
        library = constructor.split(".")[0]
        if not _CLIENTS[constructor]:
            return _Client(library, None)
        base = _argument(node.child_by_field_name("arguments"), "base_url",
                         0 if library == "aiohttp" else None)
        if base is None:
            return _Client(library, None)
        found = self.value(base)
        return _Client(library, PLACEHOLDER if found is None else found)

    def _annotated(self, name_node: Node, name: str, annotation: Node) -> None:
        for part in walk(annotation):
            constructor = self.qualified(part)
            if constructor in _CLIENTS:
                # a client handed in: its base URL is not in sight
                base = PLACEHOLDER if _CLIENTS[constructor] else None
                self.clients.bind(name_node, name, _Client(constructor.split(".")[0], base))
                return

    # -- calls -----------------------------------------------------------------------------

    def call(self, node: Node) -> CallSite | None:
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        if function is None or arguments is None:
            return None
        qualified = self.qualified(function)
        client: _Client | None = None
        if qualified is not None:
            library, _, verb = qualified.partition(".")
            if verb not in _MODULE_FUNCTIONS.get(library, ()):
                return None
            client = _Client(library, None)
        elif function.type == "attribute":
            obj, attr = function.child_by_field_name("object"), function.child_by_field_name(
                "attribute")
            if obj is None or attr is None or obj.type not in ("identifier", "attribute"):
                return None
            client = self.clients.get(node, text(obj))
            verb = text(attr)
            if client is None or not (verb in _VERBS or verb in _METHOD_FIRST):
                return None
        else:
            return None
        if verb in _METHOD_FIRST:
            method_node = _argument(arguments, "method", 0)
            url_node = _argument(arguments, "url", 1)
            method = method_of(self.value(method_node))
        else:
            url_node = _argument(arguments, "url", 0)
            method = verb.upper()
        base = client.base
        return site(self.path, node, LANGUAGE, client.library, method,
                    self.value(url_node), base, base != PLACEHOLDER)


def _aliased(name: Node) -> tuple[str, str]:
    """(imported name, local name) of ``x``, ``x.y`` or ``x as y``."""
    if name.type == "aliased_import":
        original, alias = name.child_by_field_name("name"), name.child_by_field_name("alias")
        return (text(original) if original else "", text(alias) if alias else "")
    return text(name), text(name).split(".")[0]


def _argument(arguments: Node | None, keyword: str, position: int | None) -> Node | None:
    if arguments is None:
        return None
    positional = 0
    for child in arguments.named_children:
        if child.type == "keyword_argument":
            name = child.child_by_field_name("name")
            if name is not None and text(name) == keyword:
                return child.child_by_field_name("value")
        elif child.type in ("list_splat", "dictionary_splat"):
            continue
        else:
            if positional == position:
                return child
            positional += 1
    return None


def _content(node: Node, raw: bool) -> str:
    """A string_content's text with its escapes decoded (``{{`` of an f-string is ``{``)."""
    data = node.text or b""
    out: list[str] = []
    at = node.start_byte
    for child in node.children:
        out.append(data[at - node.start_byte:child.start_byte - node.start_byte].decode(
            "utf-8", "replace"))
        piece = text(child)
        if child.type == "escape_interpolation":
            out.append(piece[0])
        elif child.type == "escape_sequence" and not raw:
            try:
                out.append(str(ast.literal_eval(f'"{piece}"')))
            except (ValueError, SyntaxError):
                out.append(piece)
        else:
            out.append(piece)
        at = child.end_byte
    out.append(data[at - node.start_byte:].decode("utf-8", "replace"))
    return "".join(out)


def _percent(template: str) -> str:
    import re

    return re.sub(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdirfxXeEgGc]", PLACEHOLDER,
                  template).replace("%%", "%")


def _braces(template: str) -> str:
    import re

    return re.sub(r"\{[^{}]*\}", PLACEHOLDER, template)


def scan_tree(root: Node, path: str) -> list[CallSite]:
    found = _File(path)
    found.collect(root)
    sites = []
    for node in walk(root):
        if node.type == "call":
            call = found.call(node)
            if call is not None:
                sites.append(call)
    return sites
