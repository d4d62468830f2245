"""Helpers to call the cashback API as a tenant's publisher key and the operator API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

ADMIN = "/admin/api"


class Publisher:
    """A tenant calling ``/cashback`` with its publisher key (sent raw, as Loyalize does)."""

    def __init__(self, client: TestClient, creds: dict[str, Any]) -> None:
        self.client = client
        self.creds = creds
        self.slug: str = creds["tenant"]
        self.tenant_id: int = creds["tenant_id"]
        self.cid: int = creds["cashback_publisher_id"]
        self.key: str = creds["cashback_api_key"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": self.key}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get("/cashback" + path, headers=self.headers, params=params)


class Operator:
    """The operator calling ``/admin/api`` with a Bearer operator key."""

    def __init__(self, client: TestClient, key: str) -> None:
        self.client = client
        self.key = key

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(ADMIN + path, headers=self.headers, params=params)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.client.post(ADMIN + path, headers=self.headers, json=body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.client.put(ADMIN + path, headers=self.headers, json=body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.client.patch(ADMIN + path, headers=self.headers, json=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.client.delete(ADMIN + path, headers=self.headers, **kwargs)
