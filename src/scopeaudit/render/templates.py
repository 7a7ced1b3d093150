"""The Jinja2 environment for report templates: autoescape always, errors as InputError.

Autoescape is switched on for every template whatever its file name (``select_autoescape``
keyed on extensions would miss ``*.html.j2``). Templates live in ``reports/templates/`` at the
repository's top level and are packaged into the wheel as ``scopeaudit/templates``; an
organisation can replace them with ``--template-dir DIR``, whose templates are then the only
ones looked at (a missing one is an error, not a silent fall-back). Every template, the
built-in ones too, renders in the sandbox of :mod:`scopeaudit.render.sandbox`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from scopeaudit.errors import InputError

_PACKAGED = "templates"


def builtin_template_dir() -> Path:
    """The packaged templates, or the repository's own in an editable checkout."""
    packaged = resources.files("scopeaudit").joinpath(_PACKAGED)
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[3] / "reports" / "templates"
    if checkout.is_dir():
        return checkout
    raise InputError("the built-in report templates are missing from this installation")


def script_json(value: Any) -> str:
    """JSON safe inside an inline ``<script type="application/json">``: ``<``, ``>``, ``&``
    and the JS line separators are escaped, so no string can close the element."""
    # ASCII only: control, bidi and zero-width characters travel as \u escapes, not raw
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


_COMPILED: dict[str, bytes] = {}  # template bytecode by Jinja's key (name and file)


def _bytecode_cache() -> Any:
    """An in-memory cache of compiled templates: every render gets a fresh environment (its
    budgets are its own), and without it each compiled the template again, about 0.4 s of a
    report cut to its budget in many renders. Jinja checks each entry against a checksum of
    the template's source, so an edited template is compiled again; all environments here
    share one set of options and one code generator, so the code is the same."""
    import jinja2

    class MemoryBytecodeCache(jinja2.BytecodeCache):
        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            code = _COMPILED.get(bucket.key)
            if code is not None:
                bucket.bytecode_from_string(code)

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            _COMPILED[bucket.key] = bucket.bytecode_to_string()

    return MemoryBytecodeCache()


def render_template(name: str, context: dict[str, Any], template_dir: Path | None,
                    filters: dict[str, Callable[..., Any]] | None = None) -> str:
    """``name`` rendered in the sandbox (see :mod:`scopeaudit.render.sandbox`) with
    ``context`` and the project's ``filters``; any failure is an InputError naming the
    template file and line."""
    import jinja2
    from markupsafe import Markup

    from scopeaudit.render.sandbox import MAX_OUTPUT, ReportSandbox, TemplateLimit

    directory = template_dir if template_dir is not None else builtin_template_dir()
    if template_dir is not None and not template_dir.is_dir():
        raise InputError("--template-dir is not a directory", file=str(template_dir))
    env = ReportSandbox(
        str(directory),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=_bytecode_cache(),
    )
    env.filters.update(filters or {})
    # script_json escapes <, > and & itself: safe to mark, and marking stops a second,
    # HTML-entity escape that would corrupt the JSON
    env.filters["script_json"] = lambda v: Markup(script_json(v))  # noqa: S704
    where = str(directory / name)
    try:
        template = env.get_template(name)
    except jinja2.TemplateNotFound as exc:
        missing = exc.name or name
        raise InputError(f"template {missing!r} not found", file=str(directory)) from None
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(f"template syntax error: {exc.message}",
                         file=str(directory / (exc.name or name)), line=exc.lineno) from None
    try:
        # streamed, so that an output past the limit stops the render, not the machine
        parts: list[str] = []
        size = 0
        for part in template.generate(**context):
            size += len(part)
            if size > MAX_OUTPUT:
                raise TemplateLimit(f"the output passed {MAX_OUTPUT:,} characters")
            parts.append(part)
        return "".join(parts)
    except InputError:
        raise
    except Exception as exc:  # any failure inside a template is the template's own
        file, line = _template_frame(exc, directory)
        kind = "template error" if isinstance(exc, jinja2.TemplateError) else (
            f"template failed: {type(exc).__name__}")
        raise InputError(f"{kind}: {exc}", file=file or where, line=line) from None


def _template_frame(exc: BaseException, directory: Path) -> tuple[str | None, int | None]:
    """The template file and line a render error came from: Jinja rewrites traceback frames
    to the template's own file and line, so the innermost frame inside the template folder
    names it (an included template included)."""
    root = os.path.abspath(directory) + os.sep
    found: tuple[str | None, int | None] = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if os.path.abspath(filename).startswith(root):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found
