"""The read API's settings, read from its environment once per execution environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from function_support.environment import required


@dataclass(frozen=True)
class ApiConfig:
    table_name: str
    topics: tuple[str, ...]
    """``TOPICS``: comma-separated topics ranked when the caller names none."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> ApiConfig:
        topics = (topic.strip() for topic in environ.get("TOPICS", "").split(","))
        return cls(
            table_name=required(environ, "TABLE_NAME"),
            topics=tuple(dict.fromkeys(topic for topic in topics if topic)),
        )
