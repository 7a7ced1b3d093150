"""One date grammar for what key files and the configuration write (window.written_date).

A key's ``expires`` (inventory/schema.py) and a suppression's ``expires`` (config.py) used to
be read by two grammars: the configuration refused the ISO date-times a key file took. Each
form below is read by both, or refused by both.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from scopeaudit.config import load
from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.inventory import KeysFormat, parse_inventory

NEW_YEARS_EVE = date(2026, 12, 31)
# as YAML and TOML both write them: a quoted string, or the format's own date / date-time
TAKEN = ['"2026-12-31"', '"2026-12-31T23:00:00Z"', '"2026-12-31T23:00:00+02:00"',
         '" 2026-12-31 "', "2026-12-31", "2026-12-31T23:00:00Z"]
REFUSED = ['"soon"', '"31/12/2026"', '"2026-13-01"', "5"]


def _key_expires(written: str) -> date | None:
    text = f"keys:\n  - id: key_a\n    scopes: [issues:read]\n    expires: {written}\n"
    inventory = parse_inventory(text.encode(), "keys.yaml", KeysFormat.YAML, Diagnostics())
    return inventory.keys[0].expires


def _suppression_expires(tmp_path: Path, written: str) -> date | None:
    path = tmp_path / "scopeaudit.toml"
    path.write_text(f'[[ignore]]\nrule = "SA206"\nreason = "x"\nexpires = {written}\n')
    return load(path, {}).ignores[0].expires


@pytest.mark.parametrize("written", TAKEN)
def test_a_key_file_and_the_configuration_take_the_same_dates(tmp_path: Path,
                                                              written: str) -> None:
    assert _key_expires(written) == NEW_YEARS_EVE
    assert _suppression_expires(tmp_path, written) == NEW_YEARS_EVE


@pytest.mark.parametrize("written", REFUSED)
def test_a_key_file_and_the_configuration_refuse_the_same_dates(tmp_path: Path,
                                                                written: str) -> None:
    with pytest.raises(InputError, match="not a date"):
        _key_expires(written)
    with pytest.raises(InputError, match="must be a date"):
        _suppression_expires(tmp_path, written)
