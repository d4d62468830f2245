"""Click recording by group commit.

The tracking redirect is the network's hottest path: every shopper's click writes a row, and
the 302 may only be sent once that row is committed. One commit per click would make the
commit latency the ceiling of the whole network, so each process has one writer thread that
takes every click queued while its previous batch committed (up to ``BATCH``), checks the
batch's publishers, stores and deals (from the catalog cache, the ones it lacks with one
query each), inserts the valid clicks in one statement (``COPY`` on PostgreSQL) and commits
once. A store removed or changed through another process is seen within the catalog
cache's time, as catalog reads see it. Each request's future is then settled on its event loop with
the URL to redirect to, or the error that refused the click.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import queue
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from retailhub.cashback.catalog.cache import cached_many
from retailhub.db import session_scope
from retailhub.errors import DomainError, NotFound
from retailhub.kit.sql import insert_rows
from retailhub.models import CashbackClick, CashbackDeal, CashbackStore, Tenant

log = logging.getLogger(__name__)

BATCH = 500
PLACEHOLDER = "{clickId}"


def landing_url(store_url: str, click_id: str) -> str:
    """Where the shopper goes: the store URL with ``{clickId}`` replaced by the click id, or,
    when the URL has no placeholder, with ``clickId=<id>`` added to its query."""
    if PLACEHOLDER in store_url:
        return store_url.replace(PLACEHOLDER, click_id)
    parts = urlsplit(store_url)
    query = f"{parts.query}&clickId={click_id}" if parts.query else f"clickId={click_id}"
    return urlunsplit(parts._replace(query=query))


@dataclass
class PendingClick:
    id: str
    tenant_id: int
    store_id: int
    deal_id: int | None
    shopper_id: str
    sid: str | None
    click_date: datetime
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[str]

    def row(self) -> tuple[Any, ...]:
        """The values of ``_COLUMNS``."""
        return (
            self.id,
            self.tenant_id,
            self.store_id,
            self.deal_id,
            self.shopper_id,
            self.sid,
            self.click_date,
        )


Outcome = str | BaseException


def _settle(settled: list[tuple[asyncio.Future[str], Outcome]]) -> None:
    for future, outcome in settled:
        if future.done():  # the client went away and the request was cancelled
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


def _notify(batch: list[PendingClick], outcomes: list[Outcome]) -> None:
    """Settle the batch's futures, with one wake-up of each event loop waiting on them."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[str], Outcome]]] = {}
    for click, outcome in zip(batch, outcomes, strict=True):
        by_loop.setdefault(click.loop, []).append((click.future, outcome))
    for loop, settled in by_loop.items():
        # RuntimeError: that event loop is closed, nobody waits any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, settled)


def _check(
    click: PendingClick,
    tenants: dict[int, bool | None],
    stores: dict[int, str | None],
    deals: dict[int, int | None],
) -> str | DomainError:
    """The redirect URL of a click, or why it is refused."""
    if not tenants.get(click.tenant_id):
        return NotFound(f"cid: no publisher has id {click.tenant_id}", field="cid")
    url = stores.get(click.store_id)
    if url is None:
        return NotFound(f"Store {click.store_id} not found")
    if click.deal_id is not None and deals.get(click.deal_id) != click.store_id:
        return NotFound(
            f"dealId: store {click.store_id} has no deal {click.deal_id}", field="dealId"
        )
    return landing_url(url, click.id)


_COLUMNS = ("id", "tenant_id", "store_id", "deal_id", "shopper_id", "sid", "click_date")


def _publishers(session: Session, ids: list[int]) -> dict[int, bool]:
    return {i: True for i in session.scalars(select(Tenant.id).where(Tenant.id.in_(ids)))}


def _store_urls(session: Session, ids: list[int]) -> dict[int, str]:
    active = select(CashbackStore.id, CashbackStore.url).where(
        CashbackStore.id.in_(ids), CashbackStore.active.is_(True)
    )
    return {store_id: url for store_id, url in session.execute(active)}


def _deal_stores(session: Session, ids: list[int]) -> dict[int, int]:
    query = select(CashbackDeal.id, CashbackDeal.store_id).where(CashbackDeal.id.in_(ids))
    return {deal_id: store_id for deal_id, store_id in session.execute(query)}


def _write(session: Session, batch: list[PendingClick]) -> list[str | DomainError]:
    # The catalog cache answers for publishers, stores and deals seen lately (a publisher
    # only once found: a new tenant's first clicks must not meet a remembered "unknown").
    tenants = cached_many(
        "click-publisher",
        {c.tenant_id for c in batch},
        lambda ids: _publishers(session, ids),
        remember_missing=False,
    )
    stores = cached_many(
        "click-store", {c.store_id for c in batch}, lambda ids: _store_urls(session, ids)
    )
    deals = cached_many(
        "click-deal",
        {c.deal_id for c in batch if c.deal_id is not None},
        lambda ids: _deal_stores(session, ids),
    )
    outcomes = [_check(c, tenants, stores, deals) for c in batch]
    rows = [c.row() for c, o in zip(batch, outcomes, strict=True) if isinstance(o, str)]
    insert_rows(session, CashbackClick.__tablename__, _COLUMNS, rows)
    return outcomes


class ClickWriter:
    """The process's click writer thread (see the module docstring)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[PendingClick | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="click-writer", daemon=True)
        self._thread.start()

    def submit(self, click: PendingClick) -> None:
        self._queue.put(click)

    def stop(self, timeout: float = 30) -> None:
        """Write what is queued, then end the thread."""
        self._queue.put(None)
        self._thread.join(timeout)
        # A click submitted while the writer was being stopped is still written.
        late: list[PendingClick] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                late.append(item)
        if late:
            self._commit(late)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stopping = False
            while len(batch) < BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._commit(batch)
            if stopping:
                return

    def _commit(self, batch: list[PendingClick]) -> None:
        outcomes: list[str | DomainError] | None = None
        try:
            with session_scope(write=True) as session:
                outcomes = _write(session, batch)
        except Exception:
            log.exception("a batch of %d clicks could not be written", len(batch))
        if outcomes is None:
            failure = DomainError("Clicks cannot be recorded right now; try again.", status=503)
            _notify(batch, [failure] * len(batch))
        else:
            _notify(batch, list(outcomes))


_writer: ClickWriter | None = None
_lock = threading.Lock()
_atexit_registered = False


def start() -> ClickWriter:
    """The process's writer, started if it is not running (the first click starts it)."""
    global _writer, _atexit_registered
    with _lock:
        if _writer is None:
            _writer = ClickWriter()
            if not _atexit_registered:
                atexit.register(stop)
                _atexit_registered = True
        return _writer


def stop() -> None:
    """Write the queued clicks and stop the writer (at shutdown; a later click restarts it)."""
    global _writer
    with _lock:
        writer, _writer = _writer, None
    if writer is not None:
        writer.stop()


async def record(
    *,
    click_id: str,
    tenant_id: int,
    store_id: int,
    deal_id: int | None,
    shopper_id: str,
    sid: str | None,
    click_date: datetime,
) -> str:
    """Queue the click and wait until it is committed: the URL to redirect to, or the
    ``DomainError`` that refused it."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()
    start().submit(
        PendingClick(
            id=click_id,
            tenant_id=tenant_id,
            store_id=store_id,
            deal_id=deal_id,
            shopper_id=shopper_id,
            sid=sid,
            click_date=click_date,
            loop=loop,
            future=future,
        )
    )
    return await future
