"""The live page's address for the replay dataset: its topics and the hour its tweets cover.

Replayed tweets keep their original ``created_at``, so the page's default window (the last
hour up to now) would be empty; the address pins the window's end to the dataset's last minute.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode


def replay_page_address(api_url: str, manifest_path: Path) -> str:
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    newest = ""
    for entry in manifest["topics"]:
        document = json.loads((manifest_path.parent / entry["file"]).read_text(encoding="utf-8"))
        for page in document["pages"]:
            newest = max([newest, *(tweet["created_at"] for tweet in page.get("data", []))])
    query = {"topics": ",".join(entry["name"] for entry in manifest["topics"])}
    if newest:
        end = datetime.fromisoformat(newest.replace("Z", "+00:00")) + timedelta(minutes=1)
        query["to"] = end.strftime("%Y-%m-%dT%H:%MZ")
    return f"{api_url}?{urlencode(query)}"
