"""Garbage collection tuned for handlers that allocate a few objects per record in bulk.

A batch of 10,000 records allocates about a hundred short-lived objects per record (the event,
the parsed tweets, the requests). At CPython's default generation-0 threshold (700 allocations)
the cycle collector ran every few records and re-scanned every survivor, a third of the
consumer's CPU (figures in docs/performance.md). Collections stay on, only less often; memory
grows by at most ``GEN0_THRESHOLD`` objects before the next one.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 10_000


def collect_less_often() -> None:
    """Raise the generation-0 threshold, keeping the older generations' as they are."""
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(GEN0_THRESHOLD, gen0), gen1, gen2)
