"""A replay manifest that lacks what the replay reads is a configuration error naming it."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError

from function_support.environment import ConfigurationError
from producer import sources
from producer.sources import ReplaySource


def replay_source(directory: Path) -> ReplaySource:
    """The source over a dataset directory, given as a path or through the dataset reader that
    wraps one (the replay dataset is moving to S3 behind such a reader)."""
    reader: Any = getattr(sources, "DirectoryDataset", None)
    return ReplaySource(reader(directory) if reader is not None else directory)


@pytest.mark.parametrize(
    ("manifest", "missing"),
    [
        ({}, "topics"),
        ({"topics": "all"}, "topics"),
        ([], "topics"),
        ({"topics": [{"query": "#a", "kind": "trend"}]}, "file"),
    ],
)
def test_a_manifest_missing_what_the_replay_reads_is_named(
    tmp_path: Path, manifest: object, missing: str
) -> None:
    """Once `KeyError: 'topics'` from the producer: the operator could not tell what to fix."""
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(ConfigurationError, match=missing):
        replay_source(tmp_path)


def test_a_complete_manifest_is_accepted(tmp_path: Path) -> None:
    topics = [{"query": "#a", "file": "a.json", "kind": "query"}]
    (tmp_path / "manifest.json").write_text(json.dumps({"topics": topics}))
    (tmp_path / "a.json").write_text(json.dumps({"pages": []}))

    assert replay_source(tmp_path).default_queries() == ("#a",)


class S3WithoutListBucket:
    """GetObject as S3 answers a role allowed s3:GetObject but not s3:ListBucket: a key that does
    not exist is 403 AccessDenied, never NoSuchKey."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self.keys_read: list[str] = []

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        self.keys_read.append(Key)
        path = self._directory / Key.removeprefix("replay/")
        if not path.is_file():
            error = {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}
            raise ClientError({**error, "ResponseMetadata": {"HTTPStatusCode": 403}}, "GetObject")
        return {"Body": io.BytesIO(path.read_bytes())}


def test_trends_of_a_place_the_dataset_lacks_are_empty_without_reading_s3(tmp_path: Path) -> None:
    """Before: the producer asked S3 for `trends/woeid-<id>.json` of every configured place, and
    on AWS a missing object answers 403 to a role without s3:ListBucket, so a place the dataset
    does not hold failed the run. Now the manifest's `woeids` says which files exist.

    "GetObject" (Amazon S3 API Reference), Permissions: "If you don't have the s3:ListBucket
    permission, Amazon S3 returns an HTTP status code 403 Access Denied error."
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
    """
    topics = [{"query": "#a", "file": "search/a.json", "kind": "trend"}]
    (tmp_path / "search").mkdir()
    (tmp_path / "trends").mkdir()
    (tmp_path / "manifest.json").write_text(json.dumps({"topics": topics, "woeids": [1]}))
    (tmp_path / "search" / "a.json").write_text(json.dumps({"pages": []}))
    (tmp_path / "trends" / "woeid-1.json").write_text(json.dumps({"data": [{"name": "#a"}]}))
    client = S3WithoutListBucket(tmp_path)
    source = ReplaySource(sources.S3Dataset("lake", "replay/", lambda: cast(Any, client)))

    assert source.trends(23424977, max_trends=10) == {"data": []}
    assert source.trends(1, max_trends=10) == {"data": [{"name": "#a"}]}
    assert "replay/trends/woeid-23424977.json" not in client.keys_read


def test_a_manifest_whose_woeids_are_not_integers_is_named(tmp_path: Path) -> None:
    topics = [{"query": "#a", "file": "a.json", "kind": "query"}]
    (tmp_path / "manifest.json").write_text(json.dumps({"topics": topics, "woeids": "1"}))
    (tmp_path / "a.json").write_text(json.dumps({"pages": []}))

    with pytest.raises(ConfigurationError, match="woeids"):
        replay_source(tmp_path)
