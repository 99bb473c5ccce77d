"""Where tweets come from: the live X API v2 (through tweepy) or the replay dataset.

Both return X API v2 response bodies, so everything downstream (parsing, records, checkpoints) is
the same code whichever source runs. Sources translate their failures into the few errors the run
loop acts on: RateLimitedError, XAuthError, SourceUnavailableError.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

from function_support.environment import ConfigurationError
from producer.credentials import APP_ONLY_KEY, USER_CONTEXT_KEYS
from producer.deadline import Deadline
from producer.pages import EXPANSIONS, TWEET_FIELDS, USER_FIELDS, XPage
from tweet_record import utc_now

if TYPE_CHECKING:
    import requests
    from mypy_boto3_s3 import S3Client

    from producer.credentials import XCredentials

logger = logging.getLogger(__name__)

EMPTY_PAGE: XPage = {"meta": {"result_count": 0}}


class RateLimitedError(Exception):
    """HTTP 429: stop this topic until `reset_at` (Unix seconds; None when the header is absent)."""

    def __init__(self, endpoint: str, reset_at: int | None) -> None:
        super().__init__(f"{endpoint} rate limited until {reset_at}")
        self.endpoint = endpoint
        self.reset_at = reset_at


class XAuthError(ConfigurationError):
    """HTTP 401: the credentials are wrong; every further request would fail the same way."""


class SourceUnavailableError(Exception):
    """The source failed for this request after bounded retries (5xx, network, 4xx other than
    401/429); the run skips the topic and goes on."""


class TweetSource(Protocol):
    def trends(self, woeid: int, max_trends: int) -> XPage: ...

    def search(
        self, query: str, *, since_id: str | None, next_token: str | None, max_results: int
    ) -> XPage: ...

    def default_queries(self) -> tuple[str, ...]:
        """Queries to search when SEARCH_QUERIES is not set."""
        ...


class XApiSource:
    """X API v2 through tweepy's Client, `return_type=dict` so responses stay raw v2 JSON.

    OAuth 1.0a user context for search unless a bearer token is configured (app-only auth has the
    higher search quota); trends need the bearer token. `wait_on_rate_limit=False`: tweepy would
    otherwise sleep until the reset, past the end of the invocation.
    """

    def __init__(
        self,
        credentials: XCredentials,
        deadline: Deadline,
        *,
        ssm_prefix: str = "/twitter/",
        max_attempts: int = 3,
        backoff_base_seconds: float = 0.5,
        backoff_cap_seconds: float = 4.0,
        request_timeout_seconds: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        import requests  # noqa: PLC0415 - lazy: replay mode never pays for tweepy/requests
        import tweepy  # noqa: PLC0415

        # At DEBUG, tweepy logs request headers (the bearer token) and the OAuth libraries log
        # signed headers: keep those loggers at INFO whatever the function's log level.
        for noisy in ("tweepy", "oauthlib", "requests_oauthlib"):
            logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLogger(noisy).level))
        self._tweepy = tweepy
        self._network_errors: tuple[type[Exception], ...] = (requests.RequestException,)
        self._client = tweepy.Client(
            bearer_token=credentials.bearer_token,
            consumer_key=credentials.consumer_key,
            consumer_secret=credentials.consumer_secret,
            access_token=credentials.access_token_key,
            access_token_secret=credentials.access_token_secret,
            return_type=dict,
            wait_on_rate_limit=False,
        )
        self._client.session = _session_with_timeout(requests, request_timeout_seconds)
        self._has_bearer = credentials.bearer_token is not None
        self._deadline = deadline
        self._ssm_prefix = ssm_prefix
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base_seconds
        self._backoff_cap = backoff_cap_seconds
        self._sleep = sleep
        self._jitter = jitter

    def trends(self, woeid: int, max_trends: int) -> XPage:
        if not self._has_bearer:
            raise SourceUnavailableError(
                f"trends need app-only auth: set SSM parameter {self._ssm_prefix}{APP_ONLY_KEY}"
            )
        route = f"/2/trends/by/woeid/{woeid}"

        def call() -> XPage:
            response = self._client.request("GET", route, params={"max_trends": max_trends})
            body: XPage = response.json()
            return body

        return self._with_retries(route, call)

    def search(
        self, query: str, *, since_id: str | None, next_token: str | None, max_results: int
    ) -> XPage:
        def call() -> XPage:
            body: XPage = self._client.search_recent_tweets(
                query,
                user_auth=not self._has_bearer,
                max_results=max_results,
                since_id=since_id,
                next_token=next_token,
                expansions=list(EXPANSIONS),
                tweet_fields=list(TWEET_FIELDS),
                user_fields=list(USER_FIELDS),
            )
            return body

        return self._with_retries("/2/tweets/search/recent", call)

    def default_queries(self) -> tuple[str, ...]:
        return ()

    def _with_retries(self, endpoint: str, call: Callable[[], XPage]) -> XPage:
        tweepy = self._tweepy
        for attempt in range(1, self._max_attempts + 1):
            try:
                return call()
            except tweepy.TooManyRequests as error:
                raise RateLimitedError(endpoint, getattr(error, "reset_time", None)) from None
            except tweepy.Unauthorized:
                names = ", ".join(
                    self._ssm_prefix + key for key in (*USER_CONTEXT_KEYS, APP_ONLY_KEY)
                )
                raise XAuthError(
                    f"X API answered 401 Unauthorized on {endpoint}: check SSM parameters {names}"
                ) from None
            except (tweepy.TwitterServerError, *self._network_errors) as error:
                failure = _describe(error)
            except tweepy.HTTPException as error:
                raise SourceUnavailableError(f"{endpoint}: {_describe(error)}") from None
            delay = self._jitter() * min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
            if attempt == self._max_attempts or not self._deadline.allows_wait(delay):
                break
            logger.warning(
                "X API request failed, retrying",
                extra={"endpoint": endpoint, "attempt": attempt, "error": failure},
            )
            self._sleep(delay)
        raise SourceUnavailableError(f"{endpoint}: gave up after {attempt} attempt(s): {failure}")


def _describe(error: Exception) -> str:
    """Status, exception class and the API's own error messages (e.g. why a query is invalid):
    never the request we sent, whose headers carry the credentials."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if status is None:
        return type(error).__name__
    messages = [str(message) for message in getattr(error, "api_messages", [])]
    detail = f": {'; '.join(messages)[:300]}" if messages else ""
    return f"HTTP {status} {type(error).__name__}{detail}"


def _session_with_timeout(requests_module: Any, timeout_seconds: float) -> requests.Session:
    """tweepy sends without a timeout; a hung connection would hold the invocation until killed."""

    class TimeoutSession(requests_module.Session):  # type: ignore[misc]
        def request(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", timeout_seconds)
            return super().request(*args, **kwargs)

    session: requests.Session = TimeoutSession()
    return session


class DatasetReader(Protocol):
    def read(self, relative: str) -> bytes | None:
        """The file's bytes, or None when the dataset has no such file."""
        ...


class DirectoryDataset:
    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def read(self, relative: str) -> bytes | None:
        path = self._directory / relative
        return path.read_bytes() if path.is_file() else None


class S3Dataset:
    """The dataset as objects under an S3 prefix (the stack uploads it to the lake bucket)."""

    def __init__(self, bucket: str, prefix: str, client: Callable[[], S3Client]) -> None:
        self._bucket = bucket
        self._prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self._client = client

    def read(self, relative: str) -> bytes | None:
        from botocore.exceptions import ClientError  # noqa: PLC0415 - lazy, like boto3 itself

        key = self._prefix + relative
        try:
            response = self._client().get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise ConfigurationError(f"cannot read s3://{self._bucket}/{key}: {error}") from error
        body: bytes = response["Body"].read()
        return body


def open_dataset(uri: str, s3_client: Callable[[], S3Client]) -> DatasetReader:
    """`s3://bucket/prefix/` or a local directory (a plain path or `file://`)."""
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ConfigurationError(f"REPLAY_DATASET_URI names no bucket: {uri!r}")
        return S3Dataset(parsed.netloc, parsed.path.lstrip("/"), s3_client)
    if parsed.scheme in ("", "file"):
        return DirectoryDataset(Path(parsed.path if parsed.scheme == "file" else uri))
    raise ConfigurationError(f"REPLAY_DATASET_URI must be s3://... or a directory, got {uri!r}")


class ReplaySource:
    """Serves the replay dataset's recorded v2 pages as the API would, dated to the run.

    Every tweet's `created_at` moves by one offset, so the newest tweet is dated the moment the
    source is created and the spacing between tweets is kept: what a run replays is as recent as
    what the API would return, and time-windowed queries see it.

    `since_id` is honoured like the API does: tweets with an id <= since_id are dropped, and since
    pages are ordered newest first, pagination stops at the first page that reached since_id. A
    second run over the same dataset therefore returns one empty page per topic.
    """

    def __init__(
        self,
        dataset: DatasetReader,
        now: Callable[[], datetime] = utc_now,
        *,
        shift_timestamps: bool = True,
    ) -> None:
        self._dataset = dataset
        self._manifest: dict[str, Any] = self._load("manifest.json")
        try:
            topics = self._manifest["topics"]
            self._files_by_query = {t["query"]: t["file"] for t in topics}
        except (KeyError, TypeError) as error:
            raise ConfigurationError(f"replay manifest.json lists no topics: {error}") from error
        self._pages_by_query: dict[str, list[XPage]] = {
            query: self._load(file)["pages"] for query, file in self._files_by_query.items()
        }
        if shift_timestamps:
            self._shift_to(now())

    def trends(self, woeid: int, max_trends: int) -> XPage:
        raw = self._dataset.read(f"trends/woeid-{woeid}.json")
        if raw is None:
            return {"data": []}
        page: XPage = json.loads(raw)
        return page

    def search(
        self, query: str, *, since_id: str | None, next_token: str | None, max_results: int
    ) -> XPage:
        pages = self._pages_by_query.get(query, [])
        index = 0
        if next_token is not None:
            tokens = [page.get("meta", {}).get("next_token") for page in pages]
            if next_token not in tokens:
                raise SourceUnavailableError(f"replay: unknown next_token {next_token!r}")
            index = tokens.index(next_token) + 1
        if index >= len(pages):
            return dict(EMPTY_PAGE)
        page = pages[index]
        return page if since_id is None else _newer_than(page, int(since_id))

    def default_queries(self) -> tuple[str, ...]:
        return tuple(t["query"] for t in self._manifest["topics"] if t["kind"] == "query")

    def _load(self, relative: str) -> dict[str, Any]:
        try:
            raw = self._dataset.read(relative)
            if raw is None:
                raise ConfigurationError(f"replay dataset has no {relative}")
            loaded: dict[str, Any] = json.loads(raw)
        except (OSError, ValueError) as error:
            raise ConfigurationError(
                f"replay dataset file {relative} is unreadable: {error}"
            ) from error
        return loaded

    def _shift_to(self, now: datetime) -> None:
        tweets = [
            tweet
            for pages in self._pages_by_query.values()
            for page in pages
            for tweet in page.get("data", [])
            if isinstance(tweet, dict) and isinstance(tweet.get("created_at"), str)
        ]
        dated = [(tweet, _parse_created_at(tweet["created_at"])) for tweet in tweets]
        moments = [moment for _, moment in dated if moment is not None]
        if not moments:
            return
        offset = now.replace(microsecond=0) - max(moments)
        for tweet, moment in dated:
            if moment is not None:
                tweet["created_at"] = _format_created_at(moment + offset)


def _parse_created_at(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None  # a deliberately malformed timestamp stays as recorded
    return moment if moment.tzinfo is not None else None


def _format_created_at(moment: datetime) -> str:
    """The X API's form: `2026-11-22T10:59:58.000Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _newer_than(page: XPage, since_id: int) -> XPage:
    """The page as the API would answer with `since_id`: older tweets and the token dropped once
    the page reaches since_id (everything after it is older still)."""
    tweets = page.get("data", [])
    newer = [tweet for tweet in tweets if int(tweet["id"]) > since_id]
    if len(newer) == len(tweets):
        return page
    if not newer:
        return dict(EMPTY_PAGE)
    kept_ids = {tweet["author_id"] for tweet in newer if "author_id" in tweet}
    users = [u for u in page.get("includes", {}).get("users", []) if u.get("id") in kept_ids]
    ids = [int(tweet["id"]) for tweet in newer]
    return {
        "data": newer,
        "includes": {"users": users},
        "meta": {
            "newest_id": str(max(ids)),
            "oldest_id": str(min(ids)),
            "result_count": len(newer),
        },
    }
