"""The demo's page address names the replay topics and ends the window at the dataset's end."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from trendstream_cli.live_page import replay_page_address


def test_address_names_the_topics_and_pins_the_window_end(tmp_path: Path) -> None:
    (tmp_path / "search").mkdir()
    tweets = [{"created_at": "2026-11-22T09:58:10.000Z"}, {"created_at": "2026-11-22T09:12:00Z"}]
    (tmp_path / "search" / "a.json").write_text(json.dumps({"pages": [{"data": tweets}, {}]}))
    (tmp_path / "search" / "b.json").write_text(json.dumps({"pages": [{"data": []}]}))
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"topics": [
        {"name": "#Europe", "file": "search/a.json"},
        {"name": "World Cup", "file": "search/b.json"},
    ]}))  # fmt: skip
    address = replay_page_address("http://127.0.0.1:4567/", manifest)
    parts = urlsplit(address)
    assert parts.path == "/"
    assert parse_qs(parts.query) == {"topics": ["#Europe,World Cup"], "to": ["2026-11-22T09:59Z"]}
