"""The ``retailhub`` command: serve, worker, tenants, db."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from retailhub.config import get_settings
from retailhub.kit.runtime import tune_gc

app = typer.Typer(help="Retailhub: retail data and loyalty platform.", no_args_is_help=True)
tenants_app = typer.Typer(help="Manage tenants.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
loyalty_app = typer.Typer(help="Loyalty engine.", no_args_is_help=True)
operator_key_app = typer.Typer(help="Operator API keys (/admin/api).", no_args_is_help=True)
stores_app = typer.Typer(help="The cashback network's store catalog.", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")
app.add_typer(operator_key_app, name="operator-key")
app.add_typer(stores_app, name="stores")
app.add_typer(db_app, name="db")
app.add_typer(loyalty_app, name="loyalty")
console = Console(stderr=True)


def _logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


class _Runners:
    """Background parts started together and stopped in reverse order."""

    def __init__(self, *parts: Any) -> None:
        self.parts = parts

    def start(self) -> None:
        for part in self.parts:
            part.start()

    def stop(self) -> None:
        for part in reversed(self.parts):
            part.stop()


def _start_workers() -> Any:
    """The job runner of this database and the webhook dispatcher."""
    from retailhub.webhooks.dispatcher import Dispatcher

    settings = get_settings()
    if settings.is_postgresql:
        from retailhub.worker.queue import BackgroundWorker

        jobs: Any = BackgroundWorker(settings)
    else:
        from retailhub.worker.local import LocalRunner

        jobs = LocalRunner()
    runner = _Runners(jobs, Dispatcher())
    runner.start()
    return runner


def _ensure_demo_tenant() -> None:
    from retailhub.db import session_scope
    from retailhub.tenants import service as tenants

    settings = get_settings()
    path = settings.data_dir / "demo-credentials.json"
    with session_scope(write=True) as session:
        if tenants.count_tenants(session):
            if path.exists():
                print(f"Demo tenant credentials: {path}", file=sys.stderr)
            return
        created = tenants.create_tenant(session, slug="demo", name="Demo merchant")
        # Written before the commit: a tenant whose secret was never saved cannot exist.
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(created, indent=2) + "\n")
        path.chmod(0o600)
    print(f"Created tenant 'demo'. Its credentials (also in {path}):", file=sys.stderr)
    print(json.dumps(created, indent=2), flush=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8000,
    no_workers: Annotated[
        bool, typer.Option("--no-workers", help="API only; run `retailhub worker` elsewhere.")
    ] = False,
    sftp_port: Annotated[int, typer.Option(help="SFTP port of the file drop.")] = 2222,
    ftp_port: Annotated[int, typer.Option(help="FTP port of the file drop.")] = 2121,
    no_file_servers: Annotated[
        bool, typer.Option("--no-file-servers", help="Run neither the SFTP nor the FTP server.")
    ] = False,
    processes: Annotated[
        int,
        typer.Option(
            min=1,
            help="API processes sharing the port (with --no-workers and --no-file-servers: "
            "an API node of a scaled-out deployment).",
        ),
    ] = 1,
) -> None:
    """Run the API and the SFTP and FTP file drop, with the job workers in-process unless
    --no-workers."""
    import uvicorn

    from retailhub import migrate
    from retailhub.app import create_app

    if processes > 1 and not (no_workers and no_file_servers):
        console.print("[red]--processes needs --no-workers and --no-file-servers[/red]")
        raise typer.Exit(2)
    _logging()
    migrate.upgrade()
    _ensure_demo_tenant()
    tune_gc()
    if processes > 1:
        console.print(f"Retailhub API on http://{host}:{port}, {processes} processes")
        uvicorn.run(
            "retailhub.app:create_api_process_app",
            factory=True,
            host=host,
            port=port,
            workers=processes,
            log_level="info",
            access_log=False,
        )
        return
    runner: list[Any] = []

    def startup() -> None:
        if not no_workers:
            from retailhub.loyalty.tick import Ticker

            runner.append(_start_workers())
            ticker = Ticker()
            ticker.start()
            runner.append(ticker)
        if not no_file_servers:
            from retailhub.files.importer import SpoolSweeper
            from retailhub.files.servers import FileServers

            sweeper = SpoolSweeper()
            sweeper.start()
            runner.append(sweeper)
            servers = FileServers(host, sftp_port, ftp_port)
            servers.start()
            runner.append(servers)
            console.print(
                f"File drop: sftp://{host}:{servers.sftp_port}  ftp://{host}:{servers.ftp_port}"
            )

    def shutdown() -> None:
        for r in reversed(runner):
            r.stop()

    console.print(f"Retailhub listening on http://{host}:{port}  (API docs: /docs)")
    uvicorn.run(
        create_app(on_startup=startup, on_shutdown=shutdown),
        host=host,
        port=port,
        log_level="info",
        access_log=False,
    )


@app.command()
def worker() -> None:
    """Run a job worker process (PostgreSQL deployments; any number, on any machine)."""
    _logging()
    settings = get_settings()
    if not settings.is_postgresql:
        console.print(
            "[red]`retailhub worker` needs PostgreSQL (RETAILHUB_DATABASE_URL); "
            "on SQLite, `retailhub serve` runs the jobs in-process.[/red]"
        )
        raise typer.Exit(2)
    from retailhub import migrate
    from retailhub.loyalty.tick import Ticker
    from retailhub.webhooks.dispatcher import Dispatcher
    from retailhub.worker.queue import run_worker

    migrate.upgrade()
    tune_gc()
    # Time-driven loyalty work; every worker runs it, an advisory lock keeps them apart.
    # Webhook deliveries: every worker's dispatcher takes its own share of the due ones.
    background = _Runners(Ticker(), Dispatcher())
    background.start()
    try:
        run_worker(settings)
    finally:
        background.stop()


@tenants_app.command("create")
def tenants_create(
    slug: Annotated[str, typer.Argument(help="3-64 characters of [a-zA-Z0-9_-].")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create a tenant with its integrations and print their credentials (shown once)."""
    from retailhub import migrate
    from retailhub.db import session_scope
    from retailhub.errors import DomainError
    from retailhub.tenants import service as tenants

    migrate.upgrade()
    try:
        with session_scope(write=True) as session:
            created = tenants.create_tenant(session, slug=slug, name=name)
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(created))
    else:
        for key, value in created.items():
            print(f"{key}: {value}")


@tenants_app.command("add-ssh-key")
def tenants_add_ssh_key(
    slug: Annotated[str, typer.Argument(help="The tenant.")],
    key_file: Annotated[Path, typer.Argument(help="An OpenSSH public key file (id_*.pub).")],
) -> None:
    """Let an SSH key log in to the tenant's SFTP folder."""
    from retailhub import migrate
    from retailhub.db import session_scope
    from retailhub.errors import DomainError
    from retailhub.tenants import service as tenants

    migrate.upgrade()
    try:
        with session_scope(write=True) as session:
            fingerprint = tenants.add_ssh_key(session, slug=slug, public_key=key_file.read_text())
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    print(fingerprint)


@tenants_app.command("map-files")
def tenants_map_files(
    slug: Annotated[str, typer.Argument(help="The tenant.")],
    pattern: Annotated[str, typer.Argument(help="File name pattern, e.g. 'catalog_*.csv'.")],
    entity: Annotated[str, typer.Argument(help="Product, Order, OrderItem or Customer.")],
) -> None:
    """Import the tenant's files named like PATTERN (case-insensitive) as ENTITY."""
    from retailhub import migrate
    from retailhub.db import session_scope
    from retailhub.errors import DomainError
    from retailhub.tenants import service as tenants

    migrate.upgrade()
    try:
        with session_scope(write=True) as session:
            tenants.map_files(session, slug=slug, pattern=pattern, entity=entity)
    except DomainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None


ENTITY_NAMES = {
    "product": "Product",
    "order": "Order",
    "orderitem": "OrderItem",
    "customer": "Customer",
}


@app.command("import")
def import_file(
    file: Annotated[
        Path, typer.Argument(help="A CSV, TXT or XLSX file.", exists=True, dir_okay=False)
    ],
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug.")],
    entity: Annotated[
        str | None,
        typer.Option(help="product, order, orderitem or customer (default: from the file name)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Import even if the same content was imported before.")
    ] = False,
) -> None:
    """Import a file now, through the same pipeline as a dropped file, and print the result.

    Exit status: 0 when every row was imported, 1 when the import failed, 2 when the file
    cannot be imported at all (usage, unknown tenant, unrecognized name), 3 when some rows
    were rejected, 4 when the content was imported before (see --force)."""
    from retailhub import migrate
    from retailhub.files import importer
    from retailhub.files.importer import NotImportable
    from retailhub.files.importer import import_file as start

    if entity is not None and entity.lower() not in ENTITY_NAMES:
        console.print(f"[red]--entity must be one of {', '.join(ENTITY_NAMES)}[/red]")
        raise typer.Exit(2)
    _logging()
    logging.getLogger().setLevel(logging.WARNING)
    migrate.upgrade()
    tune_gc()
    importer.finishes_here = True
    try:
        import_id, job_id = start(
            tenant, file, entity=ENTITY_NAMES[entity.lower()] if entity else None, force=force
        )
    except NotImportable as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if job_id is not None:
        _run_with_progress(import_id, job_id, file)
    else:
        from retailhub.files.importer import finish_claimed

        finish_claimed(import_id)
    raise typer.Exit(_print_result(tenant, import_id))


def _run_with_progress(import_id: str, job_id: int, file: Path) -> None:
    import threading

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from retailhub.db import session_scope
    from retailhub.files.importer import estimate_rows, finish_claimed
    from retailhub.models import ImportJob

    done = threading.Event()
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} rows/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task(file.name, total=estimate_rows(file), rate="-")

        def watch() -> None:
            import time

            started = time.monotonic()
            while not done.wait(0.5):
                with session_scope() as session:
                    processed = session.scalar(
                        select(ImportJob.processed).where(ImportJob.id == import_id)
                    )
                elapsed = time.monotonic() - started
                rate = f"{(processed or 0) / elapsed:,.0f}" if elapsed else "-"
                progress.update(bar, completed=processed or 0, rate=rate)

        from sqlalchemy import select

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            _drive(job_id)
            finish_claimed(import_id)
        finally:
            done.set()
            watcher.join()
        with session_scope() as session:
            processed = session.scalar(select(ImportJob.processed).where(ImportJob.id == import_id))
        progress.update(bar, total=processed, completed=processed)


def _drive(job_id: int) -> None:
    """Run a job here to its end: a failed attempt is retried here, after its back-off, as
    a job runner would (one that took it meanwhile makes this run stand down)."""
    import time

    from retailhub import tasks
    from retailhub.db import session_scope
    from retailhub.models import Job
    from retailhub.models.base import utcnow

    tasks.run_job(job_id)
    while True:
        with session_scope() as session:
            job = session.get(Job, job_id)
            assert job is not None
            status, run_at = job.status, job.run_at
        if status in ("succeeded", "failed"):
            return
        if status != "queued":  # another runner has it
            time.sleep(1.0)
            continue
        wait = (run_at - utcnow()).total_seconds()
        if wait > 0:
            console.print(f"[yellow]The attempt failed; retrying in {wait:.0f} s.[/yellow]")
            time.sleep(wait)
        tasks.run_job(job_id)


def _print_result(slug: str, import_id: str) -> int:
    from sqlalchemy import select

    from retailhub.db import session_scope
    from retailhub.files.importer import result_path
    from retailhub.imports.service import counts
    from retailhub.models import ImportIssue, ImportJob

    with session_scope() as session:
        imp = session.get(ImportJob, import_id)
        assert imp is not None
        first = list(
            session.scalars(
                select(ImportIssue)
                .where(ImportIssue.import_id == import_id, ImportIssue.severity == "error")
                .order_by(ImportIssue.id)
                .limit(10)
            )
        )
        summary = {"resourceId": imp.id, "status": imp.status, **counts(imp)}
        if imp.message:
            summary["message"] = imp.message
        if imp.started_at and imp.finished_at:
            summary["seconds"] = round((imp.finished_at - imp.started_at).total_seconds(), 2)
        status = imp.status
        summary["report"] = str(result_path(slug, imp.file_name or ""))
    for issue in first:
        console.print(
            f"line {issue.line}: {issue.field}: {issue.rule}: {issue.message}"
            + (f" (value: {issue.value})" if issue.value else "")
        )
    print(json.dumps(summary))
    return {"succeeded": 0, "failed": 1, "partially_failed": 3, "duplicate": 4}.get(status, 1)


@operator_key_app.command("create")
def operator_key_create(
    label: Annotated[str | None, typer.Option(help="What the key is for.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create an operator key for /admin/api (printed once; send it as a Bearer token)."""
    from retailhub import migrate
    from retailhub.auth import api_keys
    from retailhub.db import session_scope

    migrate.upgrade()
    with session_scope(write=True) as session:
        _row, key = api_keys.create(session, kind=api_keys.OPERATOR, label=label)
    print(json.dumps({"operator_key": key}) if as_json else key)


@stores_app.command("import")
def stores_import(
    file: Annotated[
        Path,
        typer.Argument(help="A JSON array of stores, or a CSV file.", exists=True, dir_okay=False),
    ],
) -> None:
    """Upsert catalog stores by id from FILE (the document's store shape, plus tags, address
    and alternativeContent); categories named there are created. Prints a JSON summary;
    exit status 0 when every store was imported, 3 when some were rejected, 1 when none."""
    from retailhub import migrate
    from retailhub.cashback.catalog.importer import import_stores

    migrate.upgrade()
    summary = import_stores(file)
    print(json.dumps(summary, indent=2))
    if summary["rejected"]:
        raise typer.Exit(1 if not summary["imported"] else 3)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the current schema."""
    from retailhub import migrate

    migrate.upgrade()
    console.print("Database is up to date.")


@loyalty_app.command("tick")
def loyalty_tick(
    at: Annotated[
        str | None,
        typer.Option(help="Run as of this ISO time (UTC if no zone) instead of now."),
    ] = None,
) -> None:
    """Run the time-driven loyalty work once (BIRTHDAY enrollment, scheduled notifications,
    point expiry, order-window counters). `serve` and `worker` run it every minute; this is
    for cron-driven setups and catching up."""
    from datetime import UTC, datetime

    from retailhub.loyalty.tick import run_once

    when = None
    if at is not None:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            console.print(f"[red]--at: not an ISO date-time: {at}[/red]")
            raise typer.Exit(2) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    run_once(when)
    console.print("Loyalty tick done.")


def main() -> None:
    app(sys.argv[1:])
