"""Time-driven loyalty work, run every ``loyalty_tick_seconds``: BIRTHDAY enrollment and
campaign windows, scheduled notifications, point expiry, order-window counters.

Every step is idempotent (a tick that runs twice, on two machines, or late, does each
thing once), so ``serve`` and every ``worker`` may run it; on PostgreSQL an advisory lock
keeps them from doing the same work at the same moment."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from retailhub.config import get_settings
from retailhub.db import session_scope
from retailhub.kit import clock
from retailhub.kit.sql import is_pg
from retailhub.models import Tenant

log = logging.getLogger(__name__)

TICK_LOCK = 727275


def run_once(now: datetime | None = None, *, tenant_ids: Sequence[int] | None = None) -> None:
    """One pass over every tenant (or those given), each step of each tenant in its own
    transaction."""
    from retailhub.loyalty.account import service as account_service
    from retailhub.loyalty.campaign import service as campaign_service
    from retailhub.loyalty.notification import service as notification_service
    from retailhub.loyalty.wallet import service as wallet_service

    now = now or clock.now()
    if tenant_ids is None:
        with session_scope() as session:
            tenant_ids = list(session.scalars(select(Tenant.id).order_by(Tenant.id)))
    steps = (
        account_service.refresh_windows,
        wallet_service.expire_due,
        campaign_service.tick,
        notification_service.tick,
    )
    for tenant_id in tenant_ids:
        for step in steps:
            with session_scope(write=True) as session:
                if is_pg(session):
                    got = session.connection().exec_driver_sql(
                        "SELECT pg_try_advisory_xact_lock(%s, %s)", (TICK_LOCK, tenant_id)
                    )
                    if not got.scalar():
                        continue
                step(session, tenant_id=tenant_id, now=now)


class Ticker:
    """A daemon thread running ``run_once`` periodically (started by serve and worker)."""

    def __init__(self, interval: float | None = None) -> None:
        self.interval = interval or get_settings().loyalty_tick_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loyalty-tick", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                run_once()
            except Exception:
                log.exception("loyalty tick failed")
