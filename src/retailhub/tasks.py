"""Background jobs: a row in ``jobs`` written in the caller's transaction, then run by
whichever runner the database calls for (see ``retailhub.worker``).

Handlers must be idempotent: a job whose worker died is run again.
"""

from __future__ import annotations

import logging
import socket
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from retailhub.config import get_settings
from retailhub.db import session_scope
from retailhub.models import Job
from retailhub.models.base import utcnow

log = logging.getLogger(__name__)

Handler = Callable[[Job], None]
_HANDLERS: dict[str, Handler] = {}

PROCRASTINATE_TASK = "retailhub.run_job"
WORKER_NAME = f"{socket.gethostname()}:{__import__('os').getpid()}"


def task(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _HANDLERS[name] = fn
        return fn

    return register


def load_handlers() -> None:
    # Importing the modules registers their handlers.
    import retailhub.imports.tasks  # noqa: F401


def enqueue(
    session: Session,
    name: str,
    args: dict[str, Any],
    *,
    tenant_id: int | None = None,
    run_at: datetime | None = None,
) -> Job:
    """Insert a job in the caller's transaction; it runs only if that transaction commits."""
    job = Job(
        tenant_id=tenant_id,
        task=name,
        args=args,
        run_at=run_at or utcnow(),
        max_attempts=get_settings().job_max_attempts,
    )
    session.add(job)
    session.flush()
    _notify_queue(session, job)
    return job


def _notify_queue(session: Session, job: Job) -> None:
    """On PostgreSQL, hand the job to Procrastinate in the same transaction, through its
    own SQL function, so a committed job is always queued and a rolled-back one never is."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.connection().exec_driver_sql(
        "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(%s, %s, 0, NULL, NULL, %s::jsonb, %s)"
        "::procrastinate_job_to_defer_v1])",
        ("default", PROCRASTINATE_TASK, orjson.dumps({"job_id": job.id}).decode(), job.run_at),
    )


def heartbeat(session: Session, job_id: int) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=utcnow()))


def run_job(job_id: int) -> None:
    """Run one job to its end: claim it, call its handler, record the outcome.

    A job already finished is skipped, so a redelivered job has no second effect.
    """
    load_handlers()
    with session_scope(write=True) as session:
        job = session.get(Job, job_id, with_for_update=_for_update(session))
        if job is None or job.status in ("succeeded", "failed"):
            return
        job.status = "running"
        job.attempts += 1
        job.locked_by = WORKER_NAME
        job.heartbeat_at = utcnow()
    handler = _HANDLERS.get(job.task)
    try:
        if handler is None:
            raise LookupError(f"no handler for task {job.task!r}")
        handler(job)
    except Exception:
        error = traceback.format_exc()
        log.exception("job %s (%s) failed", job_id, job.task)
        with session_scope(write=True) as session:
            current = session.get(Job, job_id)
            assert current is not None
            current.last_error = error[-4000:]
            current.locked_by = None
            if current.attempts >= current.max_attempts:
                current.status = "failed"
                current.finished_at = utcnow()
                on_failure = _FAILURE_HOOKS.get(current.task)
                if on_failure is not None:
                    on_failure(session, current, error)
            else:
                current.status = "queued"
                delay = min(2**current.attempts, 600)
                current.run_at = utcnow() + timedelta(seconds=delay)
                _notify_queue(session, current)
        return
    with session_scope() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="succeeded", finished_at=utcnow(), locked_by=None)
        )


_FAILURE_HOOKS: dict[str, Callable[[Session, Job, str], None]] = {}


def on_final_failure(name: str) -> Callable[[Callable[[Session, Job, str], None]], Any]:
    def register(fn: Callable[[Session, Job, str], None]) -> Callable[[Session, Job, str], None]:
        _FAILURE_HOOKS[name] = fn
        return fn

    return register


def _for_update(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def claim_next(stale_after: timedelta) -> int | None:
    """For the in-process runner: take the next due job (or one whose runner went silent)."""
    now = utcnow()
    with session_scope(write=True) as session:
        stmt = (
            select(Job.id)
            .where(
                ((Job.status == "queued") & (Job.run_at <= now))
                | ((Job.status == "running") & (Job.heartbeat_at < now - stale_after))
            )
            .order_by(Job.run_at, Job.id)
            .limit(1)
        )
        if _for_update(session):
            stmt = stmt.with_for_update(skip_locked=True)
        job_id = session.scalar(stmt)
        if job_id is None:
            return None
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(("queued", "running")))
            .values(status="running", heartbeat_at=now, locked_by=WORKER_NAME)
        )
        return job_id if claimed.rowcount else None  # type: ignore[attr-defined]
