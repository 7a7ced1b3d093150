"""JavaScript and TypeScript: calls through fetch, axios, got and ky.

Recognised: ``fetch(url, {method})``; the default export of axios, got and ky, imported or
required, called directly or through a verb (``axios.patch``, ``got.post``, ``ky.delete``) or
``request``; instances from ``axios.create({baseURL})``, ``got.extend({prefixUrl})`` and
``ky.create``/``ky.extend({prefixUrl})`` bound to a name, ``this.x`` or a class field; and
parameters typed ``AxiosInstance``, ``Got`` or ``KyInstance``. Strings are read from literals,
template literals, ``+`` and names bound once to a string in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scopeaudit.scan.common import Bindings, concat, method_of, site, text, walk
from scopeaudit.scan.model import PLACEHOLDER, CallSite

if TYPE_CHECKING:
    from tree_sitter import Node

_SCOPES = frozenset({"function_declaration", "function_expression", "function",
                     "arrow_function", "method_definition", "generator_function_declaration",
                     "generator_function"})
_LIBRARIES = frozenset({"axios", "got", "ky"})
_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options"})
# how an instance is made, and the option naming its base URL
_FACTORIES = {("axios", "create"): "baseURL", ("got", "extend"): "prefixUrl",
              ("ky", "create"): "prefixUrl", ("ky", "extend"): "prefixUrl"}
_INSTANCE_TYPES = {"AxiosInstance": "axios", "Got": "got", "KyInstance": "ky"}
_UNWRAP = frozenset({"parenthesized_expression", "as_expression", "satisfies_expression",
                     "non_null_expression", "type_assertion", "await_expression"})
_MISSING = object()  # an option an object literal leaves out (a spread may still set it)


@dataclass(frozen=True)
class _Client:
    library: str
    base: str | None  # None: none; PLACEHOLDER: one the scan cannot read


def language_for(suffix: str) -> tuple[str, object]:
    """(language name, tree-sitter language) for a file suffix."""
    if suffix in (".ts", ".mts", ".cts", ".tsx"):
        import tree_sitter_typescript

        if suffix == ".tsx":
            return "typescript", tree_sitter_typescript.language_tsx()
        return "typescript", tree_sitter_typescript.language_typescript()
    import tree_sitter_javascript

    return "javascript", tree_sitter_javascript.language()


EXTENSIONS = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")


def _unwrap(node: Node | None) -> Node | None:
    while node is not None and node.type in _UNWRAP and node.named_children:
        node = node.named_children[0]
    return node


class _File:
    def __init__(self, path: str, language: str) -> None:
        self.path = path
        self.language = language
        self.imports: dict[str, str] = {}  # local name -> library
        self.strings: Bindings[str] = Bindings(_SCOPES)
        self.clients: Bindings[_Client] = Bindings(_SCOPES)

    def value(self, node: Node | None) -> str | None:
        node = _unwrap(node)
        if node is None:
            return None
        kind = node.type
        if kind in ("string", "template_string"):
            out: list[str] = []
            for child in node.named_children:
                if child.type == "string_fragment":
                    out.append(text(child))
                elif child.type == "escape_sequence":
                    out.append(_escape(text(child)))
                elif child.type == "template_substitution":
                    inner = child.named_children[0] if child.named_children else None
                    found = self.value(inner)
                    out.append(PLACEHOLDER if found is None else found)
            return "".join(out)
        if kind in ("identifier", "member_expression"):
            return self.strings.get(node, _name(node))
        if kind == "binary_expression":
            operator = node.child_by_field_name("operator")
            if operator is not None and operator.type == "+":
                return concat(self.value(node.child_by_field_name("left")),
                              self.value(node.child_by_field_name("right")))
        return None

    def option(self, obj: Node | None, key: str) -> Node | object | None:
        """The value node of ``key`` in an object literal; _MISSING when it is left out and
        no spread could set it; None when it cannot be read."""
        obj = _unwrap(obj)
        if obj is None or obj.type != "object":
            return None
        spread = False
        for child in obj.named_children:
            if child.type == "pair":
                name = child.child_by_field_name("key")
                if name is not None and text(name).strip("'\"") == key:
                    return child.child_by_field_name("value")
            elif child.type == "shorthand_property_identifier" and text(child) == key:
                return child
            elif child.type == "spread_element":
                spread = True
        return None if spread else _MISSING

    def option_value(self, obj: Node | None, key: str) -> str | object | None:
        found = self.option(obj, key)
        if found is _MISSING:
            return _MISSING
        if found is None or not hasattr(found, "type"):
            return None
        node: Node = found  # type: ignore[assignment]
        if node.type == "shorthand_property_identifier":
            return self.strings.get(node, text(node))
        return self.value(node)

    # -- bindings --------------------------------------------------------------------------

    def collect(self, root: Node) -> None:
        for node in walk(root):
            kind = node.type
            if kind == "import_statement":
                source = node.child_by_field_name("source")
                library = self.value(source) if source is not None else None
                if library in _LIBRARIES:
                    for part in walk(node):
                        if part.type == "identifier" and part.parent is not None and \
                                part.parent.type in ("import_clause", "namespace_import"):
                            self.imports[text(part)] = library
            elif kind == "variable_declarator":
                name, value = node.child_by_field_name("name"), node.child_by_field_name(
                    "value")
                if name is not None and name.type == "identifier":
                    self._bind(name, _name(name), value)
                elif name is not None:
                    for ident in walk(name):
                        if ident.type in ("identifier", "shorthand_property_identifier_pattern"):
                            self.strings.bind(ident, text(ident), None)
            elif kind == "assignment_expression":
                left = node.child_by_field_name("left")
                if left is not None and left.type in ("identifier", "member_expression"):
                    self._bind(left, _name(left), node.child_by_field_name("right"))
            elif kind in ("public_field_definition", "field_definition"):
                name = node.child_by_field_name("name") or node.child_by_field_name("property")
                if name is not None:
                    self._bind(name, "this." + text(name), node.child_by_field_name("value"))
            elif kind in ("required_parameter", "optional_parameter"):
                pattern = node.child_by_field_name("pattern")
                if pattern is not None and pattern.type == "identifier":
                    self.strings.bind(pattern, text(pattern), None)
                    self._typed(node, pattern, text(pattern))
                    if any(c.type == "accessibility_modifier" for c in node.children):
                        self._typed(node, pattern, "this." + text(pattern))
            elif kind == "identifier" and node.parent is not None and \
                    node.parent.type == "formal_parameters":
                self.strings.bind(node, text(node), None)
            elif kind == "call_expression":
                function = node.child_by_field_name("function")
                arguments = node.child_by_field_name("arguments")
                if function is not None and text(function) == "require" and arguments:
                    library = self.value(arguments.named_children[0]) \
                        if arguments.named_children else None
                    declarator = node.parent
                    if library in _LIBRARIES and declarator is not None and \
                            declarator.type == "variable_declarator":
                        name = declarator.child_by_field_name("name")
                        if name is not None and name.type == "identifier":
                            self.imports[text(name)] = library

    def _bind(self, target: Node, name: str, value: Node | None) -> None:
        client = self._constructed(value)
        if client is not None:
            self.clients.bind(target, name, client)
        self.strings.bind(target, name, self.value(value) if value is not None else None)

    def _typed(self, parameter: Node, name_node: Node, name: str) -> None:
        annotation = parameter.child_by_field_name("type")
        for part in walk(annotation) if annotation is not None else ():
            library = _INSTANCE_TYPES.get(text(part)) if part.type == "type_identifier" \
                else None
            if library is not None:
                self.clients.bind(name_node, name, _Client(library, PLACEHOLDER))
                return

    def _constructed(self, node: Node | None) -> _Client | None:
        node = _unwrap(node)
        if node is None or node.type != "call_expression":
            return None
        function = node.child_by_field_name("function")
        if function is None or function.type != "member_expression":
            return None
        obj, prop = function.child_by_field_name("object"), function.child_by_field_name(
            "property")
        if obj is None or prop is None:
            return None
        library = self.imports.get(text(obj))
        parent = self.clients.get(node, _name(obj)) if library is None else None
        if parent is not None:
            library = parent.library
        option = _FACTORIES.get((library or "", text(prop)))
        if library is None or option is None:
            return None
        arguments = node.child_by_field_name("arguments")
        config = arguments.named_children[0] if arguments and arguments.named_children \
            else None
        base = self.option_value(config, option) if config is not None else _MISSING
        inherited = parent.base if parent is not None else None
        if base is _MISSING:
            return _Client(library, inherited)
        return _Client(library, PLACEHOLDER if base is None else str(base))

    # -- calls -----------------------------------------------------------------------------

    def call(self, node: Node) -> CallSite | None:
        function = _unwrap(node.child_by_field_name("function"))
        arguments = node.child_by_field_name("arguments")
        if function is None or arguments is None:
            return None
        args = [a for a in arguments.named_children if a.type != "comment"]
        first = args[0] if args else None
        if (function.type == "identifier" and text(function) == "fetch") or \
                (function.type == "member_expression" and text(function) in (
                    "window.fetch", "globalThis.fetch", "self.fetch")):
            return self._fetch(node, args)
        client = self._client(node, function)
        verb = None
        if client is None and function.type == "member_expression":
            obj = function.child_by_field_name("object")
            prop = function.child_by_field_name("property")
            client = self._client(node, obj) if obj is not None else None
            verb = text(prop) if prop is not None else None
            if client is None or verb not in _VERBS | {"request"}:
                return None
        if client is None:
            return None
        config: Node | None
        if verb in _VERBS:
            url_node = first
            method: str | object | None = (verb or "").upper()
            # axios: (url, data, config) for post/put/patch, (url, config) otherwise
            body_first = client.library == "axios" and verb in ("post", "put", "patch")
            config = args[2 if body_first else 1] if len(args) > (2 if body_first else 1) \
                else None
        else:  # lib(config), lib(url, config), lib.request(config)
            if first is not None and _unwrap(first) is not None and \
                    _unwrap(first).type == "object":  # type: ignore[union-attr]
                config, url_node = first, None
            else:
                config = args[1] if len(args) > 1 else None
                url_node = first
            method = self.option_value(config, "method") if config is not None else _MISSING
            method = "GET" if method is _MISSING else method
            if method is not None and method != "GET":
                method = method_of(str(method))
        url: str | None
        if url_node is None and config is not None:
            found = self.option_value(config, "url")
            url = None if found is _MISSING else found  # type: ignore[assignment]
        else:
            url = self.value(url_node)
        base: str | None = client.base
        if config is not None:
            own = self.option_value(config, "baseURL" if client.library == "axios"
                                    else "prefixUrl")
            if own is not _MISSING:
                base = PLACEHOLDER if own is None else str(own)
        return site(self.path, node, self.language, client.library,
                    method if isinstance(method, str) else None, url, base,
                    base != PLACEHOLDER,
                    "" if isinstance(method, str) else "the method option is computed at "
                    "run time")

    def _client(self, node: Node, target: Node) -> _Client | None:
        name = _name(target)
        if target.type == "identifier" and name in self.imports:
            return _Client(self.imports[name], None)
        if target.type in ("identifier", "member_expression"):
            return self.clients.get(node, name)
        return None

    def _fetch(self, node: Node, args: list[Node]) -> CallSite:
        init = args[1] if len(args) > 1 else None
        method: str | object | None = "GET"
        if init is not None:
            method = self.option_value(init, "method")
            method = "GET" if method is _MISSING else method
        return site(self.path, node, self.language, "fetch",
                    method_of(method) if isinstance(method, str) else None,
                    self.value(args[0]) if args else None,
                    method_reason="the method option is computed at run time")


def _name(node: Node) -> str:
    """``this.api`` for ``this.api``, ``this?.api`` or ``this["api"]`` alike."""
    return text(node).replace("?.", ".").replace(" ", "")


def _escape(sequence: str) -> str:
    simple = {"\\n": "\n", "\\t": "\t", "\\r": "\r", "\\/": "/", "\\\\": "\\",
              "\\'": "'", '\\"': '"', "\\`": "`", "\\$": "$"}
    return simple.get(sequence, sequence)


def scan_tree(root: Node, path: str, language: str) -> list[CallSite]:
    found = _File(path, language)
    found.collect(root)
    return [call for node in walk(root) if node.type == "call_expression"
            and (call := found.call(node)) is not None]
