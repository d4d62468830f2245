"""Background jobs: a row in ``jobs`` written in the caller's transaction, then run by
whichever runner the database calls for (see ``retailhub.worker``).

Handlers must be idempotent: a job whose worker died is run again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
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
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


def task(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _HANDLERS[name] = fn
        return fn

    return register


def load_handlers() -> None:
    # Importing the modules registers their handlers.
    import retailhub.files.importer
    import retailhub.imports.tasks
    import retailhub.loyalty.account.sync  # noqa: F401


def enqueue(
    session: Session,
    name: str,
    args: dict[str, Any],
    *,
    tenant_id: int | None = None,
    run_at: datetime | None = None,
    claimed: bool = False,
) -> Job:
    """Insert a job in the caller's transaction; it runs only if that transaction commits.

    ``claimed``: this process runs it itself (``run_job``), at once; no runner takes it
    unless this process dies and its heartbeat goes stale (see ``requeue_stalled``)."""
    now = utcnow()
    job = Job(
        tenant_id=tenant_id,
        task=name,
        args=args,
        run_at=run_at or now,
        max_attempts=get_settings().job_max_attempts,
    )
    if claimed:
        job.status, job.locked_by, job.heartbeat_at = "running", WORKER_NAME, now
    session.add(job)
    session.flush()
    if not claimed:
        _notify_queue(session, job)
    return job


def requeue_stalled(stale_after: timedelta) -> int:
    """Queue again the running jobs whose runner went silent without Procrastinate knowing
    of it (a job a command ran in its own process, which died); PostgreSQL workers call
    this periodically. Runs that are merely slow lose nothing: see ``JobLost``."""
    with session_scope(write=True) as session:
        stalled = list(
            session.scalars(
                select(Job)
                .where(Job.status == "running", Job.heartbeat_at < utcnow() - stale_after)
                .with_for_update(skip_locked=True)
            )
        )
        requeued = [job for job in stalled if not held_by_live_local_process(job.locked_by)]
        for job in requeued:
            job.status, job.locked_by = "queued", None
            _notify_queue(session, job)
    return len(requeued)


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


class JobLost(Exception):
    """This run no longer owns its job: another run took it over (this one was presumed
    dead). Whatever this run had not committed is rolled back and it stops quietly."""


def _owned(job: Job) -> Any:
    return (Job.id == job.id) & (Job.attempts == job.attempts) & (Job.status == "running")


def heartbeat(session: Session, job: Job) -> None:
    """Say this run is alive, in the caller's transaction; raises JobLost if the job was
    taken over, so a handler calls it in every transaction that records progress."""
    result = session.execute(update(Job).where(_owned(job)).values(heartbeat_at=utcnow()))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise JobLost(f"job {job.id} attempt {job.attempts} was taken over")


class _Heartbeat:
    """Keeps a running job's heartbeat fresh while its handler works between commits."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"heartbeat-{job.id}", daemon=True)

    def _run(self) -> None:
        interval = max(get_settings().worker_heartbeat_seconds, 0.5)
        while not self.stop.wait(interval):
            try:
                with session_scope(write=True) as session:
                    heartbeat(session, self.job)
            except JobLost:
                return
            except Exception:
                log.exception("heartbeat of job %s failed", self.job.id)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join()


def run_job(job_id: int) -> None:
    """Run one job to its end: claim it, call its handler, record the outcome.

    A finished job is skipped, so a redelivered job has no second effect. Each run owns the
    job by its attempt number; a run that lost it (see JobLost) changes nothing more.
    """
    load_handlers()
    with session_scope(write=True) as session:
        job = session.get(Job, job_id, with_for_update=_for_update(session))
        if job is None or job.status in ("succeeded", "failed"):
            return
        if job.attempts >= job.max_attempts:
            # Its runs all died without recording an outcome (killed, out of memory): stop
            # trying, as if the last one had failed.
            job.status, job.locked_by, job.finished_at = "failed", None, utcnow()
            job.last_error = (job.last_error or "") + "\nEvery attempt died before it ended."
            on_failure = _FAILURE_HOOKS.get(job.task)
            if on_failure is not None:
                on_failure(session, job, "every attempt died before it ended")
            return
        job.status = "running"
        job.attempts += 1
        job.locked_by = WORKER_NAME
        job.heartbeat_at = utcnow()
    handler = _HANDLERS.get(job.task)
    try:
        if handler is None:
            raise LookupError(f"no handler for task {job.task!r}")
        with _Heartbeat(job):
            handler(job)
    except JobLost:
        log.warning("job %s: attempt %s was taken over by another run", job_id, job.attempts)
        return
    except Exception:
        error = traceback.format_exc()
        log.exception("job %s (%s) failed", job_id, job.task)
        with session_scope(write=True) as session:
            current = session.scalar(select(Job).where(_owned(job)))
            if current is None:
                return
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
    with session_scope(write=True) as session:
        session.execute(
            update(Job)
            .where(_owned(job))
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


def held_by_live_local_process(locked_by: str | None) -> bool:
    """Whether a job's runner is a process of this host that still exists."""
    if not locked_by or ":" not in locked_by:
        return False
    host, _, pid = locked_by.rpartition(":")
    if host != WORKER_NAME.rpartition(":")[0] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_next(stale_after: timedelta) -> int | None:
    """For the in-process runner: take the next due job, or one whose runner went silent
    (unless that runner is a live process on this host, merely slow)."""
    now = utcnow()
    with session_scope(write=True) as session:
        stmt = (
            select(Job.id, Job.status, Job.locked_by)
            .where(
                ((Job.status == "queued") & (Job.run_at <= now))
                | (
                    (Job.status == "running")
                    & (Job.heartbeat_at < now - stale_after)
                    # A job runs only once due, retaken or not (a running job was due).
                    & (Job.run_at <= now)
                )
            )
            .order_by(Job.run_at, Job.id)
            .limit(20)
        )
        if _for_update(session):
            stmt = stmt.with_for_update(skip_locked=True)
        for job_id, status, locked_by in session.execute(stmt).all():
            if status == "running" and held_by_live_local_process(locked_by):
                continue
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status="running", heartbeat_at=now, locked_by=WORKER_NAME)
            )
            return int(job_id)
        return None
