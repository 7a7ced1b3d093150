"""Go: calls through net/http.

Recognised: ``http.Get/Head/Post/PostForm``, ``http.NewRequest`` and
``http.NewRequestWithContext`` (the call site of a request is where it is built; ``Do`` sends
it), and ``Get/Head/Post/PostForm`` on an ``*http.Client`` (a variable made with
``&http.Client{...}`` or ``http.DefaultClient``, a parameter, or a struct field of that type).
Methods come from string literals, ``http.MethodX`` and constants; strings from literals,
``+``, ``fmt.Sprintf`` (each verb a ``{}``) and names bound once to a string in the file.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from scopeaudit.scan.common import Bindings, concat, method_of, site, text, walk
from scopeaudit.scan.model import PLACEHOLDER, CallSite

if TYPE_CHECKING:
    from tree_sitter import Node

LANGUAGE = "go"
EXTENSIONS = (".go",)
_SCOPES = frozenset({"function_declaration", "method_declaration", "func_literal"})
_FUNCTIONS = {"Get": "GET", "Head": "HEAD", "Post": "POST", "PostForm": "POST"}
_BUILDERS = {"NewRequest": 0, "NewRequestWithContext": 1}  # -> index of the method argument
_METHOD_CONSTANTS = {f"Method{m.capitalize()}": m for m in
                     ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT",
                      "TRACE")}
_VERB_RE = re.compile(r"%%|%[-+# 0]*(?:\[\d+\])?\d*(?:\.\d+)?[vTtbcdoOqxXUeEfFgGsp]")


def parser_language() -> object:
    import tree_sitter_go

    return tree_sitter_go.language()


class _File:
    def __init__(self, path: str) -> None:
        self.path = path
        self.http = ""  # the local name of net/http ("" when it is not imported)
        self.fmt = ""
        self.strings: Bindings[str] = Bindings(_SCOPES)
        self.clients: Bindings[bool] = Bindings(_SCOPES)
        self.client_fields: set[str] = set()

    def value(self, node: Node | None) -> str | None:
        while node is not None and node.type == "parenthesized_expression":
            node = node.named_children[0] if node.named_children else None
        if node is None:
            return None
        kind = node.type
        if kind == "interpreted_string_literal":
            return "".join(_escape(text(c)) if c.type == "escape_sequence" else text(c)
                           for c in node.named_children)
        if kind == "raw_string_literal":
            return text(node)[1:-1]
        if kind in ("identifier", "selector_expression"):
            return self.strings.get(node, text(node))
        if kind == "binary_expression":
            operator = node.child_by_field_name("operator")
            if operator is not None and operator.type == "+":
                return concat(self.value(node.child_by_field_name("left")),
                              self.value(node.child_by_field_name("right")))
        if kind == "call_expression" and self.fmt and \
                _callee(node) == (self.fmt, "Sprintf"):
            arguments = node.child_by_field_name("arguments")
            args = arguments.named_children if arguments is not None else []
            template = self.value(args[0]) if args else None
            if template is None:
                return None
            # each verb takes the next argument: a constant's value, else a run-time part
            values = iter(args[1:])

            def verb(match: re.Match[str]) -> str:
                if match.group(0) == "%%":
                    return "%"
                found = self.value(next(values, None))
                return PLACEHOLDER if found is None else found

            return _VERB_RE.sub(verb, template)
        return None

    def method(self, node: Node | None) -> str | None:
        if node is not None and node.type == "selector_expression" and \
                _callee_parts(node) is not None:
            package, name = _callee_parts(node)  # type: ignore[misc]
            if package == self.http and name in _METHOD_CONSTANTS:
                return _METHOD_CONSTANTS[name]
        return method_of(self.value(node))

    def collect(self, root: Node) -> None:
        for node in walk(root):
            kind = node.type
            if kind == "import_spec":
                path = node.child_by_field_name("path")
                alias = node.child_by_field_name("name")
                imported = self.value(path) if path is not None else None
                local = text(alias) if alias is not None else (imported or "").rsplit("/")[-1]
                if imported == "net/http":
                    self.http = local
                elif imported == "fmt":
                    self.fmt = local
            elif kind in ("const_spec", "var_spec"):
                names = node.children_by_field_name("name")
                value = node.child_by_field_name("value")
                values = value.named_children if value is not None else []
                kind_node = node.child_by_field_name("type")
                for i, name in enumerate(names):
                    bound = values[i] if i < len(values) else None
                    self._bind(name, text(name), bound)
                    if kind_node is not None and self._is_client_type(kind_node):
                        self.clients.bind(name, text(name), True)
            elif kind in ("short_var_declaration", "assignment_statement"):
                left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
                targets = left.named_children if left is not None else []
                values = right.named_children if right is not None else []
                for i, target in enumerate(targets):
                    bound = values[i] if len(values) == len(targets) else None
                    if target.type in ("identifier", "selector_expression"):
                        self._bind(target, text(target), bound)
            elif kind == "parameter_declaration":
                kind_node = node.child_by_field_name("type")
                client = kind_node is not None and self._is_client_type(kind_node)
                for name in node.children_by_field_name("name"):
                    self.strings.bind(name, text(name), None)
                    if client:
                        self.clients.bind(name, text(name), True)
            elif kind == "field_declaration":
                kind_node = node.child_by_field_name("type")
                if kind_node is not None and self._is_client_type(kind_node):
                    self.client_fields.update(text(n) for n in
                                              node.children_by_field_name("name"))

    def _bind(self, target: Node, name: str, value: Node | None) -> None:
        self.strings.bind(target, name, self.value(value))
        if value is not None and self._makes_client(value):
            self.clients.bind(target, name, True)

    def _is_client_type(self, node: Node) -> bool:
        while node.type == "pointer_type" and node.named_children:
            node = node.named_children[0]
        return node.type == "qualified_type" and text(node) == f"{self.http}.Client"

    def _makes_client(self, node: Node) -> bool:
        if node.type == "unary_expression" and node.named_children:
            node = node.named_children[-1]
        if node.type == "composite_literal":
            kind = node.child_by_field_name("type")
            return kind is not None and self._is_client_type(kind)
        return bool(self.http) and text(node) == f"{self.http}.DefaultClient"

    def _is_client(self, node: Node, receiver: Node) -> bool:
        if receiver.type == "selector_expression":
            field = receiver.child_by_field_name("field")
            if field is not None and text(field) in self.client_fields:
                return True
        if self.http and text(receiver) == f"{self.http}.DefaultClient":
            return True
        return bool(self.clients.get(node, text(receiver)))

    def call(self, node: Node) -> CallSite | None:
        if not self.http:
            return None
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        if function is None or arguments is None or function.type != "selector_expression":
            return None
        args = arguments.named_children
        operand, field = function.child_by_field_name("operand"), function.child_by_field_name(
            "field")
        if operand is None or field is None:
            return None
        name = text(field)
        is_package = operand.type == "identifier" and text(operand) == self.http
        if is_package and name in _BUILDERS:
            at = _BUILDERS[name]
            method_node = args[at] if len(args) > at else None
            url_node = args[at + 1] if len(args) > at + 1 else None
            return site(self.path, node, LANGUAGE, "net/http", self.method(method_node),
                        self.value(url_node))
        if name in _FUNCTIONS and (is_package or self._is_client(node, operand)):
            return site(self.path, node, LANGUAGE, "net/http", _FUNCTIONS[name],
                        self.value(args[0]) if args else None)
        return None


def _callee_parts(node: Node) -> tuple[str, str] | None:
    operand, field = node.child_by_field_name("operand"), node.child_by_field_name("field")
    if operand is None or field is None or operand.type != "identifier":
        return None
    return text(operand), text(field)


def _callee(call: Node) -> tuple[str, str] | None:
    function = call.child_by_field_name("function")
    if function is None or function.type != "selector_expression":
        return None
    return _callee_parts(function)


def _escape(sequence: str) -> str:
    simple = {"\\n": "\n", "\\t": "\t", "\\\\": "\\", '\\"': '"'}
    return simple.get(sequence, sequence)


def scan_tree(root: Node, path: str) -> list[CallSite]:
    found = _File(path)
    found.collect(root)
    return [call for node in walk(root) if node.type == "call_expression"
            and (call := found.call(node)) is not None]
