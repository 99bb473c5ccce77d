"""The replay dataset generator: deterministic, and the dataset has the shapes it promises."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from producer_helpers import REPLAY_DATASET as PACKAGED_REPLAY_DATASET
from scripts.generate_replay_dataset import DEFAULT_SEED, DEFAULT_TWEETS, generate

from producer.sources import DirectoryDataset, ReplaySource


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def pages_of(root: Path, manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        topic["name"]: json.loads((root / topic["file"]).read_text())["pages"]
        for topic in manifest["topics"]
    }


def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    generate(tmp_path / "one", pairs=400, seed=3)
    generate(tmp_path / "two", pairs=400, seed=3)
    generate(tmp_path / "other", pairs=400, seed=4)

    assert tree(tmp_path / "one") == tree(tmp_path / "two")
    assert tree(tmp_path / "one") != tree(tmp_path / "other")


def test_packaged_dataset_is_what_the_generator_makes(tmp_path: Path) -> None:
    """Guards against hand edits or a generator change without regenerating the dataset."""
    generate(tmp_path / "fresh", pairs=DEFAULT_TWEETS, seed=DEFAULT_SEED)

    assert tree(tmp_path / "fresh") == tree(PACKAGED_REPLAY_DATASET)
    size = sum(len(data) for data in tree(PACKAGED_REPLAY_DATASET).values())
    assert size < 2 * 1024 * 1024


@pytest.mark.parametrize("pairs", [DEFAULT_TWEETS, 10_000])
def test_manifest_counts_match_the_pages(tmp_path: Path, pairs: int) -> None:
    manifest = generate(tmp_path / "ds", pairs=pairs, seed=DEFAULT_SEED)
    pages = pages_of(tmp_path / "ds", manifest)

    counts = manifest["counts"]
    per_topic = {name: sum(len(p.get("data", [])) for p in topic) for name, topic in pages.items()}
    all_ids = [t["id"] for topic in pages.values() for p in topic for t in p.get("data", [])]
    assert counts["pairs"] == pairs == sum(per_topic.values()) == len(all_ids)
    assert per_topic == counts["per_topic"]
    assert counts["distinct_tweets"] == len(set(all_ids)) < pairs  # some tweets under two topics
    assert max(len(topic) for topic in pages.values()) == manifest["min_max_pages_per_topic"]


def test_pages_have_v2_shapes_pagination_and_variety() -> None:
    manifest = json.loads((PACKAGED_REPLAY_DATASET / "manifest.json").read_text())
    pages = pages_of(PACKAGED_REPLAY_DATASET, manifest)
    tweets = [t for topic in pages.values() for p in topic for t in p.get("data", [])]

    kinds = {topic["kind"] for topic in manifest["topics"]}
    assert kinds == {"trend", "query"}
    for topic_pages in pages.values():
        assert topic_pages[-1] == {"meta": {"result_count": 0}}
        for page in topic_pages[:-1]:
            ids = [int(t["id"]) for t in page["data"]]
            assert ids == sorted(ids, reverse=True)
            assert page["meta"]["result_count"] == len(ids)
            assert page["meta"]["newest_id"] == str(max(ids))
            assert page["meta"]["next_token"]
            authors = {u["id"] for u in page["includes"]["users"]}
            assert {t["author_id"] for t in page["data"]} == authors
    assert {t["lang"] for t in tweets} >= {"en", "es", "fr", "de", "ja", "ar", "pt"}
    assert any(len(t["edit_history_tweet_ids"]) > 1 for t in tweets)
    assert all(t["id"] == t["edit_history_tweet_ids"][-1] for t in tweets)
    entities = [t.get("entities", {}) for t in tweets]
    assert any("hashtags" in e for e in entities)
    assert any("mentions" in e for e in entities)
    assert any("urls" in e for e in entities)
    assert any(any(ord(ch) > 0x1F000 for ch in t["text"]) for t in tweets)  # emoji
    for tweet in tweets:
        for hashtag in tweet.get("entities", {}).get("hashtags", []):
            assert tweet["text"][hashtag["start"] : hashtag["end"]] == "#" + hashtag["tag"]
        for url in tweet.get("entities", {}).get("urls", []):
            assert tweet["text"][url["start"] : url["end"]] == url["url"]


def test_poison_records_cover_the_documented_reasons() -> None:
    lines = (PACKAGED_REPLAY_DATASET / "poison.jsonl").read_text().splitlines()
    poison = [json.loads(line) for line in lines]

    assert {p["reason"] for p in poison} >= {
        "NOT_JSON",
        "NOT_UTF8",
        "NOT_OBJECT",
        "WRONG_SCHEMA",
        "MISSING_FIELD",
        "BAD_TWEET_ID",
        "BAD_TIMESTAMP",
    }
    assert len({p["partition_key"] for p in poison}) == len(poison)
    assert base64.b64decode(poison[0]["data_base64"])


def test_replay_source_honours_since_id_and_next_token() -> None:
    source = ReplaySource(DirectoryDataset(PACKAGED_REPLAY_DATASET))
    first = source.search("#Europe", since_id=None, next_token=None, max_results=100)
    second = source.search(
        "#Europe", since_id=None, next_token=first["meta"]["next_token"], max_results=100
    )
    newest = int(first["meta"]["newest_id"])
    middle = int(first["data"][5]["id"])

    assert int(second["meta"]["newest_id"]) < int(first["meta"]["oldest_id"])
    assert source.search("#Europe", since_id=str(newest), next_token=None, max_results=10) == {
        "meta": {"result_count": 0}
    }
    partial = source.search("#Europe", since_id=str(middle), next_token=None, max_results=10)
    assert [t["id"] for t in partial["data"]] == [t["id"] for t in first["data"][:5]]
    assert "next_token" not in partial["meta"]
    assert source.search("unknown", since_id=None, next_token=None, max_results=10) == {
        "meta": {"result_count": 0}
    }
    assert source.default_queries() == ("aws lambda",)
