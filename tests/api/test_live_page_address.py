"""The demo's page address names the replay topics and leaves the window at its default."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from trendstream_cli.live_page import replay_page_address


def test_address_names_the_topics_and_keeps_the_default_window(tmp_path: Path) -> None:
    """The replay dates its tweets to the run, so the default window (the last hour) holds them."""
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"topics": [
        {"name": "#Europe", "file": "search/a.json"},
        {"name": "World Cup", "file": "search/b.json"},
    ]}))  # fmt: skip
    address = replay_page_address("http://127.0.0.1:4567/", manifest)
    parts = urlsplit(address)
    assert parts.path == "/"
    assert parse_qs(parts.query) == {"topics": ["#Europe,World Cup"]}
