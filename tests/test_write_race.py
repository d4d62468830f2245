"""A row inserted by another import between a batch's look-up and its write is updated,
not duplicated and not an error."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from retailhub.db import session_scope
from retailhub.imports import writers
from retailhub.models import Product
from tests.conftest import Tenant


def test_row_appearing_after_the_lookup(
    tenant: Tenant, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant.run("Product", [{"sku": "RACE", "title": "theirs"}, {"sku": "OTHER"}])
    lookup = "_pg_existing_hashes" if backend == "postgresql" else "_sqlite_existing_hashes"

    def sees_nothing(*_args: Any, **_kwargs: Any) -> dict[Any, str]:
        return {}

    monkeypatch.setattr(writers, lookup, sees_nothing)
    result = tenant.run("Product", [{"sku": "RACE", "title": "ours"}, {"sku": "NEW"}])
    monkeypatch.undo()
    assert result["status"] == "succeeded"
    # Both rows were believed new; the write found RACE stored and updated it instead.
    assert result["counts"]["inserted"] + result["counts"]["updated"] == 2
    assert tenant.get("/data/v1/Product/RACE").json()["data"]["title"] == "ours"
    with session_scope() as session:
        count = session.scalar(
            select(func.count())
            .select_from(Product)
            .where(Product.tenant_id == tenant.creds["tenant_id"])
        )
    assert count == 3
