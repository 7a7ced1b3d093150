"""``scopeaudit split``: one key per client of a shared key (SA106).

A client is what usage.clients defines (user agent and network). Clients that call exactly
the same operations are one cluster (the same program from several networks or versions);
each cluster gets a key with the least scopes its operations need (minimal.minimal_cover),
drawn only from the shared key's grants: a split never grants new access. Where an
operation's alternatives are all outside the grants (the API refused it, or the catalog is
incomplete), or a request matched no operation, the cluster's key may lack a scope: said so.

A client whose identity is too weak to stand for one program (no user agent; no usable
address) is not clustered nor given a key: it is listed with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scopeaudit.catalog.model import Catalog
from scopeaudit.evidence import least_privileged
from scopeaudit.model import Audit, ClientSummary, Key, KeyVerdict
from scopeaudit.remediate.minimal import minimal_cover
from scopeaudit.rules.usage_rules import SHARED_KEY
from scopeaudit.secrets import redact
from scopeaudit.usage.semantics import UNMATCHED_PREFIX

_PRODUCT_RE = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class Cluster:
    key_id: str  # the proposed key's id
    clients: tuple[ClientSummary, ...]
    operations: tuple[str, ...]
    scopes: tuple[tuple[str, tuple[str, ...]], ...]  # scope -> operations needing it
    exact: bool
    gaps: tuple[str, ...]  # operations the proposed scopes may not cover, with why

    @property
    def requests(self) -> int:
        return sum(c.requests for c in self.clients)


@dataclass(frozen=True)
class Weak:
    client: ClientSummary
    why: str


@dataclass(frozen=True)
class Split:
    key: Key
    clusters: tuple[Cluster, ...]
    weak: tuple[Weak, ...]
    unlisted: bool  # the key had more clients than the audit lists


def weakness(client: str) -> str | None:
    """Why a client's identity cannot stand for one program, or None."""
    agent, _, network = client.rpartition(" @ ")
    if agent in ("", "-"):
        return (f"no user agent: the requests from {network} may come from several programs "
                "behind one network")
    if network in ("-", "?"):
        return "no usable client address: only the user agent tells it apart"
    return None


def split_key(key: Key, verdict: KeyVerdict, catalog: Catalog) -> Split:
    ops = {op.id: op for op in catalog.operations}
    granted = frozenset(key.granted)
    weak: list[Weak] = []
    groups: dict[tuple[str, ...], list[ClientSummary]] = {}
    for client in verdict.clients:
        why = weakness(client.client)
        if why is not None:
            weak.append(Weak(client, why))
            continue
        called = tuple(sorted(op for op, _ in client.operations))
        groups.setdefault(called, []).append(client)
    clusters: list[Cluster] = []
    taken: set[str] = set()
    ordered = sorted(groups.items(), key=lambda g: (-sum(c.requests for c in g[1]),
                                                    g[1][0].client))
    for called, members in ordered:
        reqs, gaps, named = [], [], []
        for op_id in called:
            op = ops.get(op_id)
            if op is None:
                shown = op_id.removeprefix(UNMATCHED_PREFIX)
                gaps.append(f"{shown}: matches no catalog operation")
                continue
            held = tuple(alt for alt in op.requires if alt <= granted)
            if op.requires and not held:
                needs = " or ".join("+".join(sorted(a)) for a in op.requires)
                gaps.append(f"{op_id}: needs {needs}, which the shared key does not hold")
                continue
            reqs.append(held)
            named.append(op)
        cover = minimal_cover(reqs, catalog)
        needed: dict[str, list[str]] = {s: [] for s in sorted(cover.scopes)}
        for op in named:
            alts = [alt for alt in op.requires if alt <= cover.scopes]
            for scope in sorted(least_privileged(alts, catalog) if alts else ()):
                needed[scope].append(op.id)
        clusters.append(Cluster(_key_id(key.id, members[0].client, taken), tuple(members),
                                called, tuple((s, tuple(o)) for s, o in needed.items()),
                                cover.exact, tuple(gaps)))
    more = verdict.client_count is not None and verdict.client_count.more
    return Split(key, tuple(clusters), tuple(weak), more)


def _key_id(base: str, client: str, taken: set[str]) -> str:
    """``<key>_<product>``: the product is the user agent's first word (``okhttp``)."""
    agent = client.rpartition(" @ ")[0]
    words = _PRODUCT_RE.findall(agent.split("/", 1)[0])
    stem = f"{base}_{'_'.join(words).lower() or 'client'}"
    name, n = stem, 2
    while name in taken:
        name, n = f"{stem}_{n}", n + 1
    taken.add(name)
    return name


def shared_keys(audit: Audit, only: tuple[str, ...]) -> list[tuple[Key, KeyVerdict]]:
    """The keys to split: those named, else every key with an SA106 finding."""
    wanted = set(only) or {f.key for f in audit.findings if f.rule == SHARED_KEY.id and f.key}
    verdicts = {v.key_id: v for v in audit.verdicts}
    return [(k, verdicts[k.id]) for k in audit.keys if k.id in wanted and k.id in verdicts]


def render_split(splits: list[Split]) -> str:
    """Per shared key: a keys-as-code snippet (one key per cluster, a comment per scope
    naming the operations that need it) and a table of its clients."""
    from scopeaudit.render.markdown import md

    out: list[str] = []
    for s in splits:
        key = s.key
        out.append(f"## {md(key.id)} ({md(key.location)}): {len(s.clusters)} proposed key(s) "
                   f"for {sum(len(c.clients) for c in s.clusters)} client(s)")
        out.append("")
        if s.clusters:
            out += ["```yaml", "keys:"]
            for c in s.clusters:
                name = redact(f"{key.name or key.id} ({_agent(c.clients[0])})")
                out += [f"  - id: {c.key_id}", f"    name: {_quoted(name)}"]
                if key.owner:
                    out.append(f"    owner: {_quoted(key.owner)}")
                out.append("    scopes:" if c.scopes else "    scopes: []")
                width = max((len(sc) for sc, _ in c.scopes), default=0)
                out += [f"      - {sc.ljust(width)}  # {', '.join(ops)}" for sc, ops in c.scopes]
                out += [f"    # may need more: {redact(g)}" for g in c.gaps]
                if not c.exact:
                    out.append("    # best found, not proved minimal (the search hit its limit)")
            out += ["```", ""]
        out += ["| client | requests | operations | proposed key |", "|---|---:|---|---|"]
        for c in s.clusters:
            for client in c.clients:
                out.append(f"| {md(client.client)} | {client.requests:,} | "
                           f"{md(', '.join(c.operations))} | {md(c.key_id)} |")
        for w in s.weak:
            out.append(f"| {md(w.client.client)} | {w.client.requests:,} | "
                       f"{md(', '.join(op for op, _ in w.client.operations))} | "
                       f"none: {md(w.why)} |")
        out.append("")
        if s.unlisted:
            out += ["The key had more clients than the audit lists; the rest are not in "
                    "this split.", ""]
        if len(s.clusters) < 2 and not s.weak:
            out += ["Nothing to split: its clients call the same operations.", ""]
    if not splits:
        out.append("No shared key (SA106) to split.")
    return "\n".join(out).rstrip("\n") + "\n"


def _agent(client: ClientSummary) -> str:
    return client.client.rpartition(" @ ")[0]


def _quoted(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
