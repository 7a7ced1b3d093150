"""The rule registry: every rule's id, name, default severity and documentation, once.

The CLI's ``rules`` and ``explain``, the README's rules table and (later) SARIF rule
descriptions and the HTML method section all read from here. Each rule's documentation has
the same four parts: what it does, why it matters, an example, and the remediation.
"""

from __future__ import annotations

from dataclasses import dataclass

from scopeaudit.model import Severity


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str
    what: str
    why: str
    example: str
    remediation: str
    family: str

    def explain(self) -> str:
        return (
            f"{self.id} {self.name} (default severity: {self.severity.value})\n\n"
            f"{self.summary}\n\n"
            f"What it does\n{self.what}\n\n"
            f"Why it matters\n{self.why}\n\n"
            f"Example\n{self.example}\n\n"
            f"Remediation\n{self.remediation}\n"
        )


INVENTORY = "inventory"

_RULES = (
    Rule(
        "SA201", "unknown-scope", Severity.HIGH,
        "A key grants a scope the catalog does not know.",
        "Compares every granted scope with the catalog's scopes and suggests the closest known "
        "name.",
        "A misspelt scope grants nothing, so the integration silently lacks the access its "
        "owner meant to give, and the key file no longer says what the key can do.",
        "scopes: [isues:read]   ->  did you mean 'issues:read'?",
        "Correct the spelling, or remove the entry if the scope was meant to be dropped.",
        INVENTORY,
    ),
    Rule(
        "SA202", "duplicate-scope", Severity.LOW,
        "A key lists the same scope more than once.",
        "Reports each scope that appears twice or more in one key's list.",
        "Harmless to access, but a sign the list is edited by hand without review; it also "
        "hides the real size of the grant from a reader.",
        "scopes: [issues:read, works:read, issues:read]",
        "Keep one entry per scope.",
        INVENTORY,
    ),
    Rule(
        "SA203", "broad-key", Severity.MEDIUM,
        "A key holds many scopes (medium), or every write scope of the catalog (high).",
        "Counts the distinct known scopes a key grants: at or above the threshold (default 10) "
        "it is medium; holding every write scope of the catalog makes it high.",
        "A broad key is one leaked token away from full write access to the organisation's "
        "data; the insp.ac guidance is one narrowly scoped key per integration.",
        "A 'platform' key with all 26 scopes.",
        "Split the key by integration and give each only the scopes it uses; `scopeaudit audit` "
        "shows which scopes are exercised.",
        INVENTORY,
    ),
    Rule(
        "SA204", "write-scope-on-read-only-key", Severity.HIGH,
        "A key whose name or tags say it is for reporting holds a write scope.",
        "Looks for the words report, reporting, analytics, bi, dashboard, export, read-only or "
        "readonly in a key's name and tags, and reports each write scope such a key holds.",
        "Reporting and export keys are read-only by nature (the insp.ac guidance: read-only "
        "scopes for reporting); a write scope on one is unneeded power in a token that is often "
        "copied into BI tools and spreadsheets.",
        "name: BI export, scopes: [issues:read, issues:write]",
        "Remove the write scopes, or rename the key if it really writes.",
        INVENTORY,
    ),
    Rule(
        "SA205", "missing-owner", Severity.LOW,
        "A key has no owner.",
        "Reports keys without an `owner` field.",
        "Nobody can be asked whether an unowned key is still needed, so it is never narrowed "
        "or revoked.",
        "- id: key_9f2\n  scopes: [sites:read]",
        "Add `owner:` with a team or person who answers for the key.",
        INVENTORY,
    ),
    Rule(
        "SA206", "no-expiry", Severity.MEDIUM,
        "A key has no expiration date.",
        "Reports keys without an `expires` date.",
        "A key without expiry lives until someone remembers to revoke it; insp.ac keys support "
        "an optional expiration date.",
        "- id: key_9f2\n  scopes: [sites:read]   # no expires:",
        "Set `expires:` and rotate the key before it.",
        INVENTORY,
    ),
    Rule(
        "SA207", "expired-key", Severity.MEDIUM,
        "A key's expiration date has passed.",
        "Reports keys whose `expires` date is before the audit date (today, or --as-of).",
        "Either the definition is stale (the key was rotated and the file not updated) or an "
        "integration is about to fail; both need a person to look.",
        "expires: 2025-01-31   (audited on 2026-11-27)",
        "Remove the definition if the key is gone, or rotate the key and update the date.",
        INVENTORY,
    ),
    Rule(
        "SA208", "rotation-overdue", Severity.MEDIUM,
        "A key was created longer ago than the rotation period (default 365 days).",
        "Compares `created` with the audit date.",
        "The longer a token lives, the more places it has been copied to; regular rotation "
        "bounds the damage of an unnoticed leak.",
        "created: 2024-03-01   (audited on 2026-11-27)",
        "Create a new key for the integration, switch it over, and revoke the old one.",
        INVENTORY,
    ),
    Rule(
        "SA209", "duplicate-key", Severity.HIGH,
        "The same key is defined twice (same id, or same token fingerprint).",
        "Reports every key id, and every `sha256` fingerprint, that appears in more than one "
        "definition.",
        "Two definitions of one key can disagree on its scopes; whichever a reader trusts, the "
        "other is wrong, and usage cannot be attributed to one of them.",
        "- id: key_1 ... \n- id: key_1 ...",
        "Merge the definitions into one.",
        INVENTORY,
    ),
    Rule(
        "SA210", "secret-in-definitions", Severity.CRITICAL,
        "A full token (sk_live_… or sk_test_…) is written in the key file.",
        "Scans the raw text of the key file for `sk_live_` or `sk_test_` followed by 16 or "
        "more characters. The finding names the line and the token's SHA-256 fingerprint, "
        "never the token.",
        "A key file is committed, reviewed and copied; a token in it is a leaked token. A "
        "short `prefix:` matcher such as `sk_live_7Hq2` is not a secret and is not reported.",
        "- id: key_1\n  prefix: sk_live_…   # the whole 24-character secret pasted here",
        "Revoke the token in the insp.ac dashboard now, issue a new one, and keep only a "
        "`prefix`, `last4` or `sha256` matcher in the file.",
        INVENTORY,
    ),
    Rule(
        "SA213", "catch-all-prefix", Severity.HIGH,
        "A key's `prefix` matcher is no longer than the part every token shares (`sk_live_`, "
        "`sk_test_`), so it would match every token.",
        "Reports each `prefix` that is `sk_live_` or `sk_test_` or a beginning of one "
        "(`sk_live`, `sk_`). The audit does not use such a matcher: requests are matched to "
        "the key by its other matchers only.",
        "A prefix that every token starts with would attribute every other key's requests to "
        "this key: unmanaged keys would vanish from the report (no SA303) and the key would "
        "look busier than it is.",
        "- id: key_sync\n  prefix: sk_live_   # every live token starts so",
        "Write the key's own token prefix (`sk_live_` and the next few characters, as the "
        "insp.ac dashboard shows them), its `last4`, or better its `sha256`.",
        INVENTORY,
    ),
)

PROBE = "probe"

_PROBE_RULES = (
    Rule(
        "SA211", "declared-scope-not-granted", Severity.MEDIUM,
        "`scopeaudit probe`: a read scope the key's definition grants is refused by the live "
        "API (403).",
        "Compares `scopeaudit probe --keys FILE --key-id ID` with the definition: each read "
        "scope the definition lists whose side-effect-free probe request was answered 403 "
        "FORBIDDEN. The finding points at the line that grants the scope.",
        "The key file no longer says what the key can do: the scope was removed in the "
        "dashboard (or never granted), and whoever reads the file is misled; an integration "
        "that needs the scope is broken.",
        "key_bi_export declares works:read; GET /v1/works?limit=1 -> 403 FORBIDDEN",
        "If the scope is no longer needed, remove it from the definition; if it is, grant it "
        "in the insp.ac dashboard.",
        PROBE,
    ),
    Rule(
        "SA212", "undeclared-grant", Severity.HIGH,
        "`scopeaudit probe`: the live key holds a read scope its definition does not grant.",
        "Compares `scopeaudit probe --keys FILE --key-id ID` with the definition: each read "
        "scope whose probe request was accepted (2xx, or 404 on a documented route) but that "
        "the definition does not list. The finding points at the key's definition.",
        "The dashboard grants more than the keys-as-code says: reviews, lint and audits of "
        "the file all judge a key narrower than the real one, and the extra access is "
        "unreviewed.",
        "key_bi_export's definition lists issues:read only; GET /v1/users?limit=1 -> 200",
        "Remove the scope from the key in the insp.ac dashboard, or, if it is needed, add it "
        "to the definition so that it is reviewed like the rest.",
        PROBE,
    ),
)

USAGE = "usage"
LOGS = "logs"

_USAGE_RULES = (
    Rule(
        "SA101", "unused-key", Severity.MEDIUM,
        "A key made no accepted request in the window (high when it holds a write scope).",
        "Looks for defined keys with no request in the window that was not refused (401/403). "
        "Such a key gets this one finding, not one per scope. The removal's confidence says how "
        "long the key existed and how much of the window the logs cover.",
        "An unused key is pure risk: it grants access nobody exercises, and its token may sit in "
        "an old deployment or a laptop. Keys with write scopes are the worst case.",
        "key_legacy_sync: 0 requests in 90 days (logs cover 90 of 90 days)",
        "Confirm with the owner, then revoke the key in the insp.ac dashboard. If the key is for "
        "a job that runs less often than the window, audit with a longer --since.",
        USAGE,
    ),
    Rule(
        "SA102", "unused-scope", Severity.MEDIUM,
        "A granted scope was never exercised in the window (high for a write scope).",
        "For each granted scope in state 'unused' (no accepted request to an operation needing "
        "it, and no unmatched request on its resource), with removal confidence medium or high.",
        "Every unused scope widens what a leaked token can do without helping the integration. "
        "Write scopes matter most: they can change or destroy data.",
        "key_bi_export grants issues:write; 0 of its 41,822 requests needed it.",
        "Remove the scope from the key (the recommended set is in the report; the replay check "
        "shows that no request of the window would have been refused).",
        USAGE,
    ),
    Rule(
        "SA104", "denied-requests", Severity.MEDIUM,
        "A key's requests were refused for a missing scope (403); high when the refusals span "
        "3 or more scopes.",
        "Collects, per key, the operations refused with 403 FORBIDDEN and the scope each needs.",
        "A 403 is permanent for a key configuration: either the integration is broken, or "
        "someone is probing what the key can do. Refusals across many scopes look like probing.",
        "key_mobile_backend: 1,204 refused requests to PATCH /v1/sites/{id} (needs sites:write)",
        "If the integration needs the operation, grant the scope it names; if not, find out why "
        "the client calls it. A probing pattern calls for rotating the key.",
        USAGE,
    ),
    Rule(
        "SA105", "revoked-key-in-use", Severity.MEDIUM,
        "Requests attributed to a defined key were refused as unauthenticated (401).",
        "Counts 401 responses for requests attributed to a key in the inventory.",
        "A 401 means the key is missing, invalid or revoked; a client still sending it is broken, "
        "or holds an old token it should not have.",
        "key_hr_sync: 310 requests answered 401 between 2026-10-02 and 2026-11-27",
        "Find the client (see the key's clients) and update or remove it; if the key should be "
        "live, check that its definition is not stale.",
        USAGE,
    ),
    Rule(
        "SA106", "shared-key", Severity.MEDIUM,
        "A key is used by 3 or more distinct clients (threshold configurable).",
        "Counts distinct clients (user agent and /24 or /64 network) per key in the window, and "
        "lists what each used.",
        "One key per integration is the insp.ac guidance: a shared key cannot be narrowed for one "
        "client without breaking another, and a leak cannot be traced to one place.",
        "key_mobile_backend used by 'okhttp/4.12 @ 198.51.100.0/24', 'curl/8.10 @ 203.0.113.0/24' "
        "and 'python-requests/2.32 @ 192.0.2.0/24'",
        "Issue one key per client, each with the scopes that client used (listed in the "
        "evidence), and revoke the shared key.",
        USAGE,
    ),
    Rule(
        "SA107", "rarely-used-scope", Severity.INFO,
        "A scope was exercised on only 1 or 2 distinct days of the window.",
        "Reports used scopes whose accepted requests fall on at most two days.",
        "Rare use is still use: the scope is kept, but a monthly job or a one-off backfill is "
        "worth knowing about before anyone narrows the key by hand.",
        "key_bi_export used runs:read on 2 days (2026-10-01, 2026-11-01)",
        "Nothing to do unless the use was a one-off; then remove the scope after confirming.",
        USAGE,
    ),
    Rule(
        "SA108", "insufficient-evidence", Severity.INFO,
        "A removal was deferred because the evidence is too thin.",
        "When a scope (or a whole key) looks unused but the key existed for only part of the "
        "window, the logs cover too little of it, or the key was active on too few days, the "
        "removal confidence is low and this finding replaces SA101/SA102.",
        "A wrong 'remove this scope' breaks a production integration; a verdict on 12 days of "
        "logs for a weekly job is not evidence.",
        "key_inspections: created 2026-11-10, observed 17 days; removal of sites:read deferred",
        "Audit again when the key has a full window of logs, or supply the missing log days.",
        USAGE,
    ),
    Rule(
        "SA301", "secret-in-logs", Severity.CRITICAL,
        "A raw token (or Bearer value) appears in the request logs.",
        "Any record whose key field, Authorization value, query string or other field holds a "
        "full token. The finding names the log file and lines; the token is fingerprinted on "
        "read and never kept, printed or rendered.",
        "Logs are copied to many systems with wide read access; a token in a log is a leaked "
        "token.",
        "access.log.gz lines 18211, 90112: a token in the query string (?api_key=…)",
        "Rotate the affected key now, then fix the logging (log a key id or fingerprint, redact "
        "the Authorization header and credential query parameters).",
        LOGS,
    ),
    Rule(
        "SA302", "unmapped-requests", Severity.LOW,
        "A key sent requests that match no catalog operation.",
        "Lists, per key, the request shapes (method and path with identifiers generalised) "
        "that no operation describes, with counts. Scopes of the resource such requests touch "
        "are marked 'unknown' and never recommended for removal.",
        "An unmatched request could need any scope of its resource: the catalog is incomplete "
        "there, and verdicts about that resource are withheld.",
        "key_bi_export: GET /v1/issues/export (1,320 requests)",
        "Add the operation to a catalog file (`scopeaudit catalog --format json`, edit, "
        "`--catalog`), or check the client for a wrong path.",
        LOGS,
    ),
    Rule(
        "SA303", "unknown-key", Severity.HIGH,
        "A key seen in the logs is not in the key definitions: an unmanaged key.",
        "Reports each key identity in the logs that no definition matches by id, name, prefix, "
        "last4 or fingerprint.",
        "A key nobody declared is a key nobody reviews, rotates or narrows.",
        "key_contractor_2024 made 5,120 requests; no definition names it",
        "Add the key to the inventory with an owner, or revoke it.",
        LOGS,
    ),
    Rule(
        "SA304", "unattributed-requests", Severity.MEDIUM,
        "An input's accepted requests name no key (over 1 % of them): no removal can be "
        "judged from it (high when its format has no key field at all).",
        "Counts, per input, the accepted requests in the window that no key can be "
        "attributed to. Past the threshold (--max-unattributed, default 1 % of the input's "
        "accepted requests) every removal is deferred (low confidence, SA108), and this "
        "finding leads the report. High when the input's layout has no key field at all (a "
        "log format without one, or records none of which names a key).",
        "'No request seen' means 'unused' only if the logs could have shown a request: a log "
        "that records no key shows no key's use, and every key would look unused in it.",
        "access.log: none of the 12,230 accepted requests can be attributed to a key (nginx "
        "combined has no key field)",
        "Log a key identity: --map key_id=... naming the field or variable that holds one, or "
        "an nginx log_format with $http_x_api_key or $http_authorization (tokens are "
        "fingerprinted on read, never kept). Then audit again.",
        LOGS,
    ),
    Rule(
        "SA305", "ambiguous-key-match", Severity.MEDIUM,
        "Requests matched several key definitions alike (a shared `last4`, `name`, `prefix` or "
        "`sha256`); medium while some could be any of theirs, low when dates told them apart.",
        "Groups the requests whose logged identity matches one matcher value that several "
        "definitions share, and splits them by day: a request on a day when only one of "
        "the keys existed (between its `created` and `expires`) is that key's; the rest are "
        "shared. Every scope shared requests used is kept on every candidate key, and their "
        "other removals are deferred (low confidence, SA108). The finding names the "
        "definitions' lines and how many requests each was given.",
        "Without it, requests matched by an ambiguous `last4` became an unknown key while both "
        "definitions looked unused, and a name shared by an expired key and its replacement "
        "gave every request to the expired one: the replacement's scopes looked unused, and "
        "removing them breaks the integration.",
        "last4 '9xQe' names key_invoice_2025 (keys.yaml:12) and key_invoice_2026 "
        "(keys.yaml:31); 4,210 requests, 1,034 of them shared",
        "Add a `sha256` matcher (the SHA-256 of the full token) to each of the definitions, or "
        "log the key id; remove the definition of a key that no longer exists.",
        LOGS,
    ),
    Rule(
        "SA306", "missing-source", Severity.MEDIUM,
        "A source that carried keys' traffic in an earlier run (--history) has no input in "
        "this run.",
        "With --history, compares the sources of this run's inputs (each --logs argument, or "
        "a [[source]] of the configuration) with the sources that carried each key's traffic "
        "in earlier runs, on days of this window. A key whose traffic came through a missing "
        "source has its removals deferred.",
        "A whole log source left out of an audit looks like keys that stopped working: their "
        "scopes would be recommended for removal although their traffic is only elsewhere.",
        "source 'logs/edge/*.log.gz' carried key_mobile_backend's traffic in the run of "
        "2026-11-20 and has no input in this run",
        "Add the source's logs to the audit (--logs), or declare the sources the audit must "
        "have with [[source]] in the configuration, so that a missing one is an error.",
        LOGS,
    ),
)

CONFIG = "config"

_CONFIG_RULES = (
    Rule(
        "SA901", "expired-suppression", Severity.MEDIUM,
        "A suppression in the configuration is past its expiry date.",
        "Reports each `[[ignore]]` entry whose `expires` date is before the audit date. From the "
        "day after that date it no longer suppresses, so the findings it hid count again.",
        "A suppression is a decision with a shelf life: 'accepted until the integration is "
        "rewritten'. Past its date nobody has re-decided, and the risk is back in the open.",
        "[[ignore]] rule = \"SA102\", key = \"key_bi_*\", reason = \"backfill until Q3\", "
        "expires = 2026-09-30",
        "Fix the findings it covered, or re-decide: give the entry a new `expires` date and an "
        "updated `reason`.",
        CONFIG,
    ),
    Rule(
        "SA902", "unused-suppression", Severity.LOW,
        "A suppression in the configuration matched no finding.",
        "Reports each `[[ignore]]` entry that suppressed nothing in this run.",
        "A stale suppression silently hides the next finding that happens to match it, long "
        "after the reason for it has gone.",
        "[[ignore]] rule = \"SA206\", key = \"key_removed_last_year\", reason = \"…\"",
        "Remove the entry (or narrow its globs).",
        CONFIG,
    ),
)

CODE = "code"

# What `scopeaudit scan` (and `audit --code`) reports on an integration's source code.
_CODE_RULES = (
    Rule(
        "SA401", "code-needs-missing-scope", Severity.HIGH,
        "The code calls an operation that needs a scope its key does not hold.",
        "Matches each API call found in the key's code (`code:` globs in the key file, or "
        "`scan --key-id`) to the catalog, and reports each call whose operation no "
        "combination of the key's scopes allows, at the call's file and line.",
        "The call would be refused with 403 in production: a pull request that starts "
        "calling a new endpoint breaks the integration the day it ships, unless the key is "
        "widened first, on purpose and reviewed.",
        "src/sync.py:42: PATCH /v1/issues/{id} needs issues:write; key_ticket_sync holds "
        "issues:read",
        "Grant the scope to the key (and review that the integration should have it), or "
        "change the code not to make the call.",
        CODE,
    ),
    Rule(
        "SA402", "unresolved-call", Severity.INFO,
        "A call in the code whose method or path cannot be read, or that matches no "
        "operation of the catalog.",
        "Reports each HTTP call the scan found but could not map: the method or the URL is "
        "computed at run time (a parameter, a function's result), or the path it reads "
        "matches no operation.",
        "What the scan cannot map it cannot check: the scopes such a call needs are not in "
        "the summary, and a scope it uses could look unneeded.",
        "src/client.py:24: GET: the URL is computed at run time",
        "Write the path as a literal, an f-string or template literal, or a constant in the "
        "same file; or accept the call as unchecked and review it by hand.",
        CODE,
    ),
    Rule(
        "SA403", "needed-by-code", Severity.INFO,
        "A granted scope the logs never saw used, kept because the key's code calls an "
        "operation that needs it.",
        "With `audit --code`, matches each call in the key's code to the catalog as a logged "
        "request would be matched, and reports each granted scope the calls need that no "
        "accepted request in the window used. The scope's state is *needed by code*: it is "
        "kept, never recommended for removal; the finding stands on the first call site and "
        "lists them all.",
        "Logs show what a key did, not what its code will do: a feature not yet released, or "
        "a job that runs once a year, needs its scope on the day it runs. Removing it on the "
        "logs' word alone would break that day.",
        "src/app.ts:31: key 'key_mobile' never used 'checkins:read' in the window, but its "
        "code calls an operation that needs it (1 call site: src/app.ts:31): kept",
        "Nothing to do if the call is meant. If the code is dead, delete it, and the next "
        "audit recommends the removal.",
        CODE,
    ),
)

CHANGE = "change"

# lint --against REF (scopeaudit.remediate.against): new access since a reference
_CLEARED = ("Cleared only by a `justification` and an `expires` date (not past) on the key: "
            "`justification:` as text for the whole key, or as a mapping of scope -> text for "
            "one scope.")
_CHANGE_RULES = (
    Rule(
        "SA214", "key-added", Severity.LOW,
        "A key that the reference (`lint --against REF`) does not define, with no write scope.",
        "Compares the key definitions with those of REF (a git ref, or a second key file) by "
        "id, and reports each key only the current file defines. " + _CLEARED,
        "Every key is a new way in. A review of keys-as-code should see each one arrive, with "
        "its owner and the reason it exists.",
        "key_reports_v2 is not in origin/main:infra/keys.yaml",
        "Give the key an owner, a `justification` and an `expires` date, or drop it.",
        CHANGE,
    ),
    Rule(
        "SA215", "key-added-with-write-scopes", Severity.HIGH,
        "A key that the reference does not define, granting at least one write scope.",
        "As SA214, for a new key that grants a write scope (one that creates, changes or "
        "deletes data); the finding names the write scopes. " + _CLEARED,
        "A new key with write access is the change a no-new-access gate exists for: a token "
        "that can change data, arriving in a pull request.",
        "key_sync_v2 is not in origin/main:infra/keys.yaml and grants issues:write",
        "Narrow the key to read scopes, or justify it with an expiry date.",
        CHANGE,
    ),
    Rule(
        "SA216", "scope-added", Severity.MEDIUM,
        "A read scope granted to a key that the reference defines without it.",
        "For each key in both files, reports each read scope the current file grants and the "
        "reference does not. The finding points at the line that grants it. " + _CLEARED,
        "Keys widen one scope at a time; each step looks harmless in review. The gate makes "
        "every widening a stated decision.",
        "key_bi_export gains users:read (not granted in origin/main:infra/keys.yaml)",
        "Drop the scope, or state why it is needed and until when.",
        CHANGE,
    ),
    Rule(
        "SA217", "write-scope-added", Severity.HIGH,
        "A write scope granted to a key that the reference defines without it.",
        "As SA216, for a write scope. " + _CLEARED,
        "A write scope added to an existing key turns a reader into a writer: a leaked token "
        "can then change or destroy data.",
        "key_bi_export gains issues:write (not granted in origin/main:infra/keys.yaml)",
        "Use a separate key for the writes, or justify the scope with an expiry date.",
        CHANGE,
    ),
)

REGISTRY: dict[str, Rule] = {rule.id: rule
                             for rule in (*_RULES, *_PROBE_RULES, *_USAGE_RULES,
                                          *_CONFIG_RULES, *_CHANGE_RULES, *_CODE_RULES)}


def get_rule(id_or_name: str) -> Rule:
    """A rule by id (``SA201``, any case) or by name (``unknown-scope``)."""
    wanted = id_or_name.strip()
    rule = REGISTRY.get(wanted.upper())
    if rule is None:
        rule = next((r for r in REGISTRY.values() if r.name == wanted.lower()), None)
    if rule is None:
        raise KeyError(f"unknown rule {id_or_name!r}")
    return rule


def all_rules(include_code: bool = False) -> tuple[Rule, ...]:
    """Every rule, sorted by id. The rules on source code (SA4xx) only with ``include_code``:
    a report that read no code does not describe them."""
    return tuple(sorted((r for r in REGISTRY.values() if include_code or r.family != CODE),
                        key=lambda r: r.id))
