"""Where tweets come from: the live X API v2 (through tweepy) or the replay dataset.

Both return X API v2 response bodies unchanged, so everything downstream (parsing, records,
checkpoints) is the same code whichever source runs. Sources translate their failures into the
few errors the run loop acts on: RateLimited, XAuthError, SourceUnavailable.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from producer.config import ConfigurationError
from producer.credentials import REQUIRED_KEYS
from producer.deadline import Deadline
from producer.pages import EXPANSIONS, TWEET_FIELDS, USER_FIELDS, XPage

if TYPE_CHECKING:
    import requests

    from producer.credentials import XCredentials

logger = logging.getLogger(__name__)

EMPTY_PAGE: XPage = {"meta": {"result_count": 0}}


class RateLimited(Exception):
    """HTTP 429: stop this topic until `reset_at` (Unix seconds; None when the header is absent)."""

    def __init__(self, endpoint: str, reset_at: int | None) -> None:
        super().__init__(f"{endpoint} rate limited until {reset_at}")
        self.endpoint = endpoint
        self.reset_at = reset_at


class XAuthError(ConfigurationError):
    """HTTP 401: the credentials are wrong; every further request would fail the same way."""


class SourceUnavailable(Exception):
    """The source failed for this request after bounded retries (5xx, network, 4xx other than
    401/429); the run skips the topic and goes on."""


@dataclass(frozen=True)
class RawRecord:
    """A payload written to the stream byte for byte (the replay dataset's poison records)."""

    partition_key: str
    data: bytes
    reason: str


class TweetSource(Protocol):
    def trends(self, woeid: int, max_trends: int) -> XPage: ...

    def search(
        self, query: str, *, since_id: str | None, next_token: str | None, max_results: int
    ) -> XPage: ...

    def default_queries(self) -> tuple[str, ...]:
        """Queries to search when SEARCH_QUERIES is not set."""
        ...

    def poison_records(self) -> tuple[str, list[RawRecord]]:
        """(dataset fingerprint, malformed payloads to write once per dataset)."""
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
            raise SourceUnavailable(
                f"trends need app-only auth: set SSM parameter {self._ssm_prefix}bearer_token"
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

    def poison_records(self) -> tuple[str, list[RawRecord]]:
        return "", []

    def _with_retries(self, endpoint: str, call: Callable[[], XPage]) -> XPage:
        tweepy = self._tweepy
        for attempt in range(1, self._max_attempts + 1):
            try:
                return call()
            except tweepy.TooManyRequests as error:
                raise RateLimited(endpoint, getattr(error, "reset_time", None)) from None
            except tweepy.Unauthorized:
                names = ", ".join(
                    self._ssm_prefix + key for key in (*REQUIRED_KEYS, "bearer_token")
                )
                raise XAuthError(
                    f"X API answered 401 Unauthorized on {endpoint}: check SSM parameters {names}"
                ) from None
            except (tweepy.TwitterServerError, *self._network_errors) as error:
                failure = _describe(error)
            except tweepy.HTTPException as error:
                raise SourceUnavailable(f"{endpoint}: {_describe(error)}") from None
            delay = self._jitter() * min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
            if attempt == self._max_attempts or not self._deadline.allows_wait(delay):
                break
            logger.warning(
                "X API request failed, retrying",
                extra={"endpoint": endpoint, "attempt": attempt, "error": failure},
            )
            self._sleep(delay)
        raise SourceUnavailable(f"{endpoint}: gave up after {attempt} attempt(s): {failure}")


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


class ReplaySource:
    """Serves the replay dataset's recorded v2 pages as the API would.

    `since_id` is honoured like the API does: tweets with an id <= since_id are dropped, and since
    pages are ordered newest first, pagination stops at the first page that reached since_id. A
    second run over the same dataset therefore returns one empty page per topic.
    """

    def __init__(self, dataset_dir: Path) -> None:
        self._dir = dataset_dir
        try:
            self._manifest: dict[str, Any] = json.loads(
                (dataset_dir / "manifest.json").read_text(encoding="utf-8")
            )
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigurationError(
                f"replay dataset {dataset_dir} has no readable manifest.json: {error}"
            ) from error
        self._topics = _manifest_topics(self._manifest, dataset_dir)
        self._files_by_query = {t["query"]: t["file"] for t in self._topics}
        self._pages_cache: dict[str, list[XPage]] = {}

    @property
    def manifest(self) -> dict[str, Any]:
        return self._manifest

    def trends(self, woeid: int, max_trends: int) -> XPage:
        path = self._dir / "trends" / f"woeid-{woeid}.json"
        if not path.exists():
            return {"data": []}
        page: XPage = json.loads(path.read_text(encoding="utf-8"))
        return page

    def search(
        self, query: str, *, since_id: str | None, next_token: str | None, max_results: int
    ) -> XPage:
        pages = self._pages(query)
        index = 0
        if next_token is not None:
            tokens = [page.get("meta", {}).get("next_token") for page in pages]
            if next_token not in tokens:
                raise SourceUnavailable(f"replay: unknown next_token {next_token!r}")
            index = tokens.index(next_token) + 1
        if index >= len(pages):
            return dict(EMPTY_PAGE)
        page = pages[index]
        return page if since_id is None else _newer_than(page, int(since_id))

    def default_queries(self) -> tuple[str, ...]:
        return tuple(t["query"] for t in self._topics if t["kind"] == "query")

    def poison_records(self) -> tuple[str, list[RawRecord]]:
        path = self._dir / "poison.jsonl"
        if not path.exists():
            return "", []
        records = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                records.append(
                    RawRecord(
                        partition_key=entry["partition_key"],
                        data=base64.b64decode(entry["data_base64"]),
                        reason=entry["reason"],
                    )
                )
        return str(self._manifest.get("fingerprint", "")), records

    def _pages(self, query: str) -> list[XPage]:
        if query not in self._pages_cache:
            file = self._files_by_query.get(query)
            pages: list[XPage] = []
            if file is not None:
                recorded = json.loads((self._dir / file).read_text(encoding="utf-8"))
                pages = recorded["pages"]
            self._pages_cache[query] = pages
        return self._pages_cache[query]


_TOPIC_FIELDS = ("query", "file", "kind")


def _manifest_topics(manifest: Any, where: Path) -> list[dict[str, Any]]:
    """The manifest's topics, each with the fields the replay reads; else say what is missing."""
    topics = manifest.get("topics") if isinstance(manifest, dict) else None
    if not isinstance(topics, list):
        raise ConfigurationError(
            f"replay dataset {where}: manifest.json has no 'topics' list"
            " (each topic needs 'query', 'file' and 'kind')"
        )
    for index, topic in enumerate(topics):
        missing = [
            name
            for name in _TOPIC_FIELDS
            if not isinstance(topic, dict) or not isinstance(topic.get(name), str)
        ]
        if missing:
            raise ConfigurationError(
                f"replay dataset {where}: manifest.json topic {index} lacks {', '.join(missing)}"
            )
    return topics


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
