"""The log formats and gateway presets ``--log-format`` names: the one table of them.

Each entry says which reader family reads it (``json``, ``csv``, ``nginx``, ``envoy``,
``haproxy``, ``w3c``), the layout or field sources it reads with, where the key identity comes
from, what to add to the gateway's log configuration when its stock layout carries no key, an
example line written for this table from the product's documented format, and that
documentation's address. ``make_reader`` builds readers from it, ``scopeaudit formats`` lists
it, the README's table "your gateway -> the command" is held to it (tests/unit/test_formats.py),
and the other places that once listed format names read it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scopeaudit.errors import InputError
from scopeaudit.secrets import redact
from scopeaudit.suggest import did_you_mean

# Reader families: what reads a format's bytes
JSON, CSV, NGINX, ENVOY, HAPROXY, W3C = "json", "csv", "nginx", "envoy", "haproxy", "w3c"
# Families whose records never span lines (a CSV cell may hold newlines): a large file of
# them may be split across processes.
LINE_FAMILIES = (JSON, NGINX, ENVOY, HAPROXY)

# OpenTelemetry's HTTP server attributes (the current semantic conventions, then the older
# ones), as flat keys: what an OTLP span or log record unwraps to (readers.envelopes), and
# the rows of exporters that flatten attributes. In brackets: one key, dots and all.
OTEL: dict[str, tuple[str, ...]] = {
    "time": ("startTimeUnixNano", "timeUnixNano"),
    "key_id": ('["enduser.id"]', '["user.id"]', '["http.request.header.x-api-key-id"]'),
    "method": ('["http.request.method"]', '["http.method"]'),
    "path": ('["url.path"]', '["http.target"]', '["http.route"]', '["url.full"]',
             '["http.url"]'),
    "status": ('["http.response.status_code"]', '["http.status_code"]'),
    "user_agent": ('["user_agent.original"]', '["http.user_agent"]'),
    "ip": ('["client.address"]', '["http.client_ip"]', '["net.sock.peer.addr"]',
           '["net.peer.ip"]'),
    "count": (),
}

# JSON Lines and CSV without a preset: common names, and OpenTelemetry's
DEFAULTS: dict[str, tuple[str, ...]] = {
    "time": ("time", "ts", "timestamp", "@timestamp", "datetime", "date", *OTEL["time"]),
    "key_id": ("key_id", "key", "api_key_id", "apiKeyId", "key_name", "api_key", "token",
               "authorization", *OTEL["key_id"][:2]),
    "method": ("method", "http_method", "httpMethod", "verb", *OTEL["method"]),
    "path": ("path", "url", "uri", "request", "target", "request_uri", *OTEL["path"]),
    "status": ("status", "status_code", "statusCode", "response_status", "code",
               *OTEL["status"]),
    "user_agent": ("user_agent", "ua", "userAgent", "http_user_agent", "agent",
                   *OTEL["user_agent"]),
    "ip": ("ip", "client_ip", "clientIp", "remote_addr", "source_ip", "sourceIp", *OTEL["ip"]),
    "count": ("count", "requests", "hits"),
}


@dataclass(frozen=True)
class LogFormat:
    """One ``--log-format`` name."""

    name: str
    product: str  # the gateway or log source, as the README's table names it
    family: str  # the reader family (JSON, CSV, NGINX, ...)
    key_from: str  # where the key identity comes from
    example: str  # one line, written for this table from the documented format
    source: str  # the documentation of the layout
    # What to add to the gateway's log configuration when its stock layout has no key
    # (None: the stock layout carries one, or nothing can be added and key_from says so)
    addition: str | None = None
    # nginx and Envoy: the layout (a log_format / format string); for a line preset, an
    # optional tail (the documented addition) the same preset reads when it is there
    layout: str = ""
    tail: str = ""
    # JSON and CSV: where each field comes from (None: the DEFAULTS)
    fields: Mapping[str, tuple[str, ...]] | None = field(default=None, hash=False)
    delimiter: str = ","  # CSV and W3C
    takes_format: bool = False  # NAME:<format> gives a layout of the user's own
    aliases: tuple[str, ...] = ()
    listed: bool = True  # a preset of a product (the README's table), not a generic reader

    @property
    def line_oriented(self) -> bool:
        return self.family in LINE_FAMILIES

    def field_sources(self) -> Mapping[str, tuple[str, ...]]:
        return DEFAULTS if self.fields is None else self.fields


def _f(time: tuple[str, ...], key_id: tuple[str, ...], method: tuple[str, ...],
       path: tuple[str, ...], status: tuple[str, ...], user_agent: tuple[str, ...] = (),
       ip: tuple[str, ...] = (), count: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    return {"time": time, "key_id": key_id, "method": method, "path": path, "status": status,
            "user_agent": user_agent, "ip": ip, "count": count}


NGINX_COMBINED = ('$remote_addr - $remote_user [$time_local] "$request" $status '
                  '$body_bytes_sent "$http_referer" "$http_user_agent"')
ENVOY_DEFAULT = ('[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" '
                 '%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% '
                 '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" '
                 '"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" '
                 '"%UPSTREAM_HOST%"')
# Apache's %h %l %u %t "%r" %>s %b written as an nginx log_format; Apache escapes a quote in
# a value as \" (nginx's escape=json reads that)
_APACHE_COMMON = ('escape=json $remote_addr $ident $remote_user [$time_local] "$request" '
                  '$status $bytes_clf')
_APACHE_COMBINED = _APACHE_COMMON + ' "$http_referer" "$http_user_agent"'
# ingress-nginx's log-format-upstream default
_INGRESS_NGINX = (NGINX_COMBINED + ' $request_length $request_time [$proxy_upstream_name] '
                  '[$proxy_alternative_upstream_name] $upstream_addr '
                  '$upstream_response_length $upstream_response_time $upstream_status $req_id')
# Traefik's Common Log Format
_TRAEFIK_CLF = (NGINX_COMBINED + ' $requests_total "$router_name" "$server_url" '
                '${request_duration}ms')
# ALB's fields up to the error reason; AWS adds fields at the end, passed over
_ALB = ('$type $time_iso8601 $elb $remote_addr $target_addr $request_processing_time '
        '$target_processing_time $response_processing_time $status $target_status_code '
        '$received_bytes $sent_bytes "$request" "$http_user_agent" $ssl_cipher $ssl_protocol '
        '$target_group_arn "$trace_id" "$domain_name" "$chosen_cert_arn" '
        '$matched_rule_priority $request_creation_time "$actions_executed" "$redirect_url" '
        '"$error_reason"$rest')
_KEY_HEADER = "X-Api-Key-Id"  # the header the additions name: an id, never the secret


FORMATS: tuple[LogFormat, ...] = (
    # --- generic readers -------------------------------------------------------------
    LogFormat(
        "jsonl", "JSON Lines, any JSON document", JSON,
        "key_id, key, api_key_id, apiKeyId, token, authorization, enduser.id, ...",
        '{"time": "2026-11-27T14:03:51Z", "key_id": "key_bi", "method": "GET", '
        '"path": "/v1/issues", "status": 200}',
        "https://jsonlines.org/", aliases=("ndjson", "json"), listed=False),
    LogFormat(
        "csv", "CSV with a header row (or --csv-columns)", CSV,
        "the same names as columns",
        "time,key_id,method,path,status", "https://www.rfc-editor.org/rfc/rfc4180",
        listed=False),
    LogFormat(
        "nginx", "nginx", NGINX,
        "$http_x_key_id, $http_x_api_key_id, $upstream_http_x_key_id, $remote_user, "
        "$http_x_api_key, $http_authorization, ... in the log_format",
        '192.0.2.10 - key_bi [27/Nov/2026:14:03:51 +0000] "GET /v1/issues HTTP/1.1" 200 5123 '
        '"-" "curl/8.10.1"',
        "https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format",
        addition='log_format with_key \'...combined... "$http_x_api_key_id"\'; then '
                 "--log-format 'nginx:<that log_format>'",
        layout=NGINX_COMBINED, takes_format=True),
    LogFormat(
        "envoy", "Envoy", ENVOY,
        "%REQ(X-API-KEY-ID)%, %DYNAMIC_METADATA(...)%, %REQ(AUTHORIZATION)%, ... in the format",
        '[2026-11-27T14:03:51.512Z] "GET /v1/issues HTTP/1.1" 200 - 0 1841 37 35 '
        '"192.0.2.10" "curl/8.10.1" "3b1d6c2e" "api.example.com" "10.0.3.7:8080"',
        "https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/"
        "usage#default-format-string",
        addition="a format with %REQ(X-API-KEY-ID)%; then --log-format 'envoy:<that format>'",
        layout=ENVOY_DEFAULT, takes_format=True),
    # --- presets ---------------------------------------------------------------------
    LogFormat(
        "apache-common", "Apache httpd (common)", NGINX,
        "%u (HTTP Basic user) only",
        '192.0.2.10 - key_bi [27/Nov/2026:14:03:51 +0000] "GET /v1/issues HTTP/1.1" 200 5123',
        "https://httpd.apache.org/docs/current/logs.html#common",
        addition="the combined LogFormat with %{X-Api-Key-Id}i appended in quotes, read with "
                 "--log-format apache-combined",
        layout=_APACHE_COMMON),
    LogFormat(
        "apache-combined", "Apache httpd (combined)", NGINX,
        "%u (HTTP Basic user); %{X-Api-Key-Id}i after the user agent when added",
        '192.0.2.10 - - [27/Nov/2026:14:03:51 +0000] "GET /v1/issues HTTP/1.1" 200 5123 "-" '
        '"curl/8.10.1"',
        "https://httpd.apache.org/docs/current/logs.html#combined",
        addition="%{X-Api-Key-Id}i, in quotes, at the end of the combined LogFormat",
        layout=_APACHE_COMBINED, tail=' "$http_x_api_key_id"'),
    LogFormat(
        "apache-key", "Apache httpd (combined + %{X-API-Key}i)", NGINX,
        "%{X-API-Key}i after the user agent (a raw key is fingerprinted, never kept)",
        '192.0.2.10 - - [27/Nov/2026:14:03:51 +0000] "GET /v1/issues HTTP/1.1" 200 5123 "-" '
        '"curl/8.10.1" "key_bi"',
        "https://httpd.apache.org/docs/current/mod/mod_log_config.html#formats",
        layout=_APACHE_COMBINED + ' "$http_x_api_key"'),
    LogFormat(
        "haproxy", "HAProxy (option httplog)", HAPROXY,
        "the first captured request header",
        "Oct  1 10:00:00 lb1 haproxy[14389]: 192.0.2.10:51514 [01/Oct/2026:10:00:00.123] "
        "fe_api be_api/api1 0/0/1/12/13 200 512 - - ---- 1/1/0/0/0 0/0 {key_bi} "
        '"GET /v1/issues HTTP/1.1"',
        "https://docs.haproxy.org/3.0/configuration.html#8.2.3",
        addition="capture request header X-Api-Key-Id len 64 (first among the captures)"),
    LogFormat(
        "alb", "AWS Application Load Balancer", NGINX,
        "none: ALB logs carry no header; only a key sent in the query string is found "
        "(fingerprinted)",
        "https 2026-11-27T14:03:51.418922Z app/api/3c9d 192.0.2.10:51514 10.0.12.9:8080 0.001 "
        "0.052 0.000 200 200 412 1290 \"GET https://api.example.com:443/v1/issues HTTP/1.1\" "
        '"curl/8.10.1" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:tg "Root=1-67" '
        '"api.example.com" "arn:aws:acm" 3 2026-11-27T14:03:51.365000Z "forward" "-" "-"',
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"
        "load-balancer-access-logs.html#access-log-entry-format",
        layout=_ALB),
    LogFormat(
        "cloudfront", "Amazon CloudFront (standard logs)", W3C,
        "none: standard logs carry no header; only a key sent in the query string "
        "(cs-uri-query) is found (fingerprinted)",
        "2026-11-27\t14:03:51\tFRA56-P1\t1290\t192.0.2.10\tGET\td111.cloudfront.net\t"
        "/v1/issues\t200\t-\tcurl/8.10.1\t-\t-\tMiss\tabc==\tapi.example.com\thttps\t412\t0.052",
        "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
        "standard-logs-reference.html",
        fields=_f(("date time",), (), ("cs-method",),
                  ("cs-uri-stem",), ("sc-status",), ("cs(User-Agent)",), ("c-ip",)),
        delimiter="\t"),
    LogFormat(
        "traefik", "Traefik (Common Log Format)", NGINX,
        "ClientUsername (HTTP Basic user) only; the CLF takes no header",
        '192.0.2.10 - key_bi [27/Nov/2026:14:03:51 +0000] "GET /v1/issues HTTP/1.1" 200 5123 '
        '"-" "curl/8.10.1" 12 "api@docker" "http://10.0.3.7:8080" 13ms',
        "https://doc.traefik.io/traefik/observability/access-logs/#clf-common-log-format",
        addition="--accesslog.format=json --accesslog.fields.headers.names.X-Api-Key-Id=keep, "
                 "and --log-format traefik-json",
        layout=_TRAEFIK_CLF),
    LogFormat(
        "traefik-json", "Traefik (JSON)", JSON,
        "request_X-Api-Key-Id (a kept header), else ClientUsername",
        '{"StartUTC": "2026-11-27T14:03:51.512Z", "RequestMethod": "GET", "RequestPath": '
        '"/v1/issues", "DownstreamStatus": 200, "ClientHost": "192.0.2.10", '
        '"request_X-Api-Key-Id": "key_bi"}',
        "https://doc.traefik.io/traefik/observability/access-logs/#json-format",
        addition="--accesslog.fields.headers.names.X-Api-Key-Id=keep (headers are dropped by "
                 "default)",
        fields=_f(("StartUTC", "time"), ("request_X-Api-Key-Id", "ClientUsername"),
                  ("RequestMethod",), ("RequestPath",), ("DownstreamStatus",),
                  ("request_User-Agent",), ("ClientHost",))),
    LogFormat(
        "caddy", "Caddy (JSON access log)", JSON,
        'user_id (an authenticated user), else the request header X-Api-Key-Id or X-Api-Key',
        '{"ts": 1795788231.5, "logger": "http.log.access", "msg": "handled request", '
        '"request": {"client_ip": "192.0.2.10", "method": "GET", "uri": "/v1/issues", '
        '"headers": {"X-Api-Key-Id": ["key_bi"]}}, "user_id": "", "status": 200}',
        "https://caddyserver.com/docs/caddyfile/directives/log#structured-logs",
        fields=_f(("ts",), ("user_id", f'request.headers["{_KEY_HEADER}"]',
                            'request.headers["X-Api-Key"]'),
                  ("request.method",), ("request.uri",), ("status",),
                  ('request.headers["User-Agent"]',), ("request.client_ip",
                                                       "request.remote_ip"))),
    LogFormat(
        "cloudflare", "Cloudflare Logpush (http_requests)", JSON,
        "RequestHeaders.x-api-key-id (a Logpush custom field)",
        '{"ClientIP": "192.0.2.10", "ClientRequestMethod": "GET", "ClientRequestURI": '
        '"/v1/issues", "EdgeResponseStatus": 200, "EdgeStartTimestamp": 1795788231000000000, '
        '"RequestHeaders": {"x-api-key-id": "key_bi"}}',
        "https://developers.cloudflare.com/logs/reference/log-fields/zone/http_requests/",
        addition="a Logpush custom field for the request header x-api-key-id (a "
                 "log_custom_field rule in the zone's http_log_custom_fields phase; header "
                 "names in lower case) and RequestHeaders in the job's fields",
        fields=_f(("EdgeStartTimestamp",), ("RequestHeaders.x-api-key-id",),
                  ("ClientRequestMethod",), ("ClientRequestURI", "ClientRequestPath"),
                  ("EdgeResponseStatus",), ("ClientRequestUserAgent",), ("ClientIP",))),
    LogFormat(
        "gcp-lb", "Google Cloud load balancing (LogEntry httpRequest)", JSON,
        "none: the load balancer's log carries no header; only a key sent in the query "
        "string is found (fingerprinted)",
        '{"timestamp": "2026-11-27T14:03:51.512Z", "httpRequest": {"requestMethod": "GET", '
        '"requestUrl": "https://api.example.com/v1/issues", "status": 200, '
        '"remoteIp": "192.0.2.10"}}',
        "https://cloud.google.com/load-balancing/docs/https/https-logging-monitoring#log-entries",
        fields=_f(("timestamp",), (), ("httpRequest.requestMethod",),
                  ("httpRequest.requestUrl",), ("httpRequest.status",),
                  ("httpRequest.userAgent",), ("httpRequest.remoteIp",))),
    LogFormat(
        "azure-apim", "Azure API Management (GatewayLogs)", JSON,
        "properties.apimSubscriptionId (the subscription), else properties.userId",
        '{"time": "2026-11-27T14:03:51.512Z", "category": "GatewayLogs", "callerIpAddress": '
        '"192.0.2.10", "properties": {"method": "GET", "url": '
        '"https://contoso.azure-api.net/v1/issues", "responseCode": 200, '
        '"apimSubscriptionId": "key_bi"}}',
        "https://learn.microsoft.com/en-us/azure/api-management/gateway-log-schema-reference",
        fields=_f(("time", "TimeGenerated"),
                  ("properties.apimSubscriptionId", "ApimSubscriptionId", "properties.userId"),
                  ("properties.method", "Method"), ("properties.url", "Url"),
                  ("properties.responseCode", "ResponseCode"), (),
                  ("callerIpAddress", "CallerIpAddress"))),
    LogFormat(
        "azure-frontdoor", "Azure Front Door (FrontDoorAccessLog)", JSON,
        "none: the access log carries no header; only a key sent in the query string is "
        "found (fingerprinted)",
        '{"time": "2026-11-27T14:03:51.512Z", "category": "FrontDoorAccessLog", '
        '"properties": {"httpMethod": "GET", "requestUri": '
        '"https://api.example.com:443/v1/issues", "httpStatusCode": "200", '
        '"clientIp": "192.0.2.10"}}',
        "https://learn.microsoft.com/en-us/azure/frontdoor/monitor-front-door#access-log",
        fields=_f(("time",), (), ("properties.httpMethod",), ("properties.requestUri",),
                  ("properties.httpStatusCode",), ("properties.userAgent",),
                  ("properties.clientIp",))),
    LogFormat(
        "tyk", "Tyk (analytics records, JSON)", JSON,
        "alias (the key's alias), else api_key (Tyk's hash of the key), oauth_id",
        '{"method": "GET", "path": "/issues", "raw_path": "/issues", "original_path": '
        '"/v1/issues", "listen_path": "/v1/", "response_code": 200, "alias": "key_bi", '
        '"timestamp": "2026-11-27T14:03:51.512Z", "ip_address": "192.0.2.10"}',
        "https://github.com/TykTechnologies/tyk-pump/blob/master/analytics/analytics.go",
        # The gateway records raw_path as r.URL.Path after strip_listen_path has cut the
        # listen path off, and path as the tracked endpoint or that same path; only
        # original_path (added in June 2026, tyk #7791) is the path the client sent
        # (gateway/handler_success.go RecordHit, gateway/proxy_muxer.go). raw_path is the
        # fallback for older gateways.
        fields=_f(("timestamp", "TimeStamp"), ("alias", "api_key", "oauth_id"),
                  ("method",), ("original_path", "raw_path", "path"), ("response_code",),
                  ("user_agent",), ("ip_address",))),
    LogFormat(
        "tyk-csv", "Tyk (CSV pump)", CSV,
        "Alias (the key's alias), else APIKey (Tyk's hash of the key), OauthID",
        "GET,api.example.com,/issues,/issues,0,curl/8.10.1,27,November,2026,14,200,"
        "0a1b2c,2026-11-27 14:03:51.512 +0000 UTC,...,key_bi,...,/v1/issues,/v1/",
        "https://github.com/TykTechnologies/tyk-pump/blob/master/pumps/csv.go",
        fields=_f(("TimeStamp",), ("Alias", "APIKey", "OauthID"), ("Method",),
                  ("OriginalPath", "RawPath", "Path"), ("ResponseCode",), ("UserAgent",),
                  ("IPAddress",))),
    LogFormat(
        "apigee", "Apigee (MessageLogging policy, JSON)", JSON,
        "developer.app.name (the app the key belongs to), else client_id",
        '{"client.received.start.timestamp": "1795788231512", "request.verb": "GET", '
        '"request.uri": "/v1/issues", "response.status.code": "200", '
        '"developer.app.name": "key_bi", "client.ip": "192.0.2.10"}',
        "https://cloud.google.com/apigee/docs/api-platform/reference/policies/"
        "message-logging-policy",
        addition='a MessageLogging policy whose payload is {"client.received.start.timestamp":'
                 '"{client.received.start.timestamp}","request.verb":"{request.verb}",'
                 '"request.uri":"{request.uri}","response.status.code":'
                 '"{response.status.code}","developer.app.name":"{developer.app.name}",'
                 '"client.ip":"{client.ip}"} (Apigee has no stock access log)',
        fields=_f(('["client.received.start.timestamp"]',),
                  ('["developer.app.name"]', '["client_id"]', '["apiproduct.name"]'),
                  ('["request.verb"]',), ('["request.uri"]',),
                  ('["response.status.code"]', '["message.status.code"]'),
                  ('["request.header.user-agent"]',), ('["client.ip"]',))),
    LogFormat(
        "ingress-nginx", "Kubernetes ingress-nginx", NGINX,
        "$http_x_api_key_id after $req_id when added",
        '192.0.2.10 - - [27/Nov/2026:14:03:51 +0000] "GET /v1/issues HTTP/1.1" 200 5123 "-" '
        '"curl/8.10.1" 412 0.013 [default-api-80] [] 10.0.3.7:8080 5123 0.012 200 '
        '3b1d6c2e9f0a4e8b8c3d5a6b7c8d9e0f',
        "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/log-format/",
        addition='log-format-upstream in the ConfigMap: the default with "$http_x_api_key_id" '
                 "appended",
        layout=_INGRESS_NGINX, tail=' "$http_x_api_key_id"'),
    LogFormat(
        "istio", "Istio / Envoy Gateway (JSON access log)", JSON,
        "api_key_id or x-api-key-id (an added %REQ(X-API-KEY-ID)% entry)",
        '{"start_time": "2026-11-27T14:03:51.512Z", "method": "GET", "path": "/v1/issues", '
        '"response_code": 200, "downstream_remote_address": "192.0.2.10:51514", '
        '"api_key_id": "key_bi"}',
        "https://istio.io/latest/docs/tasks/observability/logs/access-log/"
        "#default-access-log-format",
        addition='"api_key_id": "%REQ(X-API-KEY-ID)%" in the JSON access-log format '
                 "(Istio's Telemetry/meshConfig, Envoy Gateway's EnvoyProxy telemetry)",
        fields=_f(("start_time",), ("api_key_id", "x-api-key-id"), ("method",),
                  ("x-envoy-origin-path", "path"), ("response_code",),
                  ("user_agent", "user-agent"),
                  ("downstream_remote_address", "x_forwarded_for", "x-forwarded-for")),
        aliases=("envoy-gateway",)),
    LogFormat(
        "otel", "OpenTelemetry (OTLP JSON, flattened rows)", JSON,
        "enduser.id, user.id, or the captured header http.request.header.x-api-key-id",
        '{"startTimeUnixNano": "1795788231512000000", "url.path": "/v1/issues", '
        '"http.request.method": "GET", "http.response.status_code": 200, '
        '"enduser.id": "key_bi"}',
        "https://opentelemetry.io/docs/specs/semconv/http/http-spans/#http-server",
        addition="capture the request header X-Api-Key-Id as an attribute "
                 "(OTEL_INSTRUMENTATION_HTTP_SERVER_CAPTURE_REQUEST_HEADERS=X-Api-Key-Id), or "
                 "set enduser.id",
        fields=OTEL, aliases=("opentelemetry",)),
    LogFormat(
        "apigw", "AWS API Gateway (access logs, JSON)", JSON,
        "apiKeyId, principalId, ...",
        '{"requestTime": "27/Nov/2026:14:03:51 +0000", "httpMethod": "GET", "resourcePath": '
        '"/v1/issues", "status": "200", "apiKeyId": "key_bi"}',
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/"
        "set-up-logging.html",
        fields=_f(("requestTimeEpoch", "requestTime"),
                  ("apiKeyId", "identity.apiKeyId", "principalId", "principal", "clientId"),
                  ("httpMethod",), ("resourcePath", "routeKey", "path"), ("status",),
                  ("userAgent", "identity.userAgent"), ("ip", "sourceIp", "identity.sourceIp"),
                  ("count",))),
    LogFormat(
        "kong", "Kong (log plugins, JSON)", JSON,
        "consumer.username, consumer.custom_id, then authenticated_entity.id (the "
        "credential's UUID), consumer.id",
        '{"started_at": 1795788231512, "request": {"method": "GET", "uri": "/v1/issues"}, '
        '"response": {"status": 200}, "consumer": {"username": "key_bi"}}',
        "https://developer.konghq.com/plugins/file-log/#log-format",
        # The consumer's name is what an organisation names its keys by; the credential's
        # UUID (authenticated_entity.id) only when the consumer has none.
        fields=_f(("started_at",),
                  ("consumer.username", "consumer.custom_id", "authenticated_entity.id",
                   "consumer.id"),
                  ("request.method",), ("request.uri",), ("response.status",),
                  ("request.headers.user-agent",), ("client_ip",), ("count",))),
)

_BY_NAME: dict[str, LogFormat] = {
    name: entry for entry in FORMATS for name in (entry.name, *entry.aliases)}
NAMES = tuple(_BY_NAME)  # every name --log-format takes, aliases too


def usage_names() -> str:
    """The names as a message lists them: ``nginx[:<log_format>]`` for those taking one."""
    return ", ".join(f"{e.name}[:<format>]" if e.takes_format else e.name for e in FORMATS)


def lookup(name: str) -> LogFormat:
    """The format a ``--log-format`` name (or alias) stands for."""
    entry = _BY_NAME.get(name.strip().lower())
    if entry is None:
        hint = did_you_mean(name.strip().split(":", 1)[0], NAMES)
        raise InputError(f"unknown --log-format {redact(name)!r}{redact(hint)} (formats: "
                         f"{usage_names()}; `scopeaudit formats` describes them)")
    return entry


def find(name: str) -> LogFormat | None:
    return _BY_NAME.get(name.strip().lower())


@dataclass(frozen=True)
class ReadOptions:
    """How inputs are read besides their format: ``--csv-delimiter``, ``--csv-columns`` and
    ``--tz``."""

    csv_delimiter: str | None = None  # None: the format's own (a comma for csv)
    csv_columns: tuple[str, ...] | None = None  # a headerless CSV's column names
    zone: tzinfo = UTC  # the zone of a time written without one
    zone_name: str = "UTC"  # as given, for the report

    @property
    def streaming_only(self) -> bool:
        """Options the DuckDB engine's SQL does not reproduce: the streaming reader reads."""
        return (self.csv_delimiter is not None or self.csv_columns is not None
                or self.zone_name != "UTC")


NO_OPTIONS = ReadOptions()  # the defaults: commas and a header, UTC

_DELIMITERS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|",
               "space": " "}
_OFFSET_RE = re.compile(r"(?:UTC|GMT)?([+-])([01][0-9]|2[0-3]):?([0-5][0-9])?")


def read_options(delimiter: str | None, columns: str | None, tz: str | None) -> ReadOptions:
    """The options as given on the command line, checked."""
    sep: str | None = None
    if delimiter is not None:
        sep = _DELIMITERS.get(delimiter.strip().lower(), delimiter)
        if len(sep) != 1 or sep in "\"\r\n":
            raise InputError(f"--csv-delimiter expects one character (or tab, semicolon, pipe), "
                             f"got {delimiter!r}")
    names: tuple[str, ...] | None = None
    if columns is not None:
        names = tuple(c.strip() for c in columns.split(","))
        if not all(names) or len(set(names)) != len(names):
            raise InputError(f"--csv-columns expects distinct column names separated by commas, "
                             f"got {columns!r}")
    zone, name = parse_zone(tz) if tz is not None else (UTC, "UTC")
    return ReadOptions(sep, names, zone, name)


def parse_zone(text: str) -> tuple[tzinfo, str]:
    """``--tz``: an IANA name (Europe/Paris) or an offset (+02:00, -0530, UTC+1), with the
    name the report states."""
    value = text.strip()
    if value.upper() in ("UTC", "Z", "GMT", "+00:00", "+0000", "+00"):
        return UTC, "UTC"
    found = _OFFSET_RE.fullmatch(value)
    if found is not None:
        sign, hours, minutes = found.groups()
        offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if not offset:
            return UTC, "UTC"
        shown = f"{sign}{hours}:{minutes or '00'}"
        return timezone(-offset if sign == "-" else offset), shown
    try:
        return ZoneInfo(value), value
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"--tz expects an IANA zone name (Europe/Paris) or an offset "
                         f"(+02:00), got {text!r}") from None
