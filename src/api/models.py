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
    text: str
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
