"""Process-wide settings for long-running Retailhub processes."""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Collect less often. Imports allocate millions of short-lived containers that plain
    reference counting frees; CPython's default (a collection every 700 net allocations)
    spends a third of an import's time scanning them. Objects alive at start-up (modules,
    metadata) are frozen out of every collection."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
