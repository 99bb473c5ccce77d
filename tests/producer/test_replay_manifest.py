"""A replay manifest that lacks what the replay reads is a configuration error naming it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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
