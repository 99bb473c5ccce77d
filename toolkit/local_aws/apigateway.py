"""Stand-in for an API Gateway HTTP API's data plane: serves the deployed routes on loopback.

The emulator stores the API (routes, integrations, CORS) but does not serve it. ``HttpApiServer``
reads what Terraform deployed (``GetApi``, ``GetRoutes``, ``GetIntegrations``), listens on
127.0.0.1 and, per request, picks the route as API Gateway does (exact path first, then the
most specific path with ``{param}`` segments, then ``{proxy+}``, then ``$default``; none: 404
``{"message":"Not Found"}``), builds the payload format 2.0 event and invokes the integration's
function through the local Lambda service, then maps the answer back to HTTP as API Gateway
does (a function error is a 500 ``{"message":"Internal Server Error"}``). Given the Lambda
client, it also reads the function's resource policy: a request whose ``execute-api`` source
ARN no statement allows to invoke the function is a 500 without an invocation, as on AWS.
Stage throttling is not emulated. The behaviour is the API Gateway developer guide's (routes,
Lambda proxy integrations for HTTP APIs, CORS); tests/api/test_local_apigateway.py cites them.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local_aws.lambda_service import LambdaService

logger = logging.getLogger(__name__)

DEFAULT_PORT_OFFSET = 1
_NOT_FOUND = (404, {"message": "Not Found"})
_INTERNAL = (500, {"message": "Internal Server Error"})


def local_api_port(environ: Mapping[str, str] = os.environ) -> int:
    """``LOCAL_API_PORT``, else the emulator's port (``LOCAL_AWS_PORT``, 4566) plus one."""
    if environ.get("LOCAL_API_PORT"):
        return int(environ["LOCAL_API_PORT"])
    return int(environ.get("LOCAL_AWS_PORT") or 4566) + DEFAULT_PORT_OFFSET


@dataclass(frozen=True)
class Route:
    key: str
    method: str
    path: str
    function: str
    pattern: re.Pattern[str] | None
    authorization: str = "NONE"
    """The route's ``AuthorizationType``: ``NONE``, ``AWS_IAM`` or ``JWT``."""

    @property
    def rank(self) -> tuple[int, int, int]:
        """Lower wins: exact paths, then fewer greedy/parameter segments, then longer paths."""
        greedy = int(self.path.endswith("+}"))
        params = self.path.count("{")
        return (greedy, params, -len(self.path))


def _pattern(path: str) -> re.Pattern[str] | None:
    if "{" not in path:
        return None
    regex = ""
    for segment in path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            regex += f"/(?P<{segment[1:-2]}>.+)"
        elif segment.startswith("{") and segment.endswith("}"):
            regex += f"/(?P<{segment[1:-1]}>[^/]+)"
        else:
            regex += "/" + re.escape(segment)
    return re.compile(regex + r"\Z")


def read_routes(client: Any, api_id: str) -> list[Route]:
    """The API's routes with the function each one's Lambda proxy integration invokes."""
    integrations = {
        item["IntegrationId"]: item for item in client.get_integrations(ApiId=api_id)["Items"]
    }
    routes = []
    for item in client.get_routes(ApiId=api_id)["Items"]:
        target = item.get("Target", "")
        integration = integrations.get(target.removeprefix("integrations/"))
        if integration is None or integration.get("IntegrationType") != "AWS_PROXY":
            continue
        if integration.get("PayloadFormatVersion") != "2.0":
            raise ValueError(f"route {item['RouteKey']}: only payload format 2.0 is served")
        method, _, path = item["RouteKey"].partition(" ")
        routes.append(
            Route(
                item["RouteKey"],
                method,
                path,
                integration["IntegrationUri"],
                _pattern(path),
                item.get("AuthorizationType", "NONE"),
            )
        )
    return sorted(routes, key=lambda route: route.rank)


def match(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        if route.key == "$default" or route.method not in {method, "ANY"}:
            continue
        if route.pattern is None:
            if route.path == path:
                return route, {}
        elif found := route.pattern.match(path):
            return route, {name: unquote(value) for name, value in found.groupdict().items()}
    default = next((route for route in routes if route.key == "$default"), None)
    return (default, {}) if default is not None else None


def build_event(
    *,
    api_id: str,
    route: Route,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    path_parameters: dict[str, str],
    source_ip: str,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends for this request."""
    parts = urlsplit(target)
    raw_path = parts.path or "/"
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    cookies = [c.strip() for c in lowered.pop("cookie", "").split(";") if c.strip()]
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": unquote(raw_path),
        "rawQueryString": parts.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": api_id,
            "domainName": lowered.get("host", "127.0.0.1"),
            "domainPrefix": api_id,
            "http": {
                "method": method,
                "path": unquote(raw_path),
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode(),
            "routeKey": route.key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        try:
            event["body"] = body.decode()
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def http_response(payload: Any) -> tuple[int, dict[str, str], list[str], bytes]:
    """Status, headers, cookies and body from the function's answer (format 2.0 rules)."""
    if not isinstance(payload, dict) or "statusCode" not in payload:
        # Format 2.0 infers a 200 JSON answer from anything that is not a response object.
        text = payload if isinstance(payload, str) else json.dumps(payload)
        return 200, {"content-type": "application/json"}, [], text.encode()
    raw = payload.get("body") or ""
    body = base64.b64decode(raw) if payload.get("isBase64Encoded") else str(raw).encode()
    headers = {str(k): str(v) for k, v in (payload.get("headers") or {}).items()}
    for name, values in (payload.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ",".join(str(v) for v in values)
    return int(payload["statusCode"]), headers, list(payload.get("cookies") or []), body


def _allows(statement: Mapping[str, Any], source_arn: str) -> bool:
    principal = statement.get("Principal")
    service = principal.get("Service") if isinstance(principal, dict) else principal
    actions = statement.get("Action")
    actions = [actions] if isinstance(actions, str) else list(actions or [])
    if statement.get("Effect") != "Allow" or service != "apigateway.amazonaws.com":
        return False
    if not {"lambda:InvokeFunction", "lambda:*"} & set(actions):
        return False
    patterns = [
        value
        for condition in ("ArnLike", "ArnEquals")
        for key, value in (statement.get("Condition") or {}).get(condition, {}).items()
        if key.lower() == "aws:sourcearn"
    ]
    return all(fnmatch.fnmatchcase(source_arn, pattern) for pattern in patterns)


def _unauthorised(route: Route, headers: Mapping[str, str]) -> tuple[int, dict[str, str]] | None:
    """API Gateway's own refusal of a request without credentials on an authorised route: 403
    for IAM (no signature), 401 for JWT (no token). Credentials that are present are not
    verified here (signatures and tokens are not checked locally, README)."""
    if route.authorization == "NONE":
        return None
    if any(name.lower() == "authorization" for name in headers):
        return None
    if route.authorization == "JWT":
        return 401, {"message": "Unauthorized"}
    return 403, {"message": "Forbidden"}


def invoke_permitted(lambda_client: Any, function_arn: str, source_arn: str) -> bool:
    """Does the function's resource policy let API Gateway invoke it for ``source_arn``?"""
    try:
        policy = json.loads(lambda_client.get_policy(FunctionName=function_arn)["Policy"])
    except lambda_client.exceptions.ResourceNotFoundException:
        return False
    return any(_allows(statement, source_arn) for statement in policy.get("Statement", []))


def source_arn(function_arn: str, api_id: str, method: str, path: str) -> str:
    """The ``execute-api`` ARN API Gateway invokes with: the function's partition, region and
    account, then ``<api>/<stage>/<method><path>``."""
    _, partition, _, region, account, *_ = function_arn.split(":")
    return f"arn:{partition}:execute-api:{region}:{account}:{api_id}/$default/{method}{path}"


class HttpApiServer:
    """One deployed HTTP API served on ``127.0.0.1:port`` (port 0: any free port)."""

    def __init__(
        self,
        client: Any,
        api_id: str,
        invoke: Callable[[str, Any], Any],
        port: int = 0,
        lambda_client: Any | None = None,
    ) -> None:
        self.api_id = api_id
        self.routes = read_routes(client, api_id)
        cors = client.get_api(ApiId=api_id).get("CorsConfiguration") or {}
        self._cors_origins = set(cors.get("AllowOrigins", []))
        self._cors = cors
        self._invoke = invoke
        self._lambda = lambda_client
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @classmethod
    def for_lambda_service(
        cls, clients: Callable[[str], Any], api_id: str, service: LambdaService, port: int = 0
    ) -> HttpApiServer:
        return cls(clients("apigatewayv2"), api_id, service.invoke, port, clients("lambda"))

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> HttpApiServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="apigateway", daemon=True
        )
        self._thread.start()
        logger.info("HTTP API %s served at %s", self.api_id, self.url)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _cors_headers(self, origin: str | None) -> dict[str, str]:
        if not origin or not ({"*", origin} & self._cors_origins):
            return {}
        return {"access-control-allow-origin": "*" if "*" in self._cors_origins else origin}

    def answer(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], list[str], bytes]:
        """What API Gateway answers to one request."""
        origin = next((v for k, v in headers.items() if k.lower() == "origin"), None)
        preflight = method == "OPTIONS" and any(
            k.lower() == "access-control-request-method" for k in headers
        )
        if preflight and self._cors:
            # With CORS configured, API Gateway answers preflight requests itself.
            allowed = {
                **self._cors_headers(origin),
                "access-control-allow-methods": ",".join(self._cors.get("AllowMethods", [])),
                "access-control-allow-headers": ",".join(self._cors.get("AllowHeaders", [])),
                "access-control-max-age": str(self._cors.get("MaxAge", 0)),
            }
            return 204, allowed, [], b""
        path = urlsplit(target).path or "/"
        found = match(self.routes, method, unquote(path))
        if found is None:
            status, message = _NOT_FOUND
            return status, {"content-type": "application/json"}, [], json.dumps(message).encode()
        route, parameters = found
        refused = _unauthorised(route, headers)
        if refused is not None:
            status, message = refused
            return status, {"content-type": "application/json"}, [], json.dumps(message).encode()
        event = build_event(
            api_id=self.api_id, route=route, method=method, target=target, headers=headers,
            body=body, path_parameters=parameters, source_ip=source_ip,
        )  # fmt: skip
        if self._lambda is not None and not invoke_permitted(
            self._lambda, route.function, source_arn(route.function, self.api_id, method, path)
        ):
            logger.warning("%s %s: API Gateway may not invoke %s", method, path, route.function)
            status, message = _INTERNAL
            return status, {"content-type": "application/json"}, [], json.dumps(message).encode()
        result = self._invoke(route.function, event)
        if getattr(result, "function_error", None):
            logger.warning("%s %s: function error %s", method, path, result.payload)
            status, message = _INTERNAL
            return status, {"content-type": "application/json"}, [], json.dumps(message).encode()
        status, response_headers, cookies, response_body = http_response(result.payload)
        if self._cors:
            # API Gateway's CORS headers replace the integration's.
            response_headers = {
                k: v
                for k, v in response_headers.items()
                if not k.lower().startswith("access-control-")
            }
            response_headers.update(self._cors_headers(origin))
        return status, response_headers, cookies, response_body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                started = time.monotonic()
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    status, headers, cookies, payload = server.answer(
                        self.command, self.path, dict(self.headers.items()), body,
                        self.client_address[0],
                    )  # fmt: skip
                except Exception:
                    logger.exception("%s %s failed", self.command, self.path)
                    status, message = _INTERNAL
                    headers, cookies = {"content-type": "application/json"}, []
                    payload = json.dumps(message).encode()
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in {"content-length", "connection"}:
                        self.send_header(name, value)
                for cookie in cookies:
                    self.send_header("set-cookie", cookie)
                self.send_header("content-length", str(len(payload)))
                self.send_header("apigw-requestid", uuid.uuid4().hex[:16])
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                logger.debug("%s %s %d in %.0f ms", self.command, self.path, status,
                             (time.monotonic() - started) * 1000)  # fmt: skip

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                logger.debug(format, *args)

        return Handler
