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
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar, cast

from sqlalchemy import event
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from retailhub.cashback.catalog import search
from retailhub.config import get_settings

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
MAX_ENTRIES = 4096
_DIRTY = "retailhub_catalog_changed"

_lock = threading.Lock()
_entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()


_MISSING = object()


def _lookup(key: Hashable) -> Any:
    now = time.monotonic()
    with _lock:
        hit = _entries.get(key)
        if hit is None or hit[0] <= now:
            return _MISSING
        _entries.move_to_end(key)
        return hit[1]


def _store(key: Hashable, value: Any, ttl: float) -> None:
    with _lock:
        _entries[key] = (time.monotonic() + ttl, value)
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)


def cached(key: Hashable, compute: Callable[[], T]) -> T:
    """The answer for ``key``, computed at most once per TTL (least recently used evicted)."""
    ttl = get_settings().cashback_cache_seconds
    if ttl <= 0:
        return compute()
    value = _lookup(key)
    if value is _MISSING:
        value = compute()
        _store(key, value, ttl)
    return value  # type: ignore[no-any-return]


def cached_many(
    kind: str,
    keys: Iterable[K],
    load: Callable[[list[K]], dict[K, V]],
    *,
    remember_missing: bool = True,
) -> dict[K, V | None]:
    """Values for many keys of one ``kind``: the cached ones, the others by one call of
    ``load`` (a key it does not answer is None, and remembered as such unless
    ``remember_missing`` is false)."""
    ttl = get_settings().cashback_cache_seconds
    found: dict[K, V | None] = {}
    missing: list[K] = []
    for key in keys:
        value = _lookup((kind, key)) if ttl > 0 else _MISSING
        if value is _MISSING:
            missing.append(key)
        else:
            found[key] = cast("V | None", value)
    if missing:
        loaded = load(missing)
        for key in missing:
            value = loaded.get(key)
            found[key] = value
            if ttl > 0 and (value is not None or remember_missing):
                _store((kind, key), value, ttl)
    return found


async def cached_async(key: Hashable, compute: Callable[[], T]) -> T:
    """``cached`` for an async endpoint: a hit is answered on the event loop; a miss is
    computed in a worker thread (it reads the database)."""
    ttl = get_settings().cashback_cache_seconds
    if ttl <= 0:
        return await run_in_threadpool(compute)
    value = _lookup(key)
    if value is _MISSING:
        value = await run_in_threadpool(compute)
        _store(key, value, ttl)
    return value  # type: ignore[no-any-return]


def clear() -> None:
    with _lock:
        _entries.clear()
    search.index.invalidate()


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
