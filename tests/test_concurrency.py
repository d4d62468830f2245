"""Two imports of the same keys running at once end in a consistent state."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from retailhub.db import session_scope
from retailhub.models import OrderItem, Product
from tests.conftest import Tenant

N = 3000


def test_same_keys_from_two_imports(tenant: Tenant) -> None:
    payloads = {
        side: [{"sku": f"K{i}", "title": f"{side}-{i}", "brand": side} for i in range(N)]
        for side in ("left", "right")
    }
    orders = {
        side: [
            {
                "orderNumber": f"O{i}",
                "status": "Completed",
                "items": [{"orderNumber": f"O{i}", "sku": f"{side}-{n}"} for n in range(1 + i % 3)],
            }
            for i in range(300)
        ]
        for side in ("left", "right")
    }
    with ThreadPoolExecutor(4) as pool:
        posts = [
            pool.submit(tenant.post, entity, body[side])
            for side in ("left", "right")
            for entity, body in (("Product", payloads), ("Order", orders))
        ]
        ids = [f.result().json()["resourceId"] for f in posts]
    results = [tenant.wait(i, timeout=120) for i in ids]
    assert all(r["status"] == "succeeded" for r in results), results

    tenant_id = tenant.creds["tenant_id"]
    with session_scope() as session:
        count = select(func.count()).select_from(Product).where(Product.tenant_id == tenant_id)
        assert session.scalar(count) == N
        rows = session.execute(
            select(Product.sku, Product.title, Product.brand).where(Product.tenant_id == tenant_id)
        ).all()
        # Each row is wholly one payload's version, never a mix of the two.
        assert all(title.startswith(f"{brand}-") for _sku, title, brand in rows)
        items = session.execute(
            select(OrderItem.order_number, OrderItem.sku).where(OrderItem.tenant_id == tenant_id)
        ).all()
    by_order: dict[str, list[str]] = {}
    for number, sku in items:
        by_order.setdefault(number, []).append(sku)
    assert len(by_order) == 300
    for number, skus in by_order.items():
        i = int(number[1:])
        sides = {s.split("-")[0] for s in skus}
        assert len(sides) == 1, (number, skus)  # one payload's item set, not both
        assert len(skus) == 1 + i % 3
    inserted = sum(r["counts"]["inserted"] for r in results if r["entity"] == "Product")
    updated = sum(r["counts"]["updated"] for r in results if r["entity"] == "Product")
    assert inserted == N
    assert inserted + updated == 2 * N
