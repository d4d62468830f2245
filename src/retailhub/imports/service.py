"""Import jobs: creating them, reading their fate."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from retailhub import tasks
from retailhub.config import get_settings
from retailhub.errors import NotFound
from retailhub.imports import payload
from retailhub.kit.ids import sortable_id
from retailhub.models import ImportIssue, ImportJob

RUN_IMPORT = "imports.run"
FINISHED = ("succeeded", "partially_failed", "failed", "duplicate")


def create_import(
    session: Session,
    *,
    tenant_id: int,
    entity: str,
    source: str,
    payload_file: BinaryIO,
    size: int,
    sha256: str | None,
    received: int,
    file_name: str | None = None,
) -> ImportJob:
    """Store the payload and queue its import, all in the caller's transaction: once that
    commits, the import is durable and will run."""
    settings = get_settings()
    job = ImportJob(
        id=sortable_id(),
        tenant_id=tenant_id,
        entity=entity,
        source=source,
        file_name=file_name,
        status="queued",
        payload_bytes=size,
        payload_sha256=sha256,
        received=received,
    )
    session.add(job)
    session.flush()
    payload.store(
        session,
        tenant_id=tenant_id,
        import_id=job.id,
        source=payload_file,
        chunk_bytes=settings.payload_chunk_bytes,
        chunk_records=settings.import_batch_size,
    )
    tasks.enqueue(session, RUN_IMPORT, {"import_id": job.id}, tenant_id=tenant_id)
    return job


def get_import(
    session: Session, *, tenant_id: int, import_id: str, entities: Collection[str]
) -> ImportJob:
    """One import of the tenant, of an entity the caller may see."""
    job = session.get(ImportJob, import_id)
    if job is None or job.tenant_id != tenant_id or job.entity not in entities:
        raise NotFound(f"No import with resourceId '{import_id}'.")
    return job


def list_imports(
    session: Session,
    *,
    tenant_id: int,
    entities: Collection[str],
    limit: int,
    before: str | None,
    entity: str | None,
) -> list[ImportJob]:
    stmt = select(ImportJob).where(
        ImportJob.tenant_id == tenant_id, ImportJob.entity.in_(list(entities))
    )
    if before:
        stmt = stmt.where(ImportJob.id < before)
    if entity:
        stmt = stmt.where(ImportJob.entity == entity)
    return list(session.scalars(stmt.order_by(ImportJob.id.desc()).limit(limit)))


def list_issues(
    session: Session,
    *,
    tenant_id: int,
    entities: Collection[str],
    import_id: str,
    severity: str | None,
    after: int,
    limit: int,
) -> tuple[list[ImportIssue], int]:
    get_import(session, tenant_id=tenant_id, import_id=import_id, entities=entities)
    base = select(ImportIssue).where(
        ImportIssue.tenant_id == tenant_id, ImportIssue.import_id == import_id
    )
    if severity:
        base = base.where(ImportIssue.severity == severity)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(base.where(ImportIssue.id > after).order_by(ImportIssue.id).limit(limit))
    return list(rows), int(total)


def counts(job: ImportJob) -> dict[str, Any]:
    return {
        "received": job.received,
        "processed": job.processed,
        "inserted": job.inserted,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "rejected": job.rejected,
        "duplicates": job.duplicates,
        "warnings": job.warnings,
    }
