"""The rule for a topic name: the one definition every stage enforces or accepts.

A topic name enters the pipeline from the stack's configuration (Terraform's ``search_queries`` and
``api_topics``, which mirror ``TOPIC_NAME_PATTERN`` in their validation), from X's trends (the
producer skips a trend that breaks it) and from stream records (the consumer quarantines them);
the read API accepts exactly the names this rule admits, so whatever the table holds can be
named in a request and shown on the page. The rule (docs/api.md):

- 1 to ``TOPIC_NAME_MAX_CHARS`` characters (Unicode code points, as Python and RE2 count them);
- no control character (U+0000-U+001F, U+007F-U+009F), no line or paragraph separator (U+2028,
  U+2029): a name is one line of text;
- no comma: HTTP API payload 2.0 joins a repeated query parameter with commas, and ``api_topics``
  reaches the function comma-joined;
- no space (nor no-break space) at either end: nothing to trim, so the name typed is the name
  stored.

Emoji, joiners and every script are allowed. The pattern is written in the subset of syntax
where Python's ``re`` and Go's RE2 (Terraform's ``regex``) agree, and a test runs both on the
same strings.
"""

from __future__ import annotations

import re
from functools import lru_cache

TOPIC_NAME_MAX_CHARS = 256
_END = "[^\\x00-\\x20\\x7f-\\xa0,\u2028\u2029]"
_INNER = "[^\\x00-\\x1f\\x7f-\\x9f,\u2028\u2029]"
TOPIC_NAME_PATTERN = f"^{_END}(?:{_INNER}{{0,{TOPIC_NAME_MAX_CHARS - 2}}}{_END})?$"
"""Mirrored by ``local.topic_name_pattern`` in terraform/main.tf (a test holds them equal)."""
TOPIC_NAME_RULE = (
    f"a topic name is 1 to {TOPIC_NAME_MAX_CHARS} characters, one line without control "
    "characters or commas, and neither starts nor ends with a space"
)
_MATCHER = re.compile(TOPIC_NAME_PATTERN)


@lru_cache(maxsize=4096)
def topic_name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a topic name, or None when the rule admits it.

    Cached: the consumer checks every record, and a batch repeats a few topics many times.
    """
    if not name:
        return "the topic name is empty"
    if len(name) > TOPIC_NAME_MAX_CHARS:
        return f"the topic name has {len(name)} characters; at most {TOPIC_NAME_MAX_CHARS}"
    if _MATCHER.fullmatch(name) is None:
        return f"{TOPIC_NAME_RULE}: {name[:64]!r}"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "the topic name holds a lone surrogate (not Unicode text)"
    return None


def is_topic_name(name: str) -> bool:
    return topic_name_problem(name) is None
