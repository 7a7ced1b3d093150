"""Checks on the log inputs around reading them: the source each input belongs to, whether
its format can name a key at all, and whether it gave any record.

"No request seen" means "unused" only if the logs could have shown a request (DESIGN.md,
rules of evidence). Before reading, a declared source without an input is an error and a
format with no key field is a warning; after reading, an input that gave no record is an
error (``--allow-empty`` makes it a warning), and every skip reason is counted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.secrets import redact
from scopeaudit.skips import skipped_sentence
from scopeaudit.usage.options import DeclaredSource
from scopeaudit.usage.record import InputStats
from scopeaudit.words import plural

if TYPE_CHECKING:
    from scopeaudit.http.settings import HttpSettings
    from scopeaudit.remote.window import PullWindow

REASONS_SHOWN = 3  # skip reasons an input error names (every report lists them all)
_MISMATCH = "does not match the log format"  # the pattern readers' reason (readers/nginx.py)


@dataclass(frozen=True)
class InputPlan:
    """The inputs to read, in order, and the source of each (by its label)."""

    paths: list[str]
    source_of: Mapping[str, str]  # input label -> source name
    path_of: Mapping[str, str]  # input label -> the path as read (its first one)


def plan_inputs(arguments: Sequence[str], declared: Sequence[DeclaredSource] = (),
                http: HttpSettings | None = None, window: PullWindow | None = None
                ) -> InputPlan:
    """Every ``--logs`` argument expanded, each input given its source: the first declared
    source whose pattern matches it, else its argument (a glob, a file or a URL, shown
    without credentials). A declared source no input matches is an error: the audit would
    judge without its traffic."""
    from scopeaudit.usage.inputs import expand, input_label

    paths: list[str] = []
    source_of: dict[str, str] = {}
    path_of: dict[str, str] = {}
    for argument in arguments:
        for path in expand([argument], http, window):
            paths.append(path)
            label = input_label(path)
            if label in source_of:
                continue
            path_of[label] = path
            source_of[label] = next((d.name for d in declared if d.matches(argument, path)),
                                    input_label(argument))
    present = set(source_of.values())
    for d in declared:
        if d.name not in present:
            raise InputError(f"the configuration declares the source {d.name!r} (pattern "
                             f"{redact(d.pattern)!r}) and no --logs input matches it: an audit "
                             "without it cannot see the traffic it carries", file=d.file,
                             line=d.line)
    return InputPlan(paths, source_of, path_of)


def key_fields(plan: InputPlan, spec_for: Callable[[str], str | None],
               maps: Mapping[str, str]) -> tuple[dict[str, bool | None], list[str]]:
    """Whether each input's format has a key field (False: it cannot name a key; None: only
    its records can tell, as for JSON and CSV), and one warning per format that has none,
    naming what would add one. Said before reading: nothing in such a log can show a key's
    use, whatever its coverage."""
    from scopeaudit.engine import is_parquet
    from scopeaudit.usage.readers import format_kind

    found: dict[str, bool | None] = {}
    by_format: dict[str, tuple[bool | None, str | None, list[str]]] = {}
    for label, path in plan.path_of.items():
        spec = spec_for(path)
        if is_parquet(path, spec):
            found[label] = None
            continue
        try:
            kind = format_kind(spec, path)
        except InputError:
            found[label] = None  # reading says what is wrong, in its place
            continue
        cache_key = spec if spec is not None else kind
        if cache_key not in by_format:
            has, advice = _key_field(spec, path, maps)
            by_format[cache_key] = (has, advice, [])
        has, advice, labels = by_format[cache_key]
        found[label] = has
        if advice is not None:
            labels.append(label)
    warnings = []
    for _, advice, labels in by_format.values():
        if advice is not None and labels:
            more = f" and {plural(len(labels) - 1, 'more input')}" if len(labels) > 1 else ""
            warnings.append(f"{labels[0]}{more}: {advice}")
    return found, warnings


def _key_field(spec: str | None, path: str, maps: Mapping[str, str]
               ) -> tuple[bool | None, str | None]:
    from scopeaudit.usage.formats import NGINX, find
    from scopeaudit.usage.readers import format_kind, make_reader
    from scopeaudit.usage.readers.nginx import (
        KEY_VARIABLES,
        PatternReader,
        parse_format,
        slot_names,
    )

    try:
        reader = make_reader(spec, path, maps)
    except InputError:
        return None, None  # reading raises it, in its place
    kind = format_kind(spec, path)
    entry = find(kind)
    if entry is not None and entry.listed and entry.key_from.startswith("none: ") \
            and "key_id" not in maps:
        # a product whose logs cannot carry a key header (ALB, CloudFront, ...), whatever
        # its reader: said before reading, as for a line layout without a key field
        return False, ("the log format has no key field, so no request in it can be "
                       "attributed to a key and no removal can be judged from it; "
                       f"{entry.key_from.removeprefix('none: ')}")
    if not isinstance(reader, PatternReader):
        return None, None
    own = spec is not None and ":" in spec  # a layout of the user's own
    if entry is not None and entry.listed and not entry.takes_format:
        # a gateway preset: what its documentation says to add (or that nothing can be)
        add = (f"add one: {entry.addition}" if entry.addition is not None
               else entry.key_from.removeprefix("none: "))
    elif kind == "envoy":
        add = ("add one: --map key_id=OPERATOR naming one in the format, or a format with "
               "%REQ(X-API-KEY-ID)% or %REQ(AUTHORIZATION)%")
    else:
        add = ("add one: --map key_id=$VARIABLE naming one in the format, or a log_format "
               "with $http_x_api_key or $http_authorization")
    if not reader.layout.keys:
        return False, ("the log format has no key field, so no request in it can be "
                       f"attributed to a key and no removal can be judged from it; {add}")
    if entry is not None and entry.family == NGINX and not entry.tail and "key_id" not in maps:
        fmt = spec.partition(":")[2].strip() if own and spec is not None else ""
        layout = entry.layout if fmt in ("", "combined") else fmt
        names = slot_names(parse_format(layout)[0])
        if [n for n in names if n in KEY_VARIABLES] == ["remote_user"]:
            return False, ("the log format's only key field is $remote_user, which names a "
                           "key only when clients use HTTP Basic authentication; without it "
                           "no request can be attributed to a key and no removal can be "
                           f"judged; {add}")
    return True, None


def skip_warning(stats: InputStats) -> str:
    """The warning for an input with skipped records: the first lines, and every reason
    with its count (not only the first reason: an input can fail in several ways)."""
    return skipped_sentence(stats.skipped, (line for line, _ in stats.first_skipped),
                            stats.top_reasons())


def check_read(inputs: Sequence[InputStats], plan: InputPlan,
               spec_for: Callable[[str], str | None], maps: Mapping[str, str],
               allow_empty: bool, diagnostics: Diagnostics) -> None:
    """After reading: warn of skipped records, and refuse an input that gave no record
    (``allow_empty``: warn instead)."""
    for stats in inputs:
        if stats.skipped:
            diagnostics.warn(skip_warning(stats), file=stats.path)
    for stats in inputs:
        if stats.records:
            continue
        path = plan.path_of.get(stats.path, stats.path)
        message = nothing_read(stats, spec_for(path), path, maps)
        if not allow_empty:
            raise InputError(message + "; --allow-empty accepts it", file=stats.path)
        diagnostics.warn(message + " (accepted: --allow-empty)", file=stats.path)


def _by_content(path: str) -> bool:
    from scopeaudit.usage.readers.detect import detect

    try:
        return detect(path).by_content
    except InputError:
        return False


def nothing_read(stats: InputStats, spec: str | None, path: str,
                 maps: Mapping[str, str]) -> str:
    """One line: the records read and skipped, the top reasons, and what to try."""
    if not stats.skipped:
        return "no record read: the input is empty"
    top = stats.top_reasons()
    reasons = ", ".join(f"{count} {reason}" for reason, count in top[:REASONS_SHOWN])
    if len(top) > REASONS_SHOWN:
        reasons += f", {plural(len(top) - REASONS_SHOWN, 'more reason')}"
    message = f"no record could be read: 0 read, {stats.skipped} skipped ({reasons})"
    return message + _hint(stats, spec, path, maps)


def _hint(stats: InputStats, spec: str | None, path: str, maps: Mapping[str, str]) -> str:
    from scopeaudit.usage.readers import format_kind, make_reader

    try:
        kind = format_kind(spec, path)
        reader = make_reader(spec, path, maps)
    except InputError:
        return ""
    fields = getattr(reader, "fields", None)
    if stats.missing_fields and fields is not None:
        needed = [f for f in stats.missing_fields if f != "key_id"] or list(stats.missing_fields)
        looked = "; ".join(f"{f}: {', '.join(fields.sources.get(f, ())) or 'nothing'}"
                           for f in needed)
        field = "field" if len(needed) == 1 else "fields"
        return (f"; the records lack the {field} {', '.join(needed)} (looked for {looked}): "
                "name where each is with --map FIELD=SOURCE")
    reasons = [reason for reason, _ in stats.top_reasons()]
    if _MISMATCH in reasons:
        shown = ("nginx combined" if kind == "nginx" and (spec is None or ":" not in spec)
                 else f"the {'given ' if spec is not None else ''}{kind} format")
        by_name = "" if spec is not None else (
            " (detected from the first lines)" if _by_content(path)
            else " (chosen from the file name)")
        return (f"; the lines are not in the format they were read as, {shown}{by_name}: "
                "pass --log-format with the input's own format")
    return ""
