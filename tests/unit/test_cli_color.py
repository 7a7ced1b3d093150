"""--color auto|always|never and NO_COLOR (issue #19 item 3)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from scopeaudit.cli.color import for_report, wanted
from support import run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_KEYS = str(ROOT / "examples" / "keys.yaml")


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_is_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert wanted("auto", Tty()) is True
    assert wanted("auto", io.StringIO()) is False
    assert wanted("never", Tty()) is False
    assert wanted("always", io.StringIO()) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert wanted("auto", Tty()) is False
    assert wanted("always", io.StringIO()) is True  # an explicit flag wins
    monkeypatch.setenv("NO_COLOR", "")  # set but empty: no effect (no-color.org)
    assert wanted("auto", Tty()) is True


def test_a_report_file_is_never_coloured_on_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr("sys.stdout", Tty())
    assert for_report("auto", None) is True
    assert for_report("auto", "report.txt") is False
    assert for_report("always", "report.txt") is True


@pytest.mark.parametrize(("flag", "expected"), [((), False), (("--color", "always"), True),
                                                 (("--color", "never"), False)])
def test_the_renderer_is_told(capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch, flag: tuple[str, ...],
                              expected: bool) -> None:
    import scopeaudit.render as render

    seen = []
    real = render.renderer_for

    def spy(fmt: render.OutputFormat) -> render.Renderer:
        inner = real(fmt)

        def wrapped(audit: object, options: render.RenderOptions) -> str:
            seen.append(options.color)
            return inner(audit, options)  # type: ignore[arg-type]
        return wrapped
    monkeypatch.setattr(render, "renderer_for", spy)
    run(capsys, "lint", "--keys", EXAMPLE_KEYS, "--no-config", *flag)
    assert seen == [expected]


def test_stderr_labels_coloured_only_when_asked(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    code, _, err = run(capsys, "lint", "--keys", "missing.yaml", "--no-config")
    assert code == 2 and "\x1b[" not in err and err.startswith("scopeaudit: error:")
    code, _, err = run(capsys, "lint", "--keys", "missing.yaml", "--no-config",
                       "--color", "always")
    assert code == 2 and err.startswith("\x1b[31m\x1b[1mscopeaudit: error:\x1b[0m")
    assert "missing.yaml" in err
