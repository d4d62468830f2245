"""Every error status of the import API, in Listrak's envelope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from retailhub.config import get_settings
from retailhub.db import session_scope
from retailhub.models import ImportJob, ImportPayload, Job
from tests.conftest import Tenant


@pytest.fixture
def small_body_limit() -> Iterator[int]:
    settings = get_settings()
    old = settings.max_body_bytes
    settings.max_body_bytes = 200
    yield 200
    settings.max_body_bytes = old


def _post_raw(tenant: Tenant, body: bytes, content_type: str | None = "application/json") -> dict:
    headers = dict(tenant.headers)
    if content_type:
        headers["Content-Type"] = content_type
    response = tenant.client.post("/data/v1/Product", content=body, headers=headers)
    return {"status_code": response.status_code, **response.json()}


class TestEnvelope:
    @pytest.mark.parametrize(
        "body",
        [b'[{"sku": "A"', b"[1,]", b"not json", b"", b'[{"sku": "A"}] trailing'],
    )
    def test_malformed_json_is_400(self, tenant: Tenant, body: bytes) -> None:
        result = _post_raw(tenant, body)
        assert result["status_code"] == 400
        assert result["status"] == 400
        assert result["error"] == "ERROR_MALFORMED_REQUEST_BODY"
        assert result["message"]
        assert tenant.get("/data/v1/Import").json()["data"] == []

    @pytest.mark.parametrize("body", [b'{"sku": "A"}', b'"text"', b"42", b"null"])
    def test_body_that_is_not_an_array_is_400(self, tenant: Tenant, body: bytes) -> None:
        result = _post_raw(tenant, body)
        assert (result["status_code"], result["error"]) == (400, "ERROR_MALFORMED_REQUEST_BODY")
        assert "array" in result["message"]

    @pytest.mark.parametrize(
        "content_type", [None, "text/plain", "application/xml", "multipart/form-data"]
    )
    def test_wrong_content_type_is_415(self, tenant: Tenant, content_type: str | None) -> None:
        result = _post_raw(tenant, b'[{"sku": "A"}]', content_type)
        assert result == {
            "status_code": 415,
            "status": 415,
            "error": "ERROR_UNSUPPORTED_CONTENT_TYPE",
            "message": "Please use a Content-Type of application/json.",
        }

    def test_charset_parameter_is_fine(self, tenant: Tenant) -> None:
        result = _post_raw(tenant, b'[{"sku": "A"}]', "application/json; charset=utf-8")
        assert result["status_code"] == 201

    @pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
    def test_unsupported_method_is_405(self, tenant: Tenant, method: str) -> None:
        response = tenant.client.request(method, "/data/v1/Product", headers=tenant.headers)
        assert response.status_code == 405
        assert response.json()["error"] == "ERROR_UNSUPPORTED_METHOD"
        assert "Allow" in response.headers

    @pytest.mark.parametrize("path", ["/data/v1/Nothing", "/data/v2/Product", "/v1/Product"])
    def test_unknown_route_is_404(self, client: TestClient, path: str) -> None:
        response = client.post(path, json=[])
        assert response.status_code == 404
        assert response.json() == {
            "status": 404,
            "error": "ERROR_UNKNOWN_ROUTE",
            "message": f"No route matches POST {path}.",
        }

    def test_body_over_the_limit_is_404(self, tenant: Tenant, small_body_limit: int) -> None:
        body = b'[{"sku": "' + b"A" * small_body_limit + b'"}]'
        result = _post_raw(tenant, body)
        assert result["status_code"] == 404
        assert result["error"] == "ERROR_REQUEST_ENTITY_TOO_LARGE"
        assert tenant.get("/data/v1/Import").json()["data"] == []

    def test_streamed_body_over_the_limit_is_404(
        self, tenant: Tenant, small_body_limit: int
    ) -> None:
        def chunks() -> Iterator[bytes]:
            yield b'[{"sku": "A"}'
            for _ in range(50):
                yield b', {"sku": "B"}'
            yield b"]"

        headers = {**tenant.headers, "Content-Type": "application/json"}
        response = tenant.client.post("/data/v1/Product", content=chunks(), headers=headers)
        assert response.status_code == 404
        assert response.json()["error"] == "ERROR_REQUEST_ENTITY_TOO_LARGE"

    def test_body_at_the_limit_is_accepted(self, tenant: Tenant, small_body_limit: int) -> None:
        prefix, suffix = b'[{"sku": "', b'"}]'
        body = prefix + b"A" * (small_body_limit - len(prefix) - len(suffix)) + suffix
        assert len(body) == small_body_limit
        assert _post_raw(tenant, body)["status_code"] == 201

    def test_unexpected_failure_is_500_and_stores_nothing(
        self, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from retailhub import tasks

        def broken(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("queue exploded")

        with session_scope() as session:
            jobs_before = session.scalar(select(func.count()).select_from(Job))
        monkeypatch.setattr(tasks, "enqueue", broken)
        response = tenant.post("Product", [{"sku": "A"}])
        assert response.status_code == 500
        assert response.json() == {
            "status": 500,
            "error": "ERROR_UNHANDLED_EXCEPTION",
            "message": "An unexpected error occurred; nothing was stored by this request.",
        }
        monkeypatch.undo()
        assert tenant.get("/data/v1/Import").json()["data"] == []
        tenant_id = tenant.creds["tenant_id"]
        with session_scope() as session:
            for model in (ImportJob, ImportPayload):
                rows = select(func.count()).select_from(model).where(model.tenant_id == tenant_id)
                assert session.scalar(rows) == 0
            assert session.scalar(select(func.count()).select_from(Job)) == jobs_before
