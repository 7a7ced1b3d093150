"""The concise view, ruff's style: one line per finding, ``file:line: SA102 [high] message``.

For editors, grep and CI logs: a location a terminal or an editor can jump to, then the rule,
severity and message. Baselined and suppressed findings keep their mark at the end of the
line. Nothing else is printed: no finding, no output.
"""

from __future__ import annotations

from scopeaudit.model import Audit
from scopeaudit.render import RenderOptions
from scopeaudit.render.text import show_invisible


def render_concise(audit: Audit, options: RenderOptions) -> str:
    lines = [
        show_invisible(f"{f.location.file}:{f.location.line}: {f.rule} [{f.severity.value}] "
                       f"{f.message}" + (f" [{f.status}]" if f.status else ""))
        for f in audit.findings
    ]
    return "".join(line + "\n" for line in lines)
