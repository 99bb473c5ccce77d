"""The live page's address for the replay dataset: its topics.

The replay dates its tweets to the run (the newest at the moment it runs), so the page's default
window, the last hour up to now, holds them; only the topics need naming.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode


def replay_page_address(api_url: str, manifest_path: Path) -> str:
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    query = {"topics": ",".join(entry["name"] for entry in manifest["topics"])}
    return f"{api_url}?{urlencode(query)}"
