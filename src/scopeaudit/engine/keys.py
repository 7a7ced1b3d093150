"""The key definitions an engine resolves logged identities against: given, or still being
loaded beside the engine's work."""

from __future__ import annotations

from typing import Protocol

from scopeaudit.model import Key


class KeysLater(Protocol):
    """Key definitions still to be loaded (on a thread of their own): ``start`` begins
    loading them (once), ``failed`` says whether that ended in an error, calling waits for
    them (raising that error). The DuckDB engine starts its queries first and needs the keys
    only once they have run; a key file that fails stops the queries."""

    def start(self) -> None: ...

    def failed(self) -> bool: ...

    def __call__(self) -> tuple[Key, ...]: ...


Keys = tuple[Key, ...] | KeysLater


def key_list(keys: Keys) -> tuple[Key, ...]:
    """The key definitions, waiting for them if they are still being loaded."""
    return keys if isinstance(keys, tuple) else keys()
