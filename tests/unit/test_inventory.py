"""Key inventories through the Python API: fields, matchers and the line of every key and scope.

Every expected line number below was counted by hand in the fixture text next to it. As a
second check that does not depend on the loader, ``assert_line`` also confirms that the fixture
line with that number really holds the text the key or scope was read from.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.inventory import KeysFormat, detect_format, load_inventory, parse_inventory
from scopeaudit.model import Inventory, Key, Location
from scopeaudit.secrets import fingerprint

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_KEYS = ROOT / "examples" / "keys.yaml"

LIVE_TOKEN = "sk_live_" + "0FAKE0TOKEN0FOR0TESTS000"  # 24 alphanumerics after the prefix
TEST_TOKEN = "sk_test_" + "Zz9Yy8Xx7Ww6Vv5U"  # 16, the shortest full token
SHA_UPPER = "ABCDEF0123456789" * 4
SHA_LOWER = SHA_UPPER.lower()


def parse(text: str | bytes, fmt: KeysFormat, source: str = "keys") -> tuple[Inventory,
                                                                            Diagnostics]:
    diagnostics = Diagnostics()
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_inventory(data, source, fmt, diagnostics), diagnostics


def by_id(inventory: Inventory) -> dict[str, Key]:
    return {key.id: key for key in inventory.keys}


def grants(key: Key) -> list[tuple[str, int]]:
    return [(grant.name, grant.location.line) for grant in key.scope_grants]


def assert_line(text: str, line: int, fragment: str) -> None:
    """Independent of the loader: line ``line`` (1-based) of ``text`` holds ``fragment``."""
    lines = text.splitlines()
    assert 1 <= line <= len(lines), f"line {line} is past the end of the fixture"
    assert fragment in lines[line - 1], f"line {line} is {lines[line - 1]!r}"


# --------------------------------------------------------------------------------------------
# YAML
# --------------------------------------------------------------------------------------------

YAML_KEYS = f"""\
# Keys of the test organisation (line 1).
keys:
  - id: key_alpha
    name: Alpha export
    owner: data@example.test
    created: 2026-02-10
    expires: 2027-02-10
    tags: [reporting, bi]
    prefix: sk_live_bi01
    scopes:
      - issues:read
      - works:read      # a comment does not move anything

  - id: key_beta
    description: Beta sync
    last4: "9xQe"
    sha256: sha256:{SHA_UPPER}
    tags: nightly, sync
    scopes: [sensors:write, sensors:read,
             assets:read]

  - scopes:
      - logs:read
    id: key_gamma
"""
# Lines, counted by hand:
#  1 comment            8 tags            15 description       22 - scopes:
#  2 keys:              9 prefix          16 last4             23   - logs:read
#  3 - id: key_alpha   10 scopes:         17 sha256            24 id: key_gamma
#  4 name              11 - issues:read   18 tags
#  5 owner             12 - works:read    19 scopes: [sensors:write, sensors:read,
#  6 created           13 (blank)         20   assets:read]
#  7 expires           14 - id: key_beta  21 (blank)


def test_yaml_reads_every_field() -> None:
    inventory, diagnostics = parse(YAML_KEYS, KeysFormat.YAML)
    assert [k.id for k in inventory.keys] == ["key_alpha", "key_beta", "key_gamma"]
    alpha, beta, gamma = inventory.keys
    assert alpha.name == "Alpha export"
    assert alpha.owner == "data@example.test"
    assert alpha.created == date(2026, 2, 10)
    assert alpha.expires == date(2027, 2, 10)
    assert type(alpha.created) is date  # a date, not ruamel's TimeStamp or a datetime
    assert alpha.tags == ("reporting", "bi")
    assert alpha.prefix == "sk_live_bi01"
    assert alpha.last4 is None
    assert alpha.sha256 is None
    assert alpha.description is None
    assert beta.description == "Beta sync"
    assert beta.last4 == "9xQe"
    assert beta.sha256 == SHA_LOWER
    assert beta.tags == ("nightly", "sync")
    assert beta.name is None
    assert beta.owner is None
    assert beta.created is None
    assert beta.expires is None
    assert gamma.granted == ("logs:read",)
    assert diagnostics.warnings == []
    assert inventory.leaked_tokens == ()


def test_yaml_key_and_scope_lines() -> None:
    inventory, _ = parse(YAML_KEYS, KeysFormat.YAML, source="org/keys.yaml")
    keys = by_id(inventory)
    expected_key_lines = {"key_alpha": 3, "key_beta": 14, "key_gamma": 22}
    expected_grants = {
        "key_alpha": [("issues:read", 11), ("works:read", 12)],
        # a flow sequence over two lines: each entry keeps its own line
        "key_beta": [("sensors:write", 19), ("sensors:read", 19), ("assets:read", 20)],
        # the mapping starts at its first field, here 'scopes', not at 'id'
        "key_gamma": [("logs:read", 23)],
    }
    for key_id, line in expected_key_lines.items():
        assert keys[key_id].location.file == "org/keys.yaml"
        assert keys[key_id].location.line == line
    assert_line(YAML_KEYS, 3, "- id: key_alpha")
    assert_line(YAML_KEYS, 14, "- id: key_beta")
    assert_line(YAML_KEYS, 22, "- scopes:")
    for key_id, expected in expected_grants.items():
        assert grants(keys[key_id]) == expected
        for scope, line in expected:
            assert_line(YAML_KEYS, line, scope)
            assert keys[key_id].grant_location(scope).line == line
    for grant in keys["key_alpha"].scope_grants:
        assert grant.location.file == "org/keys.yaml"
    assert str(keys["key_beta"].location) == "org/keys.yaml:14"


def test_yaml_bare_top_level_list() -> None:
    text = "- id: solo\n  scopes:\n    - issues:read\n- id: duo\n  scopes: [works:read]\n"
    # lines: 1 "- id: solo", 2 "scopes:", 3 "- issues:read", 4 "- id: duo", 5 "scopes: [...]"
    inventory, _ = parse(text, KeysFormat.YAML)
    solo, duo = inventory.keys
    assert (solo.id, solo.location.line, grants(solo)) == ("solo", 1, [("issues:read", 3)])
    assert (duo.id, duo.location.line, grants(duo)) == ("duo", 4, [("works:read", 5)])


def test_yaml_1_2_words_stay_strings() -> None:
    # YAML 1.1 would read all of these as booleans; a YAML 1.2 key file keeps them as text.
    text = ("keys:\n"
            "  - id: on\n"
            "    name: yes\n"
            "    owner: no\n"
            "    tags: [off, y, n]\n"
            "    scopes: [on, no, yes, off, y, n, Yes, NO]\n")
    inventory, _ = parse(text, KeysFormat.YAML)
    (key,) = inventory.keys
    assert key.id == "on"
    assert key.name == "yes"
    assert key.owner == "no"
    assert key.tags == ("off", "y", "n")
    assert [g.name for g in key.scope_grants] == ["on", "no", "yes", "off", "y", "n", "Yes", "NO"]


def test_yaml_true_is_still_a_bool_and_not_an_id() -> None:
    with pytest.raises(InputError) as exc:
        parse("keys:\n  - id: true\n    scopes: [a:read]\n", KeysFormat.YAML, source="k.yaml")
    assert exc.value.line == 2
    assert "'id' must be non-empty text" in str(exc.value)


@pytest.mark.parametrize(("written", "expected"), [
    ("12345", "12345"),
    ("007", "007"),  # taken as written, not re-printed as 7
    ("1.50", "1.50"),
    ("0x1F", "0x1F"),
    ("'42'", "42"),
    ("!!str 0042", "0042"),
])
def test_yaml_numeric_id_is_kept_as_text(written: str, expected: str) -> None:
    inventory, _ = parse(f"keys:\n  - id: {written}\n    scopes: [a:read]\n", KeysFormat.YAML)
    assert inventory.keys[0].id == expected


def test_yaml_numeric_matchers_keep_their_digits() -> None:
    # last4 of a token can be all digits, with a leading zero; a sha256 can be all digits too
    digits_sha = "0" + "1234567890" * 6 + "123"
    assert len(digits_sha) == 64
    text = f"keys:\n  - id: k\n    last4: 0123\n    sha256: {digits_sha}\n    scopes: [a:read]\n"
    (key,) = parse(text, KeysFormat.YAML)[0].keys
    assert key.last4 == "0123"
    assert key.sha256 == digits_sha


@pytest.mark.parametrize("written", [f"sha256:{SHA_UPPER}", SHA_UPPER, f"'sha256:{SHA_LOWER}'"])
def test_yaml_sha256_matcher_is_lowercased_without_prefix(written: str) -> None:
    text = f"keys:\n  - id: k\n    sha256: {written}\n    scopes: [a:read]\n"
    assert parse(text, KeysFormat.YAML)[0].keys[0].sha256 == SHA_LOWER


@pytest.mark.parametrize("written", [LIVE_TOKEN, TEST_TOKEN, f"' {LIVE_TOKEN}'"])
def test_yaml_full_token_prefix_becomes_a_sha256_matcher(written: str) -> None:
    token = written.strip("' ")
    text = f"keys:\n  - id: k\n    prefix: {written}\n    scopes: [a:read]\n"
    inventory, _ = parse(text, KeysFormat.YAML)
    (key,) = inventory.keys
    assert key.prefix is None
    assert key.sha256 == fingerprint(token)
    assert token not in repr(inventory)  # kept nowhere, only its fingerprint
    # and the token in the file is reported (SA210) at its line, by fingerprint
    assert inventory.leaked_tokens == (
        (3, fingerprint(token), "live" if token.startswith("sk_live_") else "test"),
    )


def test_yaml_full_token_prefix_does_not_override_an_explicit_sha256() -> None:
    text = f"keys:\n  - id: k\n    prefix: {LIVE_TOKEN}\n    sha256: {SHA_LOWER}\n    scopes: []\n"
    (key,) = parse(text, KeysFormat.YAML)[0].keys
    assert key.prefix is None
    assert key.sha256 == SHA_LOWER


def test_yaml_short_prefix_is_kept() -> None:
    text = "keys:\n  - id: k\n    prefix: sk_live_7Hq2\n    scopes: [a:read]\n"
    (key,) = parse(text, KeysFormat.YAML)[0].keys
    assert key.prefix == "sk_live_7Hq2"
    assert key.sha256 is None


def test_yaml_dates_and_datetimes() -> None:
    text = ("keys:\n  - id: k\n    scopes: []\n"
            "    created: 2026-01-02T03:04:05Z\n"
            "    expires: '2027-01-02'\n")
    (key,) = parse(text, KeysFormat.YAML)[0].keys
    assert key.created == date(2026, 1, 2)
    assert key.expires == date(2027, 1, 2)


def test_yaml_empty_optional_fields_are_none() -> None:
    text = "keys:\n  - id: k\n    name:\n    created: ~\n    scopes: []\n"
    (key,) = parse(text, KeysFormat.YAML)[0].keys
    assert key.name is None
    assert key.created is None
    assert key.scope_grants == ()


def test_yaml_empty_keys_list_is_an_empty_inventory() -> None:
    assert parse("keys: []\n", KeysFormat.YAML)[0].keys == ()


def test_yaml_tag_string_holding_a_token_is_redacted() -> None:
    text = f"keys:\n  - id: k\n    tags: ci {LIVE_TOKEN}\n    scopes: [a:read]\n"
    inventory, _ = parse(text, KeysFormat.YAML)
    (key,) = inventory.keys
    assert key.tags[0] == "ci"
    assert len(key.tags) == 2
    assert LIVE_TOKEN not in repr(inventory)
    assert LIVE_TOKEN[8:] not in " ".join(key.tags)


def test_yaml_tag_list_keeps_numbers_as_written() -> None:
    text = "keys:\n  - id: k\n    tags: [2024, 1.10, ops]\n    scopes: []\n"
    (key,) = parse(text, KeysFormat.YAML)[0].keys
    assert key.tags == ("2024", "1.10", "ops")


def test_yaml_empty_tag_entry_is_an_error_at_its_line() -> None:
    text = ("keys:\n"          # 1
            "  - id: k\n"      # 2
            "    scopes: []\n"  # 3
            "    tags:\n"      # 4
            "      - ops\n"    # 5
            "      -\n")       # 6: an empty entry, which must not become the tag "None"
    with pytest.raises(InputError) as exc:
        parse(text, KeysFormat.YAML)
    assert exc.value.line == 6


def test_yaml_crlf_line_endings() -> None:
    text = "keys:\r\n  - id: k\r\n    scopes:\r\n      - a:read\r\n"
    (key,) = parse(text, KeysFormat.YAML)[0].keys
    assert key.location.line == 2
    assert grants(key) == [("a:read", 4)]


def test_leaked_token_lines_count_only_real_line_breaks() -> None:
    # U+2028 and a form feed inside a quoted string are not line breaks: the token below is
    # on line 5 of the file as an editor shows it.
    text = ('keys:\n  - id: k\n    name: "a\u2028b"\n    scopes: [a:read]\n'
            f"    description: {LIVE_TOKEN}\n")
    inventory, _ = parse(text, KeysFormat.YAML)
    assert inventory.leaked_tokens == ((5, fingerprint(LIVE_TOKEN), "live"),)
    assert inventory.keys[0].description is not None
    assert LIVE_TOKEN not in inventory.keys[0].description


def test_yaml_with_bom() -> None:
    (key,) = parse(b"\xef\xbb\xbfkeys:\n  - id: k\n    scopes: [a:read]\n",
                   KeysFormat.YAML)[0].keys
    assert (key.id, key.location.line, grants(key)) == ("k", 2, [("a:read", 3)])


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------

JSON_KEYS = f"""\
{{
  "keys": [
    {{
      "id": "key_alpha",
      "name": "Alpha export",
      "owner": "data@example.test",
      "created": "2026-02-10",
      "expires": "2027-02-10",
      "tags": ["reporting", "bi"],
      "prefix": "sk_live_bi01",
      "scopes": [
        "issues:read",
        "works:read"
      ]
    }},
    {{"id": 12345, "sha256": "sha256:{SHA_UPPER}", "last4": "9xQe",
     "description": "Beta sync", "tags": "nightly;sync",
     "scopes": ["sensors:write", "sensors:read",
                "assets:read"]}}
  ]
}}
"""
# Lines, counted by hand:
#  1 {             6 owner      11 "scopes": [      16 {"id": 12345, ...
#  2 "keys": [     7 created    12 "issues:read",   17 "description": ..., "tags": ...
#  3 {             8 expires    13 "works:read"     18 "scopes": ["sensors:write", "sensors:read",
#  4 "id"          9 tags       14 ]                19   "assets:read"]}
#  5 "name"       10 prefix     15 }, (end)         20 ]   21 }


def test_json_reads_every_field() -> None:
    inventory, diagnostics = parse(JSON_KEYS, KeysFormat.JSON)
    alpha, beta = inventory.keys
    assert alpha.id == "key_alpha"
    assert alpha.name == "Alpha export"
    assert alpha.owner == "data@example.test"
    assert alpha.created == date(2026, 2, 10)
    assert alpha.expires == date(2027, 2, 10)
    assert alpha.tags == ("reporting", "bi")
    assert alpha.prefix == "sk_live_bi01"
    assert beta.id == "12345"  # a numeric id is accepted as text
    assert beta.sha256 == SHA_LOWER
    assert beta.last4 == "9xQe"
    assert beta.description == "Beta sync"
    assert beta.tags == ("nightly", "sync")
    assert diagnostics.warnings == []


def test_json_key_and_scope_lines() -> None:
    inventory, _ = parse(JSON_KEYS, KeysFormat.JSON, source="keys.json")
    alpha, beta = inventory.keys
    # a key's line is where its object opens
    assert alpha.location == Location("keys.json", 3)
    assert beta.location.line == 16
    assert_line(JSON_KEYS, 3, "{")
    assert_line(JSON_KEYS, 16, '{"id": 12345')
    assert grants(alpha) == [("issues:read", 12), ("works:read", 13)]
    assert grants(beta) == [("sensors:write", 18), ("sensors:read", 18), ("assets:read", 19)]
    for scope, line in grants(alpha) + grants(beta):
        assert_line(JSON_KEYS, line, f'"{scope}"')


def test_json_bare_top_level_list() -> None:
    text = '[\n  {"id": "a", "scopes": ["issues:read"]},\n  {"id": "b",\n   "scopes": []}\n]\n'
    inventory, _ = parse(text, KeysFormat.JSON)
    a, b = inventory.keys
    assert (a.id, a.location.line, grants(a)) == ("a", 2, [("issues:read", 2)])
    assert (b.id, b.location.line, grants(b)) == ("b", 3, [])


@pytest.mark.parametrize(("written", "expected"), [("7", "7"), ("1.50", "1.50"), ("-0", "-0")])
def test_json_numeric_id_is_kept_as_text(written: str, expected: str) -> None:
    inventory, _ = parse(f'[{{"id": {written}, "scopes": []}}]', KeysFormat.JSON)
    assert inventory.keys[0].id == expected


def test_json_full_token_prefix_becomes_a_sha256_matcher() -> None:
    text = f'{{"keys": [{{"id": "k",\n "prefix": "{LIVE_TOKEN}", "scopes": []}}]}}'
    inventory, _ = parse(text, KeysFormat.JSON)
    (key,) = inventory.keys
    assert key.prefix is None
    assert key.sha256 == fingerprint(LIVE_TOKEN)
    assert LIVE_TOKEN not in repr(inventory)
    assert inventory.leaked_tokens == ((2, fingerprint(LIVE_TOKEN), "live"),)


def test_json_escapes_and_datetime() -> None:
    text = ('[{"id": "caf\\u00e9", "scopes": ["issues:read"],'
            ' "created": "2026-02-03T01:00:00Z"}]')
    (key,) = parse(text, KeysFormat.JSON)[0].keys
    assert key.id == "café"
    assert key.created == date(2026, 2, 3)


def test_json_with_bom_and_crlf() -> None:
    data = b'\xef\xbb\xbf{"keys": [\r\n {"id": "k",\r\n  "scopes": ["a:read"]}]}\r\n'
    (key,) = parse(data, KeysFormat.JSON)[0].keys
    assert (key.location.line, grants(key)) == (2, [("a:read", 3)])


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------

CSV_KEYS = f"""\
id,name,scopes,owner,created,expires,tags,prefix,last4,sha256,description
key_alpha,Alpha,issues:read;works:read,a@example.test,2026-02-10,2027-02-10,bi;etl,sk_live_bi01,,,
key_beta,,sensors:write sensors:read  assets:read,,,,,,9xQe,sha256:{SHA_UPPER},Beta sync
12345,,logs:read ; logs:write;,,,,,,,,
"""
# Lines: 1 header, 2 key_alpha, 3 key_beta, 4 12345.


def test_csv_reads_every_field() -> None:
    inventory, diagnostics = parse(CSV_KEYS, KeysFormat.CSV)
    alpha, beta, numeric = inventory.keys
    assert alpha.id == "key_alpha"
    assert alpha.name == "Alpha"
    assert alpha.owner == "a@example.test"
    assert alpha.created == date(2026, 2, 10)
    assert alpha.expires == date(2027, 2, 10)
    assert alpha.tags == ("bi", "etl")
    assert alpha.prefix == "sk_live_bi01"
    assert alpha.last4 is None  # an empty cell is an absent field
    assert alpha.sha256 is None
    assert beta.name is None
    assert beta.last4 == "9xQe"
    assert beta.sha256 == SHA_LOWER
    assert beta.description == "Beta sync"
    assert numeric.id == "12345"
    assert diagnostics.warnings == []


def test_csv_scope_separators_and_row_lines() -> None:
    inventory, _ = parse(CSV_KEYS, KeysFormat.CSV, source="keys.csv")
    alpha, beta, numeric = inventory.keys
    assert [k.location.line for k in inventory.keys] == [2, 3, 4]
    assert alpha.location.file == "keys.csv"
    # semicolons, spaces (also runs of them) and a mix; a trailing separator adds nothing
    assert grants(alpha) == [("issues:read", 2), ("works:read", 2)]
    assert grants(beta) == [("sensors:write", 3), ("sensors:read", 3), ("assets:read", 3)]
    assert grants(numeric) == [("logs:read", 4), ("logs:write", 4)]


def test_csv_with_bom() -> None:
    data = b"\xef\xbb\xbfid,scopes\nk1,issues:read;works:read\n"
    inventory, diagnostics = parse(data, KeysFormat.CSV)
    (key,) = inventory.keys
    assert key.id == "k1"  # not "\ufeffid" as a header: the BOM is dropped
    assert grants(key) == [("issues:read", 2), ("works:read", 2)]
    assert diagnostics.warnings == []


def test_csv_row_numbers_are_physical_lines() -> None:
    text = ('id,scopes,description\n'              # 1
            'k1,issues:read,"first line\n'         # 2  (a quoted cell over two lines)
            'second line"\n'                       # 3
            'k2,"works:read\n'                     # 4  (scopes over two lines)
            'sites:read"\n'                        # 5
            '\n'                                   # 6  (a blank line is skipped)
            'k3,assets:read\n')                    # 7
    inventory, _ = parse(text, KeysFormat.CSV)
    k1, k2, k3 = inventory.keys
    assert k1.description == "first line\nsecond line"
    assert (k1.location.line, grants(k1)) == (2, [("issues:read", 2)])
    # a CSV scope's location is its row
    assert (k2.location.line, grants(k2)) == (4, [("works:read", 4), ("sites:read", 4)])
    assert (k3.location.line, grants(k3)) == (7, [("assets:read", 7)])


def test_csv_crlf_rows() -> None:
    text = "id,scopes\r\nk1,a:read\r\nk2,\"b:read\r\nc:read\"\r\nk3,d:read\r\n"
    inventory, _ = parse(text, KeysFormat.CSV)
    assert [(k.id, k.location.line) for k in inventory.keys] == [("k1", 2), ("k2", 3), ("k3", 5)]


def test_csv_header_is_case_and_space_insensitive() -> None:
    (key,) = parse(" ID , Scopes \nk,a:read\n", KeysFormat.CSV)[0].keys
    assert (key.id, key.granted) == ("k", ("a:read",))


def test_csv_empty_scopes_cell_is_a_key_without_scopes() -> None:
    (key,) = parse("id,scopes\nk,\n", KeysFormat.CSV)[0].keys
    assert key.scope_grants == ()


def test_csv_full_token_prefix_becomes_a_sha256_matcher() -> None:
    inventory, _ = parse(f"id,scopes,prefix\nk,a:read,{LIVE_TOKEN}\n", KeysFormat.CSV)
    (key,) = inventory.keys
    assert key.prefix is None
    assert key.sha256 == fingerprint(LIVE_TOKEN)
    assert LIVE_TOKEN not in repr(inventory)


# --------------------------------------------------------------------------------------------
# Unknown fields: a warning naming file:line, never a failure
# --------------------------------------------------------------------------------------------


def test_yaml_unknown_field_warns_with_its_line() -> None:
    text = ("keys:\n"                 # 1
            "  - id: k\n"             # 2
            "    scopes: [a:read]\n"  # 3
            "    colour: red\n"       # 4
            "team: ops\n")            # 5
    inventory, diagnostics = parse(text, KeysFormat.YAML, source="k.yaml")
    assert [k.id for k in inventory.keys] == ["k"]
    messages = [str(w) for w in diagnostics.warnings]
    assert messages == ["k.yaml:5: unknown top-level field 'team' ignored",
                        "k.yaml:4: unknown field 'colour' ignored"]
    assert [(w.file, w.line) for w in diagnostics.warnings] == [("k.yaml", 5), ("k.yaml", 4)]


def test_json_unknown_field_warns_with_its_line() -> None:
    text = '{"keys": [\n  {"id": "k",\n   "scopes": [],\n   "colour": "red"}\n]}\n'
    _, diagnostics = parse(text, KeysFormat.JSON, source="k.json")
    assert [str(w) for w in diagnostics.warnings] == ["k.json:4: unknown field 'colour' ignored"]


def test_csv_unknown_column_warns_once_at_the_header() -> None:
    text = "id,scopes,colour\nk1,a:read,red\nk2,b:read,blue\n"
    inventory, diagnostics = parse(text, KeysFormat.CSV, source="k.csv")
    assert [k.id for k in inventory.keys] == ["k1", "k2"]
    assert [str(w) for w in diagnostics.warnings] == ["k.csv:1: unknown field 'colour' ignored"]


def test_unknown_field_named_like_a_token_is_redacted_in_the_warning() -> None:
    text = f"keys:\n  - id: k\n    scopes: []\n    {LIVE_TOKEN}: 1\n"
    _, diagnostics = parse(text, KeysFormat.YAML)
    (warning,) = diagnostics.warnings
    assert warning.line == 4
    assert LIVE_TOKEN not in str(warning)


# --------------------------------------------------------------------------------------------
# Files: format by extension or by choice, and the example
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "fmt"), [
    ("keys.yaml", KeysFormat.YAML), ("keys.yml", KeysFormat.YAML),
    ("KEYS.YAML", KeysFormat.YAML), ("keys.json", KeysFormat.JSON),
    ("keys.csv", KeysFormat.CSV), ("dir.v2/keys.Csv", KeysFormat.CSV),
])
def test_detect_format_by_extension(name: str, fmt: KeysFormat) -> None:
    assert detect_format(name) is fmt


@pytest.mark.parametrize("name", ["keys.txt", "keys", "keys.yaml.bak"])
def test_detect_format_refuses_an_unknown_extension(name: str) -> None:
    with pytest.raises(InputError, match="--keys-format"):
        detect_format(name)


def test_load_inventory_by_extension_and_by_format(tmp_path: Path) -> None:
    yaml_file = tmp_path / "keys.yml"
    yaml_file.write_text("keys:\n  - id: y\n    scopes: [a:read]\n", encoding="utf-8")
    json_file = tmp_path / "keys.json"
    json_file.write_text('{"keys": [{"id": "j", "scopes": ["a:read"]}]}', encoding="utf-8")
    csv_as_txt = tmp_path / "export.txt"
    csv_as_txt.write_text("id,scopes\nc,a:read\n", encoding="utf-8")

    assert load_inventory(str(yaml_file), None, Diagnostics()).keys[0].id == "y"
    assert load_inventory(str(json_file), None, Diagnostics()).keys[0].id == "j"
    inventory = load_inventory(str(csv_as_txt), KeysFormat.CSV, Diagnostics())
    assert inventory.keys[0].id == "c"
    assert inventory.source == str(csv_as_txt)
    assert inventory.keys[0].location.file == str(csv_as_txt)
    assert inventory.sha256 == hashlib.sha256(csv_as_txt.read_bytes()).hexdigest()
    # the format given wins over the extension
    yaml_named_json = tmp_path / "really-yaml.json"
    yaml_named_json.write_text("- id: r\n  scopes: []\n", encoding="utf-8")
    assert load_inventory(str(yaml_named_json), KeysFormat.YAML, Diagnostics()).keys[0].id == "r"


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the only line of ``text`` that holds ``fragment``."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(found) == 1, f"{fragment!r} is on lines {found}"
    return found[0]


def test_example_key_file() -> None:
    # The example is edited as the project goes on: its lines are found by searching its
    # text here (independently of the loader), not written down as numbers.
    text = EXAMPLE_KEYS.read_text(encoding="utf-8")
    inventory = load_inventory(str(EXAMPLE_KEYS), None, Diagnostics())
    keys = by_id(inventory)
    assert len(inventory.keys) == text.count("  - id: ")
    assert inventory.leaked_tokens == ()
    for key in inventory.keys:
        assert key.location.line == line_of(text, f"- id: {key.id}")
    bi = keys["key_bi_export"]
    assert bi.grant_location("issues:write").line == line_of(text, "- issues:write   ")
    assert bi.prefix == "sk_live_bi01"
    assert bi.tags == ("reporting", "bi")
    assert keys["key_ticket_sync"].last4 == "9xQe"
    assert keys["key_field_app"].grant_location("isues:read").line == line_of(text, "isues:read")
    assert keys["key_platform_admin"].expires is None
    assert keys["key_platform_admin"].created == date(2024, 5, 2)
    assert len(keys["key_platform_admin"].granted) == 26
    # a scope listed twice is two grants, one granted scope
    assert [g.name for g in keys["key_scheduler"].scope_grants].count("works:read") == 2
    assert keys["key_scheduler"].granted.count("works:read") == 1
