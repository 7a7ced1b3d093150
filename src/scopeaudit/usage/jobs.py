"""How reading is divided: the default number of workers, and the size below which a file
is read whole. Kept apart from engine/stream.py so that a run which reads nothing with the
streaming engine's worker processes does not import them."""

from __future__ import annotations

import os

# Below this size a file is read whole: splitting it would cost more than it saves.
SPLIT_MIN_BYTES = 32 << 20


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
