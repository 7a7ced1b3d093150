"""Malformed key files through the real command line: exit 2, one line on stderr naming
``path:LINE``, never a traceback, never a token.

Each case states the line its error must name; every such line was counted by hand in the
fixture next to it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scopeaudit.diagnostics import Diagnostics
from scopeaudit.errors import InputError
from scopeaudit.inventory import KeysFormat, parse_inventory

TIMEOUT = 20
LIVE_TOKEN = "sk_live_" + "0FAKE0TOKEN0FOR0TESTS000"  # a full token: 24 alphanumerics
TOKEN_TAIL = LIVE_TOKEN[len("sk_live_"):]  # not even the secret part may be shown


def lint(path: Path | str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUTF8": "1", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "scopeaudit", "lint", "--keys", str(path), *extra],
        capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=TIMEOUT,
        env=env, check=False,
    )


def assert_input_error(proc: subprocess.CompletedProcess[str], where: str) -> str:
    """Exit 2, exactly one stderr line naming ``where``, no traceback; returns the line."""
    assert "Traceback" not in proc.stderr
    assert "Traceback" not in proc.stdout
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("scopeaudit: error: "), lines[0]
    assert "internal error" not in lines[0]
    assert where in lines[0], lines[0]
    assert proc.stdout == ""
    return lines[0]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


def laughs(levels: int = 10, width: int = 10) -> str:
    """A billion-laughs document: ten levels of ten aliases, 10**10 'lol's once expanded."""
    lines = ["# an alias bomb", "keys:", "  - id: bomb"]
    lol = ", ".join(['"lol"'] * width)
    lines.append(f"    l0: &l0 [{lol}]")  # line 4: the first anchor
    for level in range(1, levels):
        refs = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"    l{level}: &l{level} [{refs}]")
    lines.append(f"    scopes: *l{levels - 1}")
    return "\n".join(lines) + "\n"


# (case id, file name, content, the line the error must name)
MALFORMED: list[tuple[str, str, str | bytes, int]] = [
    ("empty-yaml", "keys.yaml", b"", 1),
    ("empty-json", "keys.json", b"", 1),
    ("empty-csv", "keys.csv", b"", 1),
    ("blank-yaml", "keys.yaml", "\n\n   \n", 1),
    ("comments-only-yaml", "keys.yaml", "# nothing here\n# yet\n", 1),
    ("invalid-yaml-bracket", "keys.yaml",
     "keys:\n"                            # 1
     "  - id: a\n"                        # 2
     "    scopes: [issues:read]]\n", 3),  # 3: a stray ']'
    ("invalid-yaml-tab", "keys.yaml",
     "keys:\n"                            # 1
     "  - id: a\n"                        # 2
     "\tscopes: [issues:read]\n", 3),     # 3: a tab cannot indent YAML
    ("invalid-yaml-unclosed-at-eof", "keys.yaml",
     "keys:\n"                            # 1
     "  - id: a\n"                        # 2
     "    scopes: [issues:read,\n"        # 3: the flow list is never closed ...
     "\n\n", 3),                          # ... and the error is not put past the last line
    ("duplicate-key-yaml", "keys.yaml",
     "keys:\n"                            # 1
     "  - id: a\n"                        # 2
     "    scopes: [issues:read]\n"        # 3
     "    id: b\n", 4),                   # 4: 'id' again
    ("duplicate-key-json", "keys.json",
     '{"keys": [\n'                       # 1
     '  {"id": "a",\n'                    # 2
     '   "scopes": ["issues:read"],\n'    # 3
     '   "id": "b"}\n'                    # 4: "id" again
     "]}\n", 4),
    ("duplicate-top-level-key-json", "keys.json",
     '{"keys": [],\n'                     # 1
     ' "keys": []}\n', 2),                # 2
    ("billion-laughs", "keys.yaml", laughs(), 4),
    ("alias-without-anchor", "keys.yaml",
     "keys:\n"                            # 1
     "  - id: a\n"                        # 2
     "    scopes: *nothing\n", 3),        # 3
    ("merge-key", "keys.yaml",
     "keys:\n"                            # 1
     "  - id: a\n"                        # 2
     "    <<: {scopes: [issues:read]}\n", 3),
    ("python-tag", "keys.yaml",
     "keys:\n"                            # 1
     "  - id: a\n"                        # 2
     "    scopes: !!python/object/apply:os.system ['echo hi']\n", 3),
    ("explicit-int-tag-on-text", "keys.yaml",
     "keys:\n"                            # 1
     "  - id: !!int abc\n"                # 2
     "    scopes: []\n", 2),
    ("second-document", "keys.yaml",
     "keys: []\n"                         # 1
     "---\n"                              # 2
     "keys: []\n", 2),
    ("deep-nesting-yaml", "keys.yaml", "keys: " + "[" * 5000 + "]" * 5000 + "\n", 1),
    ("deep-nesting-json", "keys.json", '{"keys":\n' + "[" * 5000 + "]" * 5000 + "}\n", 2),
    ("scopes-not-a-list", "keys.yaml",
     "keys:\n"                            # 1
     "  - id: a\n"                        # 2
     "    scopes: issues:read works:read\n", 3),
    ("scopes-not-a-list-json", "keys.json",
     '{"keys": [{"id": "a",\n'            # 1
     '  "scopes": "issues:read"}]}\n', 2),
    ("scope-not-text", "keys.yaml",
     "keys:\n  - id: a\n    scopes:\n"    # 1-3
     "      - issues:read\n"              # 4
     "      - {works: read}\n", 5),       # 5
    ("blank-scope", "keys.yaml",
     "keys:\n  - id: a\n"                 # 1-2
     "    scopes: [issues:read, '  ']\n", 3),
    ("missing-id", "keys.yaml",
     "keys:\n"                            # 1
     "  - id: a\n"                        # 2
     "    scopes: []\n"                   # 3
     "  - name: no id here\n"             # 4: the key without an id starts here
     "    scopes: [issues:read]\n", 4),
    ("missing-id-csv", "keys.csv",
     "id,scopes\n"                        # 1
     "a,issues:read\n"                    # 2
     ",works:read\n", 3),                 # 3
    ("missing-scopes", "keys.yaml",
     "keys:\n"                            # 1
     "  - id: a\n"                        # 2
     "    name: no scopes\n", 2),
    ("invalid-date-yaml", "keys.yaml",
     "keys:\n"                            # 1
     "  - id: a\n"                        # 2
     "    scopes: [issues:read]\n"        # 3
     "    created: 2026-01-01\n"          # 4
     "    expires: 2026-02-30\n", 5),     # 5: there is no 30 February
    ("invalid-date-yaml-month", "keys.yaml",
     "keys:\n  - id: a\n    scopes: []\n"  # 1-3
     "    created: 2026-13-01\n", 4),
    ("invalid-date-yaml-text", "keys.yaml",
     "keys:\n  - id: a\n    scopes: []\n"  # 1-3
     "    expires: next spring\n", 4),
    ("invalid-date-json", "keys.json",
     '{"keys": [{"id": "a", "scopes": [],\n'  # 1
     '  "created": "2026-02-30"}]}\n', 2),
    ("invalid-date-csv", "keys.csv",
     "id,scopes,expires\n"                # 1
     "a,issues:read,2027-01-01\n"         # 2
     "b,issues:read,31/12/2027\n", 3),    # 3
    ("invalid-utf8", "keys.yaml",
     b"keys:\n"                           # 1
     b"  - id: a\n"                       # 2
     b"    name: caf\xff\n"               # 3: a stray 0xff byte
     b"    scopes: []\n", 3),
    ("invalid-utf8-after-bom", "keys.yaml",
     b"\xef\xbb\xbfkeys:\n"               # 1 (the BOM is not a line)
     b"  - id: a\n"                       # 2
     b"    name: caf\xff\n", 3),          # 3
    ("invalid-utf8-csv", "keys.csv", b"id,scopes\na,issues:read\nb\xfe,works:read\n", 3),
    ("control-character-yaml", "keys.yaml",
     "keys:\n  - id: a\n"                 # 1-2
     "    name: bell\x07\n"               # 3: YAML allows no C0 control character here
     "    scopes: []\n", 3),
    ("csv-missing-scopes-column", "keys.csv", "id,name\nk1,one\nk2,two\n", 1),
    ("csv-duplicate-column", "keys.csv", "id,scopes,scopes\nk1,issues:read,works:read\n", 1),
    ("csv-unclosed-quote", "keys.csv",
     "id,scopes\n"                        # 1
     "k1,issues:read\n"                   # 2
     'k2,"works:read\n'                   # 3: this quote is never closed
     "k3,sites:read\n", 3),
    ("binary-nul", "keys.yaml", b"keys:\n\x00\x00\x00\x00\x01\x02", 2),
    ("binary-png", "keys.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", 1),
    ("binary-nul-csv", "keys.csv", b"id,scopes\nk\x00,a\n", 2),
    ("json-truncated", "keys.json",
     '{\n'                                # 1
     '  "keys": [\n'                      # 2
     '    {"id": "a",\n'                  # 3
     '     "scopes": ["issues:read"', 4),  # 4: the file ends here
    ("json-truncated-newline", "keys.json",
     '{\n  "keys": [\n    {"id": "a",\n'  # 1-3
     '     "scopes": ["issues:read"\n', 4),  # 4, then a final newline: still line 4
    ("json-truncated-in-string", "keys.json",
     '{"keys": [\n'                       # 1
     '  {"id": "a", "scopes": ["issu', 2),  # 2
    ("json-trailing-comma", "keys.json",
     '{"keys": [\n'                       # 1
     '  {"id": "a", "scopes": []},\n'     # 2
     "]}\n", 3),                          # 3: a value was expected
    ("json-extra-data", "keys.json", '{"keys": []}\n\n{"keys": []}\n', 3),
    ("json-lone-surrogate", "keys.json",
     '{"keys": [\n'                       # 1
     '  {"id": "\\ud800", "scopes": []}]}\n', 2),
    ("key-is-a-list", "keys.yaml",
     "keys:\n"                            # 1
     "  - id: a\n"                        # 2
     "    scopes: []\n"                   # 3
     "  - [id, b]\n", 4),                 # 4
    ("key-is-a-list-json", "keys.json",
     '{"keys": [\n'                       # 1
     '  ["id", "b"]]}\n', 2),
    ("key-is-text", "keys.yaml", "keys:\n  - just a name\n", 2),
    ("keys-is-a-mapping", "keys.yaml", "keys:\n  id: a\n  scopes: []\n", 2),
    ("keys-is-empty", "keys.yaml", "# comment\nkeys:\n", 2),
    ("no-keys-field", "keys.yaml", "# comment\nkey:\n  - id: a\n", 2),
    ("last4-wrong-length", "keys.yaml",
     "keys:\n  - id: a\n    scopes: []\n"  # 1-3
     "    last4: abcde\n", 4),
    ("sha256-not-hex", "keys.yaml",
     "keys:\n  - id: a\n    scopes: []\n"  # 1-3
     "    sha256: not-a-digest\n", 4),
]


@pytest.mark.parametrize(("name", "content", "line"),
                         [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED])
def test_malformed_key_file_is_one_error_line(tmp_path: Path, name: str, content: str | bytes,
                                              line: int) -> None:
    path = write(tmp_path, name, content)
    assert_input_error(lint(path), f"{path}:{line}: ")


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_invalid_utf8_names_the_byte_and_its_line(tmp_path: Path, bom: bytes) -> None:
    # 0xfe opens line 3, so a count that is off by the three BOM bytes lands on line 2
    path = write(tmp_path, "keys.yaml", bom + b"keys:\n  - id: a\n\xfe\n")
    message = assert_input_error(lint(path), f"{path}:3: ")
    assert "0xfe" in message


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    path = write(tmp_path, "keys.yaml", laughs(levels=12))
    started = time.monotonic()
    proc = lint(path)  # the timeout in lint() is the hard limit; this is the expectation
    elapsed = time.monotonic() - started
    message = assert_input_error(proc, f"{path}:4: ")
    assert "alias" in message
    assert elapsed < 10


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    message = assert_input_error(lint(path), f"{path}: ")
    assert "no such file" in message


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.yaml"
    path.mkdir()
    assert "is a directory" in assert_input_error(lint(path), f"{path}: ")
    # without a key-file extension too: the directory is the problem, not its name
    plain = tmp_path / "exports"
    plain.mkdir()
    assert "is a directory" in assert_input_error(lint(plain), f"{plain}: ")


def test_unknown_extension_is_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path, "keys.txt", "keys: []\n")
    message = assert_input_error(lint(path), f"{path}: ")
    assert "--keys-format" in message


def test_keys_format_overrides_the_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "keys.txt", "id,scopes\nk1,issues:read\n")
    proc = lint(path, "--keys-format", "csv", "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------------------------
# Size: a key file (or catalog) is read whole, so never more than 64 MiB of it
# --------------------------------------------------------------------------------------------

CAP = 64 << 20  # the same bound as for a key file downloaded from a URL


def _limit_memory() -> None:
    # An unbounded read of /dev/zero would take every byte the machine has before failing;
    # with this ceiling it fails at once instead (and the test with it).
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def lint_bounded(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUTF8": "1", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "scopeaudit", "lint", *args], capture_output=True, text=True,
        encoding="utf-8", errors="replace", timeout=TIMEOUT, env=env, check=False,
        preexec_fn=_limit_memory,
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("fmt", ["yaml", "json", "csv"])
def test_endless_device_is_refused_at_the_cap(fmt: str) -> None:
    message = assert_input_error(lint_bounded("--keys", "/dev/zero", "--keys-format", fmt),
                                 "/dev/zero: ")
    assert "larger than 64 MiB" in message


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_endless_catalog_is_refused_at_the_cap(tmp_path: Path) -> None:
    keys = write(tmp_path, "keys.yaml", "keys: []\n")
    message = assert_input_error(lint_bounded("--keys", str(keys), "--catalog", "/dev/zero"),
                                 "/dev/zero: ")
    assert "larger than 64 MiB" in message


def test_key_file_one_byte_over_the_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.yaml"
    with open(path, "wb") as out:  # sparse: no 64 MiB written to disk
        out.truncate(CAP + 1)
    message = assert_input_error(lint_bounded("--keys", str(path)), f"{path}: ")
    assert "larger than 64 MiB" in message


def test_key_file_at_the_cap_is_read_whole(tmp_path: Path) -> None:
    from scopeaudit.inventory.reading import read_bounded

    path = write(tmp_path, "keys.yaml", b"k" * 10)
    assert read_bounded(str(path), what="key file", directory="", limit=10) == b"k" * 10
    with pytest.raises(InputError, match="larger than"):
        read_bounded(str(path), what="key file", directory="", limit=9)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_without_a_writer_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "keys.yaml"
    os.mkfifo(fifo)
    message = assert_input_error(lint_bounded("--keys", str(fifo)), f"{fifo}: ")
    assert "FIFO" in message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_fed_without_end_is_refused_at_the_cap(tmp_path: Path) -> None:
    fifo = tmp_path / "keys.yaml"
    os.mkfifo(fifo)
    # The writer is started first (its open waits for the reader), as a shell would.
    feeder = subprocess.Popen([sys.executable, "-c",
                               "import sys\nwith open(sys.argv[1], 'wb') as f:\n"
                               "    while True: f.write(b'#' * 65536)", str(fifo)],
                              stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        message = assert_input_error(lint_bounded("--keys", str(fifo)), f"{fifo}: ")
        assert "larger than 64 MiB" in message
    finally:
        feeder.kill()
        feeder.wait()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_with_a_key_file_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "keys.yaml"
    os.mkfifo(fifo)
    feeder = subprocess.Popen([sys.executable, "-c",
                               "import sys\nopen(sys.argv[1], 'w').write("
                               "'keys:\\n  - id: a\\n    scopes: [issues:read]\\n')",
                               str(fifo)])
    try:
        time.sleep(0.5)
        proc = lint_bounded("--keys", str(fifo), "--format", "json", "--fail-on", "never")
    finally:
        feeder.wait(timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert [k["id"] for k in json.loads(proc.stdout)["keys"]] == ["a"]


# --------------------------------------------------------------------------------------------
# A full token in a key file is never echoed: not in an error, a warning or a report
# --------------------------------------------------------------------------------------------


def assert_no_token(proc: subprocess.CompletedProcess[str]) -> None:
    for stream in (proc.stdout, proc.stderr):
        assert LIVE_TOKEN not in stream
        assert TOKEN_TAIL not in stream


def test_token_in_an_invalid_date_is_not_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, "keys.yaml",
                 "keys:\n"                              # 1
                 "  - id: a\n"                          # 2
                 "    scopes: [issues:read]\n"          # 3
                 f"    created: {LIVE_TOKEN}\n")        # 4
    proc = lint(path)
    assert_input_error(proc, f"{path}:4: ")
    assert_no_token(proc)


@pytest.mark.parametrize(("name", "content", "line"), [
    ("keys.json", f'{{"keys": [{{"id": "a", "scopes": [],\n "expires": "{LIVE_TOKEN}"}}]}}', 2),
    ("keys.csv", f"id,scopes,created\na,issues:read,{LIVE_TOKEN}\n", 2),
    # a token as a duplicated mapping key, and as the duplicated value
    ("keys.yaml", f"keys:\n  - id: a\n    {LIVE_TOKEN}: 1\n    {LIVE_TOKEN}: 2\n", 4),
    ("keys.yaml", f"keys:\n  - id: a\n    name: {LIVE_TOKEN}\n    name: {LIVE_TOKEN}\n", 4),
    ("keys.json", f'[{{"id": "a",\n "{LIVE_TOKEN}": 1, "{LIVE_TOKEN}": 2}}]', 2),
    # a token as a YAML tag, as an id, as an anchor
    ("keys.yaml", f"keys:\n  - id: !{LIVE_TOKEN} a\n    scopes: []\n", 2),
    ("keys.yaml", f"keys:\n  - id: {LIVE_TOKEN}\n    scopes: []\n", 2),
    ("keys.yaml", f"keys:\n  - id: a\n    scopes: &{LIVE_TOKEN} []\n", 3),
])
def test_token_in_an_error_is_not_echoed(tmp_path: Path, name: str, content: str,
                                         line: int) -> None:
    path = write(tmp_path, name, content)
    proc = lint(path)
    assert_input_error(proc, f"{path}:{line}: ")
    assert_no_token(proc)


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_tokens_in_a_loadable_file_are_not_echoed(tmp_path: Path, fmt: str) -> None:
    path = write(tmp_path, "keys.yaml",
                 "keys:\n"
                 "  - id: a\n"
                 f"    name: CI {LIVE_TOKEN}\n"
                 f"    owner: {LIVE_TOKEN}@example.test\n"
                 f"    description: rotate {LIVE_TOKEN}\n"
                 f"    tags: ci {LIVE_TOKEN}\n"
                 f"    prefix: ' {LIVE_TOKEN}'\n"
                 f"    {LIVE_TOKEN}: unknown field\n"
                 f"    scopes: [issues:read, {LIVE_TOKEN}]\n"
                 "  - id: b\n"
                 f"    tags: [{LIVE_TOKEN}]\n"
                 f"    prefix: {LIVE_TOKEN}\n"
                 "    scopes: [works:read]\n")
    proc = lint(path, "--format", fmt, "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "unknown field" in proc.stderr  # the warning is there, redacted
    assert_no_token(proc)
    if fmt == "json":
        report = json.loads(proc.stdout)
        assert any(f["rule"] == "SA210" for f in report["findings"])


# --------------------------------------------------------------------------------------------
# Files that must load
# --------------------------------------------------------------------------------------------


def test_csv_with_bom_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "keys.csv",
                 b"\xef\xbb\xbfid,scopes,owner,expires\r\nk1,issues:read;works:read,ops,2099-01-01\r\n")
    proc = lint(path, "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert [k["id"] for k in report["keys"]] == ["k1"]
    assert report["keys"][0]["location"]["line"] == 2


def test_unknown_field_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    path = write(tmp_path, "keys.yaml",
                 "keys:\n"                      # 1
                 "  - id: a\n"                  # 2
                 "    colour: red\n"            # 3
                 "    scopes: [issues:read]\n")  # 4
    proc = lint(path, "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    assert f"scopeaudit: warning: {path}:3: unknown field 'colour' ignored" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_numeric_id_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "keys.yaml", "keys:\n  - id: 007\n    scopes: [issues:read]\n")
    proc = lint(path, "--format", "json", "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    assert [k["id"] for k in json.loads(proc.stdout)["keys"]] == ["007"]


# --------------------------------------------------------------------------------------------
# Whatever the bytes, the loaders answer with keys or one InputError, never a crash
# --------------------------------------------------------------------------------------------

_SNIPPETS = ["keys:", "\n", "  ", "- ", "id: ", "scopes: ", "[", "]", "{", "}", ",", ":", '"',
             "'", "&a ", "*a", "!!int ", "<<: ", "#", "\t", "007", "2026-02-30", "0x_", "~",
             "\r", "\x00", "\u2028", "\\ud800", LIVE_TOKEN, "issues:read", ";", "é"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_SNIPPETS), max_size=40).map("".join),
       st.sampled_from(list(KeysFormat)))
def test_any_input_gives_keys_or_one_input_error(text: str, fmt: KeysFormat) -> None:
    error: InputError | None = None
    try:
        parse_inventory(text.encode("utf-8"), "f", fmt, Diagnostics())
    except InputError as exc:  # anything else fails the test
        error = exc
    if error is not None:
        assert "\n" not in str(error)
        assert TOKEN_TAIL not in str(error)
        assert error.line is not None
        assert error.line >= 1
