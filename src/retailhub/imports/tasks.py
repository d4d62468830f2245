"""The import job: stream the stored payload, validate and write it batch by batch.

Each batch commits its rows, its report lines, its counters and the checkpoint (records
consumed) in one transaction. A job that dies is rerun from its last checkpoint, so every
record is written and counted exactly once however often the job is interrupted.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from retailhub import tasks
from retailhub.config import get_settings
from retailhub.db import session_factory, session_scope
from retailhub.imports import payload
from retailhub.imports.entities import SPECS
from retailhub.imports.issues import Issue
from retailhub.imports.pipeline import Classifier, last_occurrences
from retailhub.imports.service import FINISHED, RUN_IMPORT
from retailhub.imports.writers import (
    INSERTED,
    UNCHANGED,
    UPDATED,
    Superseded,
    write_batch,
)
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
        imp = session.get(ImportJob, import_id)
        if imp is None or imp.status in FINISHED:
            return
        imp.status = "running"
        imp.started_at = imp.started_at or utcnow()
        tenant_id, entity, checkpoint = imp.tenant_id, imp.entity, imp.processed
    spec = SPECS[entity]

    received, winners = last_occurrences(entity, payload.iter_records(sessions, import_id))
    classifier = Classifier(spec, winners)
    records = enumerate(payload.iter_records(sessions, import_id))
    # Records before the checkpoint were written by an earlier run; only re-observe their
    # unknown fields so the once-per-import warning is not lost.
    for _index, raw in itertools.islice(records, checkpoint):
        if isinstance(raw, dict):
            for extra in raw.keys() - classifier.known:
                classifier.unknown_fields.setdefault(extra, _index)

    batch_size = settings.import_batch_size
    while batch := list(itertools.islice(records, batch_size)):
        result = classifier.classify(batch)
        with session_scope(write=True) as session:
            now = utcnow()
            if result.valid:
                write_batch(session, spec, tenant_id, result.valid, now)
            tally = {INSERTED: 0, UPDATED: 0, UNCHANGED: 0}
            issues = list(result.issues)
            rejected, duplicates = result.rejected, result.duplicates
            for item in result.valid:
                if isinstance(item.outcome, Issue):
                    item.outcome.index = item.index
                    issues.append(item.outcome)
                    rejected += 1
                elif isinstance(item.outcome, Superseded):
                    duplicates += 1
                    issues.append(
                        Issue(
                            "warning",
                            spec.describe,
                            "duplicate",
                            f"Superseded by the record at index {item.outcome.by_index} for the "
                            "same customer; this record was not imported.",
                            index=item.index,
                        )  # fmt: skip
                    )
                else:
                    tally[str(item.outcome)] += 1
            if issues:
                session.execute(insert(ImportIssue), issue_rows(tenant_id, import_id, issues))
            warnings = sum(1 for i in issues if i.severity == "warning")
            session.execute(
                update(ImportJob)
                .where(ImportJob.id == import_id)
                .values(
                    received=received,
                    processed=ImportJob.processed + len(batch),
                    inserted=ImportJob.inserted + tally[INSERTED],
                    updated=ImportJob.updated + tally[UPDATED],
                    unchanged=ImportJob.unchanged + tally[UNCHANGED],
                    rejected=ImportJob.rejected + rejected,
                    duplicates=ImportJob.duplicates + duplicates,
                    warnings=ImportJob.warnings + warnings,
                )
            )
            tasks.heartbeat(session, job.id)

    with session_scope(write=True) as session:
        imp = session.get(ImportJob, import_id)
        assert imp is not None
        unknown = classifier.unknown_field_issues()
        if unknown:
            session.execute(insert(ImportIssue), issue_rows(tenant_id, import_id, unknown))
        imp.warnings += len(unknown)
        imp.received = received
        finish(session, imp)


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
