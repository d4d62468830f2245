"""A per-process cache of publisher catalog answers.

Publishers poll the catalog far more often than the operator changes it, so an answer (the
rows of a list, search or store, before the publisher's own tracking links are added) is
kept for ``cashback_cache_seconds``. A catalog write committed through this process clears
it at once; another process (a second API node, the ``stores import`` command) sees the
change within that many seconds.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from retailhub.config import get_settings

T = TypeVar("T")
MAX_ENTRIES = 4096
_DIRTY = "retailhub_catalog_changed"

_lock = threading.Lock()
_entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()


def cached(key: Hashable, compute: Callable[[], T]) -> T:
    """The answer for ``key``, computed at most once per TTL (least recently used evicted)."""
    ttl = get_settings().cashback_cache_seconds
    if ttl <= 0:
        return compute()
    now = time.monotonic()
    with _lock:
        hit = _entries.get(key)
        if hit is not None and hit[0] > now:
            _entries.move_to_end(key)
            return hit[1]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        _entries[key] = (now + ttl, value)
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()


def changed(session: Session) -> None:
    """Note that ``session`` wrote the catalog: the cache is cleared now (so this request
    does not read its own stale answer) and again when the session commits (so a read that
    raced the write does not keep the old answer)."""
    clear()
    session.info[_DIRTY] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_DIRTY, False):
        clear()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_DIRTY, None)
