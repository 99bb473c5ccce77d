"""Which topics were active in an hour: a sparse global secondary index on the minute stats.

The consumer's stats update also ``SET``s ``active_hour = <YYYY-MM-DDTHH>`` (a function of the
item's key, so every delivery writes the same value). Only stats items carry it, so the index
``ACTIVITY_INDEX`` (partition key ``active_hour``, sort key ``sk``, keys only; Terraform's
``modules/event_table``) holds one entry per (topic, minute) and nothing else: a ``Query`` of one
hour's partition, its ``sk`` bounded to a window's minutes, names every topic active in them.
Costs and limits are in docs/api.md.
"""

from __future__ import annotations

ACTIVITY_INDEX = "ActiveTopicsByHour"
"""The index's name in terraform/modules/event_table (a test holds them equal)."""
ACTIVE_HOUR_ATTRIBUTE = "active_hour"
_MINUTE_PREFIX = "MINUTE#"
_HOUR_LENGTH = len("YYYY-MM-DDTHH")


def active_hour(stats_sort_key: str) -> str:
    """``YYYY-MM-DDTHH`` of a stats item's sort key ``MINUTE#<YYYY-MM-DDTHH:MM>…``."""
    if not stats_sort_key.startswith(_MINUTE_PREFIX):
        raise ValueError(f"not a minute stats key: {stats_sort_key!r}")
    start = len(_MINUTE_PREFIX)
    return stats_sort_key[start : start + _HOUR_LENGTH]
