"""The import job: stream the stored payload, validate and write it batch by batch.

Each batch commits its rows, its report lines, its counters and the checkpoint (records
consumed) in one transaction. A job that dies is rerun from its last checkpoint, so every
record is written and counted exactly once however often the job is interrupted.
"""

from __future__ import annotations

import itertools
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from retailhub import tasks
from retailhub.config import get_settings
from retailhub.db import session_factory, session_scope
from retailhub.imports import payload
from retailhub.imports.entities import SPECS, EntitySpec
from retailhub.imports.issues import Issue
from retailhub.imports.pipeline import Classified, Classifier
from retailhub.imports.service import FINISHED, RUN_IMPORT
from retailhub.imports.writers import INSERTED, UNCHANGED, UPDATED, write_batch
from retailhub.models import ImportIssue, ImportJob, Job
from retailhub.models.base import utcnow

log = logging.getLogger(__name__)


def issue_rows(tenant_id: int, import_id: str, issues: list[Issue]) -> list[dict[str, Any]]:
    return [
        {
            "tenant_id": tenant_id,
            "import_id": import_id,
            "severity": i.severity,
            "record_index": i.index,
            "line": i.line,
            "field": i.field[:200],
            "rule": i.rule,
            "message": i.message[:500],
            "value": i.value,
        }
        for i in issues
    ]


@tasks.task(RUN_IMPORT)
def run_import(job: Job) -> None:
    import_id = job.args["import_id"]
    settings = get_settings()
    sessions = session_factory()
    with session_scope(write=True) as session:
        tasks.heartbeat(session, job)
        imp = session.get(ImportJob, import_id)
        if imp is None or imp.status in FINISHED:
            return
        imp.status = "running"
        imp.started_at = imp.started_at or utcnow()
        tenant_id, entity, checkpoint = imp.tenant_id, imp.entity, imp.processed
    spec = SPECS[entity]

    classifier = Classifier(spec)
    records = enumerate(payload.iter_records(sessions, import_id))
    # Records before the checkpoint were written by an earlier run of this job: only
    # re-observe them, for duplicate and unknown-field warnings.
    for index, raw in itertools.islice(records, checkpoint):
        classifier.observe_written(index, raw)

    def commit(size: int, result: Classified) -> None:
        _commit_batch(job, import_id, tenant_id, spec, size, result)

    # Validation of batch N+1 (Python) overlaps the database's work on batch N; batches
    # still commit one at a time, in order, so the checkpoint stays exact.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") as writer:
        pending: Future[None] | None = None
        while batch := list(itertools.islice(records, settings.import_batch_size)):
            result = classifier.classify(batch)
            if pending is not None:
                pending.result()
            pending = writer.submit(commit, len(batch), result)
        if pending is not None:
            pending.result()

    with session_scope(write=True) as session:
        tasks.heartbeat(session, job)
        imp = session.get(ImportJob, import_id)
        assert imp is not None
        unknown = classifier.unknown_field_issues()
        if unknown:
            session.execute(insert(ImportIssue), issue_rows(tenant_id, import_id, unknown))
        imp.warnings += len(unknown)
        imp.received = imp.processed
        finish(session, imp)


def _commit_batch(
    job: Job,
    import_id: str,
    tenant_id: int,
    spec: EntitySpec,
    size: int,
    result: Classified,
) -> None:
    """Write one batch with its report lines, counters and checkpoint, in one transaction."""
    with session_scope(write=True) as session:
        now = utcnow()
        for group in result.groups:
            write_batch(session, spec, tenant_id, group, now)
        tally = {INSERTED: 0, UPDATED: 0, UNCHANGED: 0}
        issues = list(result.issues)
        rejected, duplicates = result.rejected, result.duplicates
        for item in result.valid:
            if isinstance(item.outcome, Issue):
                item.outcome.index = item.index
                issues.append(item.outcome)
                rejected += 1
            else:
                tally[str(item.outcome)] += 1
        if issues:
            session.execute(insert(ImportIssue), issue_rows(tenant_id, import_id, issues))
        warnings = sum(1 for i in issues if i.severity == "warning")
        session.execute(
            update(ImportJob)
            .where(ImportJob.id == import_id)
            .values(
                processed=ImportJob.processed + size,
                inserted=ImportJob.inserted + tally[INSERTED],
                updated=ImportJob.updated + tally[UPDATED],
                unchanged=ImportJob.unchanged + tally[UNCHANGED],
                rejected=ImportJob.rejected + rejected,
                duplicates=ImportJob.duplicates + duplicates,
                warnings=ImportJob.warnings + warnings,
            )
        )
        tasks.heartbeat(session, job)


def finish(session: Session, imp: ImportJob, *, failed_message: str | None = None) -> None:
    if failed_message is not None:
        imp.status = "failed"
        imp.message = failed_message
    elif imp.rejected and imp.rejected == imp.received:
        imp.status = "failed"
        imp.message = "Every record was rejected; see the errors."
    elif imp.rejected:
        imp.status = "partially_failed"
    else:
        imp.status = "succeeded"
    imp.finished_at = utcnow()
    payload.discard(session, import_id=imp.id)


@tasks.on_final_failure(RUN_IMPORT)
def _import_failed(session: Session, job: Job, error: str) -> None:
    imp = session.get(ImportJob, job.args["import_id"])
    if imp is not None and imp.status not in FINISHED:
        last_line = error.strip().splitlines()[-1] if error.strip() else "unknown error"
        finish(session, imp, failed_message=f"The import failed: {last_line}")
