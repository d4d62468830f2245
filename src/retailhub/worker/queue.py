"""Procrastinate wiring for PostgreSQL: ``retailhub worker`` processes on any machine share
the jobs. Our ``jobs`` row stays the record; a Procrastinate job only says "run job N".

A worker killed mid-job stops sending heartbeats; every worker periodically asks
Procrastinate for jobs of stalled workers and retries them (its documented recipe), and
``run_job`` is idempotent, so the job finishes exactly once in effect.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import procrastinate

from retailhub import tasks
from retailhub.config import Settings, get_settings

log = logging.getLogger(__name__)


def _conninfo(settings: Settings) -> str:
    url = settings.sqlalchemy_url
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def make_app(settings: Settings | None = None) -> procrastinate.App:
    settings = settings or get_settings()
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=_conninfo(settings)))

    @app.task(name=tasks.PROCRASTINATE_TASK, pass_context=False)
    def run_job(job_id: int) -> None:
        tasks.run_job(job_id)

    return app


async def _retry_stalled(app: procrastinate.App, settings: Settings) -> None:
    while True:
        await asyncio.sleep(max(settings.worker_heartbeat_seconds, 1.0))
        try:
            stalled = await app.job_manager.get_stalled_jobs(
                seconds_since_heartbeat=settings.worker_stalled_seconds
            )
            for job in stalled:
                log.warning("retrying job %s of a stalled worker", job.id)
                await app.job_manager.retry_job(job)
            stale = timedelta(seconds=settings.worker_stalled_seconds)
            await asyncio.to_thread(tasks.requeue_stalled, stale)
        except Exception:
            log.exception("stalled-job check failed")


async def run_worker_async(
    settings: Settings | None = None, *, install_signal_handlers: bool = True, **options: Any
) -> None:
    settings = settings or get_settings()
    app = make_app(settings)
    async with app.open_async():
        checker = asyncio.create_task(_retry_stalled(app, settings))
        try:
            await app.run_worker_async(
                concurrency=settings.worker_concurrency,
                # A retried job sends no notification; poll often enough to pick it up soon.
                fetch_job_polling_interval=1.0,
                update_heartbeat_interval=settings.worker_heartbeat_seconds,
                stalled_worker_timeout=settings.worker_stalled_seconds,
                install_signal_handlers=install_signal_handlers,
                **options,
            )
        finally:
            checker.cancel()


def run_worker(settings: Settings | None = None) -> None:
    asyncio.run(run_worker_async(settings))


class BackgroundWorker:
    """A Procrastinate worker on its own event loop in a thread (``serve`` on PostgreSQL)."""

    def __init__(self, settings: Settings | None = None) -> None:
        import threading

        self.settings = settings or get_settings()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, name="retailhub-worker", daemon=True)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._task = self._loop.create_task(
            run_worker_async(self.settings, install_signal_handlers=False)
        )
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.close()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        if self._loop is not None and self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout)
