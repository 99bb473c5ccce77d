"""Read API Lambda behind an API Gateway HTTP API (payload format 2.0), and the live page.

Powertools' resolver validates every query parameter against the handler's annotations and
publishes the OpenAPI schema (``/swagger``, ``/swagger?format=json``). Every answer is a few
``Query`` calls on the table's keys and its topic-discovery index (``api.queries``,
``api.rankings``); a bad request is a 4xx whose message names the parameter to fix. Every
response carries the page's security headers (``api.page``). Latency and 4xx/5xx counts come
from API Gateway's own metrics, so the function publishes none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths

from api import page, queries, rankings
from api.config import ApiConfig
from api.models import Problem, Series, TopicRanking, Trending, TweetPage
from function_support.clients import Timeouts, new_client
from function_support.tracing import lambda_tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient

logger = Logger()
tracer = lambda_tracer()
app = APIGatewayHttpResolver(enable_validation=True)
SWAGGER_PATH = "/swagger"

_PROBLEMS: dict[int, OpenAPIResponse] = {
    status: {
        "description": description,
        "content": {"application/json": {"model": Problem}},
    }
    for status, description in (
        (400, "A parameter is out of range (inverted or too long window, malformed cursor)."),
        (404, "Nothing is stored under this topic."),
        (422, "A parameter is missing or of the wrong type."),
    )
}
Topic = Annotated[str, Query(min_length=1, max_length=queries.MAX_TOPIC_LENGTH)]
From = Annotated[
    datetime | None, Query(alias="from", description="Start (RFC 3339); default: to - 59 min.")
]
To = Annotated[datetime | None, Query(alias="to", description="End, included; default: now.")]


CLIENT_TIMEOUTS = Timeouts(connect=1, read=3)
"""Every DynamoDB call of the API (a test holds it against the function's timeout)."""


@cache
def dynamodb() -> DynamoDBClient:
    return new_client("dynamodb", CLIENT_TIMEOUTS)


@cache
def config() -> ApiConfig:
    """Read once per execution environment, on the first request."""
    return ApiConfig.from_environ()


@cache
def enable_swagger() -> None:
    """Registers the schema and Swagger UI routes on the first request for them.

    ``enable_swagger`` imports Powertools' OpenAPI document models, which no other route
    needs: paying for them at import would slow every cold start (docs/api.md).
    """
    app.enable_swagger(
        path=SWAGGER_PATH,
        title="trendstream read API",
        version="1.0.0",
        description="Per-topic, per-minute tweet sentiment and the tweets behind it.",
    )


def _window(start: datetime | None, end: datetime | None) -> queries.Window:
    return queries.window(start, end, datetime.now(UTC))


Limit = Annotated[int, Query(description="Topics in the answer, 1 to 100.")]
Named = Annotated[
    list[str] | None,
    Query(description="Rank only these topics (repeat it or comma-join, at most 25)."),
]


@app.get(
    "/api/topics",
    summary="Topics ranked by tweets in a window, with their sentiment mix",
    description="The topics the pipeline found active in the window (the discovery index), or "
    "those named by `topic` or pinned by the function's configuration; then one Query per topic.",
    responses={200: {"description": "The ranking."}, **_PROBLEMS},
)
def top_topics(
    topic: Named = None,
    start: From = None,
    end: To = None,
    limit: Limit = 25,
) -> TopicRanking:
    span = _window(start, end)
    named = topic or list(config().topics)
    ranked = rankings.top_topics(dynamodb, config().table_name, span, named, limit)
    return TopicRanking.model_validate(
        {
            "first_minute": span.first.strftime(queries.MINUTE_FORMAT),
            "last_minute": span.last.strftime(queries.MINUTE_FORMAT),
            "topics": ranked,
        }
    )


@app.get(
    "/api/trending",
    summary="Rising topics: recent tweets against each topic's own baseline",
    description="Topics active in the recent window, ranked by the smoothed ratio of their "
    "recent tweets to those their baseline predicts (docs/api.md), with the recent sentiment mix.",
    responses={200: {"description": "The rising topics."}, **_PROBLEMS},
)
def trending_topics(
    topic: Named = None,
    end: To = None,
    recent: Annotated[int, Query(description="Recent window, 1 to 60 minutes.")] = (
        rankings.DEFAULT_RECENT_MINUTES
    ),
    baseline: Annotated[int, Query(description="Baseline before it, in minutes.")] = (
        rankings.DEFAULT_BASELINE_MINUTES
    ),
    limit: Limit = 25,
) -> Trending:
    windows = rankings.trend_windows(_window(None, end).last, recent, baseline)
    named = topic or list(config().topics)
    rising = rankings.trending(dynamodb, config().table_name, windows, named, limit)
    return Trending.model_validate(
        {
            "recent_first_minute": windows.recent.first.strftime(queries.MINUTE_FORMAT),
            "recent_last_minute": windows.recent.last.strftime(queries.MINUTE_FORMAT),
            "baseline_first_minute": windows.baseline.first.strftime(queries.MINUTE_FORMAT),
            "baseline_last_minute": windows.baseline.last.strftime(queries.MINUTE_FORMAT),
            "topics": rising,
        }
    )


@app.get(
    "/api/series",
    summary="One topic's tweets per minute and per sentiment",
    description="Every minute of the window, zeros where nothing was counted; at most 1440.",
    responses={200: {"description": "Columns, one value per minute."}, **_PROBLEMS},
)
def topic_series(topic: Topic, start: From = None, end: To = None) -> Series:
    span = _window(start, end)
    return Series.model_validate(
        queries.series(dynamodb(), config().table_name, queries.check_topic(topic), span)
    )


@app.get(
    "/api/tweets",
    summary="One topic's most recent tweets, newest first",
    responses={200: {"description": "One page of tweets."}, **_PROBLEMS},
)
def topic_tweets(
    topic: Topic,
    limit: Annotated[int, Query(description="Page size, 1 to 100.")] = 20,
    cursor: Annotated[str | None, Query(max_length=2048, description="'next_cursor'.")] = None,
) -> TweetPage:
    return TweetPage.model_validate(
        queries.recent_tweets(
            dynamodb(), config().table_name, queries.check_topic(topic), limit, cursor
        )
    )


@app.get("/", include_in_schema=False)
def index() -> Response[str]:
    return page.asset("index.html")


@app.get("/static/<name>", include_in_schema=False)
def static(name: Annotated[str, Path()]) -> Response[str]:
    return page.asset(name)


def bad_request(error: queries.InvalidQueryError) -> Response[Any]:
    raise BadRequestError(str(error))


def unknown_topic(error: queries.UnknownTopicError) -> Response[Any]:
    raise NotFoundError(f"unknown topic {error.args[0]!r}: nothing is stored under it")


def invalid_request(error: RequestValidationError) -> Response[Any]:
    """Powertools' 422 names only the location; ours also says what is wrong with it."""
    problems = [
        f"{'.'.join(str(part) for part in problem['loc'])}: {problem.get('msg', problem['type'])}"
        for problem in error.errors()
    ]
    return Response(
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
        content_type=content_types.APPLICATION_JSON,
        body={"statusCode": HTTPStatus.UNPROCESSABLE_ENTITY, "message": "; ".join(problems)},
    )


app.exception_handler(queries.InvalidQueryError)(bad_request)
app.exception_handler(queries.UnknownTopicError)(unknown_topic)
app.exception_handler(RequestValidationError)(invalid_request)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("rawPath") == SWAGGER_PATH:
        enable_swagger()
    return page.with_security_headers(app.resolve(event, context))
