"""End to end, with real processes: ``retailhub serve`` / ``retailhub worker`` / ``retailhub
tenants create`` subprocesses, real HTTP on a local port, SIGKILL.

Every test gets a Retailhub of its own (fresh data directory; on PostgreSQL a fresh database,
dropped afterwards), so no job runner of the test process or of another test can touch its
jobs. Each test runs on the backend chosen with ``--db``; where the deployment differs, the
test body branches on ``backend``:

- SQLite: ``retailhub serve`` runs the jobs in-process (``LocalRunner`` threads);
- PostgreSQL: ``retailhub serve --no-workers`` is the API and separate ``retailhub worker``
  processes (Procrastinate) run the jobs.

The output of every process is kept in ``<tmp_path>/logs`` and printed when a test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from tests.conftest import PG_ADMIN
from tests.processes import Deployment, Proc, Server, free_port, wait_for

pytestmark = pytest.mark.timeout(120)

CRED_KEYS = {"tenant", "data_client_id", "data_client_secret", "sftp_username", "sftp_password"}


@pytest.fixture
def deployment(backend: str, tmp_path: Path) -> Iterator[Deployment]:
    dep = Deployment(backend, tmp_path, PG_ADMIN)
    try:
        yield dep
    finally:
        dep.close()


def first_json_object(text: str) -> dict[str, Any]:
    start = text.find("{")
    assert start >= 0, f"no JSON object in output: {text!r}"
    value, _end = json.JSONDecoder().raw_decode(text, start)
    assert isinstance(value, dict), value
    return value


def demo_creds(dep: Deployment) -> dict[str, Any]:
    creds: dict[str, Any] = json.loads((dep.data_dir / "demo-credentials.json").read_text())
    return creds


def unfinished_queue_jobs(dep: Deployment) -> list[tuple[Any, ...]]:
    """PostgreSQL: Procrastinate's jobs still to do or in progress (none on SQLite)."""
    if dep.backend != "postgresql":
        return []
    return dep.sql("SELECT id, status FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")


def assert_no_unfinished_queue_jobs(dep: Deployment) -> None:
    rows = unfinished_queue_jobs(dep)
    assert rows == [], f"Procrastinate jobs left behind: {rows}"


@contextlib.contextmanager
def paused(procs: list[Proc]) -> Iterator[None]:
    """SIGSTOP the processes for the block, SIGCONT them together at its end."""
    for proc in procs:
        os.kill(proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for proc in procs:
            os.kill(proc.pid, signal.SIGCONT)


def wait_job_finished(dep: Deployment, import_id: str, timeout: float = 20) -> dict[str, Any]:
    """The ``jobs`` row is marked succeeded in its own transaction, just after the import's
    last one: wait for it rather than reading it the moment the import shows finished."""
    job: dict[str, Any] = wait_for(
        lambda: (row := dep.job_of_import(import_id))["status"] in ("succeeded", "failed") and row,
        timeout=timeout,
        what=f"the job of import {import_id} to finish",
    )
    return job


# -- 1. first start ---------------------------------------------------------------------------


@pytest.mark.slow
def test_first_serve_creates_demo_tenant_once(deployment: Deployment) -> None:
    dep = deployment
    with dep.logs_on_failure():
        first = dep.serve()
        printed = first_json_object(first.proc.stdout())
        assert printed.keys() >= CRED_KEYS, printed
        assert printed["tenant"] == "demo"

        path = dep.data_dir / "demo-credentials.json"
        assert path.exists(), f"{path} was not written"
        written = json.loads(path.read_text())
        assert written.keys() >= CRED_KEYS, written
        assert {k: written[k] for k in CRED_KEYS} == {k: printed[k] for k in CRED_KEYS}
        # The file holds a secret: readable by its owner only.
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

        api = dep.api(first, written)
        response = api.request_token()
        assert response.status_code == 200, response.text
        assert response.json()["token_type"] == "bearer"
        old_token = api.token
        resource_id = api.post_import("Product", [{"sku": "DEMO-1", "title": "First run"}])
        assert api.wait_import(resource_id)["status"] == "succeeded"

        # Graceful stop. uvicorn re-raises the SIGTERM once shut down, hence -SIGTERM.
        assert first.proc.stop() in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in first.proc.stderr()

        second = dep.serve()
        out = second.proc.stdout()
        assert "data_client_secret" not in out and "{" not in out, (
            f"a second start printed credentials again: {out!r}"
        )
        assert json.loads(path.read_text()) == written, "the credentials file was rewritten"
        assert dep.sql("SELECT slug FROM tenants") == [("demo",)]

        # The same credentials still get a token; a token of the first run is still valid
        # (the signing key persisted in the data dir); the data of the first run is there.
        api2 = dep.api(second, written)
        assert api2.request_token().status_code == 200
        listed = api2.http.get("/data/v1/Product", headers={"Authorization": f"Bearer {old_token}"})
        assert listed.status_code == 200, listed.text
        assert [p["sku"] for p in listed.json()["data"]] == ["DEMO-1"]
        resource_id = api2.post_import("Product", [{"sku": "DEMO-2", "title": "Second run"}])
        done = api2.wait_import(resource_id)
        assert done["status"] == "succeeded", done
        assert done["counts"]["inserted"] == 1
        assert_no_unfinished_queue_jobs(dep)


# -- 2. tenants create --------------------------------------------------------------------------


@pytest.mark.slow
def test_tenants_create_prints_json_and_stores_only_a_hash(deployment: Deployment) -> None:
    dep = deployment
    slug = f"shop-{uuid.uuid4().hex[:8]}"
    with dep.logs_on_failure():
        result = dep.cli("tenants", "create", slug, "--json")
        assert result.returncode == 0, f"stdout={result.stdout!r}\nstderr={result.stderr}"
        created = json.loads(result.stdout)  # the whole of stdout is one JSON value...
        assert isinstance(created, dict), created  # ...an object
        assert created.keys() >= CRED_KEYS, created
        assert created["tenant"] == slug
        secret = created["data_client_secret"]
        assert isinstance(secret, str) and len(secret) >= 32

        rows = dep.sql(
            "SELECT c.secret_hash, c.kind FROM credentials c JOIN tenants t ON t.id = c.tenant_id "
            "WHERE t.slug = ? AND c.client_id = ?",
            slug,
            created["data_client_id"],
        )
        assert len(rows) == 1, rows
        secret_hash, kind = rows[0]
        assert kind == "data"
        assert secret_hash.startswith("$argon2"), secret_hash
        assert secret not in secret_hash
        assert PasswordHasher().verify(secret_hash, secret)
        # Nowhere in clear: not in any table, nor (SQLite) anywhere in the database files.
        for table in dep.tables():
            for row in dep.sql(f"SELECT * FROM {table}"):
                assert not any(secret in str(value) for value in row), (table, row)
        if dep.backend == "sqlite":
            for path in dep.data_dir.glob("retailhub.db*"):
                assert secret.encode() not in path.read_bytes(), path

        again = dep.cli("tenants", "create", slug, "--json")
        assert again.returncode == 1, again
        assert again.stdout == ""
        assert "already exists" in again.stderr

        # The printed credentials work against a real server.
        server = dep.serve()
        api = dep.api(server, created)
        response = api.request_token()
        assert response.status_code == 200, response.text
        listed = api.http.get("/data/v1/Product", headers=api.headers)
        assert listed.status_code == 200, listed.text
        assert listed.json()["data"] == []


# -- 3. a worker killed mid-import ---------------------------------------------------------------

KILL_RECORDS = 40_000
KILL_BATCH = 1000


@pytest.mark.slow
def test_killed_worker_mid_import_finishes_exactly_once(
    deployment: Deployment, backend: str
) -> None:
    dep = deployment
    settings: dict[str, Any] = {"import_batch_size": KILL_BATCH}
    with dep.logs_on_failure():
        victim: Proc
        if backend == "sqlite":
            # The in-process runner of `serve` runs the job: kill the whole server.
            server = dep.serve(**settings)
            victim = server.proc
        else:
            server = dep.serve(workers=False, **settings)
            victim = dep.worker(**settings)
        api = dep.api(server, demo_creds(dep))
        tenant_id = dep.tenant_id("demo")

        body = [{"sku": f"K{i:05d}", "title": f"Title {i}"} for i in range(KILL_RECORDS)]
        resource_id = api.post_import("Product", body)

        # Kill at the first sight of progress: some batches committed, many to go.
        seen: list[dict[str, Any]] = []

        def progressed() -> bool:
            counts: dict[str, Any] = api.get_import(resource_id)["counts"]
            seen.append(counts)
            return bool(counts["processed"] > 0)

        wait_for(progressed, timeout=40, interval=0.01, what="the import to make progress")
        helpers = child_pids(victim.pid)  # the import's checker processes, among others
        victim.kill()
        assert 0 < seen[-1]["processed"] < seen[-1]["received"] == KILL_RECORDS, seen[-1]
        # Nothing the killed process started outlives it for long.
        wait_for(
            lambda: not [pid for pid in helpers if pid_alive(pid)],
            timeout=10,
            what="the killed process's children to exit",
        )

        # The kill interrupted the import: it is stuck running, part-way, on the dead process.
        at_kill = dep.import_row(resource_id)
        assert at_kill["status"] == "running", at_kill
        assert 0 < at_kill["processed"] < KILL_RECORDS, at_kill
        assert at_kill["processed"] % KILL_BATCH == 0, at_kill
        job = dep.job_of_import(resource_id)
        assert job["status"] == "running" and job["attempts"] == 1, job
        assert job["locked_by"] and job["locked_by"].endswith(f":{victim.pid}"), job
        # Rows and checkpoint commit together: the table holds exactly the checkpointed rows.
        checkpoint, rows_at_kill = dep.sql(
            "SELECT (SELECT processed FROM import_jobs WHERE id = ?), "
            "(SELECT count(*) FROM products WHERE tenant_id = ?)",
            resource_id,
            tenant_id,
        )[0]
        assert rows_at_kill == checkpoint, (rows_at_kill, checkpoint)

        if backend == "sqlite":
            # Restart on the same data dir: the orphaned job resumes from its checkpoint.
            server = dep.serve(**settings)
            api = dep.api(server, demo_creds(dep))
        else:
            # A second worker notices the first one stopped sending heartbeats and retries.
            dep.worker(**settings)

        done = api.wait_import(resource_id, timeout=60)
        counts = done["counts"]
        assert done["status"] == "succeeded", done
        assert counts["received"] == counts["processed"] == counts["inserted"] == KILL_RECORDS
        assert counts["rejected"] == 0, counts
        assert counts["updated"] == counts["unchanged"] == counts["duplicates"] == 0, counts

        # Nothing lost, nothing twice: in the table...
        total, distinct = dep.sql(
            "SELECT count(*), count(DISTINCT sku) FROM products WHERE tenant_id = ?", tenant_id
        )[0]
        assert total == distinct == KILL_RECORDS, (total, distinct)
        # ...and as a client reads them.
        skus = [p["sku"] for p in api.list_all("Product")]
        assert len(skus) == KILL_RECORDS
        assert set(skus) == {r["sku"] for r in body}

        job = wait_job_finished(dep, resource_id)
        assert job["status"] == "succeeded", job
        assert job["attempts"] >= 2, job
        assert job["locked_by"] is None, job
        remaining = dep.sql("SELECT count(*) FROM import_payloads WHERE import_id = ?", resource_id)
        assert remaining == [(0,)], "the stored payload was not discarded"
        assert_no_unfinished_queue_jobs(dep)


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry))
    return found


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# -- 4. two workers, the same keys at once -------------------------------------------------------

SKUS = 5000
ORDERS = 6000
RACE_BATCH = 100


def product_payload(marker: str) -> list[dict[str, Any]]:
    return [
        {
            "sku": f"P{i:04d}",
            "title": f"{marker} title {i}",
            "brand": marker,
            "description": f"from payload {marker}, record {i}",
            "price": (10 if marker == "A" else 20) + i / 100,
        }
        for i in range(SKUS)
    ]


def order_items(marker: str, number: str) -> list[dict[str, Any]]:
    lines = 2 if marker == "A" else 3
    return [
        {"orderNumber": number, "sku": f"{marker}-{number}-{n}", "quantity": n, "price": 1.5}
        for n in range(1, lines + 1)
    ]


def order_payload(marker: str) -> list[dict[str, Any]]:
    return [
        {
            "orderNumber": (number := f"O{i:04d}"),
            "email": f"{marker.lower()}{i}@example.com",
            "couponCode": f"COUPON-{marker}",
            "orderTotal": 100 + i,
            "items": order_items(marker, number),
        }
        for i in range(ORDERS)
    ]


def post_at_once(base_url: str, token: str, posts: list[tuple[str, Any]]) -> list[str]:
    """POST every payload at the same moment, each from its own thread and connection."""
    barrier = threading.Barrier(len(posts))

    def post(entity: str, body: Any) -> str:
        content = json.dumps(body).encode()
        barrier.wait(timeout=30)
        response = httpx.post(
            f"{base_url}/data/v1/{entity}",
            content=content,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=60,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["resourceId"])

    with ThreadPoolExecutor(len(posts)) as pool:
        futures = [pool.submit(post, entity, body) for entity, body in posts]
        return [f.result() for f in futures]


def ran_concurrently(a: dict[str, Any], b: dict[str, Any]) -> bool:
    start_a, end_a = (datetime.fromisoformat(a[k]) for k in ("startedAt", "finishedAt"))
    start_b, end_b = (datetime.fromisoformat(b[k]) for k in ("startedAt", "finishedAt"))
    return start_a < end_b and start_b < end_a


@pytest.mark.slow
def test_concurrent_imports_of_the_same_keys_never_mix_or_double(
    deployment: Deployment, backend: str
) -> None:
    dep = deployment
    settings: dict[str, Any] = {"import_batch_size": RACE_BATCH}
    with dep.logs_on_failure():
        if backend == "sqlite":
            server = dep.serve(local_worker_threads=2, **settings)
            workers: list[Proc] = []
        else:
            server = dep.serve(workers=False, **settings)
            # One job at a time each: two concurrent imports are in two processes.
            workers = [dep.worker(worker_concurrency=1, **settings) for _ in range(2)]
        api = dep.api(server, demo_creds(dep))
        tenant_id = dep.tenant_id("demo")
        if workers:
            # Both workers are up (registered with Procrastinate) before anything is posted.
            wait_for(
                lambda: dep.sql("SELECT count(*) FROM procrastinate_workers")[0][0] >= 2,
                timeout=40,
                what="two workers to register",
            )

        # Two rounds: both product payloads at once, then both order payloads at once, so
        # that the two runners are idle when each pair arrives and take one import each.
        results: dict[tuple[str, str], dict[str, Any]] = {}
        ids: dict[tuple[str, str], str] = {}
        for entity, make in (("Product", product_payload), ("Order", order_payload)):
            bodies = [(entity, make("A")), (entity, make("B"))]
            # PostgreSQL: hold both workers while the pair is posted and release them
            # together, so each finds both jobs queued and takes one. (Posted to running
            # workers, the second job's notification can arrive while a worker is fetching
            # after the first one and be dropped; that worker then sleeps until its next
            # 5 s poll and the other worker runs both imports one after the other.)
            with paused(workers):
                posted = post_at_once(server.base_url, api.token, bodies)
            for marker, rid in zip("AB", posted, strict=True):
                ids[(entity, marker)] = rid
                results[(entity, marker)] = api.wait_import(rid, timeout=60)
            for rid in posted:
                assert wait_job_finished(dep, rid)["status"] == "succeeded"
            # Each batch of 100 orders queues one loyalty sync job (120 in the order round);
            # on a loaded CI machine they take up to half a second each.
            wait_for(lambda: not unfinished_queue_jobs(dep), timeout=120, what="the queue to drain")
            a, b = results[(entity, "A")], results[(entity, "B")]
            for marker, result in (("A", a), ("B", b)):
                assert result["status"] == "succeeded", (entity, marker, result)
                assert result["counts"]["rejected"] == 0, (entity, marker, result)
            print(
                f"{entity}: A ran {a['startedAt']} .. {a['finishedAt']}, "
                f"B ran {b['startedAt']} .. {b['finishedAt']}"
            )
            assert ran_concurrently(a, b), f"the two {entity} imports did not overlap: {a} {b}"
            # Every key was written by both imports: inserted by the first, updated by the
            # second; never counted twice, never unchanged.
            n = SKUS if entity == "Product" else ORDERS
            ca, cb = a["counts"], b["counts"]
            assert ca["received"] == cb["received"] == n
            assert ca["inserted"] + cb["inserted"] == n, (entity, ca, cb)
            assert ca["updated"] + cb["updated"] == n, (entity, ca, cb)
            assert ca["unchanged"] == cb["unchanged"] == 0, (entity, ca, cb)

        # Products: one row per sku, every row wholly from one payload.
        rows = dep.sql(
            "SELECT sku, title, brand, data FROM products WHERE tenant_id = ? ORDER BY sku",
            tenant_id,
        )
        assert len(rows) == len({r[0] for r in rows}) == SKUS
        by_marker = {m: {p["sku"]: p for p in product_payload(m)} for m in ("A", "B")}
        winners = {"A": 0, "B": 0}
        for sku, title, brand, data in rows:
            assert brand in ("A", "B"), (sku, brand)
            expected = by_marker[brand][sku]
            stored = dep.json_value(data)
            assert title == expected["title"], (sku, title, brand)
            assert {k: stored.get(k) for k in expected} == expected, (sku, stored)
            winners[brand] += 1
        listed = api.list_all("Product")
        assert len(listed) == len({p["sku"] for p in listed}) == SKUS
        for product in listed:
            assert product == by_marker[product["brand"]][product["sku"]], product

        # Orders: one row per order, and each order's items exactly one payload's set, the
        # same payload its header came from.
        orders = api.list_all("Order")
        assert len(orders) == len({o["orderNumber"] for o in orders}) == ORDERS
        for order in orders:
            marker = order["couponCode"].removeprefix("COUPON-")
            assert marker in ("A", "B"), order
            items = order["items"]
            assert [i["sku"] for i in items] == [
                i["sku"] for i in order_items(marker, order["orderNumber"])
            ], order
        item_rows = dep.sql(
            "SELECT order_number, count(*), count(DISTINCT sku) FROM order_items "
            "WHERE tenant_id = ? GROUP BY order_number",
            tenant_id,
        )
        assert len(item_rows) == ORDERS
        assert all(n == distinct and n in (2, 3) for _number, n, distinct in item_rows), [
            r for r in item_rows if r[1] not in (2, 3)
        ]
        header_rows = dep.sql(
            "SELECT count(*), count(DISTINCT order_number) FROM orders WHERE tenant_id = ?",
            tenant_id,
        )
        assert header_rows == [(ORDERS, ORDERS)]

        for rid in ids.values():
            assert wait_job_finished(dep, rid)["status"] == "succeeded"
        assert_no_unfinished_queue_jobs(dep)
        for proc in workers:
            assert proc.alive(), proc.describe()
        print(f"final products per payload: {winners}")


# -- 5. a file import survives the death of the process running it ----------------------------

FILE_ROWS = 40_000


@pytest.mark.slow
def test_killed_process_mid_file_import_resumes_exactly_once(
    deployment: Deployment, backend: str, tmp_path: Path
) -> None:
    """A product file dropped by SFTP; the process importing it is killed part-way; once
    a runner is back, the import resumes from its checkpoint: every good row stored once,
    every bad line reported once, the file archived with its report."""
    import asyncio
    import csv
    import io

    import asyncssh

    dep = deployment
    settings: dict[str, Any] = {"payload_chunk_bytes": 32_768}
    with dep.logs_on_failure():
        victim: Proc
        if backend == "sqlite":
            server = dep.serve(**settings)
            victim = server.proc
        else:
            server = dep.serve(workers=False, **settings)
            victim = dep.worker(**settings)
        creds = demo_creds(dep)
        tenant_id = dep.tenant_id("demo")
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["sku", "title", "price"])
        for i in range(FILE_ROWS):
            # Every 1000th line has a price that is not a number.
            writer.writerow([f"F{i:05d}", f'Title {i}, "quoted"', "n/a" if i % 1000 == 7 else i])
        name = "Listrak_Product_Feed_20261123.csv"

        async def upload() -> None:
            async with (
                asyncssh.connect(
                    "127.0.0.1",
                    server.sftp_port,
                    username=creds["sftp_username"],
                    password=creds["sftp_password"],
                    known_hosts=None,
                ) as conn,
                conn.start_sftp_client() as sftp,
                sftp.open(name, "wb") as f,
            ):
                await f.write(out.getvalue().encode())

        asyncio.run(upload())

        def progress() -> tuple[str, int, int] | None:
            rows = dep.sql(
                "SELECT id, status, processed FROM import_jobs WHERE file_name = ?", name
            )
            return rows[0] if rows else None

        def progressed() -> bool:
            row = progress()
            return row is not None and row[2] > 0

        wait_for(progressed, timeout=40, interval=0.01, what="the file import to make progress")
        victim.kill()
        import_id, status, processed = progress() or ("", "", 0)
        assert status == "running" and 0 < processed < FILE_ROWS, (status, processed)
        stored = dep.sql("SELECT count(*) FROM products WHERE tenant_id = ?", tenant_id)[0][0]
        assert stored <= processed

        if backend == "sqlite":
            server = dep.serve(**settings)
        else:
            dep.worker(**settings)
        api = dep.api(server, creds)
        done = api.wait_import(import_id, timeout=90)
        counts = done["counts"]
        bad = FILE_ROWS // 1000
        assert done["status"] == "partially_failed", done
        assert counts["received"] == counts["processed"] == FILE_ROWS, counts
        assert (counts["inserted"], counts["rejected"]) == (FILE_ROWS - bad, bad), counts
        assert counts["updated"] == counts["unchanged"] == counts["duplicates"] == 0, counts
        total, distinct = dep.sql(
            "SELECT count(*), count(DISTINCT sku) FROM products WHERE tenant_id = ?", tenant_id
        )[0]
        assert total == distinct == FILE_ROWS - bad
        lines = dep.sql(
            "SELECT line, field, rule FROM import_issues WHERE import_id = ? ORDER BY line",
            import_id,
        )
        assert lines == [(i + 2, "price", "type") for i in range(7, FILE_ROWS, 1000)]
        root = dep.data_dir / "files" / "demo"
        wait_for(lambda: (root / "archive" / name).exists(), timeout=20, what="the archive")
        report = (root / "results" / f"{name}.result.csv").read_text()
        assert f"# import: {import_id}" in report and f"# rejected: {bad}" in report
        assert not list((dep.data_dir / "spool").glob("*/*")), "the spool was not emptied"


# -- 6. an API node of several processes -------------------------------------------------------


@pytest.mark.slow
def test_an_api_node_of_two_processes_serves_the_cashback_api(deployment: Deployment) -> None:
    """``serve --no-workers --no-file-servers --processes 2``: both processes answer on one
    port; clicks through either are committed before their 302; search finds a store the
    operator just wrote through either."""
    dep = deployment
    port = free_port()
    args = ["serve", "--port", str(port), "--no-workers", "--no-file-servers", "--processes", "2"]
    server = Server(dep.spawn("serve", *args), port, 0, 0)
    with dep.logs_on_failure():
        server.wait_healthy(timeout=60)
        wait_for(lambda: len(child_pids(server.proc.pid)) >= 2, timeout=30, what="two processes")
        creds = demo_creds(dep)
        made = dep.cli("operator-key", "create", "--json")
        assert made.returncode == 0, made.stderr
        operator_key = first_json_object(made.stdout)["operator_key"]
        store = {
            "name": "Twin Process Outfitters",
            "url": "https://twin.example/?click={clickId}",
            "description": "tents and stoves",
            "commission": {"value": "3", "format": "%"},
            "countries": ["US"],
        }
        put = httpx.put(
            f"{server.base_url}/admin/api/stores/501",
            json=store,
            headers={"Authorization": f"Bearer {operator_key}"},
        )
        assert put.status_code == 201, put.text

        def redirect(n: int) -> str:
            # A new connection each: the kernel spreads them over the processes.
            response = httpx.get(
                f"{server.base_url}/cashback/v1/stores/501/tracking",
                params={"cid": creds["cashback_publisher_id"], "cp": f"shopper-{n}"},
            )
            assert response.status_code == 302, response.text
            return response.headers["location"]

        with ThreadPoolExecutor(8) as pool:
            locations = list(pool.map(redirect, range(40)))
        assert all(loc.startswith("https://twin.example/?click=") for loc in locations)
        clicks = {loc.rsplit("=", 1)[1] for loc in locations}
        assert len(clicks) == 40
        stored = dep.sql("SELECT id FROM cashback_clicks WHERE store_id = ?", 501)
        assert {row[0] for row in stored} == clicks

        headers = {"Authorization": creds["cashback_api_key"]}
        for _ in range(6):
            found = httpx.get(
                f"{server.base_url}/cashback/v1/stores/search",
                params={"term": "stove"},
                headers=headers,
            )
            assert found.status_code == 200, found.text
            assert [s["id"] for s in found.json()] == [501]
