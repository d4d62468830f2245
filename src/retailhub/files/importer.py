"""A dropped file becomes an import job, on the same model as a REST import.

Accepting a file moves it out of the tenant's sight into the spool, records its import and
queues its job in one transaction; the job checks and writes it batch by batch, each batch
committed with its checkpoint, so a restarted job resumes where it stopped; a last job
writes ``results/<file name>.result.csv`` and moves the file to ``archive/``.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from retailhub import tasks
from retailhub.config import get_settings
from retailhub.db import session_scope
from retailhub.files import names, storage
from retailhub.files.check import check_block, check_rows, header_map
from retailhub.files.decode import FileRejected, detect, to_utf8
from retailhub.files.reader import Block, Delimited, Workbook, parse_block
from retailhub.imports.entities import SPECS
from retailhub.imports.issues import Issue
from retailhub.imports.pipeline import Checked, Classifier
from retailhub.imports.tasks import (
    Batch,
    fail_unfinished,
    finish,
    issue_rows,
    run_batches,
    start,
)
from retailhub.kit.ids import sortable_id
from retailhub.models import FileMapping, ImportIssue, ImportJob, Job, Tenant
from retailhub.models.base import utcnow

log = logging.getLogger(__name__)

RUN_FILE_IMPORT = "files.import"
FINISH_FILE = "files.finish"
ENTITIES = ("Product", "Order", "OrderItem", "Customer")


class NotImportable(ValueError):
    """A file that cannot become an import (unknown tenant, unrecognized name)."""


def spool_path(slug: str, import_id: str, file_name: str) -> Path:
    return storage.spool_dir() / slug / import_id / file_name


SOURCE_MARK = ".source"  # in a spool folder: where its file came from
NAME_LIMIT = 200  # bytes of a file name we derive names from; the rest is hashed


def _short(name: str) -> str:
    """``name``, or for a name so long that derived names would exceed the file system's
    limit, its beginning and a digest of the whole."""
    if len(name.encode()) <= NAME_LIMIT:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    return name.encode()[:120].decode(errors="ignore") + f"~{digest}"


def result_path(slug: str, file_name: str, import_id: str | None = None) -> Path:
    """``results/<file name>.result.csv``; with ``import_id``, a report of its own for an
    import that must not replace the file's report (a duplicate drop)."""
    stem = _short(file_name) if import_id is None else f"{_short(file_name)}.{import_id}"
    return storage.tenant_root(slug) / storage.RESULTS / f"{stem}.result.csv"


def _digest(path: Path) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            sha.update(block)
            size += len(block)
    return sha.hexdigest(), size


def _tenant(slug: str) -> tuple[int, list[tuple[str, str]]]:
    with session_scope() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == slug))
        if tenant_id is None:
            raise NotImportable(f"no tenant '{slug}'")
        mappings = session.execute(
            select(FileMapping.pattern, FileMapping.entity)
            .where(FileMapping.tenant_id == tenant_id)
            .order_by(FileMapping.id)
        ).all()
    return tenant_id, [(p, e) for p, e in mappings]


def upload_complete(slug: str, path: Path, source: str) -> str | None:
    """Accept a file whose upload completed in the tenant's root; returns the import id, or
    None for a file whose name is not recognized (reported in ``results/``, left alone)."""
    tenant_id, mappings = _tenant(slug)
    entity = names.entity_for(path.name, mappings)
    if entity is None:
        _write_unrecognized(slug, path.name)
        return None
    return accept(tenant_id, slug, path, source=source, entity=entity, move=True)[0]


def import_file(
    slug: str, path: Path, *, entity: str | None = None, force: bool = False
) -> tuple[str, int | None]:
    """Import a file from the command line: a copy of it goes through the same pipeline, in
    a job claimed by this process (run it with ``tasks.run_job``). ``force`` imports it
    even when the same content was imported before."""
    tenant_id, mappings = _tenant(slug)
    if entity is None:
        entity = names.entity_for(path.name, mappings)
        if entity is None:
            raise NotImportable(
                f"'{path.name}' is not a recognized file name; name the entity with --entity"
            )
    elif names.file_format(path.name) is None:
        raise NotImportable(f"'{path.name}' must end in .csv, .txt or .xlsx")
    return accept(
        tenant_id, slug, path, source="cli", entity=entity, move=False, force=force, claim=True
    )


def accept(
    tenant_id: int,
    slug: str,
    path: Path,
    *,
    source: str,
    entity: str,
    move: bool,
    force: bool = False,
    claim: bool = False,
) -> tuple[str, int | None]:
    """Spool the file and queue its import; a file whose content this tenant already
    imported as this entity is recorded as a ``duplicate`` import and not imported again.
    Returns the import id and its job id (None for a duplicate)."""
    sha, size = _digest(path)
    import_id = sortable_id()
    spooled = spool_path(slug, import_id, path.name)
    spooled.parent.mkdir(parents=True, exist_ok=True)
    (spooled.parent / SOURCE_MARK).write_text(source)
    if move:
        os.replace(path, spooled)
    else:
        shutil.copyfile(path, spooled)
    record = {
        "id": import_id,
        "tenant_id": tenant_id,
        "entity": entity,
        "source": source,
        "file_name": path.name,
        "payload_bytes": size,
        "payload_sha256": None if force else sha,
    }
    try:
        with session_scope(write=True) as session:
            session.add(ImportJob(status="queued", **record))
            session.flush()
            job = tasks.enqueue(
                session,
                RUN_FILE_IMPORT,
                {"import_id": import_id},
                tenant_id=tenant_id,
                claimed=claim,
            )
            return import_id, job.id
    except IntegrityError:
        pass
    except BaseException:
        # Not recorded (the database is unreachable, say): the file goes back where it was.
        if move:
            os.replace(spooled, path)
        shutil.rmtree(spooled.parent, ignore_errors=True)
        raise
    with session_scope(write=True) as session:
        original = session.scalar(
            select(ImportJob).where(
                ImportJob.tenant_id == tenant_id,
                ImportJob.entity == entity,
                ImportJob.payload_sha256 == sha,
                ImportJob.source != "api",
                ImportJob.status.not_in(("failed", "duplicate")),
            )
        )
        what = f"import {original.id} ({original.file_name})" if original else "an earlier import"
        duplicate = ImportJob(
            status="duplicate",
            message=f"The same content was already imported by {what}; nothing was "
            "imported from this file.",
            finished_at=utcnow(),
            **{**record, "payload_sha256": sha},
        )
        session.add(duplicate)
        session.flush()
        _finish_later(session, duplicate)
    return import_id, None


# --- the import job ----------------------------------------------------------------------


class _Delimited:
    def __init__(self, entity: str, path: Path, work_dir: Path, target_bytes: int) -> None:
        encoding = detect(path)
        if encoding != "utf-8":
            converted = work_dir / ".utf8"
            partial = work_dir / ".utf8.partial"
            to_utf8(path, encoding, partial)
            os.replace(partial, converted)
            path = converted
        self.entity = entity
        self.table = Delimited.open(path)
        self.header = tuple(self.table.header)
        self.target = target_bytes
        self.large = path.stat().st_size > 4 * target_bytes
        self.stopped: FileRejected | None = None
        self.header_line = self.table.header_lines

    def batches(self, skip: int) -> Iterator[Batch]:
        entity, header, delimiter = self.entity, self.header, self.table.delimiter
        blocks = self.table.blocks(self.target, skip)
        while True:
            try:
                block = next(blocks)
            except StopIteration:
                return
            except FileRejected as exc:
                # Reading cannot go on (a line too long to be a record): the rows before it
                # are imported; that line is reported, and the import ends as failed.
                self.stopped = exc
                yield 0, _stopped(exc)
                return

            def submit(checker: Executor, block: Block = block) -> Future[Checked]:
                return checker.submit(check_block, entity, header, delimiter, block)

            yield block.records, submit

    def written(self, upto: int) -> Iterator[tuple[int, dict[str, object]]]:
        hmap = header_map(self.entity, self.header)
        seen = 0
        for block in self.table.blocks(self.target):
            if seen >= upto:
                return
            rows, _ = parse_block(block.data, block.first_line, self.table.delimiter, hmap.width)
            for line, cells in rows:
                yield line, hmap.record(cells)
            seen += block.records


class _Workbook:
    def __init__(self, entity: str, path: Path, batch_size: int) -> None:
        self.entity = entity
        self.book = Workbook.open(path)
        self.header = tuple(self.book.header)
        self.size = batch_size
        self.large = False
        self.stopped: FileRejected | None = None
        self.header_line = self.book.header_row

    def batches(self, skip: int) -> Iterator[Batch]:
        rows: list[tuple[int, list[str]]] = []
        for row in self.book.rows(skip):
            rows.append(row)
            if len(rows) == self.size:
                yield self._batch(rows)
                rows = []
        if rows:
            yield self._batch(rows)

    def _batch(self, rows: list[tuple[int, list[str]]]) -> Batch:
        entity, header = self.entity, self.header

        def submit(checker: Executor) -> Future[Checked]:
            return checker.submit(check_rows, entity, header, rows)

        return len(rows), submit

    def written(self, upto: int) -> Iterator[tuple[int, dict[str, object]]]:
        hmap = header_map(self.entity, self.header)
        for n, (line, cells) in enumerate(self.book.rows()):
            if n >= upto:
                return
            yield line, hmap.record(cells)


def _stopped(exc: FileRejected) -> Callable[[Executor], Future[Checked]]:
    def submit(_checker: Executor) -> Future[Checked]:
        future: Future[Checked] = Future()
        issue = Issue("error", "(row)", exc.rule, exc.message + _STOPPED, index=exc.line)
        future.set_result(Checked(issues=[issue], rejected=1))
        return future

    return submit


_STOPPED = " Reading stopped there: the lines after it were not imported."


def _open(entity: str, path: Path) -> _Delimited | _Workbook:
    settings = get_settings()
    if names.file_format(path.name) == "xlsx":
        return _Workbook(entity, path, settings.import_batch_size)
    return _Delimited(entity, path, path.parent, settings.payload_chunk_bytes)


@tasks.task(RUN_FILE_IMPORT)
def run_file_import(job: Job) -> None:
    import_id = job.args["import_id"]
    started = start(job)
    if started is None:
        return
    tenant_id, entity, checkpoint = started.tenant_id, started.entity, started.checkpoint
    name = started.file_name
    with session_scope() as session:
        slug = session.scalar(select(Tenant.slug).where(Tenant.id == tenant_id))
    assert name is not None and slug is not None
    spec = SPECS[entity]
    try:
        source = _open(entity, spool_path(slug, import_id, name))
        hmap = header_map(entity, source.header)
    except FileRejected as exc:
        _fail(job, import_id, tenant_id, exc)
        return
    classifier = Classifier(spec, spill_dir=str(get_settings().data_dir), unit="line")
    try:
        if checkpoint:
            written = source.written(checkpoint)
            while chunk := list(itertools.islice(written, 5000)):
                classifier.observe_written(chunk)
        run_batches(
            job,
            import_id,
            tenant_id,
            spec,
            classifier,
            source.batches(checkpoint),
            large=source.large,
            by_line=True,
        )
    finally:
        classifier.close()
    unknown = [
        Issue(
            "warning",
            column,
            "unknownColumn",
            f"Column '{column}' is not part of the {entity} file specification and was "
            "ignored (reported once per file).",
            index=source.header_line,
        )
        for column in hmap.unknown
    ]
    with session_scope(write=True) as session:
        tasks.heartbeat(session, job)
        imp = session.get(ImportJob, import_id)
        assert imp is not None
        if unknown:
            session.execute(
                insert(ImportIssue), issue_rows(tenant_id, import_id, unknown, by_line=True)
            )
        imp.warnings += len(unknown)
        stopped = source.stopped
        finish(session, imp, failed_message=None if stopped is None else stopped.message + _STOPPED)
        _finish_later(session, imp)


def _fail(job: Job, import_id: str, tenant_id: int, exc: FileRejected) -> None:
    """The whole file is unreadable: nothing is imported; the report says why."""
    issue = Issue("error", "(file)", exc.rule, exc.message, index=exc.line)
    with session_scope(write=True) as session:
        tasks.heartbeat(session, job)
        imp = session.get(ImportJob, import_id)
        assert imp is not None
        session.execute(
            insert(ImportIssue), issue_rows(tenant_id, import_id, [issue], by_line=True)
        )
        finish(session, imp, failed_message=exc.message)
        _finish_later(session, imp)


@tasks.on_final_failure(RUN_FILE_IMPORT)
def _import_failed(session: Session, job: Job, error: str) -> None:
    imp = fail_unfinished(session, job, error)
    if imp is not None:
        _finish_later(session, imp)


# --- the end of a file: its report, its archive --------------------------------------------


# Set by the import command: this process runs the report and archive jobs of the imports
# it runs (finish_claimed) instead of leaving them to the job runners.
finishes_here = False


def _finish_later(session: Session, imp: ImportJob) -> None:
    """Queue the report and archive job (claimed by this process in the import command)."""
    tasks.enqueue(
        session, FINISH_FILE, {"import_id": imp.id}, tenant_id=imp.tenant_id, claimed=finishes_here
    )


def finish_claimed(import_id: str) -> None:
    """Run the report and archive job this process queued for a command-line import."""
    with session_scope() as session:
        jobs = list(
            session.scalars(
                select(Job.id).where(
                    Job.task == FINISH_FILE,
                    Job.status == "running",
                    Job.locked_by == tasks.WORKER_NAME,
                )
            )
        )
    for job_id in jobs:
        tasks.run_job(job_id)


def estimate_rows(path: Path) -> int | None:
    """About how many rows a delimited file holds (its line breaks), for a progress bar."""
    if names.file_format(path.name) != "delimited":
        return None
    lines = 0
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            lines += block.count(b"\n")
    return max(lines - 1, 0) or None


REPORT_COLUMNS = ("line", "column", "severity", "rule", "message", "value")


@tasks.task(FINISH_FILE)
def finish_file(job: Job) -> None:
    """Write the file's report and archive it (a file given on the command line is only
    removed from the spool). Idempotent: run again, it rewrites the same report."""
    import_id = job.args["import_id"]
    with session_scope() as session:
        imp = session.get(ImportJob, import_id)
        if imp is None or imp.file_name is None:
            return
        slug = session.scalar(select(Tenant.slug).where(Tenant.id == imp.tenant_id))
        assert slug is not None
        _write_report(session, slug, imp)
        source, name = imp.source, imp.file_name
    spooled = spool_path(slug, import_id, name)
    if spooled.exists():
        if source == "cli":
            spooled.unlink()
        else:
            archive = storage.tenant_root(slug) / storage.ARCHIVE
            target = archive / _short(name)
            if target.exists():
                target = archive / f"{import_id}-{_short(name)}"
            os.replace(spooled, target)
    shutil.rmtree(spooled.parent, ignore_errors=True)


def _write_report(session: Session, slug: str, imp: ImportJob) -> None:
    assert imp.file_name is not None
    path = result_path(slug, imp.file_name)
    if imp.status == "duplicate" and path.exists():
        # Keep the report of the import this one duplicates.
        path = result_path(slug, imp.file_name, imp.id)
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", newline="", encoding="utf-8") as f:
        shown = imp.file_name.replace("\n", " ").replace("\r", " ")
        f.write(f"# file: {shown}\n# import: {imp.id}\n# entity: {imp.entity}\n")
        f.write(f"# status: {imp.status}\n")
        if imp.message:
            f.write(f"# message: {imp.message}\n")
        for name in ("received", "inserted", "updated", "unchanged", "rejected", "duplicates"):
            f.write(f"# {name}: {getattr(imp, name)}\n")
        f.write(f"# warnings: {imp.warnings}\n")
        writer = csv.writer(f)
        writer.writerow(REPORT_COLUMNS)
        after = 0
        while True:
            issues = list(
                session.scalars(
                    select(ImportIssue)
                    .where(ImportIssue.import_id == imp.id, ImportIssue.id > after)
                    .order_by(ImportIssue.id)
                    .limit(5000)
                )
            )
            if not issues:
                break
            for i in issues:
                writer.writerow(
                    (i.line or "", i.field, i.severity, i.rule, i.message, i.value or "")
                )
            after = issues[-1].id
    os.replace(partial, path)


def _write_unrecognized(slug: str, file_name: str) -> None:
    path = result_path(slug, file_name)
    with path.open("w", newline="", encoding="utf-8") as f:
        f.write(f"# file: {file_name}\n# status: unrecognized\n")
        f.write(
            "# message: The file name matches no import (Listrak_Product_Feed_DATE, "
            "Listrak_Order_Feed_DATE, Listrak_OrderItem_Feed_DATE, Listrak_Customer_DATE, "
            "Products, Orders, OrderItems, Customers, with .csv, .txt or .xlsx, or a name "
            "pattern mapped for this tenant); it was left where it is, not imported.\n"
        )
        csv.writer(f).writerow(REPORT_COLUMNS)


def recover_spool(grace_seconds: float = 600) -> int:
    """Files moved to the spool by a process that died before recording their import go
    back to their tenant's folder and are accepted again; a copy the import command made is
    only removed. Folders younger than ``grace_seconds`` are left alone: their accept may
    still be under way (on this node or another sharing the folder). Returns how many files
    were accepted again."""
    spool = storage.spool_dir()
    if not spool.is_dir():
        return 0
    recovered = 0
    now = time.time()
    for folder in spool.glob("*/*"):
        slug, import_id = folder.parent.name, folder.name
        if now - folder.stat().st_mtime < grace_seconds:
            continue
        with session_scope() as session:
            known = session.get(ImportJob, import_id) is not None
        if known:
            continue
        mark = folder / SOURCE_MARK
        source = mark.read_text().strip() if mark.exists() else "sftp"
        for path in folder.iterdir():
            target = storage.tenant_root(slug) / path.name
            if path.name.startswith(".") or source == "cli" or target.exists():
                continue
            os.replace(path, target)
            recovered += 1
            try:
                upload_complete(slug, target, source)
            except Exception:
                log.exception("re-accepting %s failed", target)
        shutil.rmtree(folder, ignore_errors=True)
    return recovered


class SpoolSweeper:
    """Runs ``recover_spool`` now and every few minutes, in a thread, beside the servers:
    a drop orphaned by a crash is recovered once its grace period is over, whether or not
    the server restarts again."""

    def __init__(self, interval_seconds: float = 300) -> None:
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spool-sweeper", daemon=True)

    def _run(self) -> None:
        while True:
            try:
                recover_spool()
            except Exception:
                log.exception("spool recovery failed")
            if self._stop.wait(self.interval):
                return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
