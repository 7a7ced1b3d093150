"""Reading a JSON or YAML document from a file, with the file and line of any parse error.

Shared by catalog files, OpenAPI documents and catalog override files. JSON is read with the
json module (a 2 MB OpenAPI document loads in a fraction of a second); YAML with ruamel.yaml's
safe loader (YAML 1.2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from scopeaudit.errors import InputError


@dataclass(frozen=True)
class Document:
    path: str
    text: str
    data: Any
    is_json: bool


def read_document(path: str) -> Document:
    """The parsed document at ``path``: YAML for ``.yaml``/``.yml``, JSON for ``.json``, and
    for any other name JSON when the text starts with ``{`` or ``[``, else YAML."""
    from scopeaudit.inventory import decode
    from scopeaudit.inventory.reading import read_bounded

    data = read_bounded(path, what="catalog document", directory="is a directory, not a file")
    text = decode(data, path)
    lower = path.lower()
    if lower.endswith((".yaml", ".yml")):
        as_json = False
    elif lower.endswith(".json"):
        as_json = True
    else:
        as_json = text.lstrip()[:1] in ("{", "[")
    if as_json:
        return Document(path, text, parse_json(text, path), True)
    return Document(path, text, parse_yaml(text, path), False)


def parse_json(text: str, path: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", file=path, line=exc.lineno) from None
    except RecursionError:
        raise InputError("invalid JSON: nested too deeply", file=path) from None


def parse_yaml(text: str, path: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    try:
        return YAML(typ="safe").load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise InputError(f"invalid YAML: {exc.problem}", file=path, line=line) from None
    except ReaderError as exc:
        # e.g. a control character; its message spans lines, so say it in one.
        line = text[: exc.position].count("\n") + 1
        what = (f"unacceptable character #x{exc.character:04x}"
                if isinstance(exc.character, int) else "unacceptable character")
        raise InputError(f"invalid YAML: {what} ({exc.reason})", file=path,
                         line=line) from None
    except YAMLError as exc:
        message = " ".join(str(exc).split())
        raise InputError(f"invalid YAML: {message}", file=path) from None
    except RecursionError:
        raise InputError("invalid YAML: nested too deeply", file=path) from None
