"""The Listrak token flow and per-operation scopes."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from retailhub.auth import service as auth_service
from retailhub.db import session_scope
from retailhub.models import Credential
from retailhub.models import Tenant as TenantRow
from tests.conftest import Tenant

PRODUCT = [{"sku": "S1", "title": "One"}]


def customer_only_headers(tenant: Tenant) -> dict[str, str]:
    """Bearer headers of a second Data integration of the tenant, with the Customer scope only."""
    client_id = f"{tenant.slug}-customers"
    with session_scope(write=True) as session:
        row = session.query(TenantRow).filter_by(slug=tenant.slug).one()
        _cred, secret = auth_service.create_credential(
            session, tenant=row, kind="data", scopes="Customer", client_id=client_id
        )
    token = tenant.client.post(
        "/OAuth2/Token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def request_token(tenant: Tenant, **overrides: str) -> Any:
    """POST /OAuth2/Token with the tenant's Data credentials, some fields overridden."""
    form = {
        "grant_type": "client_credentials",
        "client_id": tenant.creds["data_client_id"],
        "client_secret": tenant.creds["data_client_secret"],
        **overrides,
    }
    return tenant.client.post("/OAuth2/Token", data=form)


class TestToken:
    def test_client_credentials_grant(self, tenant: Tenant) -> None:
        response = request_token(tenant)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_in"}
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 3600

    def test_wrong_secret_is_invalid_credentials(self, tenant: Tenant) -> None:
        response = request_token(tenant, client_secret="wrong")
        assert response.status_code == 400
        assert response.json() == {"error": "Invalid Credentials"}

    def test_unknown_client_is_invalid_credentials(self, client: TestClient) -> None:
        response = client.post(
            "/OAuth2/Token",
            data={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"},
        )
        assert response.status_code == 400
        assert response.json() == {"error": "Invalid Credentials"}

    def test_other_grant_type_is_refused(self, tenant: Tenant) -> None:
        response = request_token(tenant, grant_type="password")
        assert response.status_code == 400
        assert response.json() == {"error": "unsupported_grant_type"}

    def test_paused_integration_gets_no_token(self, tenant: Tenant) -> None:
        with session_scope(write=True) as session:
            cred = (
                session.query(Credential).filter_by(client_id=tenant.creds["data_client_id"]).one()
            )
            cred.active = False
        response = request_token(tenant)
        assert response.status_code == 400
        assert response.json() == {"error": "Invalid Credentials"}


class TestBearer:
    def test_missing_token_is_401_listrak_envelope(self, client: TestClient) -> None:
        response = client.post("/data/v1/Product", json=PRODUCT)
        assert response.status_code == 401
        assert response.json() == {
            "status": 401,
            "error": "ERROR_UNAUTHORIZED",
            "message": "Authorization was denied for this request.",
        }

    def test_garbage_token_is_401(self, client: TestClient) -> None:
        response = client.post(
            "/data/v1/Product", json=PRODUCT, headers={"Authorization": "Bearer not.a.jwt"}
        )
        assert response.status_code == 401
        assert response.json()["error"] == "ERROR_UNAUTHORIZED"

    def test_expired_token_is_401(self, tenant: Tenant) -> None:
        with session_scope() as session:
            row = session.query(TenantRow).filter_by(slug=tenant.slug).one()
            token, _ = auth_service.issue_token(
                tenant=row, client_id="x", scopes="Product", audience="data", ttl=-10
            )
        response = tenant.client.post(
            "/data/v1/Product", json=PRODUCT, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert response.json()["error"] == "ERROR_UNAUTHORIZED"

    def test_token_signed_with_another_key_is_401(self, tenant: Tenant) -> None:
        import jwt

        forged = jwt.encode(
            {
                "iss": "retailhub",
                "aud": "data",
                "sub": "x",
                "tid": 1,
                "tenant": "demo",
                "scope": "Product",
                "iat": 0,
                "exp": 9_999_999_999,
            },
            "another-key-of-at-least-thirty-two-bytes!",
            algorithm="HS256",
        )
        response = tenant.client.get(
            "/data/v1/Product", headers={"Authorization": f"Bearer {forged}"}
        )
        assert response.status_code == 401

    def test_token_without_scope_is_403_naming_the_scope(self, tenant: Tenant) -> None:
        headers = customer_only_headers(tenant)
        response = tenant.client.post("/data/v1/Product", json=PRODUCT, headers=headers)
        assert response.status_code == 403
        body = response.json()
        assert body["error"] == "ERROR_UNAUTHORIZED"
        assert "'Product'" in body["message"]
        # RatingSummary needs the Review scope.
        response = tenant.client.post("/data/v1/RatingSummary", json=[], headers=headers)
        assert response.status_code == 403
        assert "'Review'" in response.json()["message"]
        # ...while the scope it has works.
        response = tenant.client.post(
            "/data/v1/Customer", json=[{"email": "a@b.c"}], headers=headers
        )
        assert response.status_code == 201


def test_imports_are_visible_only_to_their_entity_scope(tenant: Tenant) -> None:
    product_import = tenant.run("Product", [{"sku": "S"}])["resourceId"]
    customer_import = tenant.run("Customer", [{"email": "c@example.com"}])["resourceId"]
    headers = customer_only_headers(tenant)
    listed = tenant.client.get("/data/v1/Import", headers=headers).json()["data"]
    assert [i["resourceId"] for i in listed] == [customer_import]
    assert (
        tenant.client.get(f"/data/v1/Import/{product_import}", headers=headers).status_code == 404
    )
    errors = tenant.client.get(f"/data/v1/Import/{product_import}/errors", headers=headers)
    assert errors.status_code == 404
