"""Helpers to call the loyalty API as a tenant's service client or as one account."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

API = "/loyalty-api/api"
TOKEN = "/auth-oauth2/oauth/token"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


class Loyalty:
    def __init__(self, client: TestClient, creds: dict[str, Any]) -> None:
        self.client = client
        self.creds = creds
        self.slug: str = creds["tenant"]
        self._token: str | None = None
        self._users: dict[str, str] = {}

    def service_token(self, scope: str = "") -> str:
        form = {"grant_type": "client_credentials"}
        if scope:
            form["scope"] = scope
        response = self.client.post(
            TOKEN,
            data=form,
            auth=(self.creds["loyalty_client_id"], self.creds["loyalty_client_secret"]),
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    @property
    def headers(self) -> dict[str, str]:
        if self._token is None:
            self._token = self.service_token()
        return {"Authorization": f"Bearer {self._token}", "x-tenant": self.slug}

    def user_headers(self, account: str) -> dict[str, str]:
        if account not in self._users:
            response = self.client.post(
                TOKEN,
                data={"grant_type": EXCHANGE, "subject_token": account},
                auth=(self.creds["loyalty_client_id"], self.creds["loyalty_client_secret"]),
            )
            assert response.status_code == 200, response.text
            self._users[account] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self._users[account]}"}

    # Service calls -------------------------------------------------------------------

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(API + path, headers=self.headers, params=params)

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self.client.post(API + path, headers=self.headers, json=body, params=params)

    def put(self, path: str, body: Any = None, **params: Any) -> Any:
        return self.client.put(API + path, headers=self.headers, json=body, params=params)

    def delete(self, path: str, **params: Any) -> Any:
        return self.client.delete(API + path, headers=self.headers, params=params)

    # End-user calls ------------------------------------------------------------------

    def my_get(self, account: str, path: str, **params: Any) -> Any:
        return self.client.get(API + path, headers=self.user_headers(account), params=params)

    def my_post(self, account: str, path: str, body: Any = None, **params: Any) -> Any:
        return self.client.post(
            API + path, headers=self.user_headers(account), json=body, params=params
        )

    def my_put(self, account: str, path: str, body: Any = None) -> Any:
        return self.client.put(API + path, headers=self.user_headers(account), json=body)
