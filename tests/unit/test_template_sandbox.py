"""Custom report templates (--template-dir) run in a sandbox, and come only from the command
line or the environment: never from a configuration file, which a pull request can edit.

Each payload is written as ``report.md.j2`` (the Markdown report, context ``view``) and
rendered by `scopeaudit lint --format markdown`; the expected messages are written from
what each limit says, not copied from a run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scopeaudit.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_KEYS = str(ROOT / "examples" / "keys.yaml")
# What the environment of a CI run holds, and a template must never reach
SECRETS = {"INSPAC_API_KEY": "inspac-secret-0123456789",
           "SCOPEAUDIT_HTTP_TOKEN": "http-token-secret-9876543210"}


def render(capsys: pytest.CaptureFixture[str], template_dir: Path, *extra: str
           ) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["lint", "--no-config", "--keys", EXAMPLE_KEYS, "--as-of", "2026-11-27",
              "--format", "markdown", "--template-dir", str(template_dir), "--fail-on",
              "never", *extra])
    out, err = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 0), out, err


@pytest.fixture
def secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def write(tmp_path: Path, template: str) -> Path:
    folder = tmp_path / "tpl"
    folder.mkdir(exist_ok=True)
    (folder / "report.md.j2").write_text(template, encoding="utf-8")
    return folder


def assert_refused(code: int, out: str, err: str, folder: Path, message: str) -> None:
    """Exit 2, nothing on stdout, and one error line naming the template file and line."""
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    assert err.startswith(f"scopeaudit: error: {folder / 'report.md.j2'}:"), err
    assert message in err, err
    for value in SECRETS.values():
        assert value not in err


# -- no code execution, no classes, no environment --------------------------------------

MARK = "sandbox-escaped"


@pytest.mark.parametrize(("template", "message"), [
    # the payloads: Jinja's default globals reach the os module
    ('{{ lipsum.__globals__["os"].system("touch ' + MARK + '") }}', "'lipsum' is undefined"),
    ('{{ cycler.__init__.__globals__.os.system("touch ' + MARK + '") }}',
     "'__init__' of 'StrictUndefined'"),
    ('{{ joiner.__init__.__globals__.os.system("touch ' + MARK + '") }}',
     "'__init__' of 'StrictUndefined'"),
    ('{{ namespace.__init__.__globals__.os.system("touch ' + MARK + '") }}',
     "'__init__' of 'StrictUndefined'"),
    # ... and so do the functions the sandbox leaves, through underscore attributes
    ('{{ range.__func__.__globals__ }}', "'__func__'"),
    ('{{ range.__self__ }}', "'__self__'"),
    ("{{ self.__init__.__globals__ }}", "'__init__'"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "'__class__'"),
    ("{{ view.__class__.__init__.__globals__ }}", "is unsafe"),
    ('{{ view|attr("__class__") }}', "'__class__'"),
    ("{{ view.findings.__class__ }}", "'__class__'"),
    # the environment variables, by every road there was
    ('{{ lipsum.__globals__["os"].environ }}', "'lipsum' is undefined"),
    ("{{ config }}", "'config' is undefined"),
    # a list may be read, not changed
    ("{{ view.findings.append(1) }}", "'append'"),
    ('{{ dict(a=1) }}', "'dict' is undefined"),
])
def test_template_cannot_run_code_or_reach_the_environment(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        secrets_in_env: None, template: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    folder = write(tmp_path, template)
    code, out, err = render(capsys, folder)
    assert_refused(code, out, err, folder, message)
    assert not (tmp_path / MARK).exists(), "the template ran a shell command"


def test_include_cannot_leave_the_template_folder(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path, secrets_in_env: None) -> None:
    # a link out of the folder, to a file holding a secret, or to the process's environment
    outside = tmp_path / "secret.txt"
    outside.write_text(SECRETS["INSPAC_API_KEY"], encoding="utf-8")
    folder = write(tmp_path, '{% include "leak.j2" %}')
    (folder / "leak.j2").symlink_to(outside)
    code, out, err = render(capsys, folder)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err == (f"scopeaudit: error: {folder / 'leak.j2'}: template 'leak.j2' is a link out "
                   "of the template folder\n")
    if Path("/proc/self/environ").exists():
        (folder / "leak.j2").unlink()
        (folder / "leak.j2").symlink_to("/proc/self/environ")
        code, out, err = render(capsys, folder)
        assert code == 2 and "is a link out of the template folder" in err
        assert all(value not in out + err for value in SECRETS.values())


def test_include_inside_the_folder_still_works(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    folder = write(tmp_path, '{% include "part.j2" %}|{{ view.verdict.level|md }}')
    (folder / "part.j2").write_text("{{ view.findings|length }} findings")
    code, out, err = render(capsys, folder)
    assert code == 0, err
    # examples/keys.yaml: 11 lint findings, 3 of them high (tests/golden/example-lint.md)
    assert out == "11 findings|action"


# -- bounded: loops, sizes, output ------------------------------------------------------

@pytest.mark.parametrize(("template", "message"), [
    # the payload: 1.8 GB before the sandbox
    ("{% for i in range(10**9) %}{{ i }}{% endfor %}",
     "template error: range() of 1,000,000,000 items (the limit is 100,000)"),
    ("{{ range(10**9)|length }}", "range() of 1,000,000,000 items"),
    # 10**10 iterations of nothing: the steps budget, not the clock, stops it
    ("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
     "the template took more than 5,000,000 steps"),
    ('{{ "x" * 10**9 }}', "repeating a value 1,000,000,000 times"),
    ('{{ ["x"] * 10**9 }}', "repeating a value 1,000,000,000 times"),
    ("{{ 2 ** (10 ** 9) }}", "a power of more than 65,536 bits"),
    ("{% set n = 2 ** 60000 %}{{ n * n }}", "a number of more than 65,536 bits"),
    ('{{ "%0999999999d"|format(1) }}', "a format width of 999,999,999"),
    ('{{ "%0999999999d" % 1 }}', "a format width of 999,999,999"),
    ('{{ "%*d" % (10**9, 1) }}', "a '*' width in a format string"),
    ('{{ "{:>999999999}".format(1) }}', "a format width of 999,999,999"),
    ('{{ "{:>{}}".format(1, 10**9) }}', "a nested width in a format string"),
    ('{{ "x".ljust(10**9) }}', "str.ljust() to 1,000,000,000"),
    ('{{ "x".zfill(10**9) }}', "str.zfill() to 1,000,000,000"),
    ('{{ "x"|center(10**9) }}', "center() to 1,000,000,000"),
    ('{{ "x"|indent(10**9) }}', "an indent of 1,000,000,000"),
    ('{{ ("x" * 100000)|replace("", "y" * 10000) }}', "a replace() making more than"),
    ('{{ ("x" * 100000).replace("", "y" * 10000) }}', "a replace() making more than"),
    ('{{ (["x" * 1000000] * 1000)|join }}', "a join() making more than"),
    ('{{ "".join(["x" * 1000000] * 1000) }}', "a join() making more than"),
    ('{{ view|tojson(indent=10**9) }}', "tojson(indent=1,000,000,000)"),
    # ~ is not an operator the sandbox intercepts: 1 MB, 4, 16, 64, then 256 MB
    ('{% set s = "x" * 1000000 %}{% set s = s ~ s ~ s ~ s %}{% set s = s ~ s ~ s ~ s %}'
     "{% set s = s ~ s ~ s ~ s %}{% set s = s ~ s ~ s ~ s %}{{ s|length }}",
     "a value of 256,000,000 characters (the limit is 67,108,864)"),
    ('{% set s = "x" * 1000000 %}{% for i in range(100) %}{{ s }}{% endfor %}',
     "the output passed 67,108,864 characters"),
    ("{{ range(5)|random }}", "No filter named 'random'"),
])
def test_template_is_bounded(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                             template: str, message: str) -> None:
    folder = write(tmp_path, template)
    code, out, err = render(capsys, folder)
    assert_refused(code, out, err, folder, message)


def test_calls_count_as_steps(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    # a macro calling itself twice per level: 2**40 calls, no loop anywhere (the budget is
    # lowered so that the test does not spend five million calls finding out)
    from scopeaudit.render import sandbox

    monkeypatch.setattr(sandbox, "MAX_STEPS", 10_000)
    folder = write(tmp_path, "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}"
                             "{% endmacro %}{{ f(40) }}")
    code, out, err = render(capsys, folder)
    assert_refused(code, out, err, folder, "the template took more than 10,000 steps")


def test_a_template_that_stays_inside_the_limits_renders(capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    # the filters a template is given still work, Jinja's and the project's
    folder = write(tmp_path, (
        '{% for f in view.findings[:2] %}{{ loop.index }}. {{ f.rule }} {{ f.key|md }}\n'
        '{% endfor %}{{ range(3)|join(",") }} {{ "%05.1f"|format(2.25) }} '
        '{{ "{:>4}".format("ab") }} {{ "a-b"|replace("-", "+") }} {{ 2 ** 10 }} '
        '{{ "x" * 3 }} {{ ("a" ~ "b")|upper }} {{ 1234567|num }}\n'))
    code, out, err = render(capsys, folder)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("1. SA") and lines[1].startswith("2. SA")
    assert lines[2] == "0,1,2 002.2   ab a+b 1024 xxx AB 1,234,567"


# -- where --template-dir may come from --------------------------------------------------

def _lint(cwd: Path, *args: str, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SCOPEAUDIT_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "scopeaudit", "lint", "--keys", EXAMPLE_KEYS,
                           "--as-of", "2026-11-27", "--format", "markdown", "--fail-on",
                           "never", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("config_name", ["scopeaudit.toml", "pyproject.toml"])
def test_template_dir_is_refused_in_a_configuration_file(tmp_path: Path,
                                                         config_name: str) -> None:
    # the attack: a pull request adds template-dir and a template to the repository
    (tmp_path / ".git").mkdir()
    write(tmp_path, "{{ 7 * 6 }}")
    table = "[tool.scopeaudit]\n" if config_name == "pyproject.toml" else ""
    (tmp_path / config_name).write_text(f'{table}fail-on = "never"\ntemplate-dir = "tpl"\n')
    line = 3 if table else 2
    proc = _lint(tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    # the configuration named as found from the working directory (relative)
    assert proc.stderr == (
        f"scopeaudit: error: {config_name}:{line}: 'template-dir' cannot be set in "
        "a configuration file: it chooses the report templates, which are code run with the "
        "report; set it on the command line or in the environment "
        "(SCOPEAUDIT_TEMPLATE_DIR)\n")


def test_template_dir_from_the_flag_or_the_environment(tmp_path: Path) -> None:
    write(tmp_path, "{{ 7 * 6 }}\n")
    assert _lint(tmp_path, "--no-config", "--template-dir", "tpl").stdout == "42\n"
    proc = _lint(tmp_path, "--no-config", env={"SCOPEAUDIT_TEMPLATE_DIR": "tpl"})
    assert (proc.returncode, proc.stdout) == (0, "42\n")
