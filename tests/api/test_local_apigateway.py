"""The local HTTP API data plane: route selection, the 2.0 event, the answer mapping, CORS.

Behaviour from the API Gateway developer guide: routes (most specific match wins, greedy
``{proxy+}`` last, ``$default`` catches the rest, no match is a 404),
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html;
the Lambda proxy integration (format 2.0 event; a response without ``statusCode`` is a 200 JSON
body; a function error is a 500),
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html;
CORS (API Gateway answers preflight requests itself and its CORS headers replace the
integration's), https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from local_aws.apigateway import HttpApiServer, http_response, local_api_port
from local_aws.lambda_service import InvocationResult

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:ts-api"


class FakeApiGatewayV2:
    """What GetApi, GetRoutes and GetIntegrations answer for a deployed API."""

    def __init__(
        self, route_keys: list[str], cors: dict[str, Any] | None = None, authorization: str = "NONE"
    ) -> None:
        self._route_keys = route_keys
        self._cors = cors
        self._authorization = authorization

    def get_api(self, ApiId: str) -> dict[str, Any]:  # boto3's argument names
        return {"ApiId": ApiId, **({"CorsConfiguration": self._cors} if self._cors else {})}

    def get_integrations(self, ApiId: str) -> dict[str, Any]:
        return {"Items": [{"IntegrationId": "int1", "IntegrationType": "AWS_PROXY",
                           "IntegrationUri": FUNCTION, "PayloadFormatVersion": "2.0"}]}  # fmt: skip

    def get_routes(self, ApiId: str) -> dict[str, Any]:
        route = {"Target": "integrations/int1", "AuthorizationType": self._authorization}
        return {"Items": [{"RouteKey": key, **route} for key in self._route_keys]}


class Recorder:
    def __init__(self, answer: Any = None, error: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        self._answer = answer
        self._error = error

    def __call__(self, function: str, event: dict[str, Any]) -> InvocationResult:
        assert function == FUNCTION
        self.events.append(event)
        payload = self._answer if self._answer is not None else {
            "statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"route": event["routeKey"]}),
        }  # fmt: skip
        return InvocationResult("id", 200, payload, "Unhandled" if self._error else None)


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[HttpApiServer] = []

    def start(
        routes: list[str],
        recorder: Recorder,
        cors: dict[str, Any] | None = None,
        authorization: str = "NONE",
    ) -> str:
        api = FakeApiGatewayV2(routes, cors, authorization)
        server = HttpApiServer(api, "a1b2c3", recorder).start()
        servers.append(server)
        return server.url.rstrip("/")

    yield start
    for server in servers:
        server.stop()


def request(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> Any:
    try:
        prepared = urllib.request.Request(url, method=method, headers=headers or {})  # noqa: S310
        with urllib.request.urlopen(prepared, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


ROUTES = ["GET /", "GET /api/topics", "GET /static/{name}", "GET /files/{path+}", "$default"]


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/", "GET /"),
        ("/api/topics", "GET /api/topics"),
        ("/static/page.js", "GET /static/{name}"),
        ("/files/a/b.txt", "GET /files/{path+}"),
        ("/static/a/b", "$default"),
        ("/elsewhere", "$default"),
    ],
)
def test_the_most_specific_route_wins(serve: Any, path: str, route: str) -> None:
    recorder = Recorder()
    base = serve(ROUTES, recorder)
    status, _, body = request(base + path)
    assert status == 200
    assert json.loads(body) == {"route": route}


def test_no_matching_route_is_api_gateways_404(serve: Any) -> None:
    recorder = Recorder()
    base = serve(["GET /api/topics"], recorder)
    status, _, body = request(base + "/api/other")
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})
    status, _, _ = request(base + "/api/topics", method="DELETE")
    assert status == 404
    assert recorder.events == []


def test_the_event_is_payload_format_2_0(serve: Any) -> None:
    recorder = Recorder()
    base = serve(ROUTES, recorder)
    request(base + "/static/a%20b.js?topic=x&topic=y&q=%23Europe", headers={"Cookie": "a=1; b=2"})
    (event,) = recorder.events
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /static/{name}"
    assert event["rawPath"] == "/static/a b.js"
    assert event["rawQueryString"] == "topic=x&topic=y&q=%23Europe"
    assert event["queryStringParameters"] == {"topic": "x,y", "q": "#Europe"}
    assert event["pathParameters"] == {"name": "a b.js"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["requestContext"]["stage"] == "$default"
    assert event["isBase64Encoded"] is False


def test_a_function_error_is_a_500(serve: Any) -> None:
    base = serve(ROUTES, Recorder(answer={"errorType": "KeyError"}, error=True))
    status, _, body = request(base + "/api/topics")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})


def test_answer_without_status_code_is_a_200_json_body() -> None:
    assert http_response({"hello": "world"}) == (
        200, {"content-type": "application/json"}, [], b'{"hello": "world"}'
    )  # fmt: skip
    status, headers, cookies, body = http_response(
        {"statusCode": 201, "headers": {"x": "1"}, "cookies": ["c=1"], "body": "aGk=",
         "isBase64Encoded": True}
    )  # fmt: skip
    assert (status, headers, cookies, body) == (201, {"x": "1"}, ["c=1"], b"hi")


def test_cors_preflight_is_answered_by_the_gateway(serve: Any) -> None:
    recorder = Recorder(answer={"statusCode": 200, "headers": {
        "Access-Control-Allow-Origin": "https://evil.example"}, "body": "{}"})  # fmt: skip
    cors = {"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "OPTIONS"],
            "AllowHeaders": ["content-type"], "MaxAge": 300}  # fmt: skip
    base = serve(ROUTES, recorder, cors)
    status, headers, _ = request(base + "/api/topics", method="OPTIONS", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "GET"})  # fmt: skip
    assert status == 204
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert recorder.events == []
    status, headers, _ = request(base + "/api/topics", headers={"Origin": "https://other.example"})
    assert status == 200
    assert not any(name.lower().startswith("access-control-") for name in headers)


def test_port_follows_the_emulators() -> None:
    assert local_api_port({}) == 4567
    assert local_api_port({"LOCAL_AWS_PORT": "4607"}) == 4608
    assert local_api_port({"LOCAL_AWS_PORT": "4607", "LOCAL_API_PORT": "9000"}) == 9000


class FakeLambda:
    """GetPolicy as Lambda answers it: the resource policy, or ResourceNotFoundException."""

    class exceptions:  # boto3 client attribute names
        class ResourceNotFoundException(Exception):  # noqa: N818 - botocore's own name
            pass

    def __init__(self, source_arn: str | None) -> None:
        self._source_arn = source_arn

    def get_policy(self, FunctionName: str) -> dict[str, Any]:
        assert FunctionName == FUNCTION
        if self._source_arn is None:
            raise self.exceptions.ResourceNotFoundException
        statement = {
            "Sid": "AllowInvokeFromHttpApi",
            "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": FUNCTION,
            "Condition": {"ArnLike": {"AWS:SourceArn": self._source_arn}},
        }
        return {"Policy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})}


@pytest.mark.parametrize(
    ("policy_source_arn", "status"),
    [
        ("arn:aws:execute-api:us-east-1:123456789012:a1b2c3/*/*", 200),
        ("arn:aws:execute-api:us-east-1:123456789012:a1b2c3/*/GET/api/topics", 200),
        ("arn:aws:execute-api:us-east-1:123456789012:other/*/*", 500),
        ("arn:aws:execute-api:us-east-1:123456789012:a1b2c3/*/GET/", 500),
        (None, 500),
    ],
)
def test_invocation_needs_the_functions_resource_policy(
    policy_source_arn: str | None, status: int
) -> None:
    recorder = Recorder()
    server = HttpApiServer(
        FakeApiGatewayV2(ROUTES), "a1b2c3", recorder, lambda_client=FakeLambda(policy_source_arn)
    ).start()
    try:
        answered, _, body = request(server.url + "api/topics")
    finally:
        server.stop()
    assert answered == status
    assert len(recorder.events) == (1 if status == 200 else 0)
    if status == 500:
        assert json.loads(body) == {"message": "Internal Server Error"}


@pytest.mark.parametrize(
    ("authorization", "status", "message"),
    [("AWS_IAM", 403, "Forbidden"), ("JWT", 401, "Unauthorized")],
)
def test_an_authorised_route_refuses_a_request_without_credentials(
    serve: Any, authorization: str, status: int, message: str
) -> None:
    """IAM: an unsigned request is refused (https://docs.aws.amazon.com/apigateway/latest/
    developerguide/http-api-access-control-iam.html); JWT: a request without a token is a 401
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html)."""
    recorder = Recorder()
    url = serve(["GET /api/topics"], recorder, authorization=authorization)
    answered, _, body = request(f"{url}/api/topics")
    assert (answered, json.loads(body)) == (status, {"message": message})
    assert recorder.events == []
    answered, _, _ = request(f"{url}/api/topics", headers={"Authorization": "Bearer x"})
    assert answered == 200
