"""The ``retailhub`` command: serve, worker, tenants, db."""

from __future__ import annotations

import json
import logging
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from retailhub.config import get_settings
from retailhub.kit.runtime import tune_gc

app = typer.Typer(help="Retailhub: retail data and loyalty platform.", no_args_is_help=True)
tenants_app = typer.Typer(help="Manage tenants.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")
app.add_typer(db_app, name="db")
console = Console(stderr=True)


def _logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _start_workers() -> Any:
    settings = get_settings()
    if settings.is_postgresql:
        from retailhub.worker.queue import BackgroundWorker

        runner: Any = BackgroundWorker(settings)
    else:
        from retailhub.worker.local import LocalRunner

        runner = LocalRunner()
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
) -> None:
    """Run the API, with the job workers in-process unless --no-workers."""
    import uvicorn

    from retailhub import migrate
    from retailhub.app import create_app

    _logging()
    migrate.upgrade()
    _ensure_demo_tenant()
    tune_gc()
    runner: list[Any] = []

    def startup() -> None:
        if not no_workers:
            runner.append(_start_workers())

    def shutdown() -> None:
        for r in runner:
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
    from retailhub.worker.queue import run_worker

    migrate.upgrade()
    tune_gc()
    run_worker(settings)


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


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the current schema."""
    from retailhub import migrate

    migrate.upgrade()
    console.print("Database is up to date.")


def main() -> None:
    app(sys.argv[1:])
