"""On/off switches read from a function's environment, with the truth values Powertools reads.

Powertools' own switches (``POWERTOOLS_TRACE_DISABLED`` and the like) take ``1``, ``y``, ``yes``,
``t``, ``true`` and ``on`` in any case as true; the functions' own switches read the same way, so
an operator never has to remember which spelling which variable takes.
"""

from __future__ import annotations

from collections.abc import Mapping

TRUTHY = frozenset({"1", "y", "yes", "t", "true", "on"})


def env_flag(environ: Mapping[str, str], name: str) -> bool:
    """True when ``name`` holds one of ``TRUTHY`` (any case, blanks around it ignored); unset,
    blank or anything else is false."""
    return environ.get(name, "").strip().lower() in TRUTHY
