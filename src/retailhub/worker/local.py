"""In-process job runner for the embedded default (SQLite): threads polling ``jobs``."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import select, update

from retailhub import tasks
from retailhub.config import get_settings
from retailhub.db import session_scope
from retailhub.models import Job

log = logging.getLogger(__name__)


def recover_orphans() -> int:
    """Requeue running jobs whose runner was a process of this host that no longer exists
    (a crash or kill mid-job): they resume at once instead of after the stale timeout."""
    host = tasks.WORKER_NAME.rpartition(":")[0]
    with session_scope(write=True) as session:
        orphans = [
            job_id
            for job_id, locked_by in session.execute(
                select(Job.id, Job.locked_by).where(Job.status == "running")
            )
            if locked_by
            and locked_by.rpartition(":")[0] == host
            and not tasks.held_by_live_local_process(locked_by)
        ]
        if orphans:
            session.execute(
                update(Job).where(Job.id.in_(orphans)).values(status="queued", locked_by=None)
            )
    if orphans:
        log.warning("requeued %d job(s) left running by a dead process", len(orphans))
    return len(orphans)


class LocalRunner:
    def __init__(self, threads: int | None = None, poll_seconds: float = 0.2) -> None:
        settings = get_settings()
        self.threads = threads or settings.local_worker_threads
        self.poll_seconds = poll_seconds
        self.stale_after = timedelta(seconds=settings.worker_stalled_seconds)
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    def start(self) -> None:
        recover_orphans()
        for n in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"retailhub-job-{n}", daemon=True)
            thread.start()
            self._workers.append(thread)

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        for thread in self._workers:
            thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job_id = tasks.claim_next(self.stale_after)
                if job_id is None:
                    self._stop.wait(self.poll_seconds)
                    continue
                tasks.run_job(job_id)
            except Exception:
                log.exception("job runner error")
                self._stop.wait(1)
