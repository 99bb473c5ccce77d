"""docs/data-model.md and its examples are data the product code must reproduce exactly."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from tests.tweet_record.tweet_samples import LAKE_COLUMNS

from tweet_record import encode_stream_record, parse_stream_record
from tweet_record.activity import active_hour
from tweet_record.items import (
    DEFAULT_TTL_DAYS,
    STATS_COUNTERS,
    WATERMARK_ATTRIBUTE,
    record_origin,
    sequence_watermark,
    stats_increments,
    stats_key,
    tweet_item,
)
from tweet_record.lake import lake_row
from tweet_record.schema import ACCEPTED_SCHEMAS

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"
PAGE = (DOCS / "data-model.md").read_text(encoding="utf-8")


def example(name: str) -> Any:
    return json.loads((DOCS / "examples" / name).read_text(encoding="utf-8"))


def test_the_page_links_every_example() -> None:
    linked = set(re.findall(r"\(examples/([\w.-]+)\)", PAGE))
    assert linked == {path.name for path in (DOCS / "examples").iterdir()}


@pytest.mark.parametrize("name", ["stream-record-v1.json", "stream-record-v2.json"])
def test_both_record_versions_are_accepted(name: str) -> None:
    record = example(name)
    assert record["schema"] in ACCEPTED_SCHEMAS
    assert f"`{record['schema']}`" in PAGE
    parsed = parse_stream_record(encode_stream_record(record))
    assert parsed.tweet_id == record["tweet"]["id"]
    assert parsed.sentiment == record.get("sentiment")


def test_version_2_is_version_1_scored() -> None:
    v1, v2 = example("stream-record-v1.json"), example("stream-record-v2.json")
    assert {key: value for key, value in v2.items() if key not in ("schema", "sentiment")} == {
        key: value for key, value in v1.items() if key != "schema"
    }


def test_table_items_are_what_the_consumer_writes() -> None:
    items = example("table-items.json")
    parsed = parse_stream_record(encode_stream_record(example("stream-record-v2.json")))
    assert parsed.sentiment is not None

    record = items["record"]
    origin = record_origin(record["shard_id"], record["sequence_number"])
    tweet = tweet_item(parsed, parsed.sentiment, items["ttl_days"], origin=origin)
    assert tweet == items["tweet"]
    stats = items["minute_stats_after_one_tweet"]
    assert (stats["pk"]["S"], stats["sk"]["S"]) == stats_key(
        parsed.topic, parsed.created_at, record["shard_id"]
    )
    increments = stats_increments([parsed.sentiment])
    assert {name: int(stats[name]["N"]) for name in STATS_COUNTERS} == increments
    assert stats["expires_at"] == tweet["expires_at"]
    watermark = sequence_watermark(int(record["sequence_number"]))
    assert stats[WATERMARK_ATTRIBUTE] == {"S": watermark}
    assert stats["active_hour"] == {"S": active_hour(stats["sk"]["S"])}
    assert set(stats) == {
        "pk", "sk", "expires_at", *STATS_COUNTERS, WATERMARK_ATTRIBUTE, "active_hour"
    }  # fmt: skip
    assert "`active_hour`" in PAGE
    assert "`MINUTE#<YYYY-MM-DDTHH:MM>#<shardId>`" in PAGE
    assert "`applied`" in PAGE
    assert "`origin`" in PAGE


def test_the_example_tweet_text_is_unescaped_in_the_table_and_the_lake() -> None:
    record = example("stream-record-v2.json")
    assert "&amp;" in record["tweet"]["text"]
    assert "&amp;" not in example("table-items.json")["tweet"]["text"]["S"]
    assert "&amp;" not in example("lake-row.json")["text"]


def test_lake_row_is_what_the_transformer_writes_in_the_documented_order() -> None:
    parsed = parse_stream_record(encode_stream_record(example("stream-record-v2.json")))
    assert parsed.sentiment is not None
    row = example("lake-row.json")
    assert lake_row(parsed, parsed.sentiment) == row
    assert tuple(row) == LAKE_COLUMNS
    documented = re.search(r"`tweet_id, created_at.*?fetched_at`", PAGE, flags=re.DOTALL)
    assert documented is not None
    assert tuple(re.split(r",\s*", documented.group(0).strip("`"))) == LAKE_COLUMNS


def test_every_variable_terraform_sets_is_documented() -> None:
    main = (REPO_ROOT / "terraform" / "main.tf").read_text(encoding="utf-8")
    blocks = re.findall(r"environment(?:_variables)?\s*=\s*(?:merge\([^{]*)?\{(.*?)\}", main, re.S)
    set_by_terraform = {
        name for block in blocks for name in re.findall(r"^\s*([A-Z][A-Z0-9_]+)\s*=", block, re.M)
    }
    assert {"STREAM_NAME", "TABLE_NAME", "TTL_DAYS", "TOPICS"} <= set_by_terraform
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", PAGE, re.M))
    assert set_by_terraform <= documented


def test_the_code_ttl_default_is_terraforms() -> None:
    variables = (REPO_ROOT / "terraform" / "variables.tf").read_text(encoding="utf-8")
    block = re.search(r'variable "ttl_days" \{.*?default\s*=\s*(\d+)', variables, re.S)
    assert block is not None
    assert int(block.group(1)) == DEFAULT_TTL_DAYS
    assert f"default {DEFAULT_TTL_DAYS}, as Terraform's `ttl_days`" in PAGE
