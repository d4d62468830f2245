"""Loyalty tokens: client credentials (form or Basic), roles, x-tenant, end-user exchange."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.loyalty import API, EXCHANGE, TOKEN, Loyalty


class TestToken:
    def test_client_credentials_by_form(self, client: TestClient, loyalty: Loyalty) -> None:
        response = client.post(
            TOKEN,
            data={
                "grant_type": "client_credentials",
                "client_id": loyalty.creds["loyalty_client_id"],
                "client_secret": loyalty.creds["loyalty_client_secret"],
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 3600
        assert body["scope"] == "ROLE_LOYALTY ROLE_LOYALTY_CAMPAIGN ROLE_LOYALTY_STATS"

    def test_bad_secret_is_invalid_client(self, client: TestClient, loyalty: Loyalty) -> None:
        response = client.post(
            TOKEN,
            data={"grant_type": "client_credentials"},
            auth=(loyalty.creds["loyalty_client_id"], "wrong"),
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"

    def test_data_credentials_are_not_loyalty_credentials(
        self, client: TestClient, loyalty: Loyalty
    ) -> None:
        response = client.post(
            TOKEN,
            data={"grant_type": "client_credentials"},
            auth=(loyalty.creds["data_client_id"], loyalty.creds["data_client_secret"]),
        )
        assert response.status_code == 401

    def test_unknown_scope_is_refused(self, client: TestClient, loyalty: Loyalty) -> None:
        response = client.post(
            TOKEN,
            data={"grant_type": "client_credentials", "scope": "ROLE_SU"},
            auth=(loyalty.creds["loyalty_client_id"], loyalty.creds["loyalty_client_secret"]),
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_scope"

    def test_unsupported_grant(self, client: TestClient, loyalty: Loyalty) -> None:
        response = client.post(
            TOKEN,
            data={"grant_type": "password"},
            auth=(loyalty.creds["loyalty_client_id"], loyalty.creds["loyalty_client_secret"]),
        )
        assert response.status_code == 400
        assert response.json()["error"] == "unsupported_grant_type"

    def test_exchange_mints_a_user_token(self, client: TestClient, loyalty: Loyalty) -> None:
        response = client.post(
            TOKEN,
            data={"grant_type": EXCHANGE, "subject_token": "member-1"},
            auth=(loyalty.creds["loyalty_client_id"], loyalty.creds["loyalty_client_secret"]),
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
        assert body["token_type"] == "Bearer"

    def test_exchange_refuses_a_bad_account_id(self, client: TestClient, loyalty: Loyalty) -> None:
        response = client.post(
            TOKEN,
            data={"grant_type": EXCHANGE, "subject_token": "a b"},
            auth=(loyalty.creds["loyalty_client_id"], loyalty.creds["loyalty_client_secret"]),
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


class TestAccess:
    def _call(self, client: TestClient, headers: dict[str, str]) -> Any:
        return client.get(f"{API}/account/x", headers=headers)

    def test_no_token_is_401_in_the_loyalty_shape(self, client: TestClient) -> None:
        response = client.get(f"{API}/account/some-account")
        assert response.status_code == 401
        body = response.json()
        assert body["status"] == 401
        assert body["error"] == "Unauthorized"
        assert body["message"]

    def test_wrong_role_is_403(self, client: TestClient, loyalty: Loyalty) -> None:
        token = loyalty.service_token(scope="ROLE_LOYALTY_STATS")
        response = client.get(
            f"{API}/account/some-account",
            headers={"Authorization": f"Bearer {token}", "x-tenant": loyalty.slug},
        )
        assert response.status_code == 403
        assert response.json()["error"] == "Forbidden"

    def test_x_tenant_of_another_tenant_is_403(
        self, client: TestClient, loyalty: Loyalty, other_loyalty: Loyalty
    ) -> None:
        headers = {**loyalty.headers, "x-tenant": other_loyalty.slug}
        response = client.get(f"{API}/account/some-account", headers=headers)
        assert response.status_code == 403

    def test_malformed_x_tenant_is_400(self, client: TestClient, loyalty: Loyalty) -> None:
        headers = {**loyalty.headers, "x-tenant": "a!"}
        response = client.get(f"{API}/account/some-account", headers=headers)
        assert response.status_code == 400

    def test_a_data_token_is_not_a_loyalty_token(self, client: TestClient, tenant: Any) -> None:
        response = client.get(f"{API}/account/some-account", headers=tenant.headers)
        assert response.status_code == 401

    def test_user_token_cannot_call_service_operations(
        self, client: TestClient, loyalty: Loyalty
    ) -> None:
        response = client.get(f"{API}/account/member-2", headers=loyalty.user_headers("member-2"))
        assert response.status_code == 403

    def test_service_token_cannot_call_my_operations(
        self, client: TestClient, loyalty: Loyalty
    ) -> None:
        response = client.get(f"{API}/account/my", headers=loyalty.headers)
        assert response.status_code == 403
