"""Route matching: METHOD + raw request target -> catalog operation.

One test per matching rule (mostly on small hand-made routers, so each rule is seen in
isolation), then a table over the built-in insp.ac catalog that touches every resource.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scopeaudit.catalog import (
    Catalog,
    MatchKind,
    Operation,
    Provenance,
    RouteMatch,
    Router,
    load_builtin,
)
from scopeaudit.catalog.routes import split_target


def op(method: str, path: str, op_id: str | None = None, *scopes: str) -> Operation:
    """A hand-made operation; the id defaults to ``METHOD path`` so failures read well."""
    return Operation(
        id=op_id or f"{method} {path}",
        method=method,
        path=path,
        requires=(frozenset(scopes or ("x:read",)),),
        provenance=Provenance.DOCUMENTED,
    )


def matched_id(result: RouteMatch) -> str:
    assert result.kind is MatchKind.MATCHED, result
    assert result.operation is not None
    return result.operation.id


@pytest.fixture(scope="module")
def builtin() -> Catalog:
    return load_builtin()


@pytest.fixture(scope="module")
def issues_router() -> Router:
    return Router([
        op("GET", "/v1/issues", "issues.list"),
        op("GET", "/v1/issues/{id}", "issues.get"),
        op("POST", "/v1/issues", "issues.create"),
        op("PATCH", "/v1/issues/{id}", "issues.update"),
    ])


# --- scheme and host, query and fragment -------------------------------------------------


@pytest.mark.parametrize("target", [
    "https://api.insp.ac/v1/issues/42",
    "http://api.insp.ac/v1/issues/42",
    "https://api.insp.ac:443/v1/issues/42",
    "HTTPS://API.INSP.AC/v1/issues/42",
    "https://user:pw@api.insp.ac/v1/issues/42",
])
def test_scheme_and_host_are_stripped(issues_router: Router, target: str) -> None:
    result = issues_router.match("GET", target)
    assert matched_id(result) == "issues.get"
    assert result.path == "/v1/issues/42"


@pytest.mark.parametrize("target", [
    "https://api.insp.ac",
    "https://api.insp.ac/",
    "https://api.insp.ac?limit=1",
    "https://api.insp.ac#top",
])
def test_absolute_target_without_path_is_the_root(issues_router: Router, target: str) -> None:
    # An absolute URI with an empty path means "/": a path, so UNMATCHED, not INVALID.
    result = issues_router.match("GET", target)
    assert result.kind is MatchKind.UNMATCHED
    assert result.path == "/"


@pytest.mark.parametrize("target", [
    "/v1/issues?limit=1",
    "/v1/issues?",
    "/v1/issues#frag",
    "/v1/issues?limit=1#frag",
    "/v1/issues#frag?not=query",
    "/v1/issues?next=/v1/users/1",
    "https://api.insp.ac/v1/issues?limit=1#x",
])
def test_query_and_fragment_are_stripped(issues_router: Router, target: str) -> None:
    result = issues_router.match("GET", target)
    assert matched_id(result) == "issues.list"
    assert result.path == "/v1/issues"


def test_encoded_question_mark_is_part_of_the_path_not_a_query(issues_router: Router) -> None:
    result = issues_router.match("GET", "/v1/issues/a%3Fb")
    assert matched_id(result) == "issues.get"
    assert split_target("/v1/issues/a%3Fb") == ["v1", "issues", "a?b"]


# --- trailing slash ------------------------------------------------------------------------


def test_one_trailing_slash_is_ignored(issues_router: Router) -> None:
    assert matched_id(issues_router.match("GET", "/v1/issues/")) == "issues.list"
    assert matched_id(issues_router.match("GET", "/v1/issues/7/")) == "issues.get"
    assert issues_router.match("GET", "/v1/issues/").path == "/v1/issues"


def test_repeated_trailing_slashes_are_one_trailing_slash(issues_router: Router) -> None:
    # nginx (merge_slashes, on by default) routes /v1/issues// as /v1/issues
    for target, op_id in (("/v1/issues//", "issues.list"), ("/v1/issues/7//", "issues.get"),
                          ("/v1/issues///?limit=1", "issues.list")):
        result = issues_router.match("GET", target)
        assert matched_id(result) == op_id, target
    assert issues_router.match("GET", "/v1/issues//").path == "/v1/issues"


# --- percent-decoding ----------------------------------------------------------------------


def test_percent_escapes_are_decoded(issues_router: Router) -> None:
    assert matched_id(issues_router.match("GET", "/v1/%69ssues")) == "issues.list"
    assert matched_id(issues_router.match("GET", "/%76%31/issues/%34%32")) == "issues.get"
    assert split_target("/v1/issues/caf%C3%A9") == ["v1", "issues", "café"]


def test_encoded_slash_is_never_a_separator(issues_router: Router) -> None:
    # One segment "a/b" is an {id}, not two segments.
    result = issues_router.match("GET", "/v1/issues/a%2Fb")
    assert matched_id(result) == "issues.get"
    assert split_target("/v1/issues/a%2Fb") == ["v1", "issues", "a/b"]
    # ... and it cannot glue a literal path together either.
    assert issues_router.match("GET", "/v1%2Fissues").kind is MatchKind.UNMATCHED
    assert issues_router.match("GET", "/v1/issues%2F7").kind is MatchKind.UNMATCHED
    assert issues_router.match("GET", "/v1/issues%2f").kind is MatchKind.UNMATCHED


def test_encoded_slash_stays_escaped_in_the_reported_path(issues_router: Router) -> None:
    assert issues_router.match("GET", "/v1/issues/a%2Fb").path == "/v1/issues/a%2Fb"


def test_double_encoded_slash_decodes_only_once(issues_router: Router) -> None:
    assert split_target("/v1/issues/%252F") == ["v1", "issues", "%2F"]
    result = issues_router.match("GET", "/v1/issues/%252F")
    assert matched_id(result) == "issues.get"
    # The reported path re-escapes "%" so "%2F" (decoded once) is not mistaken for "/".
    assert result.path == "/v1/issues/%252F"
    assert issues_router.match("GET", "/v1%252Fissues").kind is MatchKind.UNMATCHED


@given(st.text(min_size=1, max_size=30))
def test_any_encoded_segment_is_one_id(segment: str) -> None:
    router = Router([op("GET", "/v1/issues/{id}", "issues.get")])
    result = router.match("GET", "/v1/issues/" + quote(segment, safe=""))
    assert matched_id(result) == "issues.get"
    assert split_target("/v1/issues/" + quote(segment, safe="")) == ["v1", "issues", segment]


# --- literal segments beat templates -------------------------------------------------------


def test_literal_segment_beats_template() -> None:
    # Registered template first, so insertion order cannot be what makes the literal win.
    router = Router([
        op("GET", "/v1/issues/{id}", "issues.get"),
        op("GET", "/v1/issues/export", "issues.export"),
    ])
    assert matched_id(router.match("GET", "/v1/issues/export")) == "issues.export"
    assert matched_id(router.match("GET", "/v1/issues/exports")) == "issues.get"
    assert matched_id(router.match("GET", "/v1/issues/42")) == "issues.get"


def test_failed_literal_branch_falls_back_to_template_branch() -> None:
    router = Router([
        op("GET", "/v1/issues/export/csv", "issues.export_csv"),
        op("GET", "/v1/issues/{id}/comments", "issues.comments"),
    ])
    # "export" takes the literal branch, which has no "comments": back to the {id} branch.
    assert matched_id(router.match("GET", "/v1/issues/export/comments")) == "issues.comments"
    assert matched_id(router.match("GET", "/v1/issues/export/csv")) == "issues.export_csv"
    assert router.match("GET", "/v1/issues/export/pdf").kind is MatchKind.UNMATCHED


def test_literal_branch_without_the_method_falls_back_to_template() -> None:
    router = Router([
        op("GET", "/v1/issues/export", "issues.export"),
        op("PATCH", "/v1/issues/{id}", "issues.update"),
    ])
    assert matched_id(router.match("PATCH", "/v1/issues/export")) == "issues.update"


def test_literal_beats_mixed_beats_plain_template() -> None:
    router = Router([
        op("GET", "/v1/issues/{id}", "issues.get"),
        op("GET", "/v1/issues/{id}.json", "issues.get_json"),
        op("GET", "/v1/issues/export.json", "issues.export_json"),
    ])
    assert matched_id(router.match("GET", "/v1/issues/export.json")) == "issues.export_json"
    assert matched_id(router.match("GET", "/v1/issues/5.json")) == "issues.get_json"
    assert matched_id(router.match("GET", "/v1/issues/5")) == "issues.get"


# --- HEAD, OPTIONS -------------------------------------------------------------------------


def test_head_matches_get(issues_router: Router) -> None:
    assert matched_id(issues_router.match("HEAD", "/v1/issues")) == "issues.list"
    assert matched_id(issues_router.match("HEAD", "/v1/issues/3")) == "issues.get"


def test_head_prefers_its_own_operation() -> None:
    router = Router([
        op("GET", "/v1/files/{id}", "files.get"),
        op("HEAD", "/v1/files/{id}", "files.head"),
    ])
    assert matched_id(router.match("HEAD", "/v1/files/3")) == "files.head"
    assert matched_id(router.match("GET", "/v1/files/3")) == "files.get"


def test_head_does_not_match_other_methods() -> None:
    router = Router([op("POST", "/v1/things", "things.create")])
    assert router.match("HEAD", "/v1/things").kind is MatchKind.UNMATCHED


def test_get_does_not_match_head_only_operation() -> None:
    router = Router([op("HEAD", "/v1/ping", "ping")])
    assert router.match("GET", "/v1/ping").kind is MatchKind.UNMATCHED


@pytest.mark.parametrize("target", ["/v1/issues", "/v1/issues/3", "/v1/nowhere",
                                    "https://api.insp.ac/v1/issues?x=1"])
def test_options_is_preflight_never_use(target: str) -> None:
    router = Router([
        op("GET", "/v1/issues", "issues.list"),
        op("GET", "/v1/issues/{id}", "issues.get"),
        # Even an OPTIONS operation in the catalog does not turn a preflight into use.
        op("OPTIONS", "/v1/issues", "issues.options"),
    ])
    for method in ("OPTIONS", "options"):
        result = router.match(method, target)
        assert result.kind is MatchKind.PREFLIGHT
        assert result.operation is None


# --- invalid and unmatched targets ---------------------------------------------------------


@pytest.mark.parametrize("target", ["*", "-", "", "   ", "issues", "v1/issues", "?x=1",
                                    "#frag", "api.insp.ac/v1/issues"])
def test_target_that_is_not_a_path_is_invalid(issues_router: Router, target: str) -> None:
    result = issues_router.match("GET", target)
    assert result.kind is MatchKind.INVALID
    assert result.operation is None
    assert split_target(target) is None


@pytest.mark.parametrize("target", ["/", "/v1", "/v2/issues", "/v1/issue", "/v1/issues/1/2",
                                    "/v1/unknown/thing"])
def test_unknown_path_is_unmatched(issues_router: Router, target: str) -> None:
    result = issues_router.match("GET", target)
    assert result.kind is MatchKind.UNMATCHED
    assert result.operation is None


def test_known_path_with_unknown_method_is_unmatched(issues_router: Router) -> None:
    assert issues_router.match("DELETE", "/v1/issues/1").kind is MatchKind.UNMATCHED
    assert issues_router.match("PUT", "/v1/issues").kind is MatchKind.UNMATCHED


def test_unmatched_keeps_the_normalised_path_for_grouping(issues_router: Router) -> None:
    result = issues_router.match("GET", "https://api.insp.ac/v1/unknown/%41/?q=1#f")
    assert result.kind is MatchKind.UNMATCHED
    assert result.path == "/v1/unknown/A"


# --- case ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "Get", "gEt", "GET"])
def test_methods_are_case_insensitive(issues_router: Router, method: str) -> None:
    assert matched_id(issues_router.match(method, "/v1/issues")) == "issues.list"


def test_lowercase_method_in_operation_is_normalised() -> None:
    router = Router([op("patch", "/v1/issues/{id}", "issues.update")])
    assert matched_id(router.match("PATCH", "/v1/issues/1")) == "issues.update"
    assert matched_id(router.match("patch", "/v1/issues/1")) == "issues.update"


@pytest.mark.parametrize("target", ["/V1/issues", "/v1/Issues", "/v1/ISSUES", "/V1/ISSUES/1"])
def test_paths_are_case_sensitive(issues_router: Router, target: str) -> None:
    assert issues_router.match("GET", target).kind is MatchKind.UNMATCHED


# --- repeated slashes ----------------------------------------------------------------------


@pytest.mark.parametrize(("target", "op_id"), [
    ("//v1/issues", "issues.list"),
    ("/v1//issues", "issues.list"),
    ("///v1///issues///", "issues.list"),
    ("/v1/issues//1", "issues.get"),
    ("//v1//issues//1?next=//x", "issues.get"),
    ("/v1/issues//1//comments", "issues.comments"),
    ("https://api.insp.ac//v1/issues//1", "issues.get"),
])
def test_repeated_slashes_route_as_one(target: str, op_id: str) -> None:
    # As the server routed it (nginx's merge_slashes default): the gateway answered 200
    router = Router([
        op("GET", "/v1/issues", "issues.list"),
        op("GET", "/v1/issues/{id}", "issues.get"),
        op("GET", "/v1/{resource}/{id}", "generic.get"),
        op("GET", "/v1/issues/{id}/comments", "issues.comments"),
    ])
    assert matched_id(router.match("GET", target)) == op_id


def test_repeated_slashes_merge_in_the_reported_path(issues_router: Router) -> None:
    assert split_target("/v1//issues") == ["v1", "issues"]
    assert split_target("//") == [] and split_target("///?x") == []
    assert issues_router.match("GET", "//v1//unknown//x").path == "/v1/unknown/x"


def test_encoded_slashes_are_not_merged(issues_router: Router) -> None:
    # %2F is no separator (decoded after the split), so two of them are no repeated slash
    assert split_target("/v1/%2F%2Fissues") == ["v1", "//issues"]
    assert issues_router.match("GET", "/v1/%2F/issues").kind is MatchKind.UNMATCHED


# --- mixed segments ------------------------------------------------------------------------


def test_mixed_segment_template() -> None:
    router = Router([
        op("GET", "/v1/reports/{id}.json", "reports.json"),
        op("GET", "/v1/reports/{id}.csv", "reports.csv"),
        op("GET", "/v1/pairs/{a}-{b}", "pairs.get"),
    ])
    assert matched_id(router.match("GET", "/v1/reports/17.json")) == "reports.json"
    assert matched_id(router.match("GET", "/v1/reports/17.csv")) == "reports.csv"
    assert matched_id(router.match("GET", "/v1/reports/a.b.json")) == "reports.json"
    assert matched_id(router.match("GET", "/v1/pairs/x-y")) == "pairs.get"
    # The parameter part may not be empty, and the literal part must be there in full.
    for target in ("/v1/reports/.json", "/v1/reports/17", "/v1/reports/17.jsonx",
                   "/v1/reports/17.JSON", "/v1/pairs/-y", "/v1/pairs/xy"):
        assert router.match("GET", target).kind is MatchKind.UNMATCHED, target


def test_mixed_segment_with_encoded_slash_stays_one_segment() -> None:
    router = Router([op("GET", "/v1/reports/{id}.json", "reports.json")])
    assert matched_id(router.match("GET", "/v1/reports/a%2Fb.json")) == "reports.json"
    assert router.match("GET", "/v1/reports/a/b.json").kind is MatchKind.UNMATCHED


def test_mixed_segments_with_different_param_names_share_a_shape() -> None:
    router = Router([
        op("GET", "/v1/reports/{id}.json", "reports.get_json"),
        op("DELETE", "/v1/reports/{report_id}.json", "reports.delete_json"),
    ])
    assert matched_id(router.match("GET", "/v1/reports/1.json")) == "reports.get_json"
    assert matched_id(router.match("DELETE", "/v1/reports/1.json")) == "reports.delete_json"


# --- base paths ----------------------------------------------------------------------------


def test_base_path_is_stripped() -> None:
    router = Router([op("GET", "/v1/issues", "issues.list")], base_paths=("/api",))
    result = router.match("GET", "/api/v1/issues")
    assert matched_id(result) == "issues.list"
    # The reported path is the request's own, not the stripped one.
    assert result.path == "/api/v1/issues"
    assert router.match("GET", "/apiv1/issues").kind is MatchKind.UNMATCHED
    assert router.match("GET", "/api%2Fv1/issues").kind is MatchKind.UNMATCHED


def test_longest_base_path_is_stripped_first() -> None:
    # "/api/v2/v1/issues": stripping "/api" would leave "/v2/v1/issues", which matches the
    # catch-all; stripping "/api/v2" first gives the real operation.
    router = Router(
        [op("GET", "/v1/issues", "issues.list"), op("GET", "/v2/**", "v2.fallback")],
        base_paths=("/api", "/api/v2"),
    )
    assert matched_id(router.match("GET", "/api/v2/v1/issues")) == "issues.list"
    router = Router(
        [op("GET", "/v1/issues", "issues.list"), op("GET", "/v2/**", "v2.fallback")],
        base_paths=("/api/v2", "/api"),
    )
    assert matched_id(router.match("GET", "/api/v2/v1/issues")) == "issues.list"
    assert matched_id(router.match("GET", "/api/v1/issues")) == "issues.list"


def test_base_path_with_trailing_slash_and_empty_base() -> None:
    router = Router([op("GET", "/v1/issues", "issues.list")], base_paths=("/gw/", ""))
    assert matched_id(router.match("GET", "/gw/v1/issues")) == "issues.list"
    assert matched_id(router.match("GET", "/v1/issues")) == "issues.list"
    assert matched_id(router.match("GET", "https://gw.example/gw/v1/issues?x")) == "issues.list"


def test_no_base_paths_means_no_prefix() -> None:
    router = Router([op("GET", "/v1/issues", "issues.list")], base_paths=())
    assert matched_id(router.match("GET", "/v1/issues")) == "issues.list"


# --- resource-prefix fallback (trailing **) ------------------------------------------------


def test_trailing_double_star_matches_the_prefix_and_below() -> None:
    router = Router([op("GET", "/v1/calendar/**", "calendar.read")])
    for target in ("/v1/calendar", "/v1/calendar/", "/v1/calendar/2024", "/v1/calendar/a/b/c"):
        assert matched_id(router.match("GET", target)) == "calendar.read", target
    for target in ("/v1/calendars", "/v1/calendarx/1", "/v1", "/v2/calendar"):
        assert router.match("GET", target).kind is MatchKind.UNMATCHED, target


def test_specific_operation_beats_prefix_fallback() -> None:
    router = Router([
        op("GET", "/v1/things/**", "things.fallback"),
        op("GET", "/v1/things/{id}", "things.get"),
    ])
    assert matched_id(router.match("GET", "/v1/things/1")) == "things.get"
    assert matched_id(router.match("GET", "/v1/things/1/parts")) == "things.fallback"


# --- the built-in catalog, every resource --------------------------------------------------

BUILTIN_ROUTES: list[tuple[str, str, str, str]] = [
    # method, target, operation id, the one scope it needs
    ("GET", "/v1/issues", "issues.list", "issues:read"),
    ("GET", "/v1/issues/iss_123", "issues.get", "issues:read"),
    ("POST", "/v1/issues", "issues.create", "issues:write"),
    ("PATCH", "/v1/issues/iss_123", "issues.update", "issues:write"),
    ("GET", "https://api.insp.ac/v1/issues?limit=1", "issues.list", "issues:read"),
    ("HEAD", "/v1/issues/iss_123", "issues.get", "issues:read"),
    ("GET", "/v1/works", "works.list", "works:read"),
    ("GET", "/v1/works/wo_1", "works.get", "works:read"),
    ("POST", "/v1/works", "works.create", "works:write"),
    ("PATCH", "/v1/works/wo_1", "works.update", "works:write"),
    ("GET", "/v1/work-orders", "works.list@work-orders", "works:read"),
    ("GET", "/v1/work-orders/wo_1", "works.get@work-orders", "works:read"),
    ("POST", "/v1/work-orders", "works.create@work-orders", "works:write"),
    ("PATCH", "/v1/work-orders/wo_1", "works.update@work-orders", "works:write"),
    ("GET", "/v1/sites", "sites.list", "sites:read"),
    ("GET", "/v1/sites/s1", "sites.get", "sites:read"),
    ("POST", "/v1/sites", "sites.create", "sites:write"),
    ("PATCH", "/v1/sites/s1", "sites.update", "sites:write"),
    ("GET", "/v1/assets", "assets.list", "assets:read"),
    ("GET", "/v1/assets/a1", "assets.get", "assets:read"),
    ("POST", "/v1/assets", "assets.create", "assets:write"),
    ("PATCH", "/v1/assets/a1", "assets.update", "assets:write"),
    ("GET", "/v1/users", "users.list", "users:read"),
    ("GET", "/v1/users/u1", "users.get", "users:read"),
    ("POST", "/v1/users", "users.create", "users:write"),
    ("PATCH", "/v1/users/u1", "users.update", "users:write"),
    ("GET", "/v1/checkins", "checkins.list", "checkins:read"),
    ("GET", "/v1/checkins/c1", "checkins.get", "checkins:read"),
    ("POST", "/v1/checkins", "checkins.create", "checkins:write"),
    ("PATCH", "/v1/checkins/c1", "checkins.update", "checkins:write"),
    ("GET", "/v1/logs", "logs.list", "logs:read"),
    ("GET", "/v1/logs/l1", "logs.get", "logs:read"),
    ("POST", "/v1/logs", "logs.create", "logs:write"),
    ("GET", "/v1/sensor-readings", "sensors.list", "sensors:read"),
    ("GET", "/v1/sensor-readings/r1", "sensors.get", "sensors:read"),
    ("POST", "/v1/sensor-readings", "sensors.ingest", "sensors:write"),
    ("GET", "/v1/templates", "templates.list", "templates:read"),
    ("GET", "/v1/templates/t1", "templates.get", "templates:read"),
    ("POST", "/v1/templates", "templates.create", "templates:write"),
    ("PATCH", "/v1/templates/t1", "templates.update", "templates:write"),
    ("GET", "/v1/runs", "runs.list", "runs:read"),
    ("GET", "/v1/runs/r1", "runs.get", "runs:read"),
    ("POST", "/v1/runs", "runs.create", "runs:write"),
    ("PATCH", "/v1/runs/r1", "runs.update", "runs:write"),
    ("GET", "/v1/schedules", "schedules.read", "schedules:read"),
    ("GET", "/v1/schedules/occurrences/o1", "schedules.read", "schedules:read"),
    ("PATCH", "/v1/schedules/occurrences/o1", "schedules.write.patch", "schedules:write"),
    ("POST", "/v1/schedules/occurrences/o1/links", "schedules.write.post", "schedules:write"),
    ("PUT", "/v1/schedules/occurrences/o1/status", "schedules.write.put", "schedules:write"),
    ("GET", "/v1/calendar", "calendar.read", "calendar:read"),
    ("GET", "/v1/calendar/2024-06?view=month", "calendar.read", "calendar:read"),
    ("POST", "/v1/media/uploads", "media.write.post", "media:write"),
    ("POST", "/v1/media/uploads/m1/complete", "media.write.post", "media:write"),
    ("PUT", "/v1/media/uploads/m1", "media.write.put", "media:write"),
    ("GET", "/v1/integrations/actions", "integrations.read", "integrations:read"),
    ("GET", "/v1/integrations/triggers", "integrations.read", "integrations:read"),
    ("GET", "/v1/integrations/subscriptions", "integrations.read", "integrations:read"),
    ("POST", "/v1/integrations/subscriptions", "integrations.write.post", "integrations:write"),
    ("DELETE", "/v1/integrations/subscriptions/sub_1", "integrations.write.delete",
     "integrations:write"),
]


@pytest.mark.parametrize(("method", "target", "op_id", "scope"), BUILTIN_ROUTES,
                         ids=[f"{m} {t}" for m, t, _, _ in BUILTIN_ROUTES])
def test_builtin_catalog_routes(builtin: Catalog, method: str, target: str, op_id: str,
                                scope: str) -> None:
    result = builtin.router.match(method, target)
    assert matched_id(result) == op_id
    assert result.operation is not None
    assert result.operation.requires == (frozenset({scope}),)


def test_builtin_table_covers_every_resource(builtin: Catalog) -> None:
    resources = {name for name, _ in builtin.resources}
    covered = {scope.split(":")[0] for _, _, _, scope in BUILTIN_ROUTES}
    assert covered == resources
    assert {s.resource for s in builtin.scopes} <= covered
    # ... and every scope of the catalog is reached by at least one row.
    assert {scope for *_, scope in BUILTIN_ROUTES} == set(builtin.scope_names)


BUILTIN_NO_MATCH: list[tuple[str, str, MatchKind]] = [
    ("GET", "/v1/media/m1", MatchKind.UNMATCHED),  # no media:read
    ("HEAD", "/v1/media/m1", MatchKind.UNMATCHED),
    ("POST", "/v1/calendar/events", MatchKind.UNMATCHED),  # no calendar:write
    ("PATCH", "/v1/calendar/events/1", MatchKind.UNMATCHED),
    ("DELETE", "/v1/issues/iss_1", MatchKind.UNMATCHED),
    ("PATCH", "/v1/logs/l1", MatchKind.UNMATCHED),  # logs are append-only
    ("PUT", "/v1/issues/iss_1", MatchKind.UNMATCHED),
    ("GET", "/v1/sensors", MatchKind.UNMATCHED),  # the path is /v1/sensor-readings
    ("GET", "/v1/keys", MatchKind.UNMATCHED),  # no key-listing endpoint
    ("GET", "/v1/issues/iss_1/comments", MatchKind.UNMATCHED),
    ("GET", "/v2/issues", MatchKind.UNMATCHED),
    ("GET", "/issues", MatchKind.UNMATCHED),
    ("OPTIONS", "/v1/issues", MatchKind.PREFLIGHT),
    ("OPTIONS", "/v1/media/uploads", MatchKind.PREFLIGHT),
    ("GET", "*", MatchKind.INVALID),
    ("GET", "-", MatchKind.INVALID),
    ("GET", "", MatchKind.INVALID),
]


@pytest.mark.parametrize(("method", "target", "kind"), BUILTIN_NO_MATCH,
                         ids=[f"{m} {t or '(empty)'}" for m, t, _ in BUILTIN_NO_MATCH])
def test_builtin_catalog_does_not_guess(builtin: Catalog, method: str, target: str,
                                        kind: MatchKind) -> None:
    result = builtin.router.match(method, target)
    assert result.kind is kind
    assert result.operation is None
