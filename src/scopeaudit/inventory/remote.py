"""Key definitions from a URL: the format from the URL's path, else its Content-Type, and
the pages of a paginated export joined into one document."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlsplit

import orjson

from scopeaudit.errors import InputError
from scopeaudit.http.policy import display_url
from scopeaudit.http.settings import HttpSettings

_BY_SUFFIX = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".csv": "csv"}
_BY_TYPE = {"application/json": "json", "text/json": "json", "text/csv": "csv",
            "application/csv": "csv", "application/yaml": "yaml", "application/x-yaml": "yaml",
            "text/yaml": "yaml", "text/x-yaml": "yaml"}


def format_from_url(url: str, content_type: str) -> str | None:
    path = PurePosixPath(urlsplit(url).path)
    suffix = (path.with_suffix("") if path.suffix.lower() == ".gz" else path).suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    media = content_type.split(";", 1)[0].strip().lower()
    if media.endswith("+json"):
        return "json"
    return _BY_TYPE.get(media)


def fetch_keys(url: str, fmt: str | None, settings: HttpSettings) -> tuple[bytes, str]:
    """(the key document's bytes, its format). Several pages are joined: JSON pages (cursor
    envelopes, lists or ``keys`` mappings) into one ``keys`` list, CSV pages without their
    repeated header row. YAML documents cannot be joined and must come as one page."""
    from scopeaudit.http.download import download_document, json_envelope

    document = download_document(url, settings)
    fmt = fmt or format_from_url(url, document.content_type)
    if fmt is None:
        raise InputError("cannot tell the key-file format from the URL or its Content-Type "
                         f"({document.content_type or 'none'}); pass --keys-format",
                         file=display_url(url))
    pages = document.pages
    envelopes = [json_envelope(page, settings) for page in pages]
    if len(pages) == 1 and envelopes[0] is None:
        return pages[0], fmt
    if fmt == "json":
        keys: list[object] = []
        for page, envelope in zip(pages, envelopes, strict=True):
            keys += envelope[0] if envelope is not None else _json_keys(page, url)
        return orjson.dumps({"keys": keys}, option=orjson.OPT_INDENT_2) + b"\n", fmt
    if fmt == "csv":
        header = pages[0].split(b"\n", 1)[0]
        joined = [pages[0].rstrip(b"\r\n")]
        for page in pages[1:]:
            first, _, rest = page.partition(b"\n")
            joined.append((rest if first == header else page).rstrip(b"\r\n"))
        return b"\n".join(p for p in joined if p) + b"\n", fmt
    raise InputError(f"the key file came in {len(pages)} pages; only JSON and CSV key files "
                     "can be joined", file=display_url(url))


def _json_keys(page: bytes, url: str) -> list[object]:
    try:
        doc = orjson.loads(page)
    except orjson.JSONDecodeError:
        raise InputError("a page of the key file is not JSON", file=display_url(url)) from None
    if isinstance(doc, dict) and isinstance(doc.get("keys"), list):
        return list(doc["keys"])
    if isinstance(doc, list):
        return doc
    raise InputError("a page of the key file holds no list of keys", file=display_url(url))
