"""A replay manifest that lacks what the replay reads is a configuration error naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from producer.config import ConfigurationError
from producer.sources import ReplaySource


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({}, "manifest.json has no 'topics' list"),
        ({"topics": "all"}, "manifest.json has no 'topics' list"),
        ([], "manifest.json has no 'topics' list"),
        ({"topics": [{"query": "#a", "kind": "trend"}]}, "topic 0 lacks file"),
        ({"topics": [{"query": "#a", "file": "a.json", "kind": "trend"}, 3]}, "topic 1 lacks"),
    ],
)
def test_a_manifest_missing_what_the_replay_reads_is_named(
    tmp_path: Path, manifest: object, message: str
) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(ConfigurationError, match=message):
        ReplaySource(tmp_path)


def test_a_complete_manifest_is_accepted(tmp_path: Path) -> None:
    topics = [{"query": "#a", "file": "a.json", "kind": "query"}]
    (tmp_path / "manifest.json").write_text(json.dumps({"topics": topics}))

    assert ReplaySource(tmp_path).default_queries() == ("#a",)
