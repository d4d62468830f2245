"""Test fixtures. The whole suite runs on one database backend per run:
``pytest --db sqlite`` (default) or ``pytest --db postgresql`` (a fresh database on the local
server, built by the migrations and dropped afterwards). CI runs both.

Tests talk HTTP to the real application, with its real job runner in the background; each
test gets tenants of its own, so tests never see each other's data.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.cashback import Operator, Publisher
from tests.loyalty import Loyalty
from tests.receiver import Receiver

PG_ADMIN = os.environ.get(
    "RETAILHUB_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        action="store",
        default=os.environ.get("RETAILHUB_TEST_DB", "sqlite"),
        choices=("sqlite", "postgresql"),
        help="database backend the suite runs on",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"retailhub database backend: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def backend(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("--db"))


@pytest.fixture(scope="session")
def env(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment of the Retailhub under test (also handed to subprocesses)."""
    data_dir = tmp_path_factory.mktemp("data")
    values = {
        "RETAILHUB_DATA_DIR": str(data_dir),
        "RETAILHUB_SECRET_KEY": secrets.token_urlsafe(32),
        "RETAILHUB_WORKER_HEARTBEAT_SECONDS": "1",
        "RETAILHUB_WORKER_STALLED_SECONDS": "4",
        "RETAILHUB_WEBHOOK_POLL_SECONDS": "0.1",
    }
    dbname = None
    if backend == "postgresql":
        dbname = f"rh_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {dbname}")
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        values["RETAILHUB_DATABASE_URL"] = f"{base}/{dbname}"
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    from retailhub.config import get_settings

    get_settings.cache_clear()
    yield values
    from retailhub.db import dispose_engines

    dispose_engines()
    for key, old in saved.items():
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old
    get_settings.cache_clear()
    if dbname:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


@pytest.fixture(scope="session")
def migrated(env: dict[str, str]) -> None:
    from retailhub import migrate

    migrate.upgrade()


@pytest.fixture(scope="session")
def client(migrated: None, backend: str) -> Iterator[TestClient]:
    """The application over HTTP (ASGI transport), its job runner started by its lifespan."""
    from retailhub.app import create_app
    from retailhub.cli import _start_workers

    runners: list[Any] = []
    app = create_app(
        on_startup=lambda: runners.append(_start_workers()),
        on_shutdown=lambda: [r.stop() for r in runners],
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


class Tenant:
    """A tenant created for one test, with helpers to call the API as it."""

    def __init__(self, client: TestClient, creds: dict[str, Any]) -> None:
        self.client = client
        self.creds = creds
        self.slug: str = creds["tenant"]
        self._token: str | None = None

    @property
    def token(self) -> str:
        if self._token is None:
            response = self.client.post(
                "/OAuth2/Token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.creds["data_client_id"],
                    "client_secret": self.creds["data_client_secret"],
                },
            )
            assert response.status_code == 200, response.text
            self._token = response.json()["access_token"]
        return self._token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def post(self, entity: str, body: Any, **params: Any) -> Any:
        return self.client.post(
            f"/data/v1/{entity}", json=body, headers=self.headers, params=params
        )

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, headers=self.headers, params=params)

    def wait(self, resource_id: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            response = self.get(f"/data/v1/Import/{resource_id}")
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            if body["status"] in ("succeeded", "partially_failed", "failed", "duplicate"):
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"import {resource_id} did not finish: {body}")
            time.sleep(0.05)

    def run(self, entity: str, body: Any) -> dict[str, Any]:
        """Post a payload and wait for its import to finish."""
        response = self.post(entity, body)
        assert response.status_code == 201, response.text
        return self.wait(response.json()["resourceId"])

    def errors(self, resource_id: str, **params: Any) -> list[dict[str, Any]]:
        response = self.get(f"/data/v1/Import/{resource_id}/errors", count=1000, **params)
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data


def create_tenant_creds(slug: str | None = None) -> dict[str, Any]:
    from retailhub.db import session_scope
    from retailhub.tenants import service

    with session_scope(write=True) as session:
        return service.create_tenant(session, slug=slug or f"t-{uuid.uuid4().hex[:10]}")


@pytest.fixture
def tenant(client: TestClient) -> Tenant:
    return Tenant(client, create_tenant_creds())


@pytest.fixture
def other_tenant(client: TestClient) -> Tenant:
    return Tenant(client, create_tenant_creds())


@pytest.fixture
def loyalty(client: TestClient, tenant: Tenant) -> Loyalty:
    """The loyalty API as ``tenant``'s service client (and its accounts' users)."""
    return Loyalty(client, tenant.creds)


@pytest.fixture
def other_loyalty(client: TestClient, other_tenant: Tenant) -> Loyalty:
    return Loyalty(client, other_tenant.creds)


@pytest.fixture
def publisher(client: TestClient, tenant: Tenant) -> Publisher:
    """``tenant`` as a publisher of the cashback network."""
    return Publisher(client, tenant.creds)


@pytest.fixture
def other_publisher(client: TestClient, other_tenant: Tenant) -> Publisher:
    return Publisher(client, other_tenant.creds)


@pytest.fixture(scope="session")
def operator(client: TestClient) -> Operator:
    """The operator API with a key of its own. The catalog is global: tests that write
    stores use ids and names of their own."""
    from retailhub.auth import api_keys
    from retailhub.db import session_scope

    with session_scope(write=True) as session:
        _row, key = api_keys.create(session, kind=api_keys.OPERATOR, label="tests")
    return Operator(client, key)


@pytest.fixture(scope="module")
def live_url(client: TestClient) -> Iterator[str]:
    """The application served by uvicorn on a free port, in a thread of this process, for
    tests that need real concurrent HTTP requests (its job runners are the ``client``'s)."""
    import threading

    import uvicorn

    from retailhub.app import create_app
    from tests.processes import free_port

    port = free_port()
    config = uvicorn.Config(
        create_app(), host="127.0.0.1", port=port, log_level="warning", backlog=512
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture
def clock() -> Iterator[Any]:
    """The platform clock (``retailhub.kit.clock``): freeze or shift it; reset afterwards."""
    from retailhub.kit import clock as platform_clock

    platform_clock.reset()
    yield platform_clock
    platform_clock.reset()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on a free local port (``tests.receiver``)."""
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def other_receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()
