"""Response shapes of the read API; Powertools turns them into the OpenAPI schema."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TopicActivity(BaseModel):
    topic: str
    tweet_count: int = Field(description="Tweets counted in the window.")
    positive: int
    negative: int
    neutral: int
    mixed: int


class TopicRanking(BaseModel):
    first_minute: str = Field(description="First minute of the window (UTC, YYYY-MM-DDTHH:MM).")
    last_minute: str = Field(description="Last minute of the window, included.")
    topics: list[TopicActivity] = Field(
        description="Topics with at least one tweet in the window, most tweets first."
    )


class RisingTopic(BaseModel):
    topic: str
    score: float = Field(
        description="(recent + 5) / (expected + 5): 1.0 is no change, above 1 rising."
    )
    recent_count: int = Field(description="Tweets in the recent window.")
    baseline_count: int = Field(description="Tweets in the baseline window.")
    expected_count: float = Field(
        description="Baseline tweets scaled to the recent window's length."
    )
    positive: int = Field(description="Recent tweets per sentiment, here and below.")
    negative: int
    neutral: int
    mixed: int


class Trending(BaseModel):
    recent_first_minute: str = Field(description="First minute of the recent window (UTC).")
    recent_last_minute: str = Field(description="Last minute of the recent window, included.")
    baseline_first_minute: str = Field(description="First minute of the baseline window.")
    baseline_last_minute: str = Field(description="Last minute of the baseline, included.")
    topics: list[RisingTopic] = Field(
        description="Topics with at least 3 tweets in the recent window, most risen first."
    )


class Series(BaseModel):
    topic: str
    minutes: list[str] = Field(description="Every minute of the window (UTC, YYYY-MM-DDTHH:MM).")
    tweet_count: list[int] = Field(description="Tweets per minute, 0 where none was counted.")
    positive: list[int]
    negative: list[int]
    neutral: list[int]
    mixed: list[int]


class Tweet(BaseModel):
    tweet_id: str
    created_at: str
    text: str | None = Field(default=None, description="Null when the stored item has none.")
    author_username: str | None = None
    lang: str | None = None
    sentiment: str | None = None
    like_count: int | None = None
    retweet_count: int | None = None
    hashtags: list[str] = Field(default_factory=list)


class TweetPage(BaseModel):
    topic: str
    tweets: list[Tweet] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as 'cursor' for the next page; null on the last page."
    )


class Problem(BaseModel):
    statusCode: int
    message: str
