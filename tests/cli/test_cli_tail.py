"""`trendstream tail`: newest tweets per topic from the EventData table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from tests.event_table import create_event_table

from trendstream_cli.main import main
from trendstream_cli.tail import UnknownTopicError, discover_topics, tail

TABLE = "trendstream-local-EventData"


def tweet_item(topic: str, created_at: str, tweet_id: str, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": f"TOPIC#{topic}"},
        "sk": {"S": f"TWEET#{created_at}#{tweet_id}"},
        "tweet_id": {"S": tweet_id},
        "topic": {"S": topic},
        "text": {"S": f"text of {tweet_id}"},
        "author_username": {"S": f"user{tweet_id}"},
        "created_at": {"S": created_at},
        "sentiment": {"S": "NEUTRAL"},
        "like_count": {"N": "1"},
    }
    item.update(extra)
    return item


def minute_item(topic: str, minute: str) -> dict[str, Any]:
    return {
        "pk": {"S": f"TOPIC#{topic}"},
        "sk": {"S": f"MINUTE#{minute}"},
        "tweet_count": {"N": "1"},
    }


@pytest.fixture
def table(aws: boto3.session.Session) -> boto3.session.Session:
    dynamodb = aws.client("dynamodb")
    create_event_table(dynamodb, TABLE)
    items = [
        tweet_item("#Europe", "2026-11-22T10:00:00.000Z", "1"),
        tweet_item("#Europe", "2026-11-22T10:05:00.000Z", "2"),
        tweet_item("#Europe", "2026-11-22T10:03:00.000Z", "3", sentiment={"S": "POSITIVE"}),
        {"pk": {"S": "TOPIC##Europe"}, "sk": {"S": "COUNTED#2"}},
        minute_item("#Europe", "2026-11-22T10:00"),
        minute_item("#Europe", "2026-11-22T10:05"),
        tweet_item("#AI", "2026-11-22T11:00:00.000Z", "4", text={"S": "line one\nline two " * 20}),
        minute_item("#AI", "2026-11-22T11:00"),
        tweet_item("#Quiet", "2026-11-22T09:00:00.000Z", "5"),
        minute_item("#Quiet", "2026-11-22T09:00"),
        {"pk": {"S": "CHECKPOINT#producer"}, "sk": {"S": "MINUTE#odd"}},
    ]
    for item in items:
        dynamodb.put_item(TableName=TABLE, Item=item)
    return aws


def test_discovers_topics_most_recently_active_first(table: boto3.session.Session) -> None:
    assert discover_topics(table.client("dynamodb"), TABLE) == ["#AI", "#Europe", "#Quiet"]


def test_newest_tweets_first_within_the_limit(table: boto3.session.Session) -> None:
    tweets = tail({"table_name": TABLE}, topics=["#Europe"], limit=2, session=table)

    assert [(tweet.topic, tweet.tweet_id) for tweet in tweets] == [
        ("#Europe", "2"),
        ("#Europe", "3"),
    ]
    assert tweets[1].sentiment == "POSITIVE"
    assert tweets[0].author == "user2"
    assert tweets[0].like_count == 1


def test_without_topics_shows_discovered_ones_up_to_max(table: boto3.session.Session) -> None:
    tweets = tail({"table_name": TABLE}, limit=1, max_topics=2, session=table)

    assert [(tweet.topic, tweet.tweet_id) for tweet in tweets] == [("#AI", "4"), ("#Europe", "2")]


def test_items_missing_attributes_still_show(table: boto3.session.Session) -> None:
    dynamodb = table.client("dynamodb")
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": "TOPIC##Sparse"},
            "sk": {"S": "TWEET#2026-11-22T12:00:00.000Z#9"},
            "sentiment": {"M": {"label": {"S": "NEGATIVE"}, "compound": {"N": "-0.61"}}},
        },
    )

    [tweet] = tail({"table_name": TABLE}, topics=["#Sparse"], session=table)

    assert (tweet.topic, tweet.author, tweet.text, tweet.like_count) == ("#Sparse", "", "", None)
    assert tweet.sentiment == "NEGATIVE -0.61"


def test_unknown_topic_names_the_topics_that_exist(table: boto3.session.Session) -> None:
    with pytest.raises(UnknownTopicError) as raised:
        tail({"table_name": TABLE}, topics=["#Nothing"], session=table)

    assert str(raised.value) == (
        "no tweets ever stored for topic '#Nothing'; "
        "topics in the table, most recently active first: #AI, #Europe, #Quiet"
    )


def test_a_topic_whose_tweets_expired_is_known_and_empty(table: boto3.session.Session) -> None:
    """TTL removes tweets before the topic's per-minute stats: the topic is known, not a typo."""
    table.client("dynamodb").put_item(
        TableName=TABLE, Item=minute_item("#Faded", "2026-11-20T08:00")
    )

    assert tail({"table_name": TABLE}, topics=["#Faded"], session=table) == []


@pytest.fixture
def outputs_file(table: boto3.session.Session, tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"table_name": {"value": TABLE}}))
    return path


def test_command_json(outputs_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["tail", "--outputs", str(outputs_file), "--topic", "#AI", "--format", "json"])

    assert code == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["tweet_id"] == "4"
    assert row["text"].startswith("line one\nline two")


def test_command_table_truncates_text_to_one_line(
    outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["tail", "--outputs", str(outputs_file), "--topic", "#AI", "--topic", "#Quiet"])

    out = capsys.readouterr().out
    assert code == 0
    assert "@user4" in out
    assert "@user5" in out
    assert "line one line two" in out
    assert "…" in out
    assert "2 tweets" in out


def test_command_missing_table_is_an_error(
    outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs_file.write_text(json.dumps({"table_name": "gone"}))

    assert main(["tail", "--outputs", str(outputs_file), "--topic", "#AI"]) == 1
    assert "ResourceNotFoundException" in capsys.readouterr().err


def test_command_unknown_topic_suggests_the_spelling_and_lists_topics(
    outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["tail", "--outputs", str(outputs_file), "--topic", "#AI", "--topic", "#europe"])

    out, err = capsys.readouterr()
    assert code == 1
    assert "'#europe' (did you mean '#Europe'?)" in err
    assert "topics in the table, most recently active first: #AI, #Europe, #Quiet" in err
    assert "Traceback" not in err
    assert out == ""


@pytest.mark.parametrize("text", ["[/]", "[bold]loud[/bold]", "[link=http://x]y[/link]"])
def test_command_shows_tweet_text_as_written_not_as_markup(
    text: str,
    table: boto3.session.Session,
    outputs_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    table.client("dynamodb").put_item(
        TableName=TABLE,
        Item=tweet_item("#Markup", "2026-11-22T12:00:00.000Z", "7", text={"S": text}),
    )

    code = main(["tail", "--outputs", str(outputs_file), "--topic", "#Markup"])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert text in out


def test_command_outputs_without_a_table_name_say_so(
    outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs_file.write_text(json.dumps({"stream_name": {"value": "s"}}))

    assert main(["tail", "--outputs", str(outputs_file), "--topic", "#AI"]) == 1
    assert "tail failed: stack outputs lack 'table_name'" in capsys.readouterr().err


HOSTILE = "ok\x1b[2J\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\x9b31m\u202eevil"
"""A tweet that would clear the screen, hide a link and reverse the text on a terminal."""


@pytest.mark.parametrize("output_format", ["table", "json"])
def test_command_never_prints_a_raw_control_character(
    output_format: str,
    table: boto3.session.Session,
    outputs_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    table.client("dynamodb").put_item(
        TableName=TABLE,
        Item=tweet_item(
            "#Hostile",
            "2026-11-22T12:00:00.000Z",
            "9",
            text={"S": HOSTILE},
            author_username={"S": "\x1b[31mred"},
        ),
    )

    code = main(
        ["tail", "--outputs", str(outputs_file), "--topic", "#Hostile", "--format", output_format]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert not any(char in out for char in "\x1b\x07\x9b\u202e")
    if output_format == "json":
        [row] = json.loads(out)
        assert (row["text"], row["author"]) == (HOSTILE, "\x1b[31mred")
    else:
        assert "ok\\x1b[2J" in out
        assert "@\\x1b[31mred" in out
