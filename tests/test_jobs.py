"""Job ownership: a run that was presumed dead and replaced cannot record anything."""

from __future__ import annotations

import pytest

from retailhub import tasks
from retailhub.db import session_scope
from retailhub.models import Job
from retailhub.models.base import utcnow
from tests.conftest import Tenant


def test_a_replaced_run_loses_its_job(tenant: Tenant) -> None:
    with session_scope(write=True) as session:
        row = Job(
            tenant_id=tenant.creds["tenant_id"],
            task="no.such.task",
            args={},
            status="running",
            attempts=2,
            heartbeat_at=utcnow(),
            locked_by="elsewhere:1",
        )
        session.add(row)
        session.flush()
        job_id = row.id
    old_run = Job(id=job_id, attempts=1)
    current_run = Job(id=job_id, attempts=2)
    with session_scope(write=True) as session, pytest.raises(tasks.JobLost):
        tasks.heartbeat(session, old_run)
    with session_scope(write=True) as session:
        tasks.heartbeat(session, current_run)
        session.get(Job, job_id).status = "failed"  # type: ignore[union-attr]
    with session_scope(write=True) as session, pytest.raises(tasks.JobLost):
        tasks.heartbeat(session, current_run)


def test_live_local_runner_is_not_taken_over() -> None:
    assert tasks.held_by_live_local_process(tasks.WORKER_NAME)
    host = tasks.WORKER_NAME.rpartition(":")[0]
    assert not tasks.held_by_live_local_process(f"{host}:999999999")
    assert not tasks.held_by_live_local_process("another-host:1")
    assert not tasks.held_by_live_local_process(None)


def test_a_silent_running_job_is_queued_again(tenant: Tenant) -> None:
    """A job claimed by a process that died (the import command, say) is queued again once
    its heartbeat is stale; a fresh one, or one of a live process here, is left alone."""
    from datetime import timedelta

    stale, later = utcnow() - timedelta(minutes=5), utcnow() + timedelta(hours=1)
    holders = {"dead": ("gone-host:1", stale), "fresh": ("gone-host:2", utcnow())}
    holders["local"] = (tasks.WORKER_NAME, stale)
    ids = {}
    with session_scope(write=True) as session:
        for name, (locked_by, heartbeat) in holders.items():
            # Due in an hour, so that no runner of this test session takes it once queued.
            row = Job(
                tenant_id=tenant.creds["tenant_id"],
                task="no.such.task",
                args={},
                status="running",
                run_at=later,
                heartbeat_at=heartbeat,
                locked_by=locked_by,
            )
            session.add(row)
            session.flush()
            ids[name] = row.id
    assert tasks.requeue_stalled(timedelta(seconds=30)) >= 1
    with session_scope(write=True) as session:
        rows = {name: session.get(Job, job_id) for name, job_id in ids.items()}
        got = {name: (row.status, row.locked_by) for name, row in rows.items() if row}
        for row in rows.values():
            if row is not None:
                row.status = "failed"
    assert got == {
        "dead": ("queued", None),
        "fresh": ("running", "gone-host:2"),
        "local": ("running", tasks.WORKER_NAME),
    }


def test_a_job_whose_attempts_all_died_is_failed_when_claimed_again(tenant: Tenant) -> None:
    """Runs killed before recording an outcome (out of memory, say) do not retry forever:
    once its attempts are spent, the next claim fails the job and runs its failure hook."""
    from retailhub.imports.service import RUN_IMPORT
    from retailhub.kit.ids import sortable_id
    from retailhub.models import ImportJob

    import_id = sortable_id()
    with session_scope(write=True) as session:
        session.add(
            ImportJob(
                id=import_id,
                tenant_id=tenant.creds["tenant_id"],
                entity="Product",
                status="running",
            )
        )
        row = Job(
            tenant_id=tenant.creds["tenant_id"],
            task=RUN_IMPORT,
            args={"import_id": import_id},
            status="queued",
            attempts=3,
            max_attempts=3,
            run_at=utcnow(),
        )
        session.add(row)
        session.flush()
        job_id = row.id
    tasks.run_job(job_id)
    with session_scope() as session:
        job = session.get(Job, job_id)
        imp = session.get(ImportJob, import_id)
        assert job is not None and imp is not None
        assert (job.status, job.attempts, job.locked_by) == ("failed", 3, None)
        assert imp.status == "failed"
        assert imp.message == "The import failed: every attempt died before it ended"
