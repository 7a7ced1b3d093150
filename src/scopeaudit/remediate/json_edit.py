"""JSON key files rewritten with the indentation they had (JSON has no comments: the
evidence for each removal is in the diff's summary instead). Order of keys and fields is
kept; what JSON cannot keep (spacing inside a line, escapes) is the stdlib's."""

from __future__ import annotations

import json
import re
from typing import Any

from scopeaudit.errors import InputError
from scopeaudit.remediate.plan import Plan


def _indent(text: str) -> str | None:
    """The indentation of the first indented line; None for a file on one line."""
    found = re.search(r"[\r\n]+([ \t]+)\S", text)
    return found.group(1) if found else None


def edit_json(text: str, source: str, plan: Plan) -> str:
    try:
        data = json.loads(text)
    except ValueError:  # the audit read the file already: this is only a safety net
        raise InputError("cannot be read as JSON for editing", file=source) from None
    found = data.get("keys") if isinstance(data, dict) else data
    keys: list[Any] = found if isinstance(found, list) else []
    revoked = {r.key_id for r in plan.revocations}
    for i, entry in enumerate(keys):
        if not isinstance(entry, dict) or "id" not in entry:
            continue
        key_id = str(entry["id"]).strip()
        gone = set(plan.removed_from(key_id))
        if gone and isinstance(entry.get("scopes"), list):
            entry["scopes"] = [s for s in entry["scopes"]
                               if not (isinstance(s, str) and s.strip() in gone)]
        if key_id in revoked:
            keys[i] = _after_id(entry, "revoke", True)
    out = json.dumps(data, indent=_indent(text), ensure_ascii=False)
    return out + text[len(text.rstrip()):]  # the file's own ending


def _after_id(entry: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, v in entry.items():
        if field != name:
            out[field] = v
        if field == "id":
            out[name] = value
    return out
