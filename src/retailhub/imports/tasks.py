"""The import job: stream the stored payload, validate and write it batch by batch.

Each batch commits its rows, its report lines, its counters and the checkpoint (records
consumed) in one transaction. A job that dies is rerun from its last checkpoint, so every
record is written and counted exactly once however often the job is interrupted.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from retailhub import tasks
from retailhub.config import get_settings
from retailhub.db import session_factory, session_scope
from retailhub.imports import payload
from retailhub.imports.entities import SPECS, EntitySpec
from retailhub.imports.issues import Issue
from retailhub.imports.pipeline import Checked, Classified, Classifier, check_chunk
from retailhub.imports.service import FINISHED, RUN_IMPORT
from retailhub.imports.writers import INSERTED, UNCHANGED, UPDATED, write_batch
from retailhub.kit.runtime import tune_gc
from retailhub.kit.timeutil import iso
from retailhub.loyalty.account import sync as loyalty_sync
from retailhub.models import ImportIssue, ImportJob, Job
from retailhub.models.base import utcnow
from retailhub.webhooks import events, outbox

log = logging.getLogger(__name__)


def issue_rows(
    tenant_id: int, import_id: str, issues: list[Issue], *, by_line: bool = False
) -> list[dict[str, Any]]:
    """Report rows; ``by_line``: the issues' positions are file lines, not array indexes."""
    return [
        {
            "tenant_id": tenant_id,
            "import_id": import_id,
            "severity": i.severity,
            "record_index": None if by_line else i.index,
            "line": i.index if by_line else i.line,
            "field": i.field[:200],
            "rule": i.rule,
            "message": i.message[:500],
            "value": i.value,
        }
        for i in issues
    ]


@dataclass(frozen=True)
class Started:
    """An import its job is (re)starting: where it stands."""

    tenant_id: int
    entity: str
    checkpoint: int  # records consumed so far
    file_name: str | None


def start(job: Job) -> Started | None:
    """Mark the job's import running; None when it is gone or already finished."""
    with session_scope(write=True) as session:
        tasks.heartbeat(session, job)
        imp = session.get(ImportJob, job.args["import_id"])
        if imp is None or imp.status in FINISHED:
            return None
        imp.status = "running"
        imp.started_at = imp.started_at or utcnow()
        return Started(imp.tenant_id, imp.entity, imp.processed, imp.file_name)


@tasks.task(RUN_IMPORT)
def run_import(job: Job) -> None:
    import_id = job.args["import_id"]
    started = start(job)
    if started is None:
        return
    tenant_id, entity, checkpoint = started.tenant_id, started.entity, started.checkpoint
    spec = SPECS[entity]

    classifier = Classifier(spec, spill_dir=str(get_settings().data_dir))
    try:
        _run_chunks(job, import_id, tenant_id, spec, classifier, checkpoint)
    finally:
        classifier.close()
    _finish_import(job, import_id, tenant_id, classifier)


def _run_chunks(
    job: Job,
    import_id: str,
    tenant_id: int,
    spec: EntitySpec,
    classifier: Classifier,
    checkpoint: int,
) -> None:
    sessions = session_factory()
    entity = spec.name
    sizes = payload.chunk_sizes(sessions, import_id)
    starts = list(itertools.accumulate(sizes, initial=0))
    if checkpoint not in starts:
        raise RuntimeError(f"checkpoint {checkpoint} is not at a chunk boundary")
    done = starts.index(checkpoint)
    # Chunks before the checkpoint were written by an earlier run of this job: only
    # re-observe their records, for duplicate and unknown-field warnings.
    for seq in range(done):
        records = payload.chunk_records(payload.stored_chunk(sessions, import_id, seq))
        classifier.observe_written(list(enumerate(records, starts[seq])))

    def work(seq: int) -> Batch:
        def submit(checker: Executor) -> Future[Checked]:
            data = payload.stored_chunk(sessions, import_id, seq)
            return checker.submit(check_chunk, entity, starts[seq], data)

        return sizes[seq], submit

    run_batches(
        job,
        import_id,
        tenant_id,
        spec,
        classifier,
        map(work, range(done, len(sizes))),
        large=len(sizes) - done >= 4,
    )


# A batch to check: its record count, and how to submit its check to a checker.
Batch = tuple[int, Callable[[Executor], "Future[Checked]"]]


def run_batches(
    job: Job,
    import_id: str,
    tenant_id: int,
    spec: EntitySpec,
    classifier: Classifier,
    batches: Iterator[Batch],
    *,
    large: bool,
    by_line: bool = False,
) -> None:
    """Check, sequence and commit batches in order, each with its checkpoint.

    Three stages overlap: checking (parse, validate, hash) batch N+2 in a checker process,
    sequencing batch N+1 here, writing batch N on the writer thread. Batches are sequenced
    and committed one at a time, in order: the checkpoint is exact."""

    def commit(size: int, result: Classified) -> None:
        _commit_batch(job, import_id, tenant_id, spec, size, result, by_line=by_line)

    with _checker(large) as checker, ThreadPoolExecutor(1, "import-writer") as writer:
        checking: deque[tuple[int, Future[Checked]]] = deque()

        def check_next() -> None:
            batch = next(batches, None)
            if batch is not None:
                size, submit = batch
                checking.append((size, submit(checker)))

        check_next()
        check_next()
        writing: Future[None] | None = None
        while checking:
            count, checked = checking.popleft()
            result = classifier.sequence(checked.result())
            check_next()
            if writing is not None:
                writing.result()
            writing = writer.submit(commit, count, result)
        if writing is not None:
            writing.result()


def _finish_import(job: Job, import_id: str, tenant_id: int, classifier: Classifier) -> None:
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


class _Inline(Executor):
    """Runs each submitted call at once, in the calling thread."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _checker_init(parent: int) -> None:
    """In a checker process: collect garbage rarely, and exit when the process that started
    it is gone (killed, even), instead of lingering as an orphan."""
    tune_gc()

    def watch() -> None:
        while True:
            time.sleep(1)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _checker(large: bool) -> Executor:
    """Where batches are checked: a process pool kept for the life of this process (shared
    by its imports) for large imports, else inline. Its processes are spawned (never a fork
    of this multi-threaded process) and end with it."""
    global _pool
    processes = get_settings().import_processes
    if not large or processes == 0:
        return _Inline()
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_checker_init,
                initargs=(os.getpid(),),
            )
    return _Shared(_pool)


class _Shared(Executor):
    """The shared pool, without shutting it down when one import is done with it."""

    def __init__(self, pool: Executor) -> None:
        self._pool = pool

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pass


def _commit_batch(
    job: Job,
    import_id: str,
    tenant_id: int,
    spec: EntitySpec,
    size: int,
    result: Classified,
    *,
    by_line: bool = False,
) -> None:
    """Write one batch with its report lines, counters and checkpoint, in one transaction."""
    with session_scope(write=True) as session:
        now = utcnow()
        for group in result.groups:
            write_batch(session, spec, tenant_id, group, now)
        tally = {INSERTED: 0, UPDATED: 0, UNCHANGED: 0}
        changed: list[Any] = []
        issues = list(result.issues)
        rejected, duplicates = result.rejected, result.duplicates
        for item in result.valid:
            if isinstance(item.outcome, Issue):
                item.outcome.index = item.index
                issues.append(item.outcome)
                rejected += 1
            else:
                tally[str(item.outcome)] += 1
                if item.outcome != UNCHANGED:
                    changed.append(item.key)
        # Loyalty accounts follow imported customers and orders (same transaction).
        loyalty_sync.enqueue(session, tenant_id=tenant_id, entity=spec.name, keys=changed)
        if issues:
            rows = issue_rows(tenant_id, import_id, issues, by_line=by_line)
            session.execute(insert(ImportIssue), rows)
        warnings = sum(1 for i in issues if i.severity == "warning")
        # A file's rows are counted as read (a REST payload's were counted when accepted).
        received = {"received": ImportJob.received + result.received} if by_line else {}
        session.execute(
            update(ImportJob)
            .where(ImportJob.id == import_id)
            .values(
                **received,
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
    _notify_finished(session, imp)


def _notify_finished(session: Session, imp: ImportJob) -> None:
    """The IMPORT_FINISHED webhook, in the transaction that finishes the import. A tenant's
    imports share one ordering key: their events arrive in the order they finished."""
    outbox.emit(
        session,
        tenant_id=imp.tenant_id,
        event_type=events.IMPORT_FINISHED,
        data={
            "importId": imp.id,
            "entity": imp.entity,
            "source": imp.source,
            "fileName": imp.file_name,
            "status": imp.status,
            "message": imp.message,
            "received": imp.received,
            "inserted": imp.inserted,
            "updated": imp.updated,
            "unchanged": imp.unchanged,
            "rejected": imp.rejected,
            "duplicates": imp.duplicates,
            "warnings": imp.warnings,
            "createdAt": iso(imp.created_at),
            "finishedAt": iso(imp.finished_at),
        },
        ordering_key=f"imports:{imp.tenant_id}",
    )


@tasks.on_final_failure(RUN_IMPORT)
def _import_failed(session: Session, job: Job, error: str) -> None:
    fail_unfinished(session, job, error)


def fail_unfinished(session: Session, job: Job, error: str) -> ImportJob | None:
    """When a job gives up: fail its import, unless it finished; returns the import failed."""
    imp = session.get(ImportJob, job.args["import_id"])
    if imp is None or imp.status in FINISHED:
        return None
    last_line = error.strip().splitlines()[-1] if error.strip() else "unknown error"
    finish(session, imp, failed_message=f"The import failed: {last_line}")
    return imp
