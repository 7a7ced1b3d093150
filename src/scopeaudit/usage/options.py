"""How the logs are to be read: the one description every engine reads (scopeaudit.engine)
and the audit passes on (audit.read_usage), and the sources the configuration says it must have."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scopeaudit.errors import InputError
from scopeaudit.usage.formats import NAMES, NO_OPTIONS, ReadOptions
from scopeaudit.usage.jobs import SPLIT_MIN_BYTES
from scopeaudit.usage.readers.detect import detect

if TYPE_CHECKING:
    from scopeaudit.http.settings import HttpSettings
    from scopeaudit.remote.window import PullWindow


@dataclass(frozen=True)
class DeclaredSource:
    """A ``[[source]]`` of the configuration: a source the audit must have."""

    name: str
    pattern: str  # a glob matched against each input's path and its --logs argument
    file: str | None = None  # where it is declared, for messages
    line: int | None = None

    def matches(self, argument: str, path: str) -> bool:
        return fnmatch.fnmatch(path, self.pattern) or fnmatch.fnmatch(argument, self.pattern)


@dataclass(frozen=True)
class LogOptions:
    """What reading the logs needs besides the keys and the catalog: the inputs as given
    (``paths``, globs and URLs unexpanded), their formats, field maps and how to read them."""

    paths: tuple[str, ...]
    # --log-format values: a bare SPEC applies to every input; GLOB=SPEC to inputs whose
    # path or file name matches GLOB (first match wins, before the bare one)
    log_formats: tuple[str, ...] = ()
    maps: Mapping[str, str] = field(default_factory=dict)
    strict: bool = False
    jobs: int = 1
    split_min_bytes: int = SPLIT_MIN_BYTES
    http: HttpSettings | None = None  # how URL inputs are fetched (None: the defaults)
    engine: str = "auto"  # auto | stream | duckdb (scopeaudit.engine)
    allow_empty: bool = False  # an input that gives no record is a warning, not an error
    sources: tuple[DeclaredSource, ...] = ()  # [[source]]: sources the audit must have
    # the days remote inputs (s3://, cloudwatch://) are pulled for (None: everything)
    pull: PullWindow | None = None
    read: ReadOptions = NO_OPTIONS  # --csv-delimiter, --csv-columns, --tz

    def format_for(self, path: str) -> str | None:
        default: str | None = None
        for value in self.log_formats:
            pattern, spec = split_format_option(value)
            if pattern is None:
                default = spec
            elif fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(Path(path).name, pattern):
                return spec
        if default is None and (self.read.csv_delimiter is not None
                                or self.read.csv_columns is not None):
            # --csv-delimiter or --csv-columns say the inputs whose format neither their
            # first lines nor their name tell are CSV
            try:
                detect(path)
            except InputError:
                return "csv"
        return default


_FORMAT_NAMES = (*NAMES, "parquet")


def split_format_option(value: str) -> tuple[str | None, str]:
    """``GLOB=SPEC`` -> (GLOB, SPEC); a plain SPEC -> (None, SPEC). A format string may hold
    '=' itself, so the glob form is recognised only when a format name follows the '='."""
    head, sep, tail = value.partition("=")
    if sep and tail.split(":", 1)[0].strip().lower() in _FORMAT_NAMES and \
            head.split(":", 1)[0].strip().lower() not in _FORMAT_NAMES:
        return head, tail
    return None, value
