"""The sandbox every report template renders in, the built-in ones and ``--template-dir``'s.

A template is code, and ``--template-dir`` may name a folder that a pull request can edit:
so a template sees the report's data, the project's filters and a short list of Jinja's own,
and nothing else. Jinja's immutable sandbox refuses attributes that start with ``_`` (no
``__globals__``, ``__class__``, ``__mro__``) and methods that change a list, dict or set;
there are no globals but a bounded ``range`` (no ``lipsum``, ``cycler``, ``joiner``,
``namespace``, ``dict``), and templates load only from the template folder itself (a link out
of it, to ``/proc/self/environ`` say, is refused).

A template must not take the machine down either. Per render it gets a budget of steps
(loop iterations, calls, templates loaded, ``range`` items), every value it makes (by an
operator, ``~``, a filter or a method call) and the whole output are capped in size, and
widths, repetitions and powers are checked before they are computed. Past a limit the render
stops with a :class:`TemplateLimit` naming the template line.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator
from string import Formatter
from typing import Any

from jinja2 import FileSystemLoader, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from scopeaudit.errors import InputError

MAX_OUTPUT = 64 << 20  # characters of rendered output, and of any one value a template makes
MAX_ITEMS = 10_000_000  # items of any one list, tuple or dict a template makes
MAX_WORK = 16 * MAX_OUTPUT  # characters and items of all the values one render makes
MAX_STEPS = 5_000_000  # loop iterations, calls, template loads and range items per render
MAX_RANGE = 100_000  # items of one range()
MAX_WIDTH = 10_000  # a pad, indent or format width
MAX_INT_BITS = 1 << 16  # the largest integer a template may compute (about 20,000 digits)
MAX_TEMPLATE_BYTES = 4 << 20  # a template file's size

# Jinja's own filters a template may use. Left out: random (the same inputs must give the
# same report), and batch, slice, wordwrap, pprint and urlize, whose sizes depend on
# arguments in ways not worth checking.
_BUILTIN_FILTERS = frozenset({
    "abs", "attr", "capitalize", "center", "count", "d", "default", "dictsort", "e",
    "escape", "filesizeformat", "first", "float", "forceescape", "format", "groupby",
    "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min",
    "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr",
    "sort", "string", "striptags", "sum", "title", "tojson", "trim", "truncate", "unique",
    "upper", "urlencode", "wordcount", "xmlattr",
})
# printf-style conversion specifications: their width and precision are checked
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")


class TemplateLimit(SecurityError):
    """A template went past one of the sandbox's limits."""


class ReportSandbox(ImmutableSandboxedEnvironment):
    """One render's environment: create a new one per render, as the budgets are its own."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, directory: str, **options: Any) -> None:
        super().__init__(loader=_ContainedLoader(directory), **options)
        self.code_generator_class = _BoundedCodeGenerator
        self.globals.clear()
        self.globals["range"] = self.bounded_range
        self.filters = {name: self._guarded(name, f) for name, f in self.filters.items()
                        if name in _BUILTIN_FILTERS}
        self.steps = MAX_STEPS
        self.work = MAX_WORK

    # -- budgets -------------------------------------------------------------------------

    def spend(self, steps: int) -> None:
        self.steps -= steps
        if self.steps < 0:
            raise TemplateLimit(f"the template took more than {MAX_STEPS:,} steps (loop "
                                "iterations, calls and range items)")

    def checked(self, value: Any) -> Any:
        """``value``, if a template may hold it: sizes capped, and counted as work."""
        if isinstance(value, int) and not isinstance(value, bool):
            if value.bit_length() > MAX_INT_BITS:
                raise TemplateLimit(f"a number of more than {MAX_INT_BITS:,} bits")
            return value
        if isinstance(value, str | bytes):
            limit, unit = MAX_OUTPUT, "characters"
        elif isinstance(value, list | tuple | dict | set | frozenset):
            limit, unit = MAX_ITEMS, "items"
        else:
            return value
        size = len(value)
        if size > limit:
            raise TemplateLimit(f"a value of {size:,} {unit} (the limit is {limit:,})")
        self.work -= size
        if self.work < 0:
            raise TemplateLimit(f"the template made more than {MAX_WORK:,} characters and "
                                "items in all")
        return value

    def counted(self, iterable: Any) -> Any:
        """What a ``for`` loop iterates, each item counted as a step."""
        if hasattr(iterable, "__len__"):
            self.spend(len(iterable))
            return iterable
        return self._counting(iterable)

    def _counting(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            self.spend(1)
            yield item

    def bounded_range(self, *args: int) -> range:
        numbers = range(*args)
        if len(numbers) > MAX_RANGE:
            raise TemplateLimit(f"range() of {len(numbers):,} items (the limit is "
                                f"{MAX_RANGE:,})")
        self.spend(len(numbers))
        return numbers

    # -- what the sandbox intercepts -----------------------------------------------------

    def getattr(self, obj: Any, attribute: str) -> Any:
        # A dataclass field is data: the sandbox's checks (which cost most of a render) are
        # for methods, functions, frames and types.
        if attribute in _data_fields(type(obj)):
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)

    def get_template(self, *args: Any, **kwargs: Any) -> Any:
        self.spend(1)  # an {% include %} in a loop, or one that includes itself
        return super().get_template(*args, **kwargs)

    def select_template(self, *args: Any, **kwargs: Any) -> Any:
        self.spend(1)
        return super().select_template(*args, **kwargs)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.spend(1)
        method = getattr(obj, "__wrapped__", obj)  # the sandbox wraps str.format
        owner = getattr(method, "__self__", None)
        if isinstance(owner, str):
            args = _checked_str_call(owner, getattr(method, "__name__", ""), args, kwargs)
        return self.checked(super().call(context, obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_percent_format(left)
        return self.checked(super().call_binop(context, operator, left, right))

    def _guarded(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        check = _FILTER_CHECKS.get(name)

        @functools.wraps(func)  # keeps Jinja's pass_context / pass_eval_context marks
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if check is not None:
                args, kwargs = check(*args, **kwargs)
            return self.checked(func(*args, **kwargs))
        return guarded


class _ContainedLoader(FileSystemLoader):
    """Templates from one folder only: a link that leads out of it is refused, as is a file
    too large to be a template."""

    def __init__(self, directory: str) -> None:
        super().__init__(directory)
        self.directory = directory
        self.root = os.path.realpath(directory)

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        path = os.path.join(self.directory, *split_template_path(template))
        if os.path.exists(path):
            real = os.path.realpath(path)
            if os.path.commonpath([self.root, real]) != self.root:
                raise InputError(f"template {template!r} is a link out of the template folder",
                                 file=path)
            if not os.path.isfile(real):
                raise InputError(f"template {template!r} is not a file", file=path)
            if os.path.getsize(real) > MAX_TEMPLATE_BYTES:
                raise InputError(f"template {template!r} is over {MAX_TEMPLATE_BYTES:,} bytes",
                                 file=path)
        return super().get_source(environment, template)


class _Bounded(NodeTransformer):
    """Routes every ``for`` loop's iterable and every ``~`` through the environment's
    budgets: neither passes through anything the sandbox intercepts by itself."""

    def __init__(self, environment: Any) -> None:
        self.environment = environment

    def _wrap(self, node: nodes.Expr, method: str) -> nodes.Expr:
        call = nodes.Call(nodes.EnvironmentAttribute(method), [node], [], None, None)
        call.set_lineno(node.lineno)
        call.set_environment(self.environment)
        return call

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = self._wrap(node.iter, "counted")  # type: ignore[arg-type]  # an Expr
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return self._wrap(node, "checked")


class _BoundedCodeGenerator(CodeGenerator):
    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        _Bounded(self.environment).visit(node)
        super().visit_Template(node, frame)


_FIELDS: dict[type, frozenset[str]] = {}


def _data_fields(cls: type) -> frozenset[str]:
    """The public fields of a dataclass (none for anything else)."""
    found = _FIELDS.get(cls)
    if found is None:
        fields = getattr(cls, "__dataclass_fields__", None)
        found = frozenset(name for name in fields if not name.startswith("_")) \
            if isinstance(fields, dict) else frozenset()
        _FIELDS[cls] = found
    return found


# -- checks made before a value is computed ----------------------------------------------

def _check_repeat(sequence: Any, times: Any) -> None:
    if isinstance(sequence, str | bytes | list | tuple) and isinstance(times, int):
        limit = MAX_OUTPUT if isinstance(sequence, str | bytes) else MAX_ITEMS
        if len(sequence) * times > limit:
            raise TemplateLimit(f"repeating a value {times:,} times (the limit is "
                                f"{limit:,} characters or items)")


def _check_power(base: Any, exponent: Any) -> None:
    # at least (bits - 1) * exponent bits: what gets past this is at most twice the limit,
    # and refused once computed (see ReportSandbox.checked)
    if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1 and \
            (abs(base).bit_length() - 1) * exponent > MAX_INT_BITS:
        raise TemplateLimit(f"a power of more than {MAX_INT_BITS:,} bits")


def _check_width(value: Any, what: str) -> None:
    if isinstance(value, int) and value > MAX_WIDTH:
        raise TemplateLimit(f"{what} {value:,} (the limit is {MAX_WIDTH:,})")


def _check_percent_format(fmt: str) -> None:
    for match in _PERCENT_SPEC.finditer(fmt):
        for number in match.groups():
            if number == "*":
                raise TemplateLimit("a '*' width in a format string")
            if number is not None:
                _check_width(int(number), "a format width of")


def _check_brace_format(fmt: str) -> None:
    for _, _, spec, _ in Formatter().parse(fmt):
        if spec and "{" in spec:
            raise TemplateLimit("a nested width in a format string")
        for number in re.findall(r"\d+", spec or ""):
            _check_width(int(number), "a format width of")


def _check_replace(text: Any, old: Any, new: Any, count: Any) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        times = text.count(old)
        if isinstance(count, int) and count >= 0:
            times = min(times, count)
        if len(text) + times * (len(new) - len(old)) > MAX_OUTPUT:
            raise TemplateLimit(f"a replace() making more than {MAX_OUTPUT:,} characters")


def _check_join(items: Iterable[Any], separator: Any) -> list[Any]:
    listed = list(items)
    size = sum(len(x) for x in listed if isinstance(x, str)) + \
        len(str(separator)) * len(listed)
    if size > MAX_OUTPUT:
        raise TemplateLimit(f"a join() making more than {MAX_OUTPUT:,} characters")
    return listed


def _checked_str_call(owner: str, name: str, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The arguments of a call of ``owner``'s method ``name``, checked (a join's items
    listed, to be measured: the join takes the list as it would have the original)."""
    first = args[0] if args else next(iter(kwargs.values()), None)
    if name in ("center", "ljust", "rjust", "zfill", "expandtabs"):
        _check_width(first, f"str.{name}() to")
    elif name == "replace" and len(args) >= 2:
        _check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else -1)
    elif name == "join" and args:
        return (_check_join(args[0], owner), *args[1:])
    elif name in ("format", "format_map"):
        _check_brace_format(owner)
    return args


# Checks of Jinja's filters that can make much from little, each taking the filter's own
# parameters and giving back the arguments to call it with.
Arguments = tuple[tuple[Any, ...], dict[str, Any]]


def _center(value: Any, width: int = 80) -> Arguments:
    _check_width(width, "center() to")
    return (value, width), {}


def _format(value: Any, *args: Any, **kwargs: Any) -> Arguments:
    _check_percent_format(str(value))
    return (value, *args), kwargs


def _indent(s: Any, width: int | str = 4, first: bool = False, blank: bool = False
            ) -> Arguments:
    size = width if isinstance(width, int) else len(str(width))
    _check_width(size, "an indent of")
    text = str(s)
    if len(text) + (text.count("\n") + 1) * size > MAX_OUTPUT:
        raise TemplateLimit(f"an indent making more than {MAX_OUTPUT:,} characters")
    return (s, width, first, blank), {}


def _join(eval_ctx: Any, value: Iterable[Any], d: str = "", attribute: Any = None
          ) -> Arguments:
    return (eval_ctx, _check_join(value, d), d, attribute), {}


def _replace(eval_ctx: Any, s: Any, old: Any, new: Any, count: int | None = None
             ) -> Arguments:
    _check_replace(str(s), str(old), str(new), count)
    return (eval_ctx, s, old, new, count), {}


def _tojson(eval_ctx: Any, value: Any, indent: int | None = None) -> Arguments:
    if isinstance(indent, int) and indent > 16:
        raise TemplateLimit(f"tojson(indent={indent:,}) (the limit is 16)")
    return (eval_ctx, value, indent), {}


_FILTER_CHECKS: dict[str, Callable[..., Arguments]] = {
    "center": _center, "format": _format, "indent": _indent, "join": _join,
    "replace": _replace, "tojson": _tojson,
}
