"""The Action and the README's workflows pass zizmor (offline), the linter the users of a
security tool run on their workflows (issue #19): actions pinned by SHA, no persisted
checkout credentials, no template expansion in `run:`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _zizmor() -> str | None:
    beside = Path(sys.executable).parent / "zizmor"  # the test extra installs it in the venv
    return str(beside) if beside.is_file() else shutil.which("zizmor")


def readme_workflows() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "\njobs:" in b]


def test_the_readme_has_workflows_to_check() -> None:
    workflows = readme_workflows()
    assert len(workflows) >= 2
    assert all("uses:" in w for w in workflows)


@pytest.mark.skipif(_zizmor() is None, reason="zizmor is not installed (the test extra)")
def test_zizmor_offline_finds_nothing(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    files = []
    for n, workflow in enumerate(readme_workflows()):
        path = folder / f"readme-{n}.yml"
        path.write_text(workflow, encoding="utf-8")
        files.append(str(path))
    zizmor = _zizmor()
    assert zizmor is not None
    proc = subprocess.run([zizmor, "--offline", "--no-progress", *files,
                           str(ROOT / "action.yml")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


def test_pins_are_full_shas_with_a_version_comment() -> None:
    texts = [*readme_workflows(), (ROOT / "action.yml").read_text(encoding="utf-8")]
    uses = [u for t in texts for u in re.findall(r"uses:\s*(\S+.*)", t)]
    assert uses
    for use in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*", use.strip()), use
