"""Helpers for end-to-end tests that run Retailhub as real processes.

A :class:`Deployment` is one isolated Retailhub installation: a data directory of its own
and, on PostgreSQL, a database of its own (created here, dropped by :meth:`Deployment.close`).
It starts ``retailhub serve`` / ``retailhub worker`` subprocesses whose output goes to files
under the test's ``tmp_path``, talks to them over real HTTP (:class:`Api`, httpx), and reads
the database directly with plain SQL (sqlite3 / psycopg), never through ``retailhub`` code,
so the test process shares no engine, settings cache or job runner with the processes under
test.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg

FINISHED = ("succeeded", "partially_failed", "failed")


def retailhub_command() -> list[str]:
    """The ``retailhub`` console script of the interpreter running the tests."""
    script = Path(sys.executable).parent / "retailhub"
    if script.exists():
        return [str(script)]
    found = shutil.which("retailhub")
    if found is None:  # pragma: no cover - the package is installed in the venv
        raise RuntimeError("the retailhub console script is not installed")
    return [found]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(
    predicate: Callable[[], Any], *, timeout: float, interval: float = 0.1, what: str = "condition"
) -> Any:
    """Poll ``predicate`` until it returns something truthy; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "<no file>"
    kept = text.splitlines()[-lines:]
    return "\n".join(kept) if kept else "<empty>"


class Proc:
    """A subprocess whose stdout and stderr go to files."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.args = args
        self.stdout_path = log_dir / f"{name}.stdout.log"
        self.stderr_path = log_dir / f"{name}.stderr.log"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.popen = subprocess.Popen(
                args,
                env=env,
                cwd=log_dir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                # Its own process group: a Ctrl-C of pytest is not delivered to it twice.
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no shutdown handlers, open transactions just vanish."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM (graceful shutdown), then SIGKILL if it does not exit in time."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return int(self.popen.returncode)

    def describe(self, lines: int = 60) -> str:
        state = "running" if self.alive() else f"exited with {self.popen.returncode}"
        return (
            f"===== {self.name} (pid {self.pid}, {state}): {' '.join(self.args)}\n"
            f"----- stdout (last {lines} lines)\n{_tail(self.stdout_path, lines)}\n"
            f"----- stderr (last {lines} lines)\n{_tail(self.stderr_path, lines)}\n"
        )


class Server:
    """A running ``retailhub serve``."""

    def __init__(self, proc: Proc, port: int, sftp_port: int, ftp_port: int) -> None:
        self.proc = proc
        self.port = port
        self.sftp_port = sftp_port
        self.ftp_port = ftp_port
        self.base_url = f"http://127.0.0.1:{port}"

    def wait_healthy(self, timeout: float = 40) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=5) as client:
            while True:
                if not self.proc.alive():
                    raise AssertionError(
                        f"{self.proc.name} exited before answering\n{self.proc.describe()}"
                    )
                try:
                    if client.get("/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"{self.proc.name} did not answer /healthz in {timeout}s\n"
                        f"{self.proc.describe()}"
                    )
                time.sleep(0.1)


class Api:
    """The Data Import API over real HTTP, as one tenant's integration."""

    def __init__(self, base_url: str, creds: dict[str, Any], timeout: float = 60) -> None:
        self.creds = creds
        self.http = httpx.Client(base_url=base_url, timeout=timeout)
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    def request_token(self) -> httpx.Response:
        return self.http.post(
            "/OAuth2/Token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.creds["data_client_id"],
                "client_secret": self.creds["data_client_secret"],
            },
        )

    @property
    def token(self) -> str:
        if self._token is None:
            response = self.request_token()
            assert response.status_code == 200, response.text
            self._token = str(response.json()["access_token"])
        return self._token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def post_import(self, entity: str, body: Any) -> str:
        response = self.http.post(f"/data/v1/{entity}", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return str(response.json()["resourceId"])

    def get_import(self, resource_id: str) -> dict[str, Any]:
        response = self.http.get(f"/data/v1/Import/{resource_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait_import(self, resource_id: str, timeout: float = 45) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            body = self.get_import(resource_id)
            if body["status"] in FINISHED:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"import {resource_id} did not finish in {timeout}s: {body}")
            time.sleep(0.2)

    def list_all(self, entity: str, page_size: int = 1000) -> list[dict[str, Any]]:
        """Every record of a read route, following ``nextPageCursor``."""
        records: list[dict[str, Any]] = []
        params: dict[str, Any] = {"count": page_size}
        while True:
            response = self.http.get(f"/data/v1/{entity}", params=params, headers=self.headers)
            assert response.status_code == 200, response.text
            body = response.json()
            records.extend(body["data"])
            if body["nextPageCursor"] is None:
                return records
            params["cursor"] = body["nextPageCursor"]


class Deployment:
    """An isolated Retailhub: its own data directory and (on PostgreSQL) its own database."""

    def __init__(self, backend: str, root: Path, pg_admin: str) -> None:
        self.backend = backend
        self.root = root
        self.data_dir = root / "data"
        self.log_dir = root / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.pg_admin = pg_admin
        self.procs: list[Proc] = []
        self.apis: list[Api] = []
        self.dbname: str | None = None
        self._names: dict[str, int] = {}
        self.base_env = {k: v for k, v in os.environ.items() if not k.startswith("RETAILHUB_")}
        self.base_env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "RETAILHUB_DATA_DIR": str(self.data_dir),
                "RETAILHUB_WORKER_HEARTBEAT_SECONDS": "1",
                "RETAILHUB_WORKER_STALLED_SECONDS": "3",
            }
        )
        if backend == "postgresql":
            self.dbname = f"rh_e2e_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(pg_admin, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {self.dbname}")
            base = pg_admin.rsplit("/", 1)[0]
            self.pg_url = f"{base}/{self.dbname}"
            self.base_env["RETAILHUB_DATABASE_URL"] = self.pg_url.replace(
                "postgresql://", "postgresql+psycopg://", 1
            )

    # -- processes ------------------------------------------------------------------------

    def env(self, **overrides: Any) -> dict[str, str]:
        env = dict(self.base_env)
        env.update({f"RETAILHUB_{k.upper()}": str(v) for k, v in overrides.items()})
        return env

    def _name(self, kind: str) -> str:
        self._names[kind] = self._names.get(kind, 0) + 1
        return f"{kind}-{self._names[kind]}"

    def spawn(self, kind: str, *args: str, **env: Any) -> Proc:
        proc = Proc(self._name(kind), [*retailhub_command(), *args], self.env(**env), self.log_dir)
        self.procs.append(proc)
        return proc

    def serve(self, *, workers: bool = True, wait: bool = True, **env: Any) -> Server:
        port, sftp_port, ftp_port = free_port(), free_port(), free_port()
        args = ["serve", "--port", str(port), "--sftp-port", str(sftp_port)]
        args += ["--ftp-port", str(ftp_port)]
        if not workers:
            args.append("--no-workers")
        server = Server(self.spawn("serve", *args, **env), port, sftp_port, ftp_port)
        if wait:
            server.wait_healthy()
        return server

    def worker(self, **env: Any) -> Proc:
        return self.spawn("worker", "worker", **env)

    def cli(self, *args: str, timeout: float = 60, **env: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*retailhub_command(), *args],
            env=self.env(**env),
            cwd=self.log_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def api(self, server: Server, creds: dict[str, Any]) -> Api:
        api = Api(server.base_url, creds)
        self.apis.append(api)
        return api

    def logs(self) -> str:
        return "\n".join(p.describe() for p in self.procs) or "<no process was started>"

    @contextlib.contextmanager
    def logs_on_failure(self) -> Iterator[None]:
        """Print every process's output if the block fails (shown in pytest's report)."""
        try:
            yield
        except BaseException:
            print(f"\n##### Retailhub processes of this test (logs in {self.log_dir})")
            print(self.logs())
            raise

    # -- database -------------------------------------------------------------------------

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run one statement on the deployment's database; ``?`` placeholders on both."""
        if self.backend == "postgresql":
            with psycopg.connect(self.pg_url, autocommit=True) as pg:
                cur = pg.execute(query.replace("?", "%s"), params)
                return list(cur.fetchall()) if cur.description else []
        lite = sqlite3.connect(self.data_dir / "retailhub.db", timeout=60)
        try:
            rows = lite.execute(query, params).fetchall()
            lite.commit()
            return rows
        finally:
            lite.close()

    def tables(self) -> list[str]:
        if self.backend == "postgresql":
            query = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return sorted(str(r[0]) for r in self.sql(query))

    def json_value(self, value: Any) -> Any:
        """A JSON column as read by :meth:`sql` (text on SQLite, decoded on PostgreSQL)."""
        return json.loads(value) if isinstance(value, str | bytes) else value

    def tenant_id(self, slug: str) -> int:
        rows = self.sql("SELECT id FROM tenants WHERE slug = ?", slug)
        assert rows, f"no tenant {slug!r}"
        return int(rows[0][0])

    def job_of_import(self, import_id: str) -> dict[str, Any]:
        rows = self.sql("SELECT id, status, attempts, args, locked_by, last_error FROM jobs")
        found = [r for r in rows if self.json_value(r[3]).get("import_id") == import_id]
        assert len(found) == 1, f"expected one job for import {import_id}: {rows}"
        job_id, status, attempts, _args, locked_by, last_error = found[0]
        return {
            "id": job_id,
            "status": status,
            "attempts": attempts,
            "locked_by": locked_by,
            "last_error": last_error,
        }

    def import_row(self, import_id: str) -> dict[str, Any]:
        rows = self.sql(
            "SELECT status, received, processed FROM import_jobs WHERE id = ?", import_id
        )
        assert rows, f"no import {import_id}"
        status, received, processed = rows[0]
        return {"status": status, "received": received, "processed": processed}

    # -- teardown -------------------------------------------------------------------------

    def close(self) -> None:
        for api in self.apis:
            api.close()
        for proc in self.procs:
            with contextlib.suppress(Exception):
                proc.stop(timeout=10)
        for proc in self.procs:
            with contextlib.suppress(Exception):
                proc.kill()
        if self.dbname is not None:
            with psycopg.connect(self.pg_admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {self.dbname} WITH (FORCE)")
