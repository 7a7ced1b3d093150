"""The actions a report opens with: what to do, key by key, the riskiest first.

One list for every report that has one (HTML, Markdown, the terminal table), built from the
verdicts as they stand; nothing is re-judged here:

* **revoke** a key that made no accepted request in the window and whose every granted scope
  is a removal above low confidence (the same case SA101 reports);
* **remove** scopes from a key, one line per confidence level and basis;
* **watch** removals of low confidence: deferred (SA108), never presented as advice to act
  on now, and listed apart from the actions.

Risk is the over-privilege the action takes away (write scopes weigh 3, reads 1: the weights
of :mod:`scopeaudit.drift`), then the confidence, then the key id, so the order is stable.
"""

from __future__ import annotations

from dataclasses import dataclass

from scopeaudit.catalog.model import Scope
from scopeaudit.drift import over_privilege
from scopeaudit.model import Audit, Key

REVOKE = "revoke"
REMOVE = "remove"
WATCH = "watch"  # a deferred removal's own name, in every report

_LEVEL_RANK = {"high": 2, "medium": 1}


@dataclass(frozen=True)
class Action:
    kind: str  # REVOKE | REMOVE | WATCH
    key_id: str
    key_name: str  # "" when the definition gives none
    scopes: tuple[str, ...]
    writes: int  # how many of ``scopes`` are write scopes
    level: str  # confidence: high | medium | low (watch) | unknown
    basis: str
    risk: int  # over-privilege taken away: write 3, read 1

    @property
    def deferred(self) -> bool:
        return self.kind == WATCH

    @property
    def count(self) -> str:
        """"26 scopes, 13 write"."""
        return f"{len(self.scopes)} scope{'' if len(self.scopes) == 1 else 's'}" + (
            f", {self.writes} write" if self.writes else "")

    def headline(self) -> str:
        """The action in words, without its basis: "revoke key K: ... (26 scopes, 13 write)"."""
        count = self.count
        if self.kind == REVOKE:
            return f"revoke key {self.key_id}: no accepted request in the window ({count})"
        scopes = ", ".join(self.scopes)
        if self.kind == REMOVE:
            return f"remove {scopes} from key {self.key_id} ({count})"
        return f"watch {scopes} on key {self.key_id} ({count}): unused, not yet recommended"


@dataclass(frozen=True)
class Actions:
    actions: tuple[Action, ...]  # revoke and remove, riskiest first
    watch: tuple[Action, ...]  # deferred removals, riskiest first

    def __bool__(self) -> bool:
        return bool(self.actions or self.watch)


def _order(action: Action) -> tuple[int, int, int, str]:
    return (-action.risk, -_LEVEL_RANK.get(action.level, 0), 0 if action.kind == REVOKE else 1,
            action.key_id)


def _action(kind: str, key: Key | None, key_id: str, scopes: tuple[str, ...], level: str,
            basis: str) -> Action:
    return Action(kind, key_id, (key.name or "") if key is not None else "", scopes,
                  sum(1 for s in scopes if Scope(s).is_write), level, basis,
                  over_privilege(scopes))


def build_actions(audit: Audit) -> Actions:
    """The actions of an audit (empty in lint mode: without logs nothing is to remove)."""
    keys: dict[str, Key] = {}
    for k in audit.keys:
        keys.setdefault(k.id, k)  # a duplicated id (SA209): the first definition
    actions: list[Action] = []
    watch: list[Action] = []
    for v in audit.verdicts:
        key = keys.get(v.key_id)
        groups = v.removals_by_confidence()
        firm = [s for conf, scopes in groups if not conf.deferred for s in scopes]
        if (key is not None and key.granted and v.accepted == 0
                and set(key.granted) <= set(firm)):
            # the weakest confidence speaks for the whole key, as SA101 judges it
            weakest = min((conf for conf, _ in groups if not conf.deferred),
                          key=lambda c: _LEVEL_RANK.get(c.level, 0))
            actions.append(_action(REVOKE, key, v.key_id, tuple(dict.fromkeys(key.granted)),
                                   weakest.level, weakest.basis))
            groups = tuple((conf, scopes) for conf, scopes in groups if conf.deferred)
        for conf, scopes in groups:
            (watch if conf.deferred else actions).append(
                _action(WATCH if conf.deferred else REMOVE, key, v.key_id, scopes,
                        conf.level, conf.basis))
    return Actions(tuple(sorted(actions, key=_order)), tuple(sorted(watch, key=_order)))
