"""Key files at scale: how they are read, and what reading them may cost.

What is timed lives in benchmarks/bench_keys.py; here are the properties that make it fast,
each asserted without a clock: a YAML key file is parsed by libyaml (ruamel.yaml's Python
parser took 111 s for 100,000 keys), each entry of the key list becomes a Key as soon as it
is parsed (no tree of the whole file is kept), the cyclic garbage collector does not walk
the keys of a large file, and the memory a file costs per key is bounded (tracemalloc counts
allocations, not time).
"""

from __future__ import annotations

import gc
import json
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.inventory import KeysFormat, parse_inventory
from scopeaudit.inventory.csv_source import parse_csv
from scopeaudit.inventory.json_source import parse_json
from scopeaudit.inventory.schema import KeyReader
from scopeaudit.inventory.tree import PKey, PMap, PNode, PSeq
from scopeaudit.inventory.yaml_source import parse_yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_keys  # the benchmark's generator of realistic key files

N_KEYS = 4000
OVER_1_MIB = {"yaml": 4500, "json": 4000, "csv": 9000}  # keys: a file of just over 1 MiB


def key_file(fmt: str, n: int = N_KEYS) -> bytes:
    """``n`` keys as bench_keys.py writes them: names, owners, dates, tags, 1 to 8 scopes."""
    entries = bench_keys.keys(n, "clean")
    if fmt == "yaml":
        lines = ["keys:"]
        for key in entries:
            lines.append(f"  - id: {key['id']}")
            for name, value in key.items():
                if name == "id":
                    continue
                if isinstance(value, list):
                    lines.append(f"    {name}:")
                    lines += [f"      - {item}" for item in value]
                else:
                    lines.append(f"    {name}: {json.dumps(value)}")
        return ("\n".join(lines) + "\n").encode()
    if fmt == "json":
        return json.dumps({"keys": entries}, indent=2).encode()
    header = ["id", "name", "owner", "created", "expires", "tags", "scopes", "prefix"]
    rows = [",".join(header)] + [
        ",".join(" ".join(map(str, v)) if isinstance(v, list) else str(v)
                 for v in (key.get(f, "") for f in header)) for key in entries]
    return ("\n".join(rows) + "\n").encode()


# --------------------------------------------------------------------------------------------
# Each entry becomes a Key as soon as it is parsed
# --------------------------------------------------------------------------------------------


class Recorder(KeyReader):
    def __init__(self) -> None:
        super().__init__("k")
        self.lines: list[int] = []

    def __call__(self, node: PNode) -> PKey:
        self.lines.append(node.line)
        return super().__call__(node)


@pytest.mark.parametrize(("parse", "text", "lines"), [
    (lambda t, r: parse_yaml(t, "k", r),
     "keys:\n  - id: a\n    scopes: [x:read]\n  - id: b\n    scopes: []\n", [2, 4]),
    (lambda t, r: parse_yaml(t, "k", r, libyaml=False),
     "- {id: a, scopes: [x:read]}\n- id: b\n  scopes: []\n", [1, 2]),
    (lambda t, r: parse_json(t, "k", r),
     '{"keys": [\n {"id": "a", "scopes": ["x:read"]},\n {"id": "b", "scopes": []}]}', [2, 3]),
    (lambda t, r: parse_json(t, "k", r), '[{"id": "a", "scopes": []}]', [1]),
    (lambda t, r: parse_csv(t, "k", Diagnostics(), r), "id,scopes\na,x:read\nb,\n", [2, 3]),
])
def test_each_entry_is_read_as_soon_as_it_is_parsed(parse: Any, text: str,
                                                    lines: list[int]) -> None:
    reader = Recorder()
    tree = parse(text, reader)
    assert reader.lines == lines
    entries = tree.items["keys"][1] if isinstance(tree, PMap) else tree
    assert isinstance(entries, PSeq)
    # the tree keeps the Keys made of the entries, not the entries' own trees
    assert all(isinstance(item, PKey) for item in entries.items)
    assert [item.key.id for item in entries.items] == ["a", "b"][:len(lines)]


@pytest.mark.parametrize("text", [
    "keys:\n  - id: a\n    scopes: []\n    colour: red\n",  # not the list under "keys"
    "team: ops\nlists:\n  - id: a\n",
])
def test_only_the_key_list_is_read_entry_by_entry(text: str) -> None:
    reader = Recorder()
    tree = parse_yaml(text, "k", reader)
    assert isinstance(tree, PMap)
    assert reader.lines == ([2] if "keys" in text else [])


def test_warnings_keep_their_order_when_entries_are_read_early() -> None:
    # the top level's warnings first, then the entries', as when the tree was read whole
    text = "keys:\n  - id: a\n    colour: red\n    scopes: []\nteam: ops\n"
    diagnostics = Diagnostics()
    parse_inventory(text.encode(), "k.yaml", KeysFormat.YAML, diagnostics)
    assert [str(w) for w in diagnostics.warnings] == [
        "k.yaml:5: unknown top-level field 'team' ignored",
        "k.yaml:3: unknown field 'colour' ignored"]


# --------------------------------------------------------------------------------------------
# YAML: libyaml parses, ruamel.yaml's parser only judges what libyaml refuses
# --------------------------------------------------------------------------------------------


@pytest.fixture
def no_ruamel_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    from ruamel.yaml import YAML

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("ruamel.yaml's Python parser was used")

    monkeypatch.setattr(YAML, "parse", refuse)
    monkeypatch.setattr(YAML, "load", refuse)


@pytest.mark.usefixtures("no_ruamel_parser")
def test_a_yaml_key_file_is_parsed_by_libyaml() -> None:
    pytest.importorskip("yaml._yaml", reason="PyYAML without libyaml")
    # with one line of 10 MB, which took ruamel.yaml's parser more than 30 s
    words = " ".join(["runbook"] * (10 * 1024 * 1024 // 8))
    text = f"keys:\n  - id: a\n    description: {words}\n    scopes: [issues:read]\n"
    (key,) = parse_inventory(text.encode(), "k.yaml", KeysFormat.YAML, Diagnostics()).keys
    assert key.description == words
    assert [(g.name, g.location.line) for g in key.scope_grants] == [("issues:read", 4)]


@pytest.mark.usefixtures("no_ruamel_parser")
def test_a_large_text_libyaml_refuses_is_not_parsed_again() -> None:
    pytest.importorskip("yaml._yaml", reason="PyYAML without libyaml")
    text = "keys:\n" + "  - id: a\n    scopes: []\n" * 50_000 + "  - id: [b\n"
    assert len(text) > 1 << 20
    with pytest.raises(InputError) as error:
        parse_yaml(text, "k.yaml")
    assert error.value.line == 100_002
    assert error.value.message.startswith("invalid YAML: ")


# --------------------------------------------------------------------------------------------
# The garbage collector, and memory
# --------------------------------------------------------------------------------------------


@pytest.fixture
def frozen() -> Any:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("fmt", ["yaml", "json", "csv"])
def test_a_large_key_file_is_frozen_out_of_the_collectors_way(fmt: str) -> None:
    data = key_file(fmt, OVER_1_MIB[fmt])
    assert len(data) >= 1 << 20
    assert gc.get_freeze_count() == 0
    inventory = parse_inventory(data, "k", KeysFormat(fmt), Diagnostics())
    assert gc.isenabled()
    assert gc.get_freeze_count() > 10 * len(inventory.keys)  # keys, grants, locations ...


@pytest.mark.usefixtures("frozen")
def test_a_small_key_file_leaves_the_collector_alone() -> None:
    parse_inventory(key_file("yaml", 10), "k", KeysFormat.YAML, Diagnostics())
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


@pytest.mark.usefixtures("frozen")
def test_the_collector_is_enabled_again_after_an_error() -> None:
    data = key_file("yaml", OVER_1_MIB["yaml"]) + b"  - id: [unclosed\n"
    with pytest.raises(InputError):
        parse_inventory(data, "k", KeysFormat.YAML, Diagnostics())
    assert gc.isenabled()
    gc.disable()
    try:  # and one that was disabled stays so
        with pytest.raises(InputError):
            parse_inventory(data, "k", KeysFormat.YAML, Diagnostics())
        assert not gc.isenabled()
    finally:
        gc.enable()


# Bytes a key may cost at the peak of reading it, file included: about 2.4 KB for YAML, 2.1
# for JSON and 1.7 for CSV now; keeping the whole file's tree until the end took 21 KB (YAML,
# ruamel.yaml's round-trip loader), 6.1 KB (JSON) and 4.1 KB (CSV) (Python 3.11).
PEAK_PER_KEY = 3000


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("fmt", ["yaml", "json", "csv"])
def test_memory_per_key_is_bounded(fmt: str) -> None:
    data = key_file(fmt)
    tracemalloc.start()
    try:
        inventory = parse_inventory(data, "k", KeysFormat(fmt), Diagnostics())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(inventory.keys) == N_KEYS
    assert peak / N_KEYS < PEAK_PER_KEY, f"{peak / N_KEYS:.0f} bytes a key"
